/* podctl spawn: start a pod and wait until it is ready. */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonstr.h"
#include <insomnia/overlay.h>
#include "paths.h"
#include "podctl.h"
#include <insomnia/spawn.h>

static void show_progress(const char *line, void *arg)
{
	fprintf(stderr, "  | %s\n", line);
}

/* Returns the exit code. */
static int print_result(const struct insomnia_spawn_result *r, bool json)
{
	if (json)
		return cli_print_json(json_pack(
		    "{s:o, s:o, s:I, s:o, s:b}", "name", jsonstr_new(r->name),
		    "socket", jsonstr_new(r->socket), "pid", (json_int_t)r->pid,
		    "session_id", jsonstr_new(r->session_id), "reused",
		    r->reused));
	printf("%s: %s\n", r->name, r->reused ? "already running" : "ready");
	printf("  socket   %s\n  pid      %ld\n  session  %s\n", r->socket,
	       (long)r->pid, r->session_id[0] ? r->session_id : "-");
	return 0;
}

/* ---- the spawn, interruptible ------------------------------------- */

/* The library's spawn in our own loop, so that SIGINT, SIGTERM and SIGHUP
 * can cancel it (pod stopped, dir cleaned) instead of killing podctl
 * mid-handshake with the pod left half-started.  The signals are caught
 * by libevent (its handler only writes to a pipe), never acted on inside
 * a handler. */
struct run {
	struct insomnia_spawn *s; /* NULL once a callback has ended it */
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	int rc;  /* 0 ready, -1 failed */
	int sig; /* the signal that cancelled it, or 0 */
	struct event_base *base;
};

static void run_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct run *r = arg;

	r->s = NULL;
	r->res = *res;
	r->rc = 0;
	event_base_loopbreak(r->base);
}

static void run_failed(const struct insomnia_error *err, void *arg)
{
	struct run *r = arg;

	r->s = NULL;
	r->err = *err;
	r->rc = -1;
	event_base_loopbreak(r->base);
}

static void run_signal(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;

	if (!r->s)
		return; /* it ended first: the result stands */
	insomnia_spawn_cancel(r->s);
	r->s = NULL;
	r->sig = (int)sig;
	event_base_loopbreak(r->base);
}

