/* parse.c: the document loop, positions and error messages.
 *
 * The parser reads bytes directly (there is no token stream), one line
 * construct at a time: blank line, comment, [table] header, [[array]]
 * header or key = value.  Errors read
 *   <source>:<line>:<column>: expected X, found Y
 * where the column counts characters (code points), not bytes, from 1. */
#include "parser.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Line and column (in characters) of at, counted from the start.  Only
 * used for messages, so a rescan is fine and never goes stale. */
static void position_of(const struct parser *P, const char *at, int *line,
                        int *col)
{
	const char *q = P->start, *nl, *line_start = P->start;
	int n = 1, c = 1;

	if (at > P->end)
		at = P->end;
	while ((nl = memchr(q, '\n', (size_t)(at - q)))) {
		n++;
		q = line_start = nl + 1;
	}
	for (q = line_start; q < at; q++)
		c += (*q & 0xc0) != 0x80;
	*line = n;
	*col = c;
}

const char *describe_at(const struct parser *P, const char *at, char *buf,
                        size_t size)
{
	unsigned char c;
	size_t n;

	if (at >= P->end)
		return "end of file";
	c = (unsigned char)*at;
	if (c == '\n' || c == '\r')
		return "end of line";
	if (c == '\t')
		return "a tab";
	if (c == ' ')
		return "a space";
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, size, "control character U+%04X", c);
		return buf;
	}
	n = c < 0x80 ? 1 : utf8_seq_len(c);
	if (n == 0 || n > (size_t)(P->end - at))
		n = 1;
	snprintf(buf, size, "'%.*s'", (int)n, at);
	return buf;
}

bool parse_fail(struct parser *P, const char *at, const char *fmt, ...)
{
	char msg[INSOMNIA_ERROR_MESSAGE_MAX];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	position_of(P, at, &line, &col);
	insomnia_error_set(P->err, INSOMNIA_ERR_CONFIG, "%s:%d:%d: %.900s",
	                   P->name, line, col, msg);
	return false;
}

bool parse_oom(struct parser *P)
{
	insomnia_error_set(P->err, INSOMNIA_ERR_INTERNAL,
	                   "%s: out of memory while parsing", P->name);
	return false;
}

/* One bit per continuation byte of w (at bit 0 of its byte), summed by
 * the multiplication into the top byte. */
static size_t continuation_bits(uint64_t w)
{
	w = (w & ~(w << 1) & 0x8080808080808080ull) >> 7;
	return (size_t)((w * 0x0101010101010101ull) >> 56);
}

/* UTF-8 continuation bytes (10xxxxxx) in [q, end), 8 bytes at a time:
 * the column in characters is the byte count minus these.  The last
 * partial word is read whole (limit bounds the buffer) and masked, which
 * avoids a byte loop of unpredictable length on every value. */
static size_t count_continuations(const char *q, const char *end,
                                  const char *limit)
{
	size_t n = 0, rest;
	uint64_t w;

	for (; end - q >= 8; q += 8) {
		memcpy(&w, q, 8);
		n += continuation_bits(w);
	}
	rest = (size_t)(end - q);
	if (rest && limit - q >= 8) {
		memcpy(&w, q, 8);
		return n + continuation_bits(w & ((1ull << (8 * rest)) - 1));
	}
	for (; q < end; q++)
		n += (*q & 0xc0) == 0x80;
	return n;
}

/* First byte of 0x80 or more at or after s, or end. */
static const char *find_high(const char *s, const char *end)
{
	uint64_t w;

	for (; end - s >= 8; s += 8) {
		memcpy(&w, s, 8);
		if (w & 0x8080808080808080ull)
			return s +
			       __builtin_ctzll(w & 0x8080808080808080ull) / 8;
	}
	while (s < end && !(*s & 0x80))
		s++;
	return s;
}

/* Column of at, which must be on the current line.  While the line is
 * ASCII up to at (P->high is the next non-ASCII byte, found once for the
 * whole ASCII stretch of the document), that is a subtraction; else the
 * cache makes a run of calls along one long line cost its length once,
 * not squared. */
int parse_column(struct parser *P, const char *at)
{
	const char *q = P->col_at;

	if (P->high < P->line_start)
		P->high = find_high(P->line_start, P->end);
	if (at <= P->high)
		return (int)(at - P->line_start) + 1;
	if (q < P->line_start || q > at) {
		q = P->line_start;
		P->col = 1;
	}
	P->col += (int)(at - q) - (int)count_continuations(q, at, P->end);
	P->col_at = at;
	return P->col;
}

