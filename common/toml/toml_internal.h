/* toml_internal.h: the tree's memory layout, shared by the files of the
 * TOML module and by nothing else.
 *
 * Sizes matter here: a document holds one struct toml_value per value, so
 * the struct is kept at 40 bytes (the 24-byte origin the API hands out,
 * plus 16 bytes of type, flags and payload).  Everything a tree owns
 * lives in one arena, so freeing a tree, or dropping a half-built one
 * after a syntax error, never walks the tree. */
#ifndef INSOMNIA_TOML_INTERNAL_H
#define INSOMNIA_TOML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toml.h"

/* Flags of a table value: how it came to exist, which decides what may
 * still add to it (TOML's redefinition rules). */
enum {
	TF_IMPLICIT = 1 << 0, /* made as a parent of a [header]'s table */
	TF_DEFINED = 1 << 1,  /* defined by its own [header] or [[header]] */
	TF_DOTTED = 1 << 2,   /* made or extended by a dotted key */
	TF_INLINE = 1 << 3,   /* an inline table: closed once written */
	AF_TABLES = 1 << 4,   /* an array made by [[header]]: may grow */
};

struct toml_table;

struct toml_value {
	struct toml_origin origin;
	uint8_t type;  /* enum toml_type */
	uint8_t flags; /* TF_* and AF_* */
	uint16_t aux;  /* tables and arrays: nesting depth */
	uint32_t n;    /* string bytes, table entries, array elements,
	                  or a date/time's nanoseconds */
	union {
		int64_t i;
		double f;
		bool b;
		const char *s;        /* NUL-terminated, n bytes */
		struct toml_table *t; /* entries in order of definition */
		struct toml_value *a; /* n elements */
		uint64_t dt;          /* packed fields, see datetime.c */
	} u;
};

/* Keys are interned per tree: equal keys share one copy, so the parser
 * compares keys by pointer.  A key_hdr sits just before the key's text. */
struct key_hdr {
	uint32_t len;
	uint32_t hash;
};

static inline uint32_t key_len(const char *key)
{
	return ((const struct key_hdr *)(const void *)key - 1)->len;
}

static inline uint32_t key_hash(const char *key)
{
	return ((const struct key_hdr *)(const void *)key - 1)->hash;
}

struct toml_entry {
	const char *key; /* interned */
	struct toml_value value;
};

struct toml_table {
	struct toml_entry *entries; /* cap slots, value.n used */
	uint32_t *index;            /* hash slots holding entry + 1, or NULL */
	uint32_t cap;               /* a power of two, or exact once
	                               compacted (see table_compact) */
	uint32_t mask;              /* index slots - 1 */
	uint64_t bloom;             /* bit (hash % 64) of every key: most
	                               look-ups at parse time are misses */
};

/* ---- arena.c ---- */

/* Growable vectors come in power-of-two capacities; a vector that grows
 * hands its old block to a free list that the next vector of that kind
 * and size reuses, so growth wastes little. */
enum vec_kind { VEC_ENTRIES, VEC_VALUES, VEC_INDEX, VEC_KINDS };

struct arena_chunk;

struct arena {
	struct arena_chunk *chunks;
	char *cur, *end;
	size_t next_size;
	void *free_vecs[VEC_KINDS][33];
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s, size_t len);
void *arena_vec_get(struct arena *a, enum vec_kind kind, unsigned log2cap,
                    size_t elem);
void arena_vec_put(struct arena *a, enum vec_kind kind, unsigned log2cap,
                   void *block);

/* The allocation behind a root: toml_free() finds it from the root. */
struct toml_doc {
	struct toml_value root; /* first, so a root converts to its doc */
	struct arena arena;
};

struct toml_doc *doc_new(const char *source, const char *dir);

/* ---- table.c ---- */

struct intern {
	struct arena *arena;
	const char **slots;
	uint32_t mask, count;
};

uint32_t toml_hash(const char *s, size_t len, const char *limit);
bool intern_init(struct intern *in, struct arena *a);
void intern_release(struct intern *in);
const char *intern_key(struct intern *in, const char *s, size_t len,
                       const char *limit);

bool table_init(struct arena *a, struct toml_value *v, uint32_t cap);
struct toml_value *table_find(const struct toml_value *t, const char *key);
const struct toml_entry *table_find_text(const struct toml_value *t,
                                         const char *s, size_t len);
struct toml_value *table_add(struct arena *a, struct toml_value *t,
                             const char *key);
bool table_compact(struct arena *a, struct toml_value *v);
struct toml_value *array_append(struct arena *a, struct toml_value *arr);

/* ---- datetime.c ---- */

bool datetime_is_type(enum toml_type t);
void datetime_pack(struct toml_value *v, const struct toml_datetime *dt);
void datetime_unpack(const struct toml_value *v, struct toml_datetime *dt);
int days_in_month(int year, int month);

/* ---- utf8.c ---- */

enum text_fault {
	TEXT_OK,
	TEXT_BAD_UTF8,
	TEXT_CONTROL,
	TEXT_LONE_CR,
};

enum text_fault utf8_check_text(const char *s, size_t len, size_t *at);
size_t utf8_encode(uint32_t cp, char *out);
size_t utf8_seq_len(unsigned char lead);

/* ---- write.c / parse ---- */

bool key_is_bare(const char *s, size_t len);

#endif
