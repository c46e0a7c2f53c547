/* toml.h: a complete TOML 1.0.0 parser, typed look-ups, layered merge and
 * a writer.
 *
 * A document parses into a tree of values owned by its root; toml_free()
 * on the root frees everything.  Every value remembers where it came from
 * (struct toml_origin: the layer's source name, the directory of that
 * layer's file, and the line and column), so errors name the right layer
 * and relative paths resolve against the right directory, even after a
 * merge. */
#ifndef INSOMNIA_TOML_H
#define INSOMNIA_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Deepest nesting of arrays and inline tables accepted; deeper input is
 * a clear error, never a stack overflow. */
#define TOML_MAX_DEPTH 128

enum toml_type {
	TOML_TABLE,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,       /* offset date-time */
	TOML_DATETIME_LOCAL, /* local date-time */
	TOML_DATE_LOCAL,     /* local date */
	TOML_TIME_LOCAL,     /* local time */
};

struct toml_datetime {
	int year, month, day;     /* unused for TOML_TIME_LOCAL */
	int hour, minute, second; /* unused for TOML_DATE_LOCAL */
	int nanosecond;           /* fraction kept to nanoseconds */
	int frac_digits;          /* digits written in the input (0..9) */
	int offset_minutes;       /* TOML_DATETIME only; east of UTC */
	bool offset_is_z;         /* written as Z rather than +00:00 */
};

/* Where a value was set.  source and dir are owned by the tree. */
struct toml_origin {
	const char
	    *source;     /* e.g. "project manifest .insomnia/manifest.toml" */
	const char *dir; /* directory of that layer's file, or NULL */
	int line, col;   /* 1-based position of the value */
};

struct toml_value;

/* Parse len bytes of buf.  source names the layer in errors; dir (may be
 * NULL) is recorded in every value's origin.  On error returns NULL and
 * fills err (kind INSOMNIA_ERR_CONFIG) with a message like
 * "project manifest .insomnia/manifest.toml:3:7: expected '=' after key
 * \"name\", found end of line". */
struct toml_value *toml_parse(const char *buf, size_t len, const char *source,
                              const char *dir, struct insomnia_error *err);

/* Frees a root returned by toml_parse, toml_merge or toml_table_new. */
void toml_free(struct toml_value *root);

enum toml_type toml_type(const struct toml_value *v);
const char *toml_type_name(enum toml_type t); /* "table", "string", ... */
const struct toml_origin *toml_origin(const struct toml_value *v);

/* Tables and arrays: number of entries.  Other types: 0. */
size_t toml_len(const struct toml_value *v);

/* Table entries in the order they were first defined. */
const char *toml_table_key(const struct toml_value *table, size_t i);
const struct toml_value *toml_table_value(const struct toml_value *table,
                                          size_t i);
/* Length of toml_table_key(table, i): quoted keys may hold "\u0000". */
size_t toml_table_key_len(const struct toml_value *table, size_t i);
/* Direct child by key, or NULL. */
const struct toml_value *toml_table_get(const struct toml_value *table,
                                        const char *key);
const struct toml_value *toml_array_at(const struct toml_value *array,
                                       size_t i);

/* Look up by a dotted path of bare keys ("pod.name").  NULL when absent
 * or when a step is not a table. */
const struct toml_value *toml_lookup(const struct toml_value *root,
                                     const char *path);

/* Scalar accessors: return false when v is NULL or of another type. */
bool toml_as_string(const struct toml_value *v, const char **out,
                    size_t *len); /* len may be NULL; strings may hold NUL */
bool toml_as_int(const struct toml_value *v, int64_t *out);
bool toml_as_float(const struct toml_value *v, double *out);
bool toml_as_bool(const struct toml_value *v, bool *out);
bool toml_as_datetime(const struct toml_value *v, struct toml_datetime *out);

/* Longest text toml_datetime_format() writes, with its NUL. */
#define TOML_DATETIME_MAX 40

/* Write a date/time of type t (one of the four date/time types) as TOML
 * and RFC 3339 text, e.g. "1979-05-27T00:32:00.999-07:00", into buf (at
 * least TOML_DATETIME_MAX bytes).  Returns the length, or 0 when t is not
 * a date/time type. */
size_t toml_datetime_format(enum toml_type t, const struct toml_datetime *dt,
                            char *buf);

/* A new empty root table (origin: the given source). */
struct toml_value *toml_table_new(const char *source, const char *dir);

/* Merge: returns a new tree; base and overlay are untouched.  Tables merge
 * key by key, recursively; an array or scalar in the overlay replaces the
 * base's value (and a table replaces a non-table and vice versa).  Each
 * value keeps the origin of the layer that set it. */
struct toml_value *toml_merge(const struct toml_value *base,
                              const struct toml_value *overlay,
                              struct insomnia_error *err);

/* Write a tree as TOML text that toml_parse reads back to the same
 * values.  Returns a malloc'd NUL-terminated buffer (length in *len if
 * len is not NULL), or NULL on allocation failure. */
char *toml_write(const struct toml_value *root, size_t *len);

#endif