/* Counts the newlines a construct spanning [from, to) consumed. */
void note_newlines(struct parser *P, const char *from, const char *to)
{
	const char *nl;

	while ((nl = memchr(from, '\n', (size_t)(to - from)))) {
		P->line++;
		from = P->line_start = nl + 1;
	}
}

/* Leaves p on the newline (or the end).  Comment bytes were already
 * checked for control characters by the UTF-8 pass. */
static void skip_comment(struct parser *P)
{
	const char *nl = memchr(P->p, '\n', (size_t)(P->end - P->p));

	if (!nl)
		P->p = P->end;
	else
		P->p = nl > P->p && nl[-1] == '\r' ? nl - 1 : nl;
}

/* After a header or key/value: spaces, a comment, then a newline. */
static bool expect_line_end(struct parser *P, const char *what)
{
	char buf[16];

	skip_ws(P);
	if (P->p < P->end && *P->p == '#')
		skip_comment(P);
	if (P->p >= P->end || *P->p == '\n' || *P->p == '\r')
		return true;
	return parse_fail(P, P->p, "expected end of line after %s, found %s",
	                  what, describe_at(P, P->p, buf, sizeof buf));
}

static void eat_newline(struct parser *P)
{
	P->p += *P->p == '\r' ? 2 : 1;
	P->line++;
	P->line_start = P->p;
}

static bool parse_document(struct parser *P)
{
	for (;;) {
		bool ok;

		skip_ws(P);
		if (P->p >= P->end)
			return true;
		if (*P->p == '\n' || *P->p == '\r') {
			eat_newline(P);
			continue;
		}
		if (*P->p == '#') {
			skip_comment(P);
			continue;
		}
		if (*P->p == '[')
			ok = parse_header(P) && expect_line_end(P, "a header");
		else
			ok = parse_keyval(P, P->cur) &&
			     expect_line_end(P, "a value");
		if (!ok)
			return false;
	}
}

/* The whole text must be UTF-8 without stray control characters; see
 * utf8.c for why this is one pass up front. */
static bool check_text(struct parser *P)
{
	size_t off;
	const char *at;
	char buf[32];

	switch (utf8_check_text(P->start, (size_t)(P->end - P->start), &off)) {
	case TEXT_OK:
		return true;
	case TEXT_BAD_UTF8:
		at = P->start + off;
		return parse_fail(P, at,
		                  "expected UTF-8 text, found invalid byte "
		                  "0x%02x",
		                  (unsigned char)*at);
	case TEXT_LONE_CR:
		at = P->start + off;
		return parse_fail(P, at,
		                  "expected a line feed after a carriage "
		                  "return, found %s",
		                  describe_at(P, at + 1, buf, sizeof buf));
	case TEXT_CONTROL:
		break;
	}
	at = P->start + off;
	return parse_fail(P, at,
	                  "expected text, found control character U+%04X "
	                  "(inside a string, write it as an escape)",
	                  (unsigned char)*at);
}

static bool parser_init(struct parser *P, const char *buf, size_t len,
                        const char *source, const char *dir)
{
	const char *dp = localeconv()->decimal_point;

	P->name = source ? source : "input";
	P->doc = doc_new(source, dir);
	if (!P->doc)
		return false;
	P->arena = &P->doc->arena;
	if (!intern_init(&P->keys, P->arena))
		return false;
	P->start = buf ? buf : "";
	P->end = P->start + len;
	/* A UTF-8 byte order mark is allowed and is not part of the text. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		P->start += 3;
	P->p = P->line_start = P->col_at = P->start;
	P->line = P->col = 1;
	P->cur = &P->doc->root;
	P->source = P->doc->root.origin.source;
	P->dir = P->doc->root.origin.dir;
	P->decimal_point = dp && dp[0] ? dp[0] : '.';
	return true;
}

struct toml_value *toml_parse(const char *buf, size_t len, const char *source,
                              const char *dir, struct insomnia_error *err)
{
	struct parser P;
	bool ok;

	memset(&P, 0, sizeof P);
	P.err = err;
	if (!buf && len) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "%s: no buffer to parse",
		                   source ? source : "input");
		return NULL;
	}
	if (len >= UINT32_MAX) {
		insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
		                   "%s: document is larger than 4 GiB",
		                   source ? source : "input");
		return NULL;
	}
	ok = parser_init(&P, buf, len, source, dir);
	if (!ok)
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory parsing %s", P.name);
	ok = ok && check_text(&P) && parse_document(&P);
	free(P.text);
	free(P.stack);
	intern_release(&P.keys);
	if (ok)
		return &P.doc->root;
	if (P.doc)
		toml_free(&P.doc->root);
	return NULL;
}
