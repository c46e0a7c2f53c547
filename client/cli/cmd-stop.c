/* podctl stop: shut pods down (request, SIGTERM, SIGKILL), several at
 * once in one event loop (insomnia_stop_start). */
#include <event2/event.h>
#include <getopt.h>
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

/* Seconds as for every option, or exactly 0: SIGKILL at once. */
static int parse_grace(const char *text)
{
	char *end;
	double s = strtod(text, &end);

	if (end != text && !*end && s == 0)
		return 0;
	return cli_parse_seconds(text);
}

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
		error_set(&err, INSOMNIA_ERR_INTERNAL,
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

struct stop_args {
	int grace_ms;
	bool json, all;
};

/* Options into a; returns -1 to go on, else the exit code. */
static int parse_options(struct stop_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"grace", required_argument, NULL, 'g'},
	    {"all", no_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "g:ajh", longopts, NULL)) != -1) {
		if (c == 'g') {
			if ((a->grace_ms = parse_grace(optarg)) < 0)
				return cli_usage(&cmd_stop_entry, a->json,
				                 "bad --grace \"%s\"", optarg);
		} else if (c == 'a') {
			a->all = true;
		} else if (c == 'j') {
			a->json = true;
		} else if (c == 'h') {
			return cli_help(&cmd_stop_entry);
		} else {
			return cli_usage(&cmd_stop_entry, a->json,
			                 "unknown option");
		}
	}
	if (a->all == (optind < argc))
		return cli_usage(&cmd_stop_entry, a->json,
		                 a->all ? "give pod names or --all, not both"
		                        : "give a pod name (or --all)");
	return -1;
}

/* The named pods, each name checked before any pod is touched. */
static int add_names(struct stop_run *run, bool json, int argc, char **argv)
{
	struct insomnia_error err;

	for (int i = optind; i < argc; i++) {
		insomnia_error_clear(&err);
		if (insomnia_name_check(argv[i], &err) < 0)
			return cli_fail(json, &err);
		if (add_target(run, argv[i]) < 0)
			goto oom;
	}
	return -1;
oom:
	error_set(&err, INSOMNIA_ERR_INTERNAL, "out of memory");
	return cli_fail(json, &err);
}

static int add_all(struct stop_run *run, bool json)
{
	struct insomnia_error err;

	insomnia_error_clear(&err);
	if (insomnia_pods_each(add_live, run, &err) == 0)
		return -1;
	if (err.kind == INSOMNIA_ERR_NONE)
		error_set(&err, INSOMNIA_ERR_INTERNAL, "out of memory");
	return cli_fail(json, &err);
}

static int exec_stop(int argc, char **argv)
{
	struct stop_args a = {.grace_ms = STOP_DEFAULT_GRACE_MS};
	struct stop_run run = {0};
	int code = parse_options(&a, argc, argv);

	if (code >= 0)
		return code;
	run.grace_ms = a.grace_ms;
	code =
	    a.all ? add_all(&run, a.json) : add_names(&run, a.json, argc, argv);
	if (code < 0)
		code = stop_all(&run, a.json);
	free_run(&run, a.all);
	return code;
}

const struct cmd_entry cmd_stop_entry = {
    "stop",
    "NAME... | --all [--grace SEC] [--json]",
    "stop pods: request, then SIGTERM, then SIGKILL",
    "Asks each pod to shut down over its socket; --grace seconds after the\n"
    "request (default 5) it gets SIGTERM, and another grace later\n"
    "SIGKILL.  A pod that cannot be asked or hangs up without replying\n"
    "gets SIGTERM at once.  --grace 0 sends SIGKILL at once.  The signals\n"
    "go to the pod's process group only when the pod leads it, else to\n"
    "the pod alone.  Each wait is on the pod's pidfd, not a polling loop.\n"
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
    "stops nothing.\n",
    exec_stop,
};
