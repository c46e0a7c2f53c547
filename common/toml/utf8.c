/* utf8.c: one pass over the whole document before parsing.
 *
 * TOML text must be valid UTF-8 and may hold no control character other
 * than tab and newline (LF or CRLF) anywhere, not even in comments or
 * strings.  Checking that once, up front, lets the parser copy string
 * and comment bytes without looking at each one. */
#include "toml_internal.h"

#include <string.h>

#include "utf8seq.h"

size_t utf8_seq_len(unsigned char lead)
{
	if (lead < 0x80)
		return 1;
	if (lead >= 0xc2 && lead <= 0xdf)
		return 2;
	if (lead >= 0xe0 && lead <= 0xef)
		return 3;
	if (lead >= 0xf0 && lead <= 0xf4)
		return 4;
	return 0;
}

/* Checks the byte at s[i] (one that needs care); returns how many bytes
 * it spans, or 0 with *fault set. */
static size_t check_one(const unsigned char *s, size_t i, size_t len,
                        enum text_fault *fault)
{
	unsigned char c = s[i];
	size_t n;

	if (c >= 0x20 && c < 0x7f)
		return 1;
	if (c == '\t' || c == '\n')
		return 1;
	if (c == '\r') {
		if (i + 1 < len && s[i + 1] == '\n')
			return 2;
		*fault = TEXT_LONE_CR;
		return 0;
	}
	if (c < 0x80) {
		*fault = TEXT_CONTROL;
		return 0;
	}
	n = utf8_seq_valid((const char *)s + i, len - i);
	if (!n)
		*fault = TEXT_BAD_UTF8;
	return n;
}

/* 16 bytes at a time with the compiler's generic vectors (SSE2 on
 * x86-64, NEON on arm64, plain code elsewhere): a block is plain when it
 * holds only printable ASCII, tabs and LFs. */
typedef unsigned char bytes16 __attribute__((vector_size(16)));
typedef signed char mask16 __attribute__((vector_size(16)));

static bool block_is_plain(const unsigned char *s)
{
	bytes16 v;
	mask16 bad;
	uint64_t half[2];

	memcpy(&v, s, 16);
	bad = ((v < 0x20) & (v != '\t') & (v != '\n')) | (v >= 0x7f);
	memcpy(half, &bad, 16);
	return (half[0] | half[1]) == 0;
}

enum text_fault utf8_check_text(const char *text, size_t len, size_t *at)
{
	const unsigned char *s = (const unsigned char *)text;
	enum text_fault fault = TEXT_OK;
	size_t i = 0, n;

	while (i < len) {
		size_t stop = len - i >= 16 ? i + 16 : len;

		if (stop - i == 16 && block_is_plain(s + i)) {
			i += 16;
			continue;
		}
		/* Byte by byte through this block (a multi-byte sequence
		 * may run past its end). */
		while (i < stop) {
			n = check_one(s, i, len, &fault);
			if (!n) {
				*at = i;
				return fault;
			}
			i += n;
		}
	}
	return TEXT_OK;
}

size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}
