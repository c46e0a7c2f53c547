/* podctl ls: every pod of the runtime root, alive or stale. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonstr.h"
#include "podctl.h"
#include <insomnia/pods.h>

/* Seconds since it started; -1 when unknown. */
static long long age_s(const struct insomnia_pod_info *p)
{
	long long t = cli_parse_utc(p->started_at);

	return t < 0 ? -1 : (long long)time(NULL) - t;
}

/* A person's word for the state: a dead pod that left its state.json
 * behind died without cleaning up; a failed start says how it ended
 * when that is known: "failed (exit 2)", "failed (signal 9)". */
static const char *shown_state(const struct insomnia_pod_info *p, char *buf,
                               size_t size)
{
	if (!strcmp(p->state, "stale"))
		return "crashed";
	if (strcmp(p->state, "failed"))
		return p->state;
	if (p->exit_status >= 0)
		snprintf(buf, size, "failed (exit %d)", p->exit_status);
	else if (p->term_signal > 0)
		snprintf(buf, size, "failed (signal %d)", p->term_signal);
	else
		return p->state;
	return buf;
}

/* An unknown value is null, never 0 or "". */
static json_t *str_or_null(const char *s)
{
	return s[0] ? jsonstr_new(s) : json_null();
}

static json_t *int_or_null(long long v, long long unknown)
{
	return v == unknown ? json_null() : json_integer(v);
}

static json_t *info_json(const struct insomnia_pod_info *p)
{
	return json_pack(
	    "{s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
	    jsonstr_new(p->name), "alive", p->alive, "state",
	    jsonstr_new(p->state), "pid", int_or_null(p->pid, 0), "pgid",
	    int_or_null(p->pgid, 0), "session_id", str_or_null(p->session_id),
	    "socket", jsonstr_new(p->socket), "started_at",
	    str_or_null(p->started_at), "age_s", int_or_null(age_s(p), -1),
	    "exit_status", int_or_null(p->exit_status, -1), "signal",
	    int_or_null(p->term_signal, 0));
}

struct rows {
	struct insomnia_pod_info *v;
	size_t n, cap;
};

/* The table needs every row for its widths.  Out of memory fails the
 * listing rather than drop a row from it. */
static int collect(const struct insomnia_pod_info *p, void *arg)
{
	struct rows *r = arg;
	struct insomnia_pod_info *bigger;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		if (!(bigger = realloc(r->v, r->cap * sizeof *r->v)))
			return 1;
		r->v = bigger;
	}
	r->v[r->n++] = *p;
	return 0;
}

enum col { C_NAME, C_STATE, C_PID, C_AGE, C_SESSION, C_SOCKET, NCOL };

static const char *const headers[NCOL] = {"NAME", "STATE",   "PID",
                                          "AGE",  "SESSION", "SOCKET"};

static void cells(const struct insomnia_pod_info *p, char pid[24], char age[24],
                  char state[48], const char *out[NCOL])
{
	long long a = age_s(p);

	snprintf(pid, 24, "%ld", (long)p->pid);
	if (a >= 0)
		cli_format_age(a * 1000, age, 24);
	out[C_NAME] = p->name;
	out[C_STATE] = shown_state(p, state, 48);
	out[C_PID] = p->pid ? pid : "-";
	out[C_AGE] = a >= 0 ? age : "-";
	out[C_SESSION] = p->session_id[0] ? p->session_id : "-";
	out[C_SOCKET] = p->socket;
}

static void print_table(const struct rows *r)
{
	size_t w[NCOL];
	const char *c[NCOL];
	char pid[24], age[24], state[48];

	for (int i = 0; i < NCOL; i++)
		w[i] = strlen(headers[i]);
	for (size_t i = 0; i < r->n; i++) {
		cells(&r->v[i], pid, age, state, c);
		for (int k = 0; k < NCOL; k++)
			if (strlen(c[k]) > w[k])
				w[k] = strlen(c[k]);
	}
	for (size_t i = 0; i <= r->n; i++) {
		if (i == 0)
			memcpy(c, headers, sizeof c);
		else
			cells(&r->v[i - 1], pid, age, state, c);
		/* the last column is not padded: no trailing blanks */
		for (int k = 0; k < NCOL - 1; k++)
			printf("%-*s  ", (int)w[k], c[k]);
		printf("%s\n", c[NCOL - 1]);
	}
}

static int print_json(const struct rows *r)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < r->n; i++)
		if (json_array_append_new(list, info_json(&r->v[i])) < 0) {
			json_decref(list); /* never print a short listing */
			list = NULL;
		}
	return cli_print_json(list ? json_pack("{s:o}", "pods", list) : NULL);
}

static int run_ls(const struct cli_args *a)
{
	struct insomnia_error err;
	struct rows r = {NULL, 0, 0};
	int rc;

	insomnia_error_clear(&err);
	rc = insomnia_pods_each(collect, &r, &err);
	if (rc > 0)
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory");
	if (rc != 0)
		rc = cli_fail(a->json, &err);
	else if (a->json)
		rc = print_json(&r);
	else if (r.n == 0)
		puts("no pods");
	else
		print_table(&r);
	free(r.v);
	return rc;
}

const struct cmd_entry cmd_ls_entry = {
    .name = "ls",
    .summary = "list pods, alive or stale",
    .help =
        "Lists every pod dir of the runtime root: its name, state, pid,\n"
        "age (time since it started: 5s, 3m, 2h, 4d), session and socket.\n"
        "Alive means a process holds the pod's lock (never judged by pid).\n"
        "A dead pod is \"stopped\" when it cleaned up after itself,\n"
        "\"failed\" when its start failed (with its exit code or signal\n"
        "when known: \"failed (exit 2)\"), and \"crashed\" when it died\n"
        "leaving its state behind (killed, or a crash); `podctl reap`\n"
        "removes them.\n"
        "--json prints {\"pods\":[{name, alive, state, pid, pgid,\n"
        "session_id, socket, started_at, age_s, exit_status, signal}]},\n"
        "where state is the pod's own, \"stopped\", \"failed\", \"stale\"\n"
        "(shown as crashed) or \"unusable\", and an unknown value is null.\n",
    .max_operands = 0,
    .run = run_ls,
};
