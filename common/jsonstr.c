/* jsonstr.c: JSON strings from arbitrary bytes. */
#include "jsonstr.h"

#include <stdlib.h>
#include <string.h>

/* U+FFFD in UTF-8. */
static const char replacement[] = "\xef\xbf\xbd";

size_t utf8_seq_valid(const char *s, size_t avail)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (avail == 0)
		return 0;
	if (u[0] < 0x80)
		return 1;
	n = u[0] >= 0xc2 && u[0] <= 0xdf   ? 2
	    : u[0] >= 0xe0 && u[0] <= 0xef ? 3
	    : u[0] >= 0xf0 && u[0] <= 0xf4 ? 4
	                                   : 0;
	if (n == 0 || n > avail)
		return 0;
	/* The second byte's range rules out overlong forms, surrogates and
	 * code points past U+10FFFF. */
	if (u[0] == 0xe0)
		lo = 0xa0;
	else if (u[0] == 0xed)
		hi = 0x9f;
	else if (u[0] == 0xf0)
		lo = 0x90;
	else if (u[0] == 0xf4)
		hi = 0x8f;
	if (u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((u[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Bytes needed for the repaired copy; equal to len when all is valid. */
static size_t repaired_len(const char *s, size_t len)
{
	size_t out = 0, n;

	for (size_t i = 0; i < len; i += n ? n : 1) {
		n = utf8_seq_valid(s + i, len - i);
		out += n ? n : sizeof replacement - 1;
	}
	return out;
}

static void repair(const char *s, size_t len, char *out)
{
	size_t n;

	for (size_t i = 0; i < len; i += n ? n : 1) {
		n = utf8_seq_valid(s + i, len - i);
		if (n) {
			memcpy(out, s + i, n);
			out += n;
		} else {
			memcpy(out, replacement, sizeof replacement - 1);
			out += sizeof replacement - 1;
		}
	}
}

json_t *jsonstr_newn(const char *bytes, size_t len)
{
	size_t want = repaired_len(bytes, len);
	json_t *str;
	char *copy;

	if (want == len)
		return json_stringn(bytes, len);
	copy = malloc(want);
	if (!copy)
		return NULL;
	repair(bytes, len, copy);
	str = json_stringn(copy, want);
	free(copy);
	return str;
}

json_t *jsonstr_new(const char *bytes)
{
	return bytes ? jsonstr_newn(bytes, strlen(bytes)) : json_null();
}

size_t utf8_cut(const char *s, size_t len, size_t max)
{
	size_t at = 0, n;

	if (len <= max)
		return len;
	while (at < max) {
		n = utf8_seq_valid(s + at, len - at);
		if (at + (n ? n : 1) > max)
			break;
		at += n ? n : 1;
	}
	return at;
}
