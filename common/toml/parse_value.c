/* parse_value.c: the value after '=' or inside an array: dispatch on its
 * first byte, plus booleans, arrays and inline tables.
 *
 * Arrays and inline tables recurse; depth is checked against
 * TOML_MAX_DEPTH before each level, so hostile input such as 100000 '['
 * ends in an error, not a stack overflow. */
#include "parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A short quote of the word at at, for "found 'yes'" messages. */
static const char *describe_word(const struct parser *P, const char *at,
                                 char *buf, size_t size)
{
	const char *e = at;

	while (e < P->end && e - at < 32 &&
	       ((*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
	        (*e >= '0' && *e <= '9') || *e == '_' || *e == '-'))
		e++;
	if (e - at < 2)
		return describe_at(P, at, buf, size);
	snprintf(buf, size, "'%.*s'", (int)(e - at), at);
	return buf;
}

static bool no_value(struct parser *P, const char *at)
{
	char buf[48];

	return parse_fail(P, at, "expected a value, found %s",
	                  describe_word(P, at, buf, sizeof buf));
}

static bool parse_bool(struct parser *P, struct toml_value *v)
{
	size_t avail = (size_t)(P->end - P->p);

	if (avail >= 4 && memcmp(P->p, "true", 4) == 0) {
		v->u.b = true;
		P->p += 4;
	} else if (avail >= 5 && memcmp(P->p, "false", 5) == 0) {
		v->u.b = false;
		P->p += 5;
	} else {
		return no_value(P, P->p);
	}
	v->type = TOML_BOOL;
	return true;
}

static bool parse_string_value(struct parser *P, struct toml_value *v)
{
	const char *text;
	size_t len;
	char *copy;

	if (!read_string(P, &text, &len))
		return false;
	copy = arena_strdup(P->arena, text, len);
	if (!copy)
		return parse_oom(P);
	v->type = TOML_STRING;
	v->n = (uint32_t)len;
	v->u.s = copy;
	return true;
}

/* Spaces, newlines and comments, all allowed between array elements. */
static void skip_array_space(struct parser *P)
{
	while (P->p < P->end) {
		char c = *P->p;

		if (c == ' ' || c == '\t') {
			P->p++;
		} else if (c == '\n' || c == '\r') {
			P->p += c == '\r' ? 2 : 1;
			P->line++;
			P->line_start = P->p;
		} else if (c == '#') {
			const char *nl =
			    memchr(P->p, '\n', (size_t)(P->end - P->p));
			P->p = nl ? nl : P->end;
		} else {
			return;
		}
	}
}

static bool stack_push(struct parser *P, const struct toml_value *v)
{
	if (P->top == P->stack_cap) {
		size_t cap = P->stack_cap ? P->stack_cap * 2 : 64;
		struct toml_value *s = realloc(P->stack, cap * sizeof *s);

		if (!s)
			return parse_oom(P);
		P->stack = s;
		P->stack_cap = cap;
	}
	P->stack[P->top++] = *v;
	return true;
}

/* Moves the elements above base off the stack into an exact-size
 * block of the arena. */
static bool array_finish(struct parser *P, struct toml_value *v, size_t base)
{
	size_t n = P->top - base;

	v->type = TOML_ARRAY;
	v->n = (uint32_t)n;
	v->u.a = NULL;
	if (n) {
		v->u.a = arena_alloc(P->arena, n * sizeof *v->u.a);
		if (!v->u.a)
			return parse_oom(P);
		memcpy(v->u.a, P->stack + base, n * sizeof *v->u.a);
	}
	P->top = base;
	return true;
}

static bool parse_array(struct parser *P, struct toml_value *v, unsigned depth)
{
	const char *open = P->p;
	size_t base = P->top;
	struct toml_value elem;
	char buf[16];

	if (depth > TOML_MAX_DEPTH)
		return parse_depth_fail(P, open);
	v->aux = (uint16_t)depth;
	P->p++;
	for (;;) {
		skip_array_space(P);
		if (P->p < P->end && *P->p == ']')
			break;
		if (!parse_value(P, &elem, depth + 1) || !stack_push(P, &elem))
			return false;
		skip_array_space(P);
		if (P->p < P->end && *P->p == ',') {
			P->p++;
			continue;
		}
		if (P->p < P->end && *P->p == ']')
			break;
		return parse_fail(P, P->p,
		                  "expected ',' or ']' after an array element, "
		                  "found %s",
		                  describe_at(P, P->p, buf, sizeof buf));
	}
	P->p++;
	return array_finish(P, v, base);
}

/* Inline tables are one line in TOML 1.0: no newlines, no trailing
 * comma. */
static bool parse_inline_table(struct parser *P, struct toml_value *v,
                               unsigned depth)
{
	char buf[16];

	if (depth > TOML_MAX_DEPTH)
		return parse_depth_fail(P, P->p);
	if (!table_init(P->arena, v, 0))
		return parse_oom(P);
	v->aux = (uint16_t)depth;
	P->p++;
	skip_ws(P);
	if (P->p < P->end && *P->p == '}') {
		P->p++;
		v->flags = TF_INLINE;
		return table_compact(P->arena, v) || parse_oom(P);
	}
	for (;;) {
		if (!parse_keyval(P, v))
			return false;
		skip_ws(P);
		if (P->p < P->end && *P->p == ',') {
			P->p++;
			continue;
		}
		if (P->p < P->end && *P->p == '}')
			break;
		return parse_fail(P, P->p,
		                  "expected ',' or '}' after a key/value pair "
		                  "of an inline table, found %s",
		                  describe_at(P, P->p, buf, sizeof buf));
	}
	P->p++;
	v->flags = TF_INLINE;
	return table_compact(P->arena, v) || parse_oom(P);
}

static bool starts_number(char c)
{
	return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'i' ||
	       c == 'n';
}

bool parse_value(struct parser *P, struct toml_value *v, unsigned depth)
{
	const char *at = P->p;

	memset(v, 0, sizeof *v);
	set_origin(P, v, at);
	if (at >= P->end)
		return no_value(P, at);
	switch (*at) {
	case '"':
	case '\'':
		return parse_string_value(P, v);
	case 't':
	case 'f':
		return parse_bool(P, v);
	case '[':
		return parse_array(P, v, depth);
	case '{':
		return parse_inline_table(P, v, depth);
	}
	if (starts_number(*at))
		return parse_number_or_date(P, v);
	return no_value(P, at);
}
