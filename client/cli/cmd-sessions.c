/* podctl sessions: the durable sessions of the data root, and pruning
 * the ended ones.  Only the public API (insomnia/sessions.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <insomnia/sessions.h>

#include "jsonstr.h"
#include "podctl.h"

/* Every session, as the API walks them (oldest first). */
struct collected {
	struct insomnia_session_info *items;
	size_t count, cap;
	size_t nbad;
};

static int collect(const struct insomnia_session_info *info, void *arg)
{
	struct collected *c = arg;

	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct insomnia_session_info *bigger =
		    realloc(c->items, cap * sizeof *bigger);
		if (!bigger)
			return -1;
		c->items = bigger;
		c->cap = cap;
	}
	c->items[c->count++] = *info;
	c->nbad += info->state == INSOMNIA_SESSION_UNREADABLE;
	return 0;
}

/* An unknown value is null, never 0 or "" (as in ls). */
static json_t *int_or_null(long long v)
{
	return v ? json_integer((json_int_t)v) : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s[0] ? jsonstr_new(s) : json_null();
}

static json_t *info_json(const struct insomnia_session_info *s)
{
	return json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:s, s:o, s:o}",
	    "id", jsonstr_new(s->id), "name", jsonstr_new(s->name),
	    "created_at", str_or_null(s->created_at), "last_event",
	    str_or_null(s->last_event), "last_event_at",
	    str_or_null(s->last_event_at), "run_name", str_or_null(s->run_name),
	    "live", s->live, "pid", int_or_null(s->pid), "cwd",
	    jsonstr_new(s->cwd), "state", insomnia_session_state_name(s->state),
	    "ended_ms", int_or_null(s->ended_ms), "error",
	    str_or_null(s->error));
}

static json_t *bad_json(const struct insomnia_session_info *s)
{
	return json_pack("{s:o, s:s, s:o}", "id", jsonstr_new(s->id), "kind",
	                 insomnia_error_kind_name(s->error_kind), "message",
	                 jsonstr_new(s->error));
}

/* NULL when a row cannot be built (out of memory): cli_print_json
 * reports that, a listing silently lacking a row would be worse. */
static json_t *collected_json(const struct collected *c)
{
	json_t *list = json_array(), *bad = json_array();
	bool ok = list && bad;

	for (size_t i = 0; ok && i < c->count; i++) {
		const struct insomnia_session_info *s = &c->items[i];
		bool unreadable = s->state == INSOMNIA_SESSION_UNREADABLE;
		ok = json_array_append_new(unreadable ? bad : list,
		                           unreadable ? bad_json(s)
		                                      : info_json(s)) == 0;
	}
	if (!ok) {
		json_decref(list);
		json_decref(bad);
		return NULL;
	}
	return json_pack("{s:o, s:o}", "sessions", list, "unreadable", bad);
}

/* "stopped", "failed", "crashed", "live (pid 42)", "new". */
static void state_text(const struct insomnia_session_info *s, char *buf,
                       size_t size)
{
	if (s->live && s->pid)
		snprintf(buf, size, "live (pid %ld)", (long)s->pid);
	else
		snprintf(buf, size, "%s",
		         insomnia_session_state_name(s->state));
}

/* ---- the table, in columns as wide as their longest value ------------- */

enum col { C_ID, C_NAME, C_CREATED, C_STATE, C_LAST, C_CWD, NCOL };

static const char *const headers[NCOL] = {"ID",    "NAME", "CREATED",
                                          "STATE", "LAST", "CWD"};

static void cells(const struct insomnia_session_info *s, char *state,
                  size_t size, const char *out[NCOL])
{
	state_text(s, state, size);
	out[C_ID] = s->id;
	out[C_NAME] = s->name;
	out[C_CREATED] = s->created_at[0] ? s->created_at : "-";
	out[C_STATE] = state;
	out[C_LAST] = s->last_event[0] ? s->last_event : "-";
	out[C_CWD] = s->cwd;
}

static void print_row(const char *const c[NCOL], const size_t w[NCOL])
{
	/* the last column is not padded: no trailing blanks */
	for (int k = 0; k < NCOL - 1; k++)
		printf("%-*s  ", (int)w[k], c[k]);
	printf("%s\n", c[NCOL - 1]);
}

static bool readable(const struct insomnia_session_info *s)
{
	return s->state != INSOMNIA_SESSION_UNREADABLE;
}

/* The others are still listed; unreadable ones are named on stderr and
 * the exit status is 0: the listing itself worked. */
static void print_table(const struct collected *c)
{
	const char *cell[NCOL];
	size_t w[NCOL];
	char state[48];

	for (size_t i = 0; i < c->count; i++)
		if (!readable(&c->items[i]))
			fprintf(stderr, "podctl: cannot read session %s: %s\n",
			        c->items[i].id, c->items[i].error);
	if (c->count == c->nbad) {
		puts(c->nbad ? "no readable sessions" : "no sessions");
		return;
	}
	for (int k = 0; k < NCOL; k++)
		w[k] = strlen(headers[k]);
	for (size_t i = 0; i < c->count; i++) {
		if (!readable(&c->items[i]))
			continue;
		cells(&c->items[i], state, sizeof state, cell);
		for (int k = 0; k < NCOL; k++)
			if (strlen(cell[k]) > w[k])
				w[k] = strlen(cell[k]);
	}
	print_row(headers, w);
	for (size_t i = 0; i < c->count; i++) {
		if (!readable(&c->items[i]))
			continue;
		cells(&c->items[i], state, sizeof state, cell);
		print_row(cell, w);
	}
}

