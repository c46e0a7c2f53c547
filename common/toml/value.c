/* value.c: the read-only face of a tree: types, origins, look-ups and
 * typed accessors, plus creating and freeing roots. */
#include "toml_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
    [TOML_TABLE] = "table",
    [TOML_ARRAY] = "array",
    [TOML_STRING] = "string",
    [TOML_INTEGER] = "integer",
    [TOML_FLOAT] = "float",
    [TOML_BOOL] = "boolean",
    [TOML_DATETIME] = "offset date-time",
    [TOML_DATETIME_LOCAL] = "local date-time",
    [TOML_DATE_LOCAL] = "local date",
    [TOML_TIME_LOCAL] = "local time",
};

const char *toml_type_name(enum toml_type t)
{
	if ((unsigned)t >= sizeof type_names / sizeof type_names[0])
		return "unknown";
	return type_names[t];
}

enum toml_type toml_type(const struct toml_value *v)
{
	return (enum toml_type)v->type;
}

const struct toml_origin *toml_origin(const struct toml_value *v)
{
	return v ? &v->origin : NULL;
}

size_t toml_len(const struct toml_value *v)
{
	if (!v || (v->type != TOML_TABLE && v->type != TOML_ARRAY))
		return 0;
	return v->n;
}

static bool is_table(const struct toml_value *v)
{
	return v && v->type == TOML_TABLE;
}

const char *toml_table_key(const struct toml_value *table, size_t i)
{
	if (!is_table(table) || i >= table->n)
		return NULL;
	return table->u.t->entries[i].key;
}

size_t toml_table_key_len(const struct toml_value *table, size_t i)
{
	if (!is_table(table) || i >= table->n)
		return 0;
	return key_len(table->u.t->entries[i].key);
}

const struct toml_value *toml_table_value(const struct toml_value *table,
                                          size_t i)
{
	if (!is_table(table) || i >= table->n)
		return NULL;
	return &table->u.t->entries[i].value;
}

const struct toml_value *toml_table_get(const struct toml_value *table,
                                        const char *key)
{
	const struct toml_entry *e;

	if (!is_table(table) || !key)
		return NULL;
	e = table_find_text(table, key, strlen(key));
	return e ? &e->value : NULL;
}

const struct toml_value *toml_array_at(const struct toml_value *array, size_t i)
{
	if (!array || array->type != TOML_ARRAY || i >= array->n)
		return NULL;
	return &array->u.a[i];
}

const struct toml_value *toml_lookup(const struct toml_value *root,
                                     const char *path)
{
	const struct toml_value *v = root;
	const char *step = path;

	if (!path)
		return NULL;
	for (;;) {
		const char *dot = strchr(step, '.');
		size_t len = dot ? (size_t)(dot - step) : strlen(step);
		const struct toml_entry *e;

		if (!is_table(v))
			return NULL;
		e = table_find_text(v, step, len);
		if (!e)
			return NULL;
		v = &e->value;
		if (!dot)
			return v;
		step = dot + 1;
	}
}

bool toml_as_string(const struct toml_value *v, const char **out, size_t *len)
{
	if (!v || v->type != TOML_STRING)
		return false;
	if (out)
		*out = v->u.s;
	if (len)
		*len = v->n;
	return true;
}

bool toml_as_int(const struct toml_value *v, int64_t *out)
{
	if (!v || v->type != TOML_INTEGER)
		return false;
	if (out)
		*out = v->u.i;
	return true;
}

bool toml_as_float(const struct toml_value *v, double *out)
{
	if (!v || v->type != TOML_FLOAT)
		return false;
	if (out)
		*out = v->u.f;
	return true;
}

bool toml_as_bool(const struct toml_value *v, bool *out)
{
	if (!v || v->type != TOML_BOOL)
		return false;
	if (out)
		*out = v->u.b;
	return true;
}

bool toml_as_datetime(const struct toml_value *v, struct toml_datetime *out)
{
	if (!v || !datetime_is_type((enum toml_type)v->type))
		return false;
	if (out)
		datetime_unpack(v, out);
	return true;
}

/* A new tree: its arena, its copies of the layer's names (shared by the
 * origin of every value in the layer) and an empty root table. */
struct toml_doc *doc_new(const char *source, const char *dir)
{
	struct toml_doc *doc = calloc(1, sizeof *doc);
	struct toml_origin *o;

	if (!doc)
		return NULL;
	arena_init(&doc->arena);
	o = &doc->root.origin;
	o->line = 1;
	o->col = 1;
	o->source = arena_strdup(&doc->arena, source ? source : "",
	                         source ? strlen(source) : 0);
	if (dir)
		o->dir = arena_strdup(&doc->arena, dir, strlen(dir));
	if (!o->source || (dir && !o->dir) ||
	    !table_init(&doc->arena, &doc->root, 0)) {
		arena_release(&doc->arena);
		free(doc);
		return NULL;
	}
	return doc;
}

struct toml_value *toml_table_new(const char *source, const char *dir)
{
	struct toml_doc *doc = doc_new(source, dir);

	return doc ? &doc->root : NULL;
}

void toml_free(struct toml_value *root)
{
	struct toml_doc *doc = (struct toml_doc *)root;

	if (!doc)
		return;
	arena_release(&doc->arena);
	free(doc);
}
