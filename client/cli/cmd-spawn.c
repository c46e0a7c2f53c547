/* podctl spawn: start a pod and wait until it is ready. */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <insomnia/dirs.h>
#include <insomnia/overlay.h>
#include <insomnia/sessions.h>
#include <insomnia/spawn.h>

#include "jsonstr.h"
#include "podctl.h"

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
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "cannot create an event loop");
	for (int i = 0; i < NSTOP; i++) {
		evs[i] = evsignal_new(r.base, stop_signals[i], run_signal, &r);
		ok = ok && evs[i] && evsignal_add(evs[i], NULL) == 0;
	}
	if (!ok)
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "cannot catch signals");
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

/* The name --manifest's file sets: 1, 0 when none, -1. */
static int manifest_file_name(const char *path, char *name, size_t size,
                              struct insomnia_error *err)
{
	char source[INSOMNIA_PATH_MAX + 32];
	char *text =
	    insomnia_overlay_read_file(path, source, sizeof source, err);
	int rc;

	if (!text)
		return -1;
	snprintf(source, sizeof source, "manifest %s", path);
	rc = insomnia_overlay_name(text, source, name, size, err);
	free(text);
	return rc;
}

/* The pod resolves a relative --manifest against its own cwd (--cwd):
 * give it the one the user meant, relative to podctl's. */
static char *absolute(const char *path, struct insomnia_error *err)
{
	char *cwd, *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (!(cwd = getcwd(NULL, 0)))
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "cannot resolve --manifest %s",
		                                path),
		       NULL;
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		out = NULL;
	free(cwd);
	return out;
}

/* The name a session's pod had, never one of podctl's own cwd. */
static int resumed_session_name(const char *id, char *name, size_t size,
                                struct insomnia_error *err)
{
	struct insomnia_session_info info;

	if (insomnia_session_find(id, &info, err) < 0)
		return -1;
	snprintf(name, size, "%s", info.name);
	return 0;
}

/* The run's name: the overlay's (--overlay over --overlay-file, as they
 * merge), else the default (resume's), else a resumed session's, else
 * the one the manifests set: the client must know it to find the pod's
 * dir before the pod says it. */
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
	if (a->session) /* a resumed run is the session's pod */
		return resumed_session_name(a->session, name, size, err);
	if (a->manifest &&
	    (rc = manifest_file_name(a->manifest, name, size, err)) != 0)
		return rc < 0 ? -1 : 0;
	rc = insomnia_manifest_name(a->cwd, name, size, err);
	if (rc == 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_BAD_NAME,
		    "no pod name: give --name, or set [pod] name "
		    "in the overlay or a manifest");
	return rc < 0 ? -1 : 0;
}

/* The spawn itself, with the manifest's path made absolute. */
static int spawn_composed(const struct spawn_args *a, const char *manifest,
                          struct insomnia_error *err)
{
	struct insomnia_overlay_part parts[2] = {{NULL, NULL},
	                                         {a->overlay, "--overlay"}};
	char source[INSOMNIA_PATH_MAX + 32], name[INSOMNIA_NAME_MAX + 1],
	    found[INSOMNIA_NAME_MAX + 1];
	char *file_text = NULL, *overlay;
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	int rc, sig;

	if (a->overlay_file) {
		file_text = insomnia_overlay_read_file(a->overlay_file, source,
		                                       sizeof source, err);
		if (!file_text)
			return cli_fail(a->json, err);
		parts[0] = (struct insomnia_overlay_part){file_text, source};
	}
	/* With a session, --name is what the caller expects the run to be,
	 * checked by the library (name_mismatch), never a rename. */
	if ((!a->name || a->session) &&
	    pick_name(a, parts, found, sizeof found, err) < 0) {
		free(file_text);
		return cli_fail(a->json, err);
	}
	overlay = insomnia_overlay_compose(
	    parts, 2, a->name && !a->session ? a->name : found, name,
	    sizeof name, err);
	free(file_text);
	if (!overlay)
		return cli_fail(a->json, err);
	o.name = a->session && a->name ? a->name : name;
	o.overlay = overlay;
	o.cwd = a->cwd;
	o.session_id = a->session;
	o.manifest = manifest;
	o.pod_command = a->pod_command;
	o.timeout_ms = a->timeout_ms;
	o.reuse = a->reuse;
	o.progress = a->quiet || a->json ? NULL : show_progress;
	rc = spawn_interruptible(&o, &r, err, &sig);
	free(overlay);
	if (sig)
		return interrupted(a, name, sig);
	if (rc < 0)
		return cli_fail(a->json, err);
	return print_result(&r, a->json);
}

