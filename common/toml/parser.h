/* parser.h: the parser's state, shared by parse.c (document, keys and
 * tables), parse_value.c (values, arrays, inline tables), parse_string.c
 * and parse_scalar.c (numbers and dates).  Not part of the API. */
#ifndef INSOMNIA_TOML_PARSER_H
#define INSOMNIA_TOML_PARSER_H

#include "toml_internal.h"

#include <string.h>

struct parser {
	const char *start; /* first byte after a BOM */
	const char *p;     /* next byte to read */
	const char *end;
	struct insomnia_error *err;
	const char *name; /* source name for messages */

	/* Position of p for origins, kept as we go: the line number, where
	 * the line starts, and a cache of the column (in characters) of
	 * col_at, so counting stays linear on long lines. */
	int line;
	const char *line_start;
	const char *col_at;
	int col;
	const char *high; /* next byte >= 0x80 (see parse_column) */

	struct toml_doc *doc;
	struct arena *arena;
	const char *source, *dir; /* the doc's copies, shared by origins */
	struct intern keys;
	char decimal_point; /* of the C library's locale, for strtod */

	/* Decoded text of the string being read, when it had escapes. */
	char *text;
	size_t text_len, text_cap;

	/* Elements of the arrays being read; an inner array's elements sit
	 * above its parent's until the inner one is copied out. */
	struct toml_value *stack;
	size_t top, stack_cap;

	/* The key just read: its interned parts and where each starts. */
	const char *key[TOML_MAX_DEPTH];
	const char *key_at[TOML_MAX_DEPTH];
	size_t key_n;

	/* The table that key/value lines fill: the last header's. */
	struct toml_value *cur;
};

/* Spaces and tabs; inline because it runs between every two tokens. */
static inline void skip_ws(struct parser *P)
{
	while (P->p < P->end && (*P->p == ' ' || *P->p == '\t'))
		P->p++;
}

/* parse.c */
int parse_column(struct parser *P, const char *at);

/* Every value's origin: the layer's shared names and its position. */
static inline void set_origin(struct parser *P, struct toml_value *v,
                              const char *at)
{
	v->origin.source = P->source;
	v->origin.dir = P->dir;
	v->origin.line = P->line;
	v->origin.col = parse_column(P, at);
}

bool parse_fail(struct parser *P, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *describe_at(const struct parser *P, const char *at, char *buf,
                        size_t size);
void note_newlines(struct parser *P, const char *from, const char *to);
bool parse_oom(struct parser *P);

/* parse_table.c */
bool parse_header(struct parser *P);
bool parse_keyval(struct parser *P, struct toml_value *table);
bool parse_depth_fail(struct parser *P, const char *at);

/* parse_value.c */
bool parse_value(struct parser *P, struct toml_value *v, unsigned depth);

/* parse_string.c */
bool text_grow(struct parser *P, size_t n);

/* Appends to P->text; inline because escapes append a byte at a time. */
static inline bool text_put(struct parser *P, const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (P->text_cap - P->text_len < n && !text_grow(P, n))
		return false;
	memcpy(P->text + P->text_len, s, n);
	P->text_len += n;
	return true;
}
bool read_string(struct parser *P, const char **out, size_t *len);
bool read_key_string(struct parser *P, const char **out, size_t *len);

/* parse_scalar.c: the shared start of numbers and dates */
static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Bytes a number or date/time token is made of: digits, letters and
 * "_+-.:", as a table (one load per byte on the hot paths). */
extern const unsigned char toml_token_chars[256];

static inline bool is_token_char(char c)
{
	return toml_token_chars[(unsigned char)c];
}

bool all_digits(const char *s, size_t n);
int digits_value(const char *s, size_t n);
bool bad_token(struct parser *P, const char *s, const char *e,
               const char *expected);
bool parse_number_or_date(struct parser *P, struct toml_value *v);

/* parse_number.c */
bool fast_number(struct parser *P, struct toml_value *v);
bool parse_number(struct parser *P, struct toml_value *v, const char *s,
                  const char *e);

/* parse_datetime.c */
bool fast_datetime(struct parser *P, struct toml_value *v);
bool parse_time_only(struct parser *P, struct toml_value *v, const char *s,
                     const char *e);
bool parse_date_time(struct parser *P, struct toml_value *v, const char *s,
                     const char *e);

#endif
