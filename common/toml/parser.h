/* parser.h: the parser's state, shared by parse.c (document, keys and
 * tables), parse_value.c (values, arrays, inline tables), parse_string.c
 * and parse_scalar.c (numbers and dates).  Not part of the API. */
#ifndef INSOMNIA_TOML_PARSER_H
#define INSOMNIA_TOML_PARSER_H

#include "toml_internal.h"

struct parser {
	const char *start; /* first byte after a BOM */
	const char *p;     /* next byte to read */
	const char *end;
	struct error *err;
	const char *name; /* source name for messages */

	/* Position of p for origins, kept as we go: the line number, where
	 * the line starts, and a cache of the column (in characters) of
	 * col_at, so counting stays linear on long lines. */
	int line;
	const char *line_start;
	const char *col_at;
	int col;

	struct toml_doc *doc;
	struct arena *arena;
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

/* parse.c */
bool parse_fail(struct parser *P, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *describe_at(const struct parser *P, const char *at, char *buf,
                        size_t size);
void set_origin(struct parser *P, struct toml_value *v, const char *at);
void note_newlines(struct parser *P, const char *from, const char *to);
void skip_ws(struct parser *P);
bool parse_oom(struct parser *P);

/* parse_table.c */
bool parse_header(struct parser *P);
bool parse_keyval(struct parser *P, struct toml_value *table);
bool parse_depth_fail(struct parser *P, const char *at);

/* parse_value.c */
bool parse_value(struct parser *P, struct toml_value *v, unsigned depth);

/* parse_string.c */
bool text_put(struct parser *P, const char *s, size_t n);
bool read_string(struct parser *P, const char **out, size_t *len);
bool read_key_string(struct parser *P, const char **out, size_t *len);

/* parse_scalar.c */
bool parse_number_or_date(struct parser *P, struct toml_value *v);

#endif