static int interrupted(const struct spawn_args *a, const char *name, int sig)
{
	char msg[256];

	snprintf(msg, sizeof msg,
	         "interrupted by %s: the spawn of pod %s was cancelled and "
	         "its pod stopped",
	         sig == SIGINT    ? "SIGINT"
	         : sig == SIGTERM ? "SIGTERM"
	                          : "SIGHUP",
	         name);
	if (a->json)
		cli_print_json(json_pack("{s:{s:s, s:s, s:i}}", "error", "kind",
		                         "interrupted", "message", msg,
		                         "signal", sig));
	else
		fprintf(stderr, "podctl: %s\n", msg);
	return 128 + sig;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSTOP (int)(sizeof stop_signals / sizeof stop_signals[0])

static int spawn_interruptible(const struct insomnia_spawn_options *o,
                               struct insomnia_spawn_result *res,
                               struct insomnia_error *err, int *sig)
{
	struct run r = {.rc = -1};
	struct event *evs[NSTOP] = {NULL};
	struct insomnia_spawn_options opts = *o;
	int ok = 1;

	opts.arg = &r; /* show_progress needs no argument of its own */

	*sig = 0;
	if (!(r.base = event_base_new()))
		return error_set(err, INSOMNIA_ERR_INTERNAL,
		                 "cannot create an event loop");
	for (int i = 0; i < NSTOP; i++) {
		evs[i] = evsignal_new(r.base, stop_signals[i], run_signal, &r);
		ok = ok && evs[i] && evsignal_add(evs[i], NULL) == 0;
	}
	if (!ok)
		error_set(err, INSOMNIA_ERR_INTERNAL, "cannot catch signals");
	else if (!(r.s = insomnia_spawn_start(r.base, &opts, run_ready,
	                                      run_failed, err)))
		ok = 0; /* refused at once: err is filled */
	else
		event_base_dispatch(r.base);
	for (int i = 0; i < NSTOP; i++)
		if (evs[i])
			event_free(evs[i]);
	event_base_free(r.base);
	if (!ok)
		return -1;
	*sig = r.sig;
	*res = r.res;
	*err = r.err;
	return r.sig ? -1 : r.rc;
}

/* No --name: the overlay's (--overlay over --overlay-file, as they
 * merge), else the default (a resumed session's), else the one the
 * manifests set: the client must know it to find the pod's dir before
 * the pod says it. */
static int pick_name(const struct spawn_args *a,
                     const struct insomnia_overlay_part *parts, char *name,
                     size_t size, struct insomnia_error *err)
{
	int rc;

	for (int i = 1; i >= 0; i--) {
		if (!parts[i].text)
			continue;
		rc = insomnia_overlay_name(parts[i].text, parts[i].source, name,
		                           size, err);
		if (rc != 0)
			return rc;
	}
	if (a->default_name) {
		snprintf(name, size, "%s", a->default_name);
		return 0;
	}
	rc = insomnia_manifest_name(a->cwd, name, size, err);
	if (rc == 0)
		return error_set(err, INSOMNIA_ERR_BAD_NAME,
		                 "no pod name: give --name, or set [pod] name "
		                 "in the overlay or a manifest");
	return rc < 0 ? -1 : 0;
}

int podctl_spawn_run(const struct spawn_args *a)
{
	struct insomnia_overlay_part parts[2] = {{NULL, NULL},
	                                         {a->overlay, "--overlay"}};
	char source[INSOMNIA_PATH_MAX + 32], name[INSOMNIA_NAME_MAX + 1],
	    found[INSOMNIA_NAME_MAX + 1];
	char *file_text = NULL, *overlay;
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_error err;
	int rc, sig;

	insomnia_error_clear(&err);
	if (a->overlay_file) {
		file_text = insomnia_overlay_read_file(a->overlay_file, source,
		                                       sizeof source, &err);
		if (!file_text)
			return cli_fail(a->json, &err);
		parts[0] = (struct insomnia_overlay_part){file_text, source};
	}
	if (!a->name && pick_name(a, parts, found, sizeof found, &err) < 0) {
		free(file_text);
		return cli_fail(a->json, &err);
	}
	overlay = insomnia_overlay_compose(parts, 2, a->name ? a->name : found,
	                                   name, sizeof name, &err);
	free(file_text);
	if (!overlay)
		return cli_fail(a->json, &err);
	o.name = name;
	o.overlay = overlay;
	o.cwd = a->cwd;
	o.session_id = a->session;
	o.timeout_ms = a->timeout_ms;
	o.reuse = a->reuse;
	o.progress = a->quiet || a->json ? NULL : show_progress;
	rc = spawn_interruptible(&o, &r, &err, &sig);
	free(overlay);
	if (sig)
		return interrupted(a, name, sig);
	if (rc < 0)
		return cli_fail(a->json, &err);
	return print_result(&r, a->json);
}

static int exec_spawn(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"overlay", required_argument, NULL, 'o'},
	    {"overlay-file", required_argument, NULL, 'f'},
	    {"session", required_argument, NULL, 's'},
	    {"cwd", required_argument, NULL, 'C'},
	    {"timeout", required_argument, NULL, 't'},
	    {"reuse", no_argument, NULL, 'r'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct spawn_args a = {0};
	int c;

	a.json = false;
	for (int i = 1; i < argc; i++)
		a.json |= strcmp(argv[i], "--json") == 0;
	while ((c = getopt_long(argc, argv, "n:o:f:s:C:t:rqjh", longopts,
	                        NULL)) != -1) {
		switch (c) {
		case 'n':
			a.name = optarg;
			break;
		case 'o':
			a.overlay = optarg;
			break;
		case 'f':
			a.overlay_file = optarg;
			break;
		case 's':
			a.session = optarg;
			break;
		case 'C':
			a.cwd = optarg;
			break;
		case 't':
			if ((a.timeout_ms = cli_parse_seconds(optarg)) < 0)
				return cli_usage(&cmd_spawn_entry, a.json,
				                 "bad --timeout \"%s\"",
				                 optarg);
			break;
		case 'r':
			a.reuse = true;
			break;
		case 'q':
			a.quiet = true;
			break;
		case 'j':
			break;
		case 'h':
			return cli_help(&cmd_spawn_entry);
		default:
			return cli_usage(&cmd_spawn_entry, a.json,
			                 "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage(&cmd_spawn_entry, a.json,
		                 "unexpected argument \"%s\"", argv[optind]);
	return podctl_spawn_run(&a);
}

const struct cmd_entry cmd_spawn_entry = {
    "spawn",
    "--name NAME [--overlay-file FILE|-] [--overlay TOML] [--session ID]\n"
    "       [--cwd DIR] [--timeout SEC] [--reuse] [--quiet] [--json]",
    "start a pod and wait until it is ready",
    "Starts the pod command (INSOMNIA_POD_COMMAND, else pod on PATH) in its\n"
    "own session with the overlay, shows its progress lines on stderr\n"
    "(unless --quiet or --json), and prints its name, socket, pid and\n"
    "session once its socket accepts.  --overlay-file and --overlay merge,\n"
    "the latter on top; --name may be left out when the overlay sets\n"
    "[pod] name.  --reuse makes a live pod of that name a success.\n"
    "--timeout defaults to 20 seconds.\n",
    exec_spawn,
};
