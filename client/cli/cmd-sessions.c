/* podctl sessions: the durable sessions of the data root, and pruning
 * the ended ones.  Only the public API (insomnia/sessions.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
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

/* A time in ms since the epoch, or null when unknown. */
static json_t *ms_json(int64_t ms)
{
	return ms ? json_integer((json_int_t)ms) : json_null();
}

static json_t *info_json(const struct insomnia_session_info *s)
{
	return json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:I, s:o, s:s, s:o, s:o}",
	    "id", jsonstr_new(s->id), "name", jsonstr_new(s->name),
	    "created_at", jsonstr_new(s->created_at), "last_event",
	    jsonstr_new(s->last_event), "last_event_at",
	    jsonstr_new(s->last_event_at), "run_name", jsonstr_new(s->run_name),
	    "live", s->live, "pid", (json_int_t)s->pid, "cwd",
	    jsonstr_new(s->cwd), "state", insomnia_session_state_name(s->state),
	    "ended_ms", ms_json(s->ended_ms), "error",
	    s->error[0] ? jsonstr_new(s->error) : json_null());
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

/* The others are still listed; unreadable ones are named on stderr and
 * the exit status is 0: the listing itself worked. */
static void print_table(const struct collected *c)
{
	char state[48];

	for (size_t i = 0; i < c->count; i++)
		if (c->items[i].state == INSOMNIA_SESSION_UNREADABLE)
			fprintf(stderr, "podctl: cannot read session %s: %s\n",
			        c->items[i].id, c->items[i].error);
	if (c->count == c->nbad) {
		puts(c->nbad ? "no readable sessions" : "no sessions");
		return;
	}
	printf("%-36s %-16s %-24s %-18s %-8s %s\n", "ID", "NAME", "CREATED",
	       "STATE", "LAST", "CWD");
	for (size_t i = 0; i < c->count; i++) {
		const struct insomnia_session_info *s = &c->items[i];
		if (s->state == INSOMNIA_SESSION_UNREADABLE)
			continue;
		state_text(s, state, sizeof state);
		printf("%-36s %-16s %-24.24s %-18s %-8s %s\n", s->id, s->name,
		       s->created_at, state,
		       s->last_event[0] ? s->last_event : "-", s->cwd);
	}
}

static int list_sessions(bool json)
{
	struct collected c = {0};
	struct insomnia_error err;
	int rc, code = 0;

	insomnia_error_clear(&err);
	rc = insomnia_sessions_each(collect, &c, &err);
	if (rc > 0 || rc < 0) {
		if (rc > 0) {
			err.kind = INSOMNIA_ERR_INTERNAL;
			snprintf(err.message, sizeof err.message,
			         "out of memory");
		}
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

/* "500ms", "1s", "2m", "3h", "7d" to milliseconds; -1 when invalid.  A
 * local parser: cli_parse_duration_ms (cli.c) was not there yet. */
static int64_t parse_duration_ms(const char *text)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
	             {"h", 3600000}, {"d", 86400000}, {"w", 604800000}};
	char *end;
	long long n;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno || end == text || n <= 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].suffix) == 0)
			return n > INT64_MAX / units[i].ms ? -1
			                                   : n * units[i].ms;
	return -1;
}

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

static int exec_prune(int argc, char **argv, bool json)
{
	static const struct option longopts[] = {
	    {"older-than", required_argument, NULL, 'o'},
	    {"name", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct insomnia_sessions_prune_options po = {0};
	int c;

	while ((c = getopt_long(argc, argv, "+o:n:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			po.older_than_ms = parse_duration_ms(optarg);
			if (po.older_than_ms < 0)
				return cli_usage(&cmd_sessions_entry, json,
				                 "bad --older-than \"%s\" (a "
				                 "duration such as 500ms, 2m, "
				                 "7d)",
				                 optarg);
			break;
		case 'n':
			po.name = optarg;
			break;
		case 'j':
			break;
		case 'h':
			return cli_help(&cmd_sessions_entry);
		default:
			return cli_usage(&cmd_sessions_entry, json,
			                 "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage(&cmd_sessions_entry, json,
		                 "unexpected argument \"%s\"", argv[optind]);
	if (!po.name && !po.older_than_ms)
		return cli_usage(&cmd_sessions_entry, json,
		                 "prune needs --older-than DURATION, --name "
		                 "NAME, or both");
	return prune(&po, json);
}

static int exec_sessions(int argc, char **argv)
{
	bool json = false;
	int code = 0;

	for (int i = 1; i < argc; i++)
		json |= strcmp(argv[i], "--json") == 0;
	if (argc > 1 && strcmp(argv[1], "prune") == 0)
		return exec_prune(argc - 1, argv + 1, json);
	if (cli_json_only(&cmd_sessions_entry, argc, argv, 0, &json, &code))
		return code;
	return list_sessions(json);
}

const struct cmd_entry cmd_sessions_entry = {
    "sessions",
    "[--json]\n"
    "       prune [--older-than DURATION] [--name NAME] [--json]",
    "list sessions, live or ended; remove ended ones",
    "Lists every session of the data root, oldest first: its id, name,\n"
    "creation time, state (live with its pid, stopped, failed, crashed,\n"
    "new: from the session's lock and its journal, never from a pid), its\n"
    "last journal event and its working directory.\n"
    "A session that cannot be read (damaged, foreign-owned) does not stop\n"
    "the listing: it is named on stderr, and the others are listed.\n"
    "--json prints {\"sessions\":[{id, name, run_name, created_at, state,\n"
    "last_event, last_event_at, ended_ms, error, live, pid, cwd}],\n"
    "\"unreadable\":[{id, kind, message}]}.\n"
    "\n"
    "prune removes ended sessions: those whose last journal record (else\n"
    "creation) is older than DURATION (500ms, 30s, 2m, 3h, 7d, 2w), those\n"
    "of pod NAME, or with both options those matching both.  A live\n"
    "session is never removed.  It prints each removed session, or with\n"
    "--json {\"removed\":[{...as listed}]}.\n",
    exec_sessions,
};
