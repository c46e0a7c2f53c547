/* table.c: key interning, table entries with a hash index, and growing
 * arrays of tables.
 *
 * Documents can hold tables with many thousands of keys, so a table
 * gains an open-addressing index once it outgrows a short linear scan.
 * Keys are interned per tree: the parser compares interned pointers and
 * the index reuses the hash stored with each key. */
#include "toml_internal.h"

#include <stdlib.h>
#include <string.h>

/* Tables up to this many entries are searched linearly: for a handful
 * of keys that beats hashing. */
#define LINEAR_MAX     16
#define FIRST_CAP_LOG2 2

/* The len (0..7, never 8) bytes at s as a little-endian word.  When 8
 * bytes are readable there (s + 8 <= limit) one load and a mask do it;
 * otherwise a byte loop. */
static inline uint64_t tail_word(const char *s, size_t len, const char *limit)
{
	uint64_t w = 0;

	if (len == 0)
		return 0;
	if (limit && limit - s >= 8) {
		memcpy(&w, s, 8);
		return w & ((1ull << (8 * len)) - 1);
	}
	for (size_t i = 0; i < len; i++)
		w |= (uint64_t)(unsigned char)s[i] << (8 * i);
	return w;
}

/* limit: how far bytes after the key may be read (NULL: not at all). */
uint32_t toml_hash(const char *s, size_t len, const char *limit)
{
	uint64_t h = 0x243f6a8885a308d3ull ^ (len * 0x9e3779b97f4a7c15ull);
	uint64_t w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 31;
	}
	h = (h ^ tail_word(s, len, limit)) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	h *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32);
}

/* An interned key may be read up to its block's end: the text, its NUL
 * and the padding to 8 bytes. */
static const char *key_limit(const char *key, size_t len)
{
	return key + ((len + 8) & ~(size_t)7);
}

bool intern_init(struct intern *in, struct arena *a)
{
	in->arena = a;
	in->mask = 255;
	in->count = 0;
	in->slots = calloc(in->mask + 1, sizeof *in->slots);
	return in->slots != NULL;
}

void intern_release(struct intern *in)
{
	free(in->slots);
	in->slots = NULL;
}

static bool intern_grow(struct intern *in)
{
	uint32_t mask = in->mask * 2 + 1;
	const char **slots = calloc((size_t)mask + 1, sizeof *slots);

	if (!slots)
		return false;
	for (uint32_t i = 0; i <= in->mask; i++) {
		const char *k = in->slots[i];
		uint32_t j;

		if (!k)
			continue;
		for (j = key_hash(k) & mask; slots[j]; j = (j + 1) & mask)
			;
		slots[j] = k;
	}
	free(in->slots);
	in->slots = slots;
	in->mask = mask;
	return true;
}

static const char *key_new(struct arena *a, const char *s, size_t len,
                           uint32_t hash)
{
	struct key_hdr *h = arena_alloc(a, sizeof *h + len + 1);
	char *text;

	if (!h)
		return NULL;
	h->len = (uint32_t)len;
	h->hash = hash;
	text = (char *)(h + 1);
	if (len)
		memcpy(text, s, len);
	text[len] = '\0';
	return text;
}

/* Keys are short: word compares beat a call to memcmp. */
static bool same_key(const char *key, const char *s, size_t len,
                     const char *limit)
{
	uint64_t a, b;

	for (; len >= 8; key += 8, s += 8, len -= 8) {
		memcpy(&a, key, 8);
		memcpy(&b, s, 8);
		if (a != b)
			return false;
	}
	return tail_word(key, len, key_limit(key, len)) ==
	       tail_word(s, len, limit);
}

const char *intern_key(struct intern *in, const char *s, size_t len,
                       const char *limit)
{
	uint32_t hash = toml_hash(s, len, limit);
	uint32_t i;
	const char *k;

	for (i = hash & in->mask; (k = in->slots[i]); i = (i + 1) & in->mask)
		if (key_hash(k) == hash && key_len(k) == len &&
		    same_key(k, s, len, limit))
			return k;
	k = key_new(in->arena, s, len, hash);
	if (!k)
		return NULL;
	in->slots[i] = k;
	/* Keep the load under one half so probes stay short. */
	if (++in->count * 2 > in->mask && !intern_grow(in))
		return NULL;
	return k;
}

static unsigned log2_of(uint32_t pow2)
{
	return (unsigned)__builtin_ctz(pow2);
}

static unsigned log2_ceil(uint32_t n)
{
	return n <= 1 ? 0 : 32u - (unsigned)__builtin_clz(n - 1);
}

static void index_put(struct toml_table *t, uint32_t hash, uint32_t entry)
{
	uint32_t i;

	for (i = hash & t->mask; t->index[i]; i = (i + 1) & t->mask)
		;
	t->index[i] = entry + 1;
}

/* (Re)builds the index with twice as many slots as entry capacity. */
static bool index_build(struct arena *a, struct toml_table *t, uint32_t n)
{
	unsigned lg = log2_of(t->cap) + 1;

	if (t->index)
		arena_vec_put(a, VEC_INDEX, log2_of(t->mask + 1), t->index);
	t->index = arena_vec_get(a, VEC_INDEX, lg, sizeof *t->index);
	if (!t->index)
		return false;
	t->mask = (1u << lg) - 1;
	memset(t->index, 0, sizeof *t->index << lg);
	for (uint32_t e = 0; e < n; e++)
		index_put(t, key_hash(t->entries[e].key), e);
	return true;
}

static bool is_pow2(uint32_t n)
{
	return n && (n & (n - 1)) == 0;
}

/* Grows to the next power of two.  A block left exact-size by
 * table_compact() fits no free list and stays behind in the arena. */
