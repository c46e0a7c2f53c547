/* podctl logs: the last lines of a pod's processes, and with -f the
 * lines to come (the `logs` method, docs/protocol.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <insomnia/control.h>

#include "jsonstr.h"
#include "podctl.h"

#define LOGS_DEFAULT_LINES 10
#define LOGS_MAX_LINES     100000
#define LOGS_TIMEOUT_MS    30000

struct logs_out {
	bool json;
	int width; /* of the widest process name seen: columns line up */
};

/* One record:
 *   05:21:28.123 db  | ready to accept connections
 *   05:21:28.124 api ! Traceback (most recent call last):
 * local time, the process, '|' for stdout and '!' for stderr, the text
 * as the process wrote it. */
static void print_record(struct logs_out *o, json_t *rec)
{
	const char *proc = json_string_value(json_object_get(rec, "process"));
	const char *time = json_string_value(json_object_get(rec, "time"));
	const char *stream = json_string_value(json_object_get(rec, "stream"));
	json_t *text = json_object_get(rec, "text");
	char clock[64];

	if (o->json) {
		cli_print_json(json_incref(rec));
		return;
	}
	proc = proc ? proc : "?";
	if ((int)strlen(proc) > o->width)
		o->width = (int)strlen(proc);
	cli_format_clock(time ? time : "?", clock, sizeof clock);
	printf("%s %-*s %c ", clock, o->width, proc,
	       stream && !strcmp(stream, "err") ? '!' : '|');
	if (json_is_string(text))
		fwrite(json_string_value(text), 1, json_string_length(text),
		       stdout);
	putchar('\n');
}

static int print_lines(struct logs_out *o, const char *json, size_t len)
{
	json_t *v = json_loadb(json, len, JSON_ALLOW_NUL, NULL), *rec;
	json_t *omitted = json_object_get(v, "omitted");

	size_t i;

	/* the reply's names are known: one width for all its lines */
	json_array_foreach(json_object_get(v, "lines"), i, rec)
	{
		const char *p =
		    json_string_value(json_object_get(rec, "process"));
		if (p && (int)strlen(p) > o->width)
			o->width = (int)strlen(p);
	}
	if (json_is_integer(omitted) && !o->json)
		printf("(%lld older lines left out: the reply holds 1 MiB)\n",
		       (long long)json_integer_value(omitted));
	json_array_foreach(json_object_get(v, "lines"), i, rec)
	    print_record(o, rec);
	json_decref(v);
	return 0;
}

/* ---- following ---------------------------------------------------------- */

static int on_started(const char *json, size_t len, void *arg)
{
	return print_lines(arg, json, len);
}

static int on_event(const char *name, const char *data, size_t len, void *arg)
{
	json_t *rec;

	if (strcmp(name, "log"))
		return 0; /* not asked for: skipped */
	if ((rec = json_loadb(data, len, JSON_ALLOW_NUL, NULL)))
		print_record(arg, rec);
	json_decref(rec);
	return 0;
}

/* ---- the command -----------------------------------------------------------
 */

static char *logs_params(const struct cli_target *t, long long lines,
                         bool follow)
{
	json_t *p = json_pack("{s:I, s:b}", "lines", (json_int_t)lines,
	                      "follow", follow);
	char *text;

	if (p && t->proc[0])
		json_object_set_new(p, "names",
		                    json_pack("[o]", jsonstr_new(t->proc)));
	text = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	return text;
}

static int logs_once(const char *pod, const char *params, struct logs_out *o)
{
	char path[INSOMNIA_PATH_MAX], *text = NULL;
	struct insomnia_control *c;
	struct insomnia_error err;
	size_t len;
	int rc;

	insomnia_error_clear(&err);
	if (cli_pod_socket(pod, path, sizeof path, &err) < 0 ||
	    !(c = insomnia_control_open_path(path, &err)))
		return cli_fail(o->json, &err);
	rc = insomnia_control_call_wait(c, "logs", params, LOGS_TIMEOUT_MS,
	                                &text, &len, &err);
	insomnia_control_close(c);
	if (rc < 0) {
		cli_pod_error(&err);
		return cli_fail(o->json, &err);
	}
	if (o->json)
		printf("%s\n", text); /* the pod's own text, one line */
	else
		print_lines(o, text, len);
	free(text);
	return 0;
}

enum { OPT_LINES, OPT_FOLLOW };

static const struct cli_option logs_options[] = {
    {.name = "lines",
     .letter = 'n',
     .kind = CLI_ARG_COUNT,
     .metavar = "N",
     .help = "the last N lines of each process (default 10)"},
    {.name = "follow",
     .letter = 'f',
     .help = "then print new lines until Ctrl-C or the pod ends"},
    {0},
};

static int run_logs(const struct cli_args *a)
{
	struct logs_out o = {.json = a->json};
	long long lines =
	    cli_has(a, OPT_LINES) ? a->num[OPT_LINES] : LOGS_DEFAULT_LINES;
	bool follow = cli_has(a, OPT_FOLLOW);
	struct cli_stream s = {on_started, on_event, &o};
	struct insomnia_error err;
	struct cli_target t;
	char *params;
	int code;

	insomnia_error_clear(&err);
	if (lines > LOGS_MAX_LINES)
		return cli_usage(&cmd_logs_entry, a->json,
		                 "--lines: at most %d", LOGS_MAX_LINES);
	if (cli_target_parse(a->operands[0], CLI_TARGET_POD, &t, &err) < 0)
		return cli_fail(a->json, &err);
	if (!(params = logs_params(&t, lines, follow))) {
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory");
		return cli_fail(a->json, &err);
	}
	code = follow ? cli_follow(t.pod, "logs", params, &s, a->json)
	              : logs_once(t.pod, params, &o);
	free(params);
	return code;
}

const struct cmd_entry cmd_logs_entry = {
    .name = "logs",
    .summary = "print the output of a pod's processes",
    .help =
        "Prints the last N lines (default 10, at most 100000) that each\n"
        "process of POD wrote (only PROC's with POD/PROC), all interleaved\n"
        "by time, oldest first, one line each:\n"
        "  05:21:28.123 db  | Ready to accept connections\n"
        "  05:21:28.124 api ! Traceback (most recent call last):\n"
        "the time (local), the process, | for its stdout or ! for its\n"
        "stderr, and the text as it was written (invalid UTF-8 shown as\n"
        "U+FFFD).  A line longer than 64 KiB comes in pieces.  The answer\n"
        "holds 1 MiB at most: older lines past that are left out, and said\n"
        "so.  -f (--follow) then prints each new line as it is written,\n"
        "until Ctrl-C, SIGTERM or SIGHUP (exit 0) or the pod ends (exit 0).\n"
        "--json prints the pod's answer, {\"lines\":[{\"process\", \"time\",\n"
        "\"stream\", \"text\", \"continued\"?}]}; with -f, one record per\n"
        "line instead, those of the answer and then each new one.\n",
    .options = logs_options,
    .operands = "POD[/PROC]",
    .min_operands = 1,
    .max_operands = 1,
    .run = run_logs,
};
