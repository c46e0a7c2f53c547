/* podctl stop: shut pods down (request, SIGTERM, SIGKILL), several at
 * once in one event loop (insomnia_stop_start). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonstr.h"
#include "podctl.h"
#include <insomnia/pods.h>
#include <insomnia/stop.h>

#define STOP_DEFAULT_GRACE_MS 5000
/* Stops in flight at once: each holds a few descriptors (dir, pidfd,
 * socket), so --all over many pods stays far below the fd limit. */
#define STOP_IN_FLIGHT 64

/* One pod to stop and, once done, how it went. */
struct target {
	const char *name;
	struct insomnia_stop_result res;
	struct insomnia_error err;
	bool failed;
};

struct stop_run {
	struct event_base *base;
	struct target *targets;
	size_t count, cap, next;
	int grace_ms;
};

/* ---- the targets ------------------------------------------------------ */

/* Add name once (a name given twice is stopped once); -1 out of memory. */
static int add_target(struct stop_run *run, const char *name)
{
	struct target *bigger;

	for (size_t i = 0; i < run->count; i++)
		if (!strcmp(run->targets[i].name, name))
			return 0;
	if (run->count == run->cap) {
		run->cap = run->cap ? run->cap * 2 : 16;
		bigger = realloc(run->targets, run->cap * sizeof *bigger);
		if (!bigger)
			return -1;
		run->targets = bigger;
	}
	run->targets[run->count++] = (struct target){.name = name};
	return 0;
}

/* --all: every pod whose lock is held now.  The names are kept for the
 * run's life (freed with it). */
static int add_live(const struct insomnia_pod_info *info, void *arg)
{
	struct stop_run *run = arg;
	char *name;

	if (!info->alive)
		return 0;
	if (!(name = strdup(info->name)) || add_target(run, name) < 0) {
		free(name);
		return -1;
	}
	return 0;
}

static void free_run(struct stop_run *run, bool names_owned)
{
	for (size_t i = 0; names_owned && i < run->count; i++)
		free((char *)run->targets[i].name);
	free(run->targets);
	if (run->base)
		event_base_free(run->base);
}

/* ---- the stops, concurrently ------------------------------------------ */

static void start_next(struct stop_run *run);

static void on_done(const struct insomnia_stop_result *res,
                    const struct insomnia_error *err, void *arg)
{
	struct stop_run *run = arg;
	struct target *t = NULL;

	for (size_t i = 0; i < run->count && !t; i++)
		if (!strcmp(run->targets[i].name, res->name))
			t = &run->targets[i];
	t->res = *res;
	t->failed = err != NULL;
	if (err)
		t->err = *err;
	start_next(run); /* a slot is free */
}

/* Start the next target; one refused at once is done at once. */
static void start_next(struct stop_run *run)
{
	struct target *t;

	while (run->next < run->count) {
		t = &run->targets[run->next++];
		insomnia_error_clear(&t->err);
		if (insomnia_stop_start(run->base, t->name, run->grace_ms,
		                        on_done, run, &t->err))
			return;
		t->failed = true;
	}
}

/* ---- reporting, in the order given ------------------------------------ */

static int report_failure(const struct target *t, bool json)
{
	int code = insomnia_error_exit_code(t->err.kind);

	if (!json)
		return cli_fail(false, &t->err);
	return cli_print_json(json_pack("{s:o, s:{s:s, s:o}}", "name",
	                                jsonstr_new(t->name), "error", "kind",
	                                insomnia_error_kind_name(t->err.kind),
	                                "message", jsonstr_new(t->err.message)))
	           ? insomnia_error_exit_code(INSOMNIA_ERR_INTERNAL)
	           : code;
}

static int report(const struct target *t, bool json)
{
	const char *how = insomnia_stop_how_name(t->res.how);

	if (t->failed)
		return report_failure(t, json);
	if (json)
		return cli_print_json(json_pack(
		    "{s:o, s:I, s:s}", "name", jsonstr_new(t->name), "pid",
		    (json_int_t)t->res.pid, "stopped_by", how));
	printf("%s: stopped (%s)\n", t->name, how);
	return 0;
}

/* Stop every target, at most STOP_IN_FLIGHT at once; the exit code is
 * that of the first target (in the order given) that failed. */
static int stop_all(struct stop_run *run, bool json)
{
	struct insomnia_error err;
	int code = 0, rc;

	run->base = event_base_new();
	if (!run->base) {
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "cannot create an event loop");
		return cli_fail(json, &err);
	}
	for (size_t i = 0; i < STOP_IN_FLIGHT; i++)
		start_next(run);
	event_base_dispatch(run->base);
	for (size_t i = 0; i < run->count; i++)
		if ((rc = report(&run->targets[i], json)) && !code)
			code = rc;
	return code;
}

/* ---- the command ------------------------------------------------------- */