int podctl_spawn_run(const struct spawn_args *a)
{
	struct insomnia_error err;
	char *manifest = NULL;
	int rc;

	insomnia_error_clear(&err);
	if (a->manifest && !(manifest = absolute(a->manifest, &err))) {
		if (!err.message[0])
			insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
			                   "out of memory");
		return cli_fail(a->json, &err);
	}
	rc = spawn_composed(a, manifest, &err);
	free(manifest);
	return rc;
}

enum {
	OPT_NAME,
	OPT_OVERLAY,
	OPT_OVERLAY_FILE,
	OPT_SESSION,
	OPT_CWD,
	OPT_MANIFEST,
	OPT_POD_COMMAND,
	OPT_TIMEOUT,
	OPT_REUSE,
	OPT_QUIET,
};

static const struct cli_option spawn_options[] = {
    {.name = "name",
     .letter = 'n',
     .kind = CLI_ARG_STRING,
     .metavar = "NAME",
     .help = "the pod's name (else the overlay's or a manifest's)"},
    CLI_OPTION_OVERLAY,
    CLI_OPTION_OVERLAY_FILE,
    {.name = "session",
     .letter = 's',
     .kind = CLI_ARG_STRING,
     .metavar = "ID",
     .help = "resume this session"},
    {.name = "cwd",
     .letter = 'C',
     .kind = CLI_ARG_STRING,
     .metavar = "DIR",
     .help = "the pod's working directory"},
    {.name = "manifest",
     .letter = 'm',
     .kind = CLI_ARG_STRING,
     .metavar = "PATH",
     .help = "the pod's project manifest (else found from its cwd)"},
    {.name = "pod-command",
     .kind = CLI_ARG_STRING,
     .metavar = "PATH",
     .help = "the pod program (else $INSOMNIA_POD_COMMAND, else pod)"},
    CLI_OPTION_TIMEOUT,
    {.name = "reuse",
     .letter = 'r',
     .help = "a live pod of that name is success"},
    CLI_OPTION_QUIET,
    {0},
};

static int run_spawn(const struct cli_args *c)
{
	struct spawn_args a = {0};

	a.json = c->json;
	a.name = c->value[OPT_NAME];
	a.overlay = c->value[OPT_OVERLAY];
	a.overlay_file = c->value[OPT_OVERLAY_FILE];
	a.session = c->value[OPT_SESSION];
	a.cwd = c->value[OPT_CWD];
	a.manifest = c->value[OPT_MANIFEST];
	a.pod_command = c->value[OPT_POD_COMMAND];
	a.reuse = cli_has(c, OPT_REUSE);
	a.quiet = cli_has(c, OPT_QUIET);
	a.timeout_ms = (int)c->num[OPT_TIMEOUT];
	return podctl_spawn_run(&a);
}

const struct cmd_entry cmd_spawn_entry = {
    .name = "spawn",
    .summary = "start a pod and wait until it is ready",
    .help =
        "Starts the pod command (--pod-command, else INSOMNIA_POD_COMMAND,\n"
        "else pod on PATH) in its own session with the overlay, shows its\n"
        "progress lines on stderr (unless --quiet or --json), and prints\n"
        "its name, socket, pid and session once its socket accepts.\n"
        "--overlay-file and --overlay merge, the latter on top; --name may\n"
        "be left out when the overlay or a manifest sets [pod] name.\n"
        "--manifest is passed to the pod as its --manifest.  --reuse makes\n"
        "a live pod of that name a success.  TIME is 500ms, 20s, 2m,\n"
        "1m30s... (a bare number is seconds); --timeout defaults to 20s,\n"
        "at most 1d.\n"
        "--json prints {name, socket, pid, session_id, reused}.\n",
    .options = spawn_options,
    .max_operands = 0,
    .run = run_spawn,
};
