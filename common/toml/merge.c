/* merge.c: layering one tree over another into a new tree.
 *
 * The result owns all its memory (its own arena), so base and overlay
 * stay untouched and may be freed first.  Each layer's source and dir
 * strings are copied into the new arena once and shared by every value
 * from that layer, the same way a parse shares them. */
#include "toml_internal.h"

#include <stdlib.h>
#include <string.h>

struct layer {
	const char *from_source, *from_dir; /* the input tree's strings */
	const char *source, *dir;           /* the copies in the result */
};

struct merger {
	struct toml_doc *doc;
	struct arena *arena;
	struct intern keys;
	struct layer *layers;
	size_t n_layers, cap_layers;
	size_t last; /* layer of the previous value: usually the next's */
};

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool layer_matches(const struct layer *l, const struct toml_origin *o)
{
	if (l->from_source == o->source && l->from_dir == o->dir)
		return true;
	return same_text(l->source, o->source) && same_text(l->dir, o->dir);
}

static struct layer *layer_add(struct merger *M, const struct toml_origin *o)
{
	struct layer *l;

	if (M->n_layers == M->cap_layers) {
		size_t cap = M->cap_layers ? M->cap_layers * 2 : 8;
		struct layer *ls = realloc(M->layers, cap * sizeof *ls);

		if (!ls)
			return NULL;
		M->layers = ls;
		M->cap_layers = cap;
	}
	l = &M->layers[M->n_layers];
	l->from_source = o->source;
	l->from_dir = o->dir;
	l->source = o->source
	                ? arena_strdup(M->arena, o->source, strlen(o->source))
	                : NULL;
	l->dir = o->dir ? arena_strdup(M->arena, o->dir, strlen(o->dir)) : NULL;
	if ((o->source && !l->source) || (o->dir && !l->dir))
		return NULL;
	M->last = M->n_layers++;
	return l;
}

static bool copy_origin(struct merger *M, struct toml_origin *to,
                        const struct toml_origin *from)
{
	struct layer *l = NULL;

	if (M->n_layers && layer_matches(&M->layers[M->last], from))
		l = &M->layers[M->last];
	for (size_t i = 0; !l && i < M->n_layers; i++)
		if (layer_matches(&M->layers[i], from))
			l = &M->layers[M->last = i];
	if (!l)
		l = layer_add(M, from);
	if (!l)
		return false;
	to->source = l->source;
	to->dir = l->dir;
	to->line = from->line;
	to->col = from->col;
	return true;
}

static bool copy_value(struct merger *M, struct toml_value *dst,
                       const struct toml_value *src);

static bool copy_entry(struct merger *M, struct toml_value *table,
                       const struct toml_entry *e)
{
	const char *key = intern_key(&M->keys, e->key, key_len(e->key), NULL);
	struct toml_value *slot;

	if (!key)
		return false;
	slot = table_add(M->arena, table, key);
	return slot && copy_value(M, slot, &e->value);
}

static bool copy_table(struct merger *M, struct toml_value *dst,
                       const struct toml_value *src)
{
	if (!table_init(M->arena, dst, src->n))
		return false;
	for (uint32_t i = 0; i < src->n; i++)
		if (!copy_entry(M, dst, &src->u.t->entries[i]))
			return false;
	return table_compact(M->arena, dst);
}

static bool copy_array(struct merger *M, struct toml_value *dst,
                       const struct toml_value *src)
{
	dst->u.a = NULL;
	if (src->n == 0)
		return true;
	dst->u.a = arena_alloc(M->arena, sizeof *dst->u.a * src->n);
	if (!dst->u.a)
		return false;
	for (uint32_t i = 0; i < src->n; i++)
		if (!copy_value(M, &dst->u.a[i], &src->u.a[i]))
			return false;
	return true;
}

/* A deep copy into the result's arena (depth is bounded by the parser's
 * TOML_MAX_DEPTH, so the recursion is too). */
static bool copy_value(struct merger *M, struct toml_value *dst,
                       const struct toml_value *src)
{
	*dst = *src;
	if (!copy_origin(M, &dst->origin, &src->origin))
		return false;
	switch (src->type) {
	case TOML_TABLE:
		return copy_table(M, dst, src);
	case TOML_ARRAY:
		return copy_array(M, dst, src);
	case TOML_STRING:
		dst->u.s = arena_strdup(M->arena, src->u.s, src->n);
		return dst->u.s != NULL;
	default:
		return true;
	}
}

static const struct toml_value *overlay_entry(const struct toml_value *over,
                                              const char *key)
{
	const struct toml_entry *e = table_find_text(over, key, key_len(key));

	return e ? &e->value : NULL;
}

static bool merge_tables(struct merger *M, struct toml_value *dst,
                         const struct toml_value *base,
                         const struct toml_value *over);

/* Base's entry, replaced or merged with the overlay's of the same key. */
static bool merge_entry(struct merger *M, struct toml_value *dst,
                        const struct toml_entry *be,
                        const struct toml_value *over)
{
	const struct toml_value *ov = overlay_entry(over, be->key);
	const char *key = intern_key(&M->keys, be->key, key_len(be->key), NULL);
	struct toml_value *slot;

	if (!key || !(slot = table_add(M->arena, dst, key)))
		return false;
	if (!ov)
		return copy_value(M, slot, &be->value);
	if (ov->type == TOML_TABLE && be->value.type == TOML_TABLE)
		return merge_tables(M, slot, &be->value, ov);
	return copy_value(M, slot, ov);
}

/* Base's keys first, in their order, then the overlay's new ones; the
 * merged table keeps base's origin, where it was first defined. */
static bool merge_tables(struct merger *M, struct toml_value *dst,
                         const struct toml_value *base,
                         const struct toml_value *over)
{
	uint32_t n = base->n;

	for (uint32_t i = 0; i < over->n; i++)
		if (!table_find_text(base, over->u.t->entries[i].key,
		                     key_len(over->u.t->entries[i].key)))
			n++;
	*dst = *base;
	if (!copy_origin(M, &dst->origin, &base->origin) ||
	    !table_init(M->arena, dst, n))
		return false;
	for (uint32_t i = 0; i < base->n; i++)
		if (!merge_entry(M, dst, &base->u.t->entries[i], over))
			return false;
	for (uint32_t i = 0; i < over->n; i++) {
		const struct toml_entry *oe = &over->u.t->entries[i];

		if (!table_find_text(base, oe->key, key_len(oe->key)) &&
		    !copy_entry(M, dst, oe))
			return false;
	}
	return table_compact(M->arena, dst);
}

struct toml_value *toml_merge(const struct toml_value *base,
                              const struct toml_value *overlay,
                              struct insomnia_error *err)
{
	struct merger M = {0};
	bool ok;

	if (!base || !overlay || base->type != TOML_TABLE ||
	    overlay->type != TOML_TABLE) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "toml_merge: both sides must be "
		                   "tables");
		return NULL;
	}
	M.doc = doc_new(base->origin.source, base->origin.dir);
	ok = M.doc != NULL;
	if (ok) {
		M.arena = &M.doc->arena;
		ok = intern_init(&M.keys, M.arena) &&
		     merge_tables(&M, &M.doc->root, base, overlay);
	}
	intern_release(&M.keys);
	free(M.layers);
	if (ok)
		return &M.doc->root;
	if (M.doc)
		toml_free(&M.doc->root);
	insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
	                   "out of memory merging configuration");
	return NULL;
}