/* The named pods and POD/PROC processes, each name checked before any
 * pod is touched. */
static int add_names(struct stop_run *run, struct cli_groups *procs,
                     const struct cli_args *a)
{
	struct insomnia_error err;
	struct cli_target t;

	for (int i = 0; i < a->noperands; i++) {
		insomnia_error_clear(&err);
		if (cli_target_parse(a->operands[i], CLI_TARGET_POD, &t, &err) <
		    0)
			return cli_fail(a->json, &err);
		if (t.proc[0] ? cli_groups_add(procs, &t) < 0
		              : add_target(run, a->operands[i]) < 0) {
			insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
			                   "out of memory");
			return cli_fail(a->json, &err);
		}
	}
	return -1;
}

static int add_all(struct stop_run *run, bool json)
{
	struct insomnia_error err;

	insomnia_error_clear(&err);
	if (insomnia_pods_each(add_live, run, &err) == 0)
		return -1;
	if (err.kind == INSOMNIA_ERR_NONE)
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory");
	return cli_fail(json, &err);
}

enum { OPT_GRACE, OPT_ALL };

static const struct cli_option stop_options[] = {
    {.name = "grace",
     .letter = 'g',
     .kind = CLI_ARG_DURATION0,
     .metavar = "TIME",
     .help = "before SIGTERM, then SIGKILL (default 5s; 0: SIGKILL)",
     .max = CLI_MS_OPTION_MAX},
    {.name = "all",
     .letter = 'a',
     .help = "every pod running now",
     .instead_of_operands = true},
    {0},
};

/* Processes first, then whole pods: "web/db web" stops db, then web. */
static int stop_both(struct stop_run *run, const struct cli_groups *procs,
                     bool json)
{
	int code = procs->n ? cli_procs_act("stop", procs, json) : 0;
	int rc = run->count ? stop_all(run, json) : 0;

	return code ? code : rc;
}

static int run_stop(const struct cli_args *a)
{
	struct stop_run run = {.grace_ms = STOP_DEFAULT_GRACE_MS};
	struct cli_groups procs = {NULL, 0, 0};
	bool all = cli_has(a, OPT_ALL);
	int code;

	if (cli_has(a, OPT_GRACE))
		run.grace_ms = (int)a->num[OPT_GRACE];
	code = all ? add_all(&run, a->json) : add_names(&run, &procs, a);
	if (code < 0)
		code = stop_both(&run, &procs, a->json);
	free_run(&run, all);
	cli_groups_free(&procs);
	return code;
}

const struct cmd_entry cmd_stop_entry = {
    .name = "stop",
    .summary = "stop pods (request, SIGTERM, SIGKILL) or processes",
    .help =
        "Asks each pod to shut down over its socket; --grace after the\n"
        "request (default 5s) it gets SIGTERM, and another grace later\n"
        "SIGKILL.  A pod that cannot be asked or hangs up without replying\n"
        "gets SIGTERM at once.  --grace 0 sends SIGKILL at once.  The signals\n"
        "go to the pod's process group only when the pod leads it, else to\n"
        "the pod alone.  Each wait is on the pod's pidfd, not a polling loop.\n"
        "TIME is 500ms, 5s, 1m30s... (a bare number is seconds), at most 1d.\n"
        "\n"
        "Several names (or --all: every pod running now) are stopped at the\n"
        "same time, in one event loop; podctl returns once all are done and\n"
        "reports each in the order given (--all: by name): \"NAME: stopped\n"
        "(HOW)\" on stdout, or the error on stderr.  --json prints one line\n"
        "per pod: {\"name\", \"pid\", \"stopped_by\": "
        "\"request\"|\"sigterm\"|\"sigkill\"}\n"
        "or {\"name\", \"error\": {\"kind\", \"message\"}}.  The exit code is\n"
        "that of the first pod (in that order) that could not be stopped, 0\n"
        "when all were; --all with no pod running is a success.  A bad name\n"
        "stops nothing.\n"
        "\n"
        "A NAME of the form POD/PROC stops that process of the pod (the\n"
        "`stop` method: its stop signal to its group, its own grace from\n"
        "the manifest, then SIGKILL; --grace does not apply) and waits\n"
        "until it has stopped; the pod runs on.  The processes of one pod\n"
        "go in one request.  Pods and processes may be mixed: processes\n"
        "are stopped and reported first (\"POD/PROC: stopped\"; --json\n"
        "{\"pod\", \"processes\"} or {\"pod\", \"error\"} per pod), then\n"
        "the pods.  A process already stopped is an error (process_state,\n"
        "exit 21), as is an unknown one (unknown_process, exit 20).\n",
    .options = stop_options,
    .operands = "NAME...",
    .min_operands = 1,
    .max_operands = -1,
    .run = run_stop,
};
