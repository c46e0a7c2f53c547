/* podctl ps: the processes of a pod, as the pod itself says (the `ps`
 * method, docs/protocol.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <insomnia/control.h>

#include "podctl.h"
#include "utf8seq.h"

#define PS_TIMEOUT_MS 5000
#define PS_WIDTH      80 /* a reason is cut to fit */
#define REASON_MIN    10 /* ...but never shorter */

/* The pod's result as text (malloc'd): 0, or -1 and err. */
static int ask_ps(const char *pod, char **text, size_t *len,
                  struct insomnia_error *err)
{
	char path[INSOMNIA_PATH_MAX];
	struct insomnia_control *c;
	int rc;

	if (cli_pod_socket(pod, path, sizeof path, err) < 0 ||
	    !(c = insomnia_control_open_path(path, err)))
		return -1;
	rc = insomnia_control_call_wait(c, "ps", NULL, PS_TIMEOUT_MS, text, len,
	                                err);
	insomnia_control_close(c);
	if (rc < 0)
		cli_pod_error(err);
	return rc;
}

/* ---- the table ---------------------------------------------------------
 *
 *   NAME  STATE    PID    RESTARTS  EXIT     AGE  PORTS      REASON
 *   db    ready    4242   0         -        3m   -
 *   api   backoff  -      3         1        -    http=8080  exited 1
 *
 * READY is not a column: the state says it ("ready").  The last column
 * only when a process has something to say there: why it is blocked or
 * failed (REASON) or, when it has no reason, what it last said with
 * sd_notify's STATUS= (STATUS); its header names what the rows hold:
 * REASON, STATUS or REASON/STATUS.  One column, so rows fit 80. */

enum col {
	C_NAME,
	C_STATE,
	C_PID,
	C_RESTARTS,
	C_EXIT,
	C_AGE,
	C_PORTS,
	C_REASON,
	NCOL
};

static const char *const headers[NCOL] = {"NAME", "STATE", "PID",   "RESTARTS",
                                          "EXIT", "AGE",   "PORTS", "REASON"};

#define CELL_MAX 256

struct row {
	char cell[NCOL][CELL_MAX];
	bool status; /* cell[C_REASON] holds the status, not a reason */
};

static void text_cell(char *out, json_t *v)
{
	snprintf(out, CELL_MAX, "%s",
	         json_is_string(v) ? json_string_value(v) : "-");
}

static void int_cell(char *out, json_t *v)
{
	if (json_is_integer(v))
		snprintf(out, CELL_MAX, "%lld",
		         (long long)json_integer_value(v));
	else
		snprintf(out, CELL_MAX, "-");
}

/* {"code":3} as 3, {"signal":"TERM"} as SIGTERM, null as -. */
static void exit_cell(char *out, json_t *v)
{
	json_t *sig = json_object_get(v, "signal");

	if (json_is_string(sig))
		snprintf(out, CELL_MAX, "SIG%s", json_string_value(sig));
	else
		int_cell(out, json_object_get(v, "code"));
}

/* How long it has run: only while it has a pid. */
static void age_cell(char *out, json_t *p)
{
	json_t *at = json_object_get(p, "started_at");
	long long t =
	    json_is_string(at) ? cli_parse_utc(json_string_value(at)) : -1;

	if (t < 0 || !json_is_integer(json_object_get(p, "pid"))) {
		snprintf(out, CELL_MAX, "-");
		return;
	}
	cli_format_age(((long long)time(NULL) - t) * 1000, out, CELL_MAX);
}

/* "http=8080,admin=8081" */
static void ports_cell(char *out, json_t *ports)
{
	size_t used = 0;
	const char *key;
	json_t *v;

	out[0] = '\0';
	json_object_foreach(ports, key, v)
	{
		if (used < CELL_MAX)
			used +=
			    (size_t)snprintf(out + used, CELL_MAX - used,
			                     "%s%s=%lld", used ? "," : "", key,
			                     (long long)json_integer_value(v));
	}
	if (!out[0])
		snprintf(out, CELL_MAX, "-");
}

static void fill_row(struct row *r, json_t *p)
{
	json_t *reason = json_object_get(p, "reason");

	text_cell(r->cell[C_NAME], json_object_get(p, "name"));
	text_cell(r->cell[C_STATE], json_object_get(p, "state"));
	int_cell(r->cell[C_PID], json_object_get(p, "pid"));
	int_cell(r->cell[C_RESTARTS], json_object_get(p, "restarts"));
	exit_cell(r->cell[C_EXIT], json_object_get(p, "exit"));
	age_cell(r->cell[C_AGE], p);
	ports_cell(r->cell[C_PORTS], json_object_get(p, "ports"));
	if (!json_is_string(reason)) {
		reason = json_object_get(p, "status");
		r->status =
		    json_is_string(reason) && json_string_length(reason);
	}
	snprintf(r->cell[C_REASON], CELL_MAX, "%s",
	         json_is_string(reason) ? json_string_value(reason) : "");
}

