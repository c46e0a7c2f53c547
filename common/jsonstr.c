/* jsonstr.c: JSON strings from arbitrary bytes. */
#include "jsonstr.h"

#include <stdlib.h>
#include <string.h>

#include "utf8seq.h"

/* U+FFFD in UTF-8. */
static const char replacement[] = "\xef\xbf\xbd";

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
