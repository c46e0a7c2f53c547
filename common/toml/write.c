/* write.c: a tree back to TOML text that parses to the same values.
 *
 * Layout: a table's plain values first as key = value lines, then each
 * sub-table under its own [header], and each non-empty array whose
 * elements are all tables as [[header]] sections.  Everything else
 * (arrays of scalars, tables inside such arrays) is written inline. */
#include "toml_internal.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	char *buf;
	size_t len, cap;
	bool failed;
	char decimal_point;
	/* The header path of the table being written. */
	const char *path[TOML_MAX_DEPTH + 1];
	size_t depth;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->cap - o->len <= n) {
		size_t cap = o->cap ? o->cap : 256;
		char *b;

		while (cap - o->len <= n)
			cap *= 2;
		b = realloc(o->buf, cap);
		if (!b) {
			o->failed = true;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* The short escape of c, or 0 when c needs \uXXXX. */
static char short_escape(unsigned char c)
{
	switch (c) {
	case '\b':
		return 'b';
	case '\t':
		return 't';
	case '\n':
		return 'n';
	case '\f':
		return 'f';
	case '\r':
		return 'r';
	case '"':
		return '"';
	case '\\':
		return '\\';
	default:
		return 0;
	}
}

static void put_string(struct out *o, const char *s, size_t len)
{
	size_t run = 0;

	put(o, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\')
			continue;
		put(o, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		esc[1] = short_escape(c);
		if (esc[1])
			put(o, esc, 2);
		else
			put(o, esc,
			    (size_t)snprintf(esc, sizeof esc, "\\u%04X", c));
	}
	put(o, s + run, len - run);
	put(o, "\"", 1);
}

static void put_key(struct out *o, const char *key)
{
	size_t len = key_len(key);

	if (key_is_bare(key, len))
		put(o, key, len);
	else
		put_string(o, key, len);
}

/* Shortest of %.15g, %.16g, %.17g that reads back as the same double,
 * with ".0" added when it would otherwise look like an integer. */
static void put_float(struct out *o, double d)
{
	char buf[40], *dp;
	int prec;

	if (isnan(d)) {
		puts_(o, signbit(d) ? "-nan" : "nan");
		return;
	}
	if (isinf(d)) {
		puts_(o, d < 0 ? "-inf" : "inf");
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	snprintf(buf, sizeof buf, "%.*g", prec, d);
	/* The C library writes the locale's decimal point. */
	if (o->decimal_point != '.' && (dp = strchr(buf, o->decimal_point)))
		*dp = '.';
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	puts_(o, buf);
}

static void put_inline(struct out *o, const struct toml_value *v);

static void put_inline_table(struct out *o, const struct toml_value *v)
{
	put(o, "{", 1);
	for (uint32_t i = 0; i < v->n; i++) {
		const struct toml_entry *e = &v->u.t->entries[i];

		put(o, i ? ", " : " ", i ? 2 : 1);
		put_key(o, e->key);
		put(o, " = ", 3);
		put_inline(o, &e->value);
	}
	put(o, v->n ? " }" : "}", v->n ? 2 : 1);
}

static void put_inline_array(struct out *o, const struct toml_value *v)
{
	put(o, "[", 1);
	for (uint32_t i = 0; i < v->n; i++) {
		if (i)
			put(o, ", ", 2);
		put_inline(o, &v->u.a[i]);
	}
	put(o, "]", 1);
}

static void put_inline(struct out *o, const struct toml_value *v)
{
	char buf[TOML_DATETIME_MAX];
	struct toml_datetime dt;

	switch (v->type) {
	case TOML_TABLE:
		put_inline_table(o, v);
		break;
	case TOML_ARRAY:
		put_inline_array(o, v);
		break;
	case TOML_STRING:
		put_string(o, v->u.s, v->n);
		break;
	case TOML_INTEGER:
		snprintf(buf, sizeof buf, "%" PRId64, v->u.i);
		puts_(o, buf);
		break;
	case TOML_FLOAT:
		put_float(o, v->u.f);
		break;
	case TOML_BOOL:
		puts_(o, v->u.b ? "true" : "false");
		break;
	default:
		datetime_unpack(v, &dt);
		put(o, buf, toml_datetime_format(toml_type(v), &dt, buf));
		break;
	}
}

static bool is_table_array(const struct toml_value *v)
{
	if (v->type != TOML_ARRAY || v->n == 0)
		return false;
	for (uint32_t i = 0; i < v->n; i++)
		if (v->u.a[i].type != TOML_TABLE)
			return false;
	return true;
}

static void put_header(struct out *o, bool array)
{
	put(o, array ? "\n[[" : "\n[", array ? 3 : 2);
	for (size_t i = 0; i < o->depth; i++) {
		if (i)
			put(o, ".", 1);
		put_key(o, o->path[i]);
	}
	put(o, array ? "]]\n" : "]\n", array ? 3 : 2);
}

static void put_body(struct out *o, const struct toml_value *t);

static void put_section(struct out *o, const char *key,
                        const struct toml_value *v)
{
	o->path[o->depth++] = key;
	if (v->type == TOML_TABLE) {
		put_header(o, false);
		put_body(o, v);
	} else {
		for (uint32_t i = 0; i < v->n; i++) {
			put_header(o, true);
			put_body(o, &v->u.a[i]);
		}
	}
	o->depth--;
}

static void put_body(struct out *o, const struct toml_value *t)
{
	const struct toml_entry *e = t->u.t->entries;

	for (uint32_t i = 0; i < t->n; i++) {
		if (e[i].value.type == TOML_TABLE ||
		    is_table_array(&e[i].value))
			continue;
		put_key(o, e[i].key);
		put(o, " = ", 3);
		put_inline(o, &e[i].value);
		put(o, "\n", 1);
	}
	for (uint32_t i = 0; i < t->n; i++)
		if (e[i].value.type == TOML_TABLE ||
		    is_table_array(&e[i].value))
			put_section(o, e[i].key, &e[i].value);
}

char *toml_write(const struct toml_value *root, size_t *len)
{
	struct out *o = calloc(1, sizeof *o);
	const char *dp = localeconv()->decimal_point;
	char *buf;

	if (!o)
		return NULL;
	o->decimal_point = dp && dp[0] ? dp[0] : '.';
	if (root && root->type == TOML_TABLE)
		put_body(o, root);
	put(o, "", 1);
	buf = o->buf;
	if (o->failed) {
		free(buf);
		buf = NULL;
	} else if (len) {
		*len = o->len - 1;
	}
	free(o);
	return buf;
}
