/* parse_string.c: the four string forms (basic, literal, and their
 * multi-line kinds) and escapes.
 *
 * A string without escapes (and without CRLF, which multi-line strings
 * turn into LF) is handed back as a slice of the input; only strings that
 * need decoding are built up in P->text.  Bytes need no checking here:
 * the UTF-8 pass already refused invalid text and control characters. */
#include "parser.h"

#include <stdlib.h>
#include <string.h>

/* Makes room for n more bytes of decoded text. */
bool text_grow(struct parser *P, size_t n)
{
	size_t cap = P->text_cap ? P->text_cap : 256;
	char *t;

	while (cap - P->text_len < n)
		cap *= 2;
	t = realloc(P->text, cap);
	if (!t)
		return parse_oom(P);
	P->text = t;
	P->text_cap = cap;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* \uXXXX or \UXXXXXXXX at esc: must name a Unicode scalar value. */
static bool read_unicode(struct parser *P, const char *esc, int digits,
                         const char **next)
{
	const char *h = esc + 2;
	uint32_t cp = 0;
	char buf[16];

	for (int i = 0; i < digits; i++) {
		int d = h + i < P->end ? hex_digit(h[i]) : -1;

		if (d < 0)
			return parse_fail(
			    P, h + i,
			    "expected %d hex digits after \\%c, "
			    "found %s",
			    digits, esc[1],
			    describe_at(P, h + i, buf, sizeof buf));
		cp = cp * 16 + (uint32_t)d;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return parse_fail(P, esc,
		                  "expected a Unicode scalar value, found "
		                  "surrogate \\%c%.*s",
		                  esc[1], digits, h);
	if (cp > 0x10ffff)
		return parse_fail(P, esc,
		                  "expected a code point up to U+10FFFF, "
		                  "found \\%c%.*s",
		                  esc[1], digits, h);
	*next = h + digits;
	return text_put(P, buf, utf8_encode(cp, buf));
}

/* Decodes the escape at esc (a backslash) into P->text. */
static bool read_escape(struct parser *P, const char *esc, const char **next)
{
	char c = esc + 1 < P->end ? esc[1] : '\0';
	const char *simple = NULL;
	char buf[16];

	switch (c) {
	case 'b':
		simple = "\b";
		break;
	case 't':
		simple = "\t";
		break;
	case 'n':
		simple = "\n";
		break;
	case 'f':
		simple = "\f";
		break;
	case 'r':
		simple = "\r";
		break;
	case '"':
		simple = "\"";
		break;
	case '\\':
		simple = "\\";
		break;
	case 'u':
		return read_unicode(P, esc, 4, next);
	case 'U':
		return read_unicode(P, esc, 8, next);
	default:
		return parse_fail(
		    P, esc,
		    "expected an escape (\\b \\t \\n \\f \\r \\\" "
		    "\\\\ \\uXXXX \\UXXXXXXXX) after '\\', "
		    "found %s",
		    describe_at(P, esc + 1, buf, sizeof buf));
	}
	*next = esc + 2;
	return text_put(P, simple, 1);
}

/* P->line is still the line of the opening quote: lines inside a
 * string are only counted once it is read. */
static bool unterminated(struct parser *P, const char *at, const char *quote)
{
	char buf[16];

	return parse_fail(P, at,
	                  "expected %s to close the string opened on line %d, "
	                  "found %s",
	                  quote, P->line, describe_at(P, at, buf, sizeof buf));
}

/* Hands back either the untouched slice [run, e) or, when something was
 * decoded, P->text with [run, e) appended. */
static bool finish(struct parser *P, bool decoded, const char *run,
                   const char *e, const char **out, size_t *len)
{
	if (!decoded) {
		*out = run;
		*len = (size_t)(e - run);
		return true;
	}
	if (!text_put(P, run, (size_t)(e - run)))
		return false;
	*out = P->text ? P->text : "";
	*len = P->text_len;
	return true;
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* True when one of the 8 bytes of w is c (c repeated in each byte). */
static bool has_byte(uint64_t w, uint64_t c)
{
	uint64_t x = w ^ c;

	return ((x - ONES) & ~x & HIGHS) != 0;
}

/* Skips 8 bytes at a time while none of them is a quote, a backslash
 * or a line end: most string bytes are plain text. */
static const char *skip_plain(const char *s, const char *end, char quote)
{
	uint64_t w, q = (unsigned char)quote * ONES;

	while (end - s >= 8) {
		memcpy(&w, s, 8);
		if (has_byte(w, q) || has_byte(w, '\\' * ONES) ||
		    has_byte(w, '\n' * ONES) || has_byte(w, '\r' * ONES))
			break;
		s += 8;
	}
	return s;
}

static bool read_basic(struct parser *P, const char **out, size_t *len)
{
	const char *s = P->p + 1, *run = s, *end = P->end;
	bool decoded = false;

	P->text_len = 0;
	for (;;) {
		s = skip_plain(s, end, '"');
		while (s < end && *s != '"' && *s != '\\' && *s != '\n' &&
		       *s != '\r')
			s++;
		if (s >= end || *s != '\\')
			break;
		if (!text_put(P, run, (size_t)(s - run)) ||
		    !read_escape(P, s, &s))
			return false;
		decoded = true;
		run = s;
	}
	if (s >= end || *s != '"')
		return unterminated(P, s, "'\"'");
	P->p = s + 1;
	return finish(P, decoded, run, s, out, len);
}

static bool read_literal(struct parser *P, const char **out, size_t *len)
{
	const char *s = skip_plain(P->p + 1, P->end, '\''), *end = P->end;

	while (s < end && *s != '\'' && *s != '\n' && *s != '\r')
		s++;
	if (s >= end || *s != '\'')
		return unterminated(P, s, "\"'\"");
	*out = P->p + 1;
	*len = (size_t)(s - *out);
	P->p = s + 1;
	return true;
}

/* A newline right after the opening delimiter is not part of the
 * string. */
static const char *skip_first_newline(const char *s, const char *end)
{
	if (s < end && *s == '\n')
		return s + 1;
	if (s + 1 < end && s[0] == '\r' && s[1] == '\n')
		return s + 2;
	return s;
}

static size_t quote_run(const char *s, const char *end, char q)
{
	size_t n = 0;

	while (s + n < end && s[n] == q)
		n++;
	return n;
}

/* At a run of n >= 3 quotes: up to two of them may belong to the string
 * before the closing three. */
static bool closing_run(struct parser *P, const char *s, size_t n)
{
	if (n <= 5)
		return true;
	return parse_fail(P, s + 5,
	                  "expected the end of the multi-line string after "
	                  "'%c%c%c', found another quote",
	                  *s, *s, *s);
}

/* A backslash, then only spaces and tabs up to the end of the line. */
static bool line_ending_backslash(const char *s, const char *end)
{
	for (s++; s < end && (*s == ' ' || *s == '\t'); s++)
		;
	return s < end && (*s == '\n' || *s == '\r');
}

static const char *skip_space_and_newlines(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	return s;
}

/* One step inside a multi-line basic string at s (a quote, backslash or
 * CR); returns false on error, sets *done at the closing quotes. */
static bool ml_basic_step(struct parser *P, const char **ps, const char **run,
                          bool *decoded, bool *done)
{
	const char *s = *ps;
	size_t n;

	if (*s == '"') {
		n = quote_run(s, P->end, '"');
		*ps = s + n;
		if (n < 3)
			return true;
		*ps = s + n - 3;
		*done = true;
		return closing_run(P, s, n);
	}
	if (!text_put(P, *run, (size_t)(s - *run)))
		return false;
	*decoded = true;
	if (*s == '\r') {
		*ps = *run = s + 2;
		return text_put(P, "\n", 1);
	}
	if (line_ending_backslash(s, P->end)) {
		*ps = *run = skip_space_and_newlines(s + 1, P->end);
		return true;
	}
	if (!read_escape(P, s, ps))
		return false;
	*run = *ps;
	return true;
}

static bool read_ml_basic(struct parser *P, const char **out, size_t *len)
{
	const char *open = P->p, *end = P->end;
	const char *s = skip_first_newline(open + 3, end), *run = s;
	bool decoded = false, done = false;

	P->text_len = 0;
	while (!done) {
		while (s < end && *s != '"' && *s != '\\' && *s != '\r')
			s++;
		if (s >= end)
			return unterminated(P, s, "'\"\"\"'");
		if (!ml_basic_step(P, &s, &run, &decoded, &done))
			return false;
	}
	P->p = s + 3;
	if (!finish(P, decoded, run, s, out, len))
		return false;
	note_newlines(P, open, P->p);
	return true;
}

static bool read_ml_literal(struct parser *P, const char **out, size_t *len)
{
	const char *open = P->p, *end = P->end;
	const char *s = skip_first_newline(open + 3, end), *run = s;
	bool decoded = false;
	size_t n = 0;

	P->text_len = 0;
	for (;;) {
		while (s < end && *s != '\'' && *s != '\r')
			s++;
		if (s >= end)
			return unterminated(P, s, "\"'''\"");
		if (*s == '\r') {
			if (!text_put(P, run, (size_t)(s - run)) ||
			    !text_put(P, "\n", 1))
				return false;
			decoded = true;
			s = run = s + 2;
			continue;
		}
		n = quote_run(s, end, '\'');
		if (n >= 3)
			break;
		s += n;
	}
	if (!closing_run(P, s, n))
		return false;
	s += n - 3;
	P->p = s + 3;
	if (!finish(P, decoded, run, s, out, len))
		return false;
	note_newlines(P, open, P->p);
	return true;
}

static bool starts_triple(const struct parser *P, char q)
{
	return P->end - P->p >= 3 && P->p[0] == q && P->p[1] == q &&
	       P->p[2] == q;
}

bool read_string(struct parser *P, const char **out, size_t *len)
{
	if (*P->p == '"')
		return starts_triple(P, '"') ? read_ml_basic(P, out, len)
		                             : read_basic(P, out, len);
	return starts_triple(P, '\'') ? read_ml_literal(P, out, len)
	                              : read_literal(P, out, len);
}

bool read_key_string(struct parser *P, const char **out, size_t *len)
{
	if (starts_triple(P, *P->p))
		return parse_fail(P, P->p,
		                  "expected a key, found a multi-line string");
	if (*P->p == '"')
		return read_basic(P, out, len);
	return read_literal(P, out, len);
}
