/* arena.c: the one allocator behind a tree.
 *
 * A tree is built once and freed at once, so its memory comes from a few
 * large chunks handed out by bumping a pointer: no per-value malloc, no
 * per-value header, and toml_free() is a walk over the chunk list. */
#include "toml_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Small documents (most configuration files) fit in the first chunk;
 * large ones grow to 2 MiB chunks, the size of a transparent huge page. */
#define FIRST_CHUNK 4096
#define MAX_CHUNK   (2u << 20)
#define HUGE_PAGE   (2u << 20)

struct arena_chunk {
	struct arena_chunk *next;
	size_t size; /* keeps the data 16-byte aligned */
};

void arena_init(struct arena *a)
{
	memset(a, 0, sizeof *a);
	a->next_size = FIRST_CHUNK;
}

void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->chunks;

	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->chunks = NULL;
	a->cur = a->end = NULL;
}

/* Chunks of 2 MiB and more are aligned and marked for huge pages: a big
 * document's tree then costs one page fault per 2 MiB instead of one per
 * 4 KiB, which is a large share of the time to build it. */
static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c = NULL;
	size_t total;

	if (size > SIZE_MAX - sizeof *c - HUGE_PAGE)
		return NULL;
	total = sizeof *c + size;
	if (total < HUGE_PAGE) {
		c = malloc(total);
	} else {
		total = (total + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
		if (posix_memalign((void **)&c, HUGE_PAGE, total) != 0)
			c = NULL;
#ifdef MADV_HUGEPAGE
		if (c)
			madvise(c, total, MADV_HUGEPAGE);
#endif
	}
	if (c)
		c->size = total - sizeof *c;
	return c;
}

/* A block bigger than a quarter chunk gets a chunk of its own, linked
 * behind the current one, so the current chunk's free tail is kept. */
static void *alloc_alone(struct arena *a, size_t size)
{
	struct arena_chunk *c = chunk_new(size);

	if (!c)
		return NULL;
	if (a->chunks) {
		c->next = a->chunks->next;
		a->chunks->next = c;
	} else {
		c->next = NULL;
		a->chunks = c;
	}
	return c + 1;
}

/* A new current chunk of at least need bytes (need <= MAX_CHUNK / 4).
 * Its header counts against the size so big chunks stay exactly one
 * huge page. */
static bool refill(struct arena *a, size_t need)
{
	struct arena_chunk *c;

	while (a->next_size - sizeof *c < need)
		a->next_size *= 2;
	c = chunk_new(a->next_size - sizeof *c);
	if (!c)
		return false;
	c->next = a->chunks;
	a->chunks = c;
	a->cur = (char *)(c + 1);
	a->end = a->cur + c->size;
	if (a->next_size < MAX_CHUNK)
		a->next_size *= 2;
	return true;
}

void *arena_alloc(struct arena *a, size_t size)
{
	void *p;

	if (size > SIZE_MAX - 7)
		return NULL;
	size = (size + 7) & ~(size_t)7;
	if ((size_t)(a->end - a->cur) < size) {
		if (size > MAX_CHUNK / 4)
			return alloc_alone(a, size);
		if (!refill(a, size))
			return NULL;
	}
	p = a->cur;
	a->cur += size;
	return p;
}

char *arena_strdup(struct arena *a, const char *s, size_t len)
{
	char *d = arena_alloc(a, len + 1);

	if (!d)
		return NULL;
	if (len)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

void *arena_vec_get(struct arena *a, enum vec_kind kind, unsigned log2cap,
                    size_t elem)
{
	void **head = &a->free_vecs[kind][log2cap];
	void *block = *head;

	if (block) {
		*head = *(void **)block;
		return block;
	}
	if (log2cap >= 32)
		return NULL;
	return arena_alloc(a, elem << log2cap);
}

void arena_vec_put(struct arena *a, enum vec_kind kind, unsigned log2cap,
                   void *block)
{
	/* Every vector block is at least 8 bytes (callers keep index
	 * blocks at 32 slots or more), room for the list link. */
	*(void **)block = a->free_vecs[kind][log2cap];
	a->free_vecs[kind][log2cap] = block;
}