static int list_sessions(bool json)
{
	struct collected c = {0};
	struct insomnia_error err;
	int rc, code = 0;

	insomnia_error_clear(&err);
	rc = insomnia_sessions_each(collect, &c, &err);
	if (rc != 0) {
		if (rc > 0)
			insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
			                   "out of memory");
		code = cli_fail(json, &err);
	} else if (json) {
		code = cli_print_json(collected_json(&c));
	} else {
		print_table(&c);
	}
	free(c.items);
	return code;
}

/* ---- prune ------------------------------------------------------------- */

static const struct cmd_entry cmd_sessions_prune_entry;

struct pruned {
	json_t *list; /* with --json */
	bool failed;  /* a row could not be added */
};

static void on_removed(const struct insomnia_session_info *s, void *arg)
{
	struct pruned *p = arg;

	if (!p->list) {
		printf("session %s (%s): removed\n", s->id, s->name);
		return;
	}
	if (json_array_append_new(p->list, info_json(s)) < 0)
		p->failed = true;
}

static int prune(const struct insomnia_sessions_prune_options *po, bool json)
{
	struct pruned p = {json ? json_array() : NULL, false};
	struct insomnia_error err;
	int n;

	if (json && !p.list)
		return cli_print_json(NULL);
	insomnia_error_clear(&err);
	n = insomnia_sessions_prune(po, on_removed, &p, &err);
	if (n < 0) {
		json_decref(p.list);
		return cli_fail(json, &err);
	}
	if (json)
		return cli_print_json(
		    p.failed ? (json_decref(p.list), NULL)
		             : json_pack("{s:o}", "removed", p.list));
	if (n == 0)
		puts("no session removed");
	return 0;
}

enum { OPT_OLDER_THAN, OPT_NAME };

static const struct cli_option prune_options[] = {
    {.name = "older-than",
     .kind = CLI_ARG_AGE,
     .metavar = "AGE",
     .help = "ended at least AGE ago (90s, 12h, 7d, 2w)"},
    {.name = "name",
     .letter = 'n',
     .kind = CLI_ARG_STRING,
     .metavar = "NAME",
     .help = "the sessions of pod NAME"},
    {0},
};

static int run_prune(const struct cli_args *a)
{
	struct insomnia_sessions_prune_options po = {0};

	if (!cli_has(a, OPT_OLDER_THAN) && !cli_has(a, OPT_NAME))
		return cli_usage(&cmd_sessions_prune_entry, a->json,
		                 "give --older-than AGE, --name NAME, or both");
	po.older_than_ms = a->num[OPT_OLDER_THAN];
	po.name = a->value[OPT_NAME];
	return prune(&po, a->json);
}

static int run_sessions(const struct cli_args *a)
{
	return list_sessions(a->json);
}

static const struct cmd_entry cmd_sessions_prune_entry = {
    .name = "sessions prune",
    .summary = "remove ended sessions",
    .help =
        "Removes ended sessions: those whose last journal record (else\n"
        "creation) is at least AGE old, those of pod NAME, or with both\n"
        "options those matching both; at least one is needed.  AGE needs a\n"
        "unit: 90s, 30m, 12h, 7d, 2w (sums as 1d12h; up to 100 years).  A\n"
        "live session is never removed.  Prints each removed session, or\n"
        "with --json {\"removed\":[{...as `podctl sessions` lists}]}.\n",
    .options = prune_options,
    .max_operands = 0,
    .run = run_prune,
};

const struct cmd_entry cmd_sessions_entry = {
    .name = "sessions",
    .summary = "list sessions, live or ended; remove ended ones",
    .help =
        "Lists every session of the data root, oldest first, in columns as\n"
        "wide as their longest value: its id, name, creation time, state\n"
        "(live with its pid, stopped, failed, crashed, new: from the\n"
        "session's lock and its journal, never from a pid), its last\n"
        "journal event and its working directory.\n"
        "A session that cannot be read (damaged, foreign-owned) does not stop\n"
        "the listing: it is named on stderr, and the others are listed.\n"
        "--json prints {\"sessions\":[{id, name, run_name, created_at, state,\n"
        "last_event, last_event_at, ended_ms, error, live, pid, cwd}],\n"
        "\"unreadable\":[{id, kind, message}]}, an unknown value as null.\n"
        "\n"
        "prune removes ended sessions: those whose last journal record (else\n"
        "creation) is at least AGE old (a unit is needed: 90s, 12h, 7d, 2w),\n"
        "those of pod NAME, or with both options those matching both.  A live\n"
        "session is never removed.  It prints each removed session, or with\n"
        "--json {\"removed\":[{...as listed}]}.\n",
    .max_operands = 0,
    .run = run_sessions,
    .sub = &cmd_sessions_prune_entry,
};