/* REASON, STATUS or REASON/STATUS: what the last column holds. */
static const char *last_header(const struct row *rows, size_t n)
{
	bool reasons = false, statuses = false;

	for (size_t i = 0; i < n; i++) {
		if (rows[i].status)
			statuses = true;
		else if (rows[i].cell[C_REASON][0])
			reasons = true;
	}
	return !statuses ? "REASON" : reasons ? "REASON/STATUS" : "STATUS";
}

static void print_row(const char *const cells[NCOL], const size_t w[NCOL],
                      int ncol)
{
	/* the last column is not padded: no trailing blanks */
	for (int k = 0; k < ncol - 1; k++)
		printf("%-*s  ", (int)w[k], cells[k]);
	printf("%s\n", cells[ncol - 1]);
}

/* The reason, the last column, cut so the row fits the width people's
 * terminals have (on a character boundary: it is the pod's text). */
static void fit_reason(char *reason, const size_t w[NCOL])
{
	size_t used = 0, room, len = strlen(reason);

	for (int k = 0; k < C_REASON; k++)
		used += w[k] + 2;
	room = used + REASON_MIN < PS_WIDTH ? PS_WIDTH - used : REASON_MIN;
	if (len <= room)
		return;
	len = utf8_cut(reason, len, room - 3);
	memcpy(reason + len, "...", 4);
}

static void print_table(struct row *rows, size_t n)
{
	const char *cells[NCOL];
	size_t w[NCOL];
	int ncol = C_REASON;

	memcpy(cells, headers, sizeof cells);
	cells[C_REASON] = last_header(rows, n);
	for (int k = 0; k < NCOL; k++)
		w[k] = strlen(cells[k]);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < NCOL; k++) {
			if (k < C_REASON && strlen(rows[i].cell[k]) > w[k])
				w[k] = strlen(rows[i].cell[k]);
			if (k == C_REASON && rows[i].cell[k][0])
				ncol = NCOL;
		}
	print_row(cells, w, ncol);
	for (size_t i = 0; i < n; i++) {
		fit_reason(rows[i].cell[C_REASON], w);
		for (int k = 0; k < NCOL; k++)
			cells[k] = rows[i].cell[k];
		print_row(cells, w, ncol);
	}
}

static int print_human(const char *pod, const char *text, size_t len)
{
	json_t *v = json_loadb(text, len, 0, NULL);
	json_t *procs = json_object_get(v, "processes"), *p;
	struct insomnia_error err;
	struct row *rows;
	size_t i;

	if (!json_is_array(procs)) {
		json_decref(v);
		insomnia_error_set(&err, INSOMNIA_ERR_PROTOCOL,
		                   "pod %s: the ps reply has no processes",
		                   pod);
		return cli_fail(false, &err);
	}
	if (json_array_size(procs) == 0) {
		printf("pod %s runs no process\n", pod);
		json_decref(v);
		return 0;
	}
	if (!(rows = calloc(json_array_size(procs), sizeof *rows))) {
		json_decref(v);
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory");
		return cli_fail(false, &err);
	}
	json_array_foreach(procs, i, p) fill_row(&rows[i], p);
	print_table(rows, json_array_size(procs));
	free(rows);
	json_decref(v);
	return 0;
}

static int run_ps(const struct cli_args *a)
{
	struct insomnia_error err;
	struct cli_target t;
	char *text = NULL;
	size_t len;
	int code = 0;

	insomnia_error_clear(&err);
	if (cli_target_parse(a->operands[0], CLI_TARGET_POD, &t, &err) < 0)
		return cli_fail(a->json, &err);
	if (t.proc[0])
		return cli_usage(&cmd_ps_entry, a->json,
		                 "give a pod, not a process (\"%s\")",
		                 a->operands[0]);
	if (ask_ps(t.pod, &text, &len, &err) < 0)
		return cli_fail(a->json, &err);
	if (a->json)
		printf("%s\n", text); /* the pod's own text, one line */
	else
		code = print_human(t.pod, text, len);
	free(text);
	return code;
}

const struct cmd_entry cmd_ps_entry = {
    .name = "ps",
    .summary = "list the processes of a pod",
    .help =
        "Asks the pod for its processes (the `ps` method) and prints one\n"
        "row each, in manifest order: NAME, STATE (stopped, waiting,\n"
        "blocked, starting, running, ready, reloading, stopping, exited,\n"
        "backoff, failed), PID, RESTARTS, EXIT (the last exit: its code, or "
        "the\n"
        "signal that ended it, SIGTERM), AGE (how long the current run has\n"
        "lasted: 5s, 3m, 2h), PORTS (name=port) and, when a process has\n"
        "one, REASON (why it is blocked or failed) or else STATUS (what it\n"
        "last said with sd_notify's STATUS=), in one last column.  A value\n"
        "that does not apply is \"-\".  --json prints the pod's answer as it "
        "is:\n"
        "{\"processes\":[{\"name\", \"state\", \"pid\", \"pgid\", "
        "\"restarts\", \"exit\",\n"
        "\"started_at\", \"ready\", \"ports\", \"reason\", "
        "\"autostart\", \"status\"}]}.\n",
    .operands = "POD",
    .min_operands = 1,
    .max_operands = 1,
    .run = run_ps,
};
