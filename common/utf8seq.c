/* utf8seq.c: UTF-8 sequences, checked and cut on their boundaries. */
#include "utf8seq.h"

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

bool utf8_valid(const char *s, size_t len)
{
	size_t n;

	for (size_t i = 0; i < len; i += n)
		if (!(n = utf8_seq_valid(s + i, len - i)))
			return false;
	return true;
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