static bool entries_grow(struct arena *a, struct toml_table *t, uint32_t n)
{
	unsigned lg = log2_ceil(t->cap + 1);
	struct toml_entry *e;

	e = arena_vec_get(a, VEC_ENTRIES, lg, sizeof *e);
	if (!e)
		return false;
	if (n)
		memcpy(e, t->entries, sizeof *e * n);
	if (is_pow2(t->cap))
		arena_vec_put(a, VEC_ENTRIES, log2_of(t->cap), t->entries);
	t->entries = e;
	t->cap = 1u << lg;
	if (t->cap > LINEAR_MAX)
		return index_build(a, t, n);
	return true;
}

/* Moves a small table that is complete (a closed inline table, a merge
 * result) into an exact-size block, and hands its power-of-two block to
 * the next table.  Tables with an index are large enough that their
 * slack matters less, and are left alone.  (Sections are not compacted
 * when the parser leaves them: the next header often adds a sub-table
 * to them, which would strand the exact-size block.) */
bool table_compact(struct arena *a, struct toml_value *v)
{
	struct toml_table *t = v->u.t;
	struct toml_entry *e = NULL;

	if (t->index || t->cap == v->n || !is_pow2(t->cap))
		return true;
	if (v->n) {
		e = arena_alloc(a, sizeof *e * v->n);
		if (!e)
			return false;
		memcpy(e, t->entries, sizeof *e * v->n);
	}
	arena_vec_put(a, VEC_ENTRIES, log2_of(t->cap), t->entries);
	t->entries = e;
	t->cap = v->n;
	return true;
}

/* Turns v into an empty table with room for cap entries. */
bool table_init(struct arena *a, struct toml_value *v, uint32_t cap)
{
	struct toml_table *t = arena_alloc(a, sizeof *t);
	unsigned lg = log2_ceil(cap);

	if (!t)
		return false;
	if (lg < FIRST_CAP_LOG2)
		lg = FIRST_CAP_LOG2;
	t->cap = 1u << lg;
	t->entries = arena_vec_get(a, VEC_ENTRIES, lg, sizeof *t->entries);
	t->index = NULL;
	t->mask = 0;
	t->bloom = 0;
	if (!t->entries)
		return false;
	v->type = TOML_TABLE;
	v->n = 0;
	v->u.t = t;
	return t->cap <= LINEAR_MAX || index_build(a, t, 0);
}

static uint64_t bloom_bit(uint32_t hash)
{
	return 1ull << (hash >> 26);
}

/* Finds an interned key among t's entries. */
struct toml_value *table_find(const struct toml_value *v, const char *key)
{
	const struct toml_table *t = v->u.t;
	uint32_t i, e;

	if (!(t->bloom & bloom_bit(key_hash(key))))
		return NULL;
	if (!t->index) {
		for (e = 0; e < v->n; e++)
			if (t->entries[e].key == key)
				return &t->entries[e].value;
		return NULL;
	}
	for (i = key_hash(key) & t->mask; (e = t->index[i]);
	     i = (i + 1) & t->mask)
		if (t->entries[e - 1].key == key)
			return &t->entries[e - 1].value;
	return NULL;
}

static bool key_equals(const char *key, const char *s, size_t len)
{
	return key_len(key) == len && memcmp(key, s, len) == 0;
}

/* Finds a key by its text, for callers whose key is not interned in
 * this tree. */
const struct toml_entry *table_find_text(const struct toml_value *v,
                                         const char *s, size_t len)
{
	const struct toml_table *t = v->u.t;
	uint32_t i, e, hash = toml_hash(s, len, NULL);

	if (!(t->bloom & bloom_bit(hash)))
		return NULL;
	if (!t->index) {
		for (e = 0; e < v->n; e++)
			if (key_equals(t->entries[e].key, s, len))
				return &t->entries[e];
		return NULL;
	}
	for (i = hash & t->mask; (e = t->index[i]); i = (i + 1) & t->mask) {
		const struct toml_entry *en = &t->entries[e - 1];

		if (key_hash(en->key) == hash && key_equals(en->key, s, len))
			return en;
	}
	return NULL;
}

/* Appends a zeroed entry for key (which the caller knows is absent). */
struct toml_value *table_add(struct arena *a, struct toml_value *v,
                             const char *key)
{
	struct toml_table *t = v->u.t;
	struct toml_entry *e;

	if (v->n == t->cap && !entries_grow(a, t, v->n))
		return NULL;
	e = &t->entries[v->n];
	memset(e, 0, sizeof *e);
	e->key = key;
	t->bloom |= bloom_bit(key_hash(key));
	if (t->index)
		index_put(t, key_hash(key), v->n);
	v->n++;
	return &e->value;
}

/* Appends a zeroed element to an array of tables.  Its capacity is not
 * stored: it is the smallest power of two (at least 2) holding n. */
struct toml_value *array_append(struct arena *a, struct toml_value *arr)
{
	uint32_t n = arr->n;
	struct toml_value *elems = arr->u.a;

	if (n == 0 || (n >= 2 && (n & (n - 1)) == 0)) {
		unsigned lg = n == 0 ? 1 : log2_of(n) + 1;

		elems = arena_vec_get(a, VEC_VALUES, lg, sizeof *elems);
		if (!elems)
			return NULL;
		if (n) {
			memcpy(elems, arr->u.a, sizeof *elems * n);
			arena_vec_put(a, VEC_VALUES, lg - 1, arr->u.a);
		}
		arr->u.a = elems;
	}
	memset(&elems[n], 0, sizeof elems[n]);
	arr->n = n + 1;
	return &elems[n];
}
