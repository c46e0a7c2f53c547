/* podctl sessions: the durable sessions of the data root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonstr.h"
#include "podctl.h"
#include "session.h"

struct collected {
	struct session_info *items;
	size_t count, cap;
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

/* NULL when a row cannot be built (out of memory), rather than a
 * listing that silently lacks it. */
static json_t *list_json(const struct collected *c)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < c->count; i++)
		if (json_array_append_new(list, info_json(&c->items[i])) < 0) {
			json_decref(list);
			list = NULL;
		}
	return list ? json_pack("{s:o}", "sessions", list) : NULL;
}

static void print_table(const struct collected *c)
{
	if (c->count == 0) {
		puts("no sessions");
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
static int gather(struct collected *c, struct error *err)
{
	int fd = session_open_root(false, NULL, 0, err), rc;

	if (fd < 0)
		return err->errnum == ENOENT ? 0 : -1;
	rc = session_list(fd, collect, c, err);
	close(fd);
	if (rc > 0 || rc < 0)
		return rc < 0 ? -1
		              : error_set(err, ERR_INTERNAL, "out of memory");
	qsort(c->items, c->count, sizeof *c->items, by_creation);
	return 0;
}

static int exec_sessions(int argc, char **argv)
{
	struct collected c = {0};
	struct error err;
	bool json;
	int code = 0;

	if (cli_json_only(&cmd_sessions_entry, argc, argv, 0, &json, &code))
		return code;
	error_clear(&err);
	if (gather(&c, &err) < 0) {
		free(c.items);
		return cli_fail(json, &err);
	}
	if (json)
		code = cli_print_json(list_json(&c));
	else
		print_table(&c);
	free(c.items);
	return code;
}

const struct cmd_entry cmd_sessions_entry = {
    "sessions",
    "[--json]",
    "list sessions, live or ended",
    "Lists every session of the data root, oldest first: its id, name,\n"
    "creation time, last journal event, whether a live pod holds it (by\n"
    "the session's lock, never by pid) and its working directory.\n"
    "--json prints {\"sessions\":[{id, name, created_at, last_event,\n"
    "last_event_at, live, pid, cwd}]}.\n",
    exec_sessions,
};
