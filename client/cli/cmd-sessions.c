/* podctl sessions: the durable sessions of the data root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonstr.h"
#include "podctl.h"
#include "session.h"

/* A session that could not be read: reported, never fatal to the list. */
struct unreadable {
	char id[SESSION_ID_LEN + 1];
	struct insomnia_error err;
};

struct collected {
	struct session_info *items;
	size_t count, cap;
	struct unreadable *bad;
	size_t nbad, capbad;
};

static int collect(const struct session_info *info, void *arg)
{
	struct collected *c = arg;

	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct session_info *bigger =
		    realloc(c->items, cap * sizeof *bigger);
		if (!bigger)
			return -1;
		c->items = bigger;
		c->cap = cap;
	}
	c->items[c->count++] = *info;
	return 0;
}

static int collect_bad(const char *id, const struct insomnia_error *err,
                       void *arg)
{
	struct collected *c = arg;

	if (c->nbad == c->capbad) {
		size_t cap = c->capbad ? c->capbad * 2 : 8;
		struct unreadable *bigger =
		    realloc(c->bad, cap * sizeof *bigger);
		if (!bigger)
			return -1;
		c->bad = bigger;
		c->capbad = cap;
	}
	snprintf(c->bad[c->nbad].id, sizeof c->bad[0].id, "%s", id);
	c->bad[c->nbad++].err = *err;
	return 0;
}

/* Oldest first; ties (same second) by id, so the order is stable. */
static int by_creation(const void *a, const void *b)
{
	const struct session_info *x = a, *y = b;
	int c = strcmp(x->created_at, y->created_at);

	return c ? c : strcmp(x->id, y->id);
}

static json_t *info_json(const struct session_info *s)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:I, s:o}", "id",
	                 jsonstr_new(s->id), "name", jsonstr_new(s->name),
	                 "created_at", jsonstr_new(s->created_at), "last_event",
	                 jsonstr_new(s->last_event), "last_event_at",
	                 jsonstr_new(s->last_event_at), "live", s->live, "pid",
	                 (json_int_t)s->pid, "cwd", jsonstr_new(s->cwd));
}

static json_t *bad_json(const struct unreadable *b)
{
	return json_pack("{s:o, s:s, s:o}", "id", jsonstr_new(b->id), "kind",
	                 insomnia_error_kind_name(b->err.kind), "message",
	                 jsonstr_new(b->err.message));
}

/* Appends every row, or returns false: a listing that silently lacks a
 * row (out of memory) is worse than an error. */
static bool append_all(json_t *list, const void *items, size_t n, size_t size,
                       json_t *(*row)(const void *))
{
	for (size_t i = 0; list && i < n; i++)
		if (json_array_append_new(
		        list, row((const char *)items + i * size)) < 0)
			return false;
	return list != NULL;
}

static json_t *info_row(const void *p)
{
	return info_json(p);
}

static json_t *bad_row(const void *p)
{
	return bad_json(p);
}

/* NULL when a row cannot be built; cli_print_json reports that. */
static json_t *collected_json(const struct collected *c)
{
	json_t *list = json_array(), *bad = json_array();

	if (!append_all(list, c->items, c->count, sizeof *c->items, info_row) ||
	    !append_all(bad, c->bad, c->nbad, sizeof *c->bad, bad_row)) {
		json_decref(list);
		json_decref(bad);
		return NULL;
	}
	return json_pack("{s:o, s:o}", "sessions", list, "unreadable", bad);
}

/* The others are still listed; these are named on stderr, and the
 * exit status is 0: the listing itself worked. */
static void print_unreadable(const struct collected *c)
{
	for (size_t i = 0; i < c->nbad; i++)
		fprintf(stderr, "podctl: cannot read session %s: %s\n",
		        c->bad[i].id, c->bad[i].err.message);
}

static void print_table(const struct collected *c)
{
	print_unreadable(c);
	if (c->count == 0) {
		puts(c->nbad ? "no readable sessions" : "no sessions");
		return;
	}
	printf("%-36s %-16s %-24s %-10s %-5s %s\n", "ID", "NAME", "CREATED",
	       "LAST", "LIVE", "CWD");
	for (size_t i = 0; i < c->count; i++) {
		const struct session_info *s = &c->items[i];
		printf("%-36s %-16s %-24.24s %-10s %-5s %s\n", s->id, s->name,
		       s->created_at, s->last_event[0] ? s->last_event : "-",
		       s->live ? "yes" : "no", s->cwd);
	}
}

/* Every session, sorted; an absent sessions dir is no sessions. */
static int gather(struct collected *c, struct insomnia_error *err)
{
	int fd = session_open_root(false, NULL, 0, err), rc;

	if (fd < 0)
		return err->errnum == ENOENT ? 0 : -1;
	rc = session_list(fd, &(struct session_list_fns){collect, collect_bad},
	                  c, err);
	close(fd);
	if (rc > 0 || rc < 0)
		return rc < 0 ? -1
		              : error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	if (c->count > 1) /* qsort(NULL, 0) is undefined */
		qsort(c->items, c->count, sizeof *c->items, by_creation);
	return 0;
}

static int exec_sessions(int argc, char **argv)
{
	struct collected c = {0};
	struct insomnia_error err;
	bool json;
	int code = 0;

	if (cli_json_only(&cmd_sessions_entry, argc, argv, 0, &json, &code))
		return code;
	insomnia_error_clear(&err);
	if (gather(&c, &err) < 0) {
		code = cli_fail(json, &err);
	} else if (json) {
		code = cli_print_json(collected_json(&c));
	} else {
		print_table(&c);
	}
	free(c.items);
	free(c.bad);
	return code;
}

const struct cmd_entry cmd_sessions_entry = {
    "sessions",
    "[--json]",
    "list sessions, live or ended",
    "Lists every session of the data root, oldest first: its id, name,\n"
    "creation time, last journal event, whether a live pod holds it (by\n"
    "the session's lock, never by pid) and its working directory.\n"
    "A session that cannot be read (damaged, foreign-owned) does not stop\n"
    "the listing: it is named on stderr, and the others are listed.\n"
    "--json prints {\"sessions\":[{id, name, created_at, last_event,\n"
    "last_event_at, live, pid, cwd}], \"unreadable\":[{id, kind,\n"
    "message}]}.\n",
    exec_sessions,
};
