/* main.c: the pod's command line and the order of its life: session id,
 * resumed session, config, runtime dir, lock, new session, socket, state
 * (starting), loop and processes; then, from the loop, the ready line
 * when the supervisor says so, the stopping phase, and the loop's end
 * when every process has stopped; clean up (docs/man/pod.1, START-UP). */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "childstart.h"
#include "config.h"
#include "error.h"
#include "events.h"
#include "fdio.h"
#include "fds.h"
#include "manifest.h"
#include "podconfig.h"
#include "podctx.h"
#include "podlog.h"
#include "podrun.h"
#include "podsession.h"
#include "notify.h"
#include "recorded.h"
#include "ready.h"
#include "server.h"
#include "state.h"
#include "supervisor.h"

struct options {
	const char *overlay;
	const char *session;
	const char *manifest;
};

/* Everything the pod owns, so one function can release it all. */
struct pod {
	struct podctx ctx; /* first: the methods' handle is the pod */
	struct podsession session;
	char cwd[INSOMNIA_PATH_MAX];
	struct pod_config cfg;
	bool cfg_loaded;
	struct manifest manifest;
	bool manifest_loaded;
	struct podrun run;
	struct pod_state state;
	struct event_base *base;
	struct event *sigterm, *sigint;
	/* pod.idle_timeout: armed while ready with no control connection;
	 * NULL without idle_timeout (an idle pod makes no wake-ups). */
	struct event *idle_timer;
	bool no_clients; /* no control connection open (server.h) */
	struct events *events;
	struct server *server;
	struct supervisor *supervisor;
	bool stopped;       /* the supervisor's stopped hook ended the loop */
	bool told_stopping; /* a signal during stopping was logged once */
	bool failed;        /* failure holds why the pod could not serve */
	struct insomnia_error failure;
	size_t told_ready; /* processes ready in the last STATUS= sent */
};

static const char usage_text[] =
    "Usage: pod [--overlay TOML] [--session UUID] [--manifest PATH]\n"
    "       pod --help | --version\n"
    "\n"
    "Run a pod: take its runtime directory, serve the control socket,\n"
    "print the ready line on stderr and serve until told to stop.\n"
    "\n"
    "  --overlay TOML    config layered over the manifests (TOML text)\n"
    "  --session UUID    resume this session instead of starting a new one\n"
    "  --manifest PATH   project manifest to use instead of searching\n"
    "                    for .insomnia/manifest.toml upwards from cwd\n"
    "  --help            show this help and exit\n"
    "  --version         show the version and exit\n"
    "\n"
    "See pod(1) for config layers, files and exit codes.\n";

/* ---- command line ---------------------------------------------------- */

/* 0 to run, 1 when --help or --version was answered, -1 on misuse. */
static int parse_args(int argc, char **argv, struct options *o,
                      struct insomnia_error *err)
{
	static const struct option longopts[] = {
	    {"overlay", required_argument, NULL, 'o'},
	    {"session", required_argument, NULL, 's'},
	    {"manifest", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof *o);
	opterr = 0; /* our own message, in our own format */
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o->overlay = optarg;
			break;
		case 's':
			o->session = optarg;
			break;
		case 'm':
			o->manifest = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 1;
		case 'V':
			printf("pod %s\n", INSOMNIA_VERSION);
			return 1;
		default:
			return insomnia_error_set(
			    err, INSOMNIA_ERR_USAGE,
			    "unknown or incomplete option \"%s\"",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                          "unexpected argument \"%s\"",
		                          argv[optind]);
	return 0;
}

/* ---- signals --------------------------------------------------------- */

/* TERM and INT stay blocked except while the loop runs: one that arrives
 * during start-up waits and then stops the pod gracefully, and one that
 * arrives during clean-up cannot cut it short. */
static void block_stop_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(how, &set, NULL);
}

/* state.json follows the state; a failure to rewrite it is logged, the
 * pod carries on (the socket and status still tell the truth). */
static void publish_state(struct pod *p)
{
	struct insomnia_error err;

	if (state_write(p->run.dirfd, &p->state, &err) < 0)
		podlog("%s", err.message);
}

static void publish_pod_event(struct pod *p, const char *reason)
{
	json_t *data =
	    json_pack("{s:s}", "state", state_phase_name(p->state.phase));

	if (data && reason &&
	    json_object_set_new(data, "reason", json_string(reason)) < 0) {
		json_decref(data);
		data = NULL;
	}
	events_publish(p->events, EVENT_POD, NULL, data);
}

/* Remember the first reason the pod could not serve (its exit code). */
static void remember_failure(struct pod *p, const struct insomnia_error *why)
{
	if (p->failed)
		return;
	p->failed = true;
	p->failure = *why;
}

/* The stopping phase: told everywhere, then the processes stop, and only
 * the supervisor's stopped hook ends the loop.  false when the pod was
 * stopping already. */
static bool enter_stopping(struct pod *p, const char *journal_reason,
                           const char *detail)
{
	if (!state_enter(&p->state, POD_STOPPING))
		return false;
	podsession_stopping(&p->session, journal_reason, detail);
	notify_send("STOPPING=1\nSTATUS=stopping");
	events_set_progress(p->events, true);
	publish_state(p);
	publish_pod_event(p, journal_reason);
	if (p->idle_timer)
		evtimer_del(p->idle_timer); /* stopping already */
	supervisor_stop_all(p->supervisor);
	return true;
}

/* log_reason goes to stderr; the journal gets the short, stable
 * journal_reason and, when there is one, the detail. */
static void request_stop(struct podctx *ctx, const char *log_reason,
                         const char *journal_reason, const char *detail)
{
	struct pod *p = (struct pod *)ctx;

	if (p->state.phase == POD_STOPPING)
		return; /* a signal and a request raced: one stop is enough */
	podlog("shutting down: %s", log_reason);
	enter_stopping(p, journal_reason, detail);
}

static void on_signal(evutil_socket_t signo, short what, void *arg)
{
	struct pod *p = arg;
	const char *name = signo == SIGTERM ? "SIGTERM" : "SIGINT";
	char reason[32];

	if (p->state.phase == POD_STOPPING) {
		/* The stop is under way: a second request means hurry (pod(1)),
		 * so a stopper's SIGTERM is not followed by its SIGKILL. */
		if (!p->told_stopping)
			podlog("%s while stopping: hurrying (SIGKILL to the "
			       "processes still stopping)",
			       name);
		p->told_stopping = true;
		supervisor_hurry(p->supervisor);
		return;
	}
	snprintf(reason, sizeof reason, "signal %s", name);
	request_stop(&p->ctx, name, reason, NULL);
}

/* ---- idle shutdown (pod.idle_timeout) ------------------------------- */

/* ms as people write it, largest units first: "15m", "1m30s", "300ms". */
static void format_duration(char *out, size_t size, int64_t ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"d", 86400000},
	             {"h", 3600000},
	             {"m", 60000},
	             {"s", 1000},
	             {"ms", 1}};
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		int64_t n = ms / units[i].ms;

		ms %= units[i].ms;
		if (n > 0 && len < size)
			len += (size_t)snprintf(out + len, size - len, "%lld%s",
			                        (long long)n, units[i].unit);
	}
	if (!out[0])
		snprintf(out, size, "0ms");
}

/* The timer ran out: the pod stops as on the shutdown method. */
static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct pod *p = arg;
	char d[40], reason[64], log_reason[128];

	format_duration(d, sizeof d, p->cfg.idle_timeout_ms);
	snprintf(reason, sizeof reason, "idle for %s", d);
	snprintf(log_reason, sizeof log_reason,
	         "idle for %s (no control connection; pod.idle_timeout)", d);
	request_stop(&p->ctx, log_reason, reason, NULL);
}

/* Armed, from now, while the pod is ready and nobody is connected;
 * disarmed otherwise.  Each change is logged: it is what tells a user
 * (and the tests) why the pod is, or is not, about to stop. */
static void idle_update(struct pod *p)
{
	bool want = p->no_clients && p->state.phase == POD_READY;
	struct timeval tv;
	char d[64];

	if (!p->idle_timer || want == !!evtimer_pending(p->idle_timer, NULL))
		return;
	if (!want) {
		evtimer_del(p->idle_timer);
		podlog("idle timer off: a client is connected");
		return;
	}
	/* from now, not from the loop's cached time */
	event_base_update_cache_time(p->base);
	tv.tv_sec = (time_t)(p->cfg.idle_timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(p->cfg.idle_timeout_ms % 1000 * 1000);
	evtimer_add(p->idle_timer, &tv);
	format_duration(d, sizeof d, p->cfg.idle_timeout_ms);
	podlog("idle: no client connected, stopping in %s unless one "
	       "connects",
	       d);
}

static void on_connections(void *arg, bool none)
{
	struct pod *p = arg;

	p->no_clients = none;
	idle_update(p);
}

/* ---- the supervisor's hooks ------------------------------------------- */

/* One write(2), so a tailing client never sees half the line. */
static int announce_ready(struct pod *p, struct insomnia_error *err)
{
	char line[READY_LINE_MAX];
	int len =
	    ready_format(line, sizeof line, p->cfg.name, p->run.sock, err);

	if (len < 0)
		return -1;
	if (fd_write_all(2, line, (size_t)len) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "cannot write the ready line");
	return 0;
}

/* Off the path to ready: the session's fsyncs.  The pod is announced,
 * so a failure is logged, not fatal. */
static void settle_session(struct pod *p)
{
	struct insomnia_error err;

	if (podsession_settle(&p->session, &err) < 0)
		podlog("session %s: %s", p->session.id, err.message);
}

/* Right after the ready line, for a supervisor that started the pod as
 * a Type=notify service (notify.h). */
static void notify_ready(struct pod *p)
{
	char msg[160];
	size_t total = 0;

	supervisor_counts(p->supervisor, &p->told_ready, &total);
	snprintf(msg, sizeof msg,
	         "READY=1\nMAINPID=%ld\nSTATUS=pod %s ready, %zu of %zu "
	         "processes ready",
	         (long)getpid(), p->cfg.name, p->told_ready, total);
	notify_send(msg);
}

/* After each process event while ready: the summary again when the count
 * of ready processes changed (systemctl status shows the last one). */
static void notify_counts(void *arg)
{
	struct pod *p = arg;
	char msg[128];
	size_t ready = 0, total = 0;

	if (p->state.phase != POD_READY)
		return;
	supervisor_counts(p->supervisor, &ready, &total);
	if (ready == p->told_ready)
		return;
	p->told_ready = ready;
	snprintf(msg, sizeof msg,
	         "STATUS=pod %s ready, %zu of %zu processes "
	         "ready",
	         p->cfg.name, ready, total);
	notify_send(msg);
}

/* Every autostart process is ready: state.json first, so a client that
 * saw the ready line reads "ready" there; then the journal, the line. */
static void on_ready(void *arg)
{
	struct pod *p = arg;
	struct insomnia_error err;

	if (!state_enter(&p->state, POD_READY))
		return; /* stopping already: no ready line */
	events_set_progress(p->events, false);
	publish_state(p);
	if (podsession_ready(&p->session, &err) < 0 ||
	    announce_ready(p, &err) < 0) {
		podlog("%s", err.message);
		remember_failure(p, &err);
		enter_stopping(p, "start failed", err.message);
		return;
	}
	publish_pod_event(p, NULL);
	notify_ready(p);
	settle_session(p);
	idle_update(p);
}

/* Each line of text on its own log line (a process's last output). */
static void log_lines(const char *text)
{
	const char *nl;

	for (; *text; text = nl + 1) {
		nl = strchr(text, '\n');
		if (!nl) {
			podlog("  %s", text);
			return;
		}
		podlog("  %.*s", (int)(nl - text), text);
	}
}

static void on_start_failed(void *arg, const struct insomnia_error *why)
{
	struct pod *p = arg;
	struct insomnia_error failure = *why;

	/* now as progress; again with the output at exit (pod_exit_failed) */
	podlog("%s", why->message);
	failure.kind = INSOMNIA_ERR_PROCESS_FAILED;
	remember_failure(p, &failure);
	enter_stopping(p, "start failed", why->message);
}

static void on_stopped(void *arg)
{
	struct pod *p = arg;

	p->stopped = true;
	event_base_loopbreak(p->base);
}

/* ---- start-up -------------------------------------------------------- */

/* The id, and for --session the session itself: checked and locked
 * before anything else is touched, since its config is a layer. */
static int open_session(struct pod *p, const struct options *o,
                        struct insomnia_error *err)
{
	if (podsession_choose(&p->session, o->session, err) < 0)
		return -1;
	if (p->session.resumed && podsession_resume(&p->session, err) < 0)
		return -1;
	return 0;
}

static int load_config(struct pod *p, const struct options *o,
                       struct insomnia_error *err)
{
	struct podconfig_args a = {o->overlay, o->manifest, p->cwd,
	                           p->session.layer};

	if (!getcwd(p->cwd, sizeof p->cwd))
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_CONFIG, errno,
		    "cannot read the working directory");
	if (podconfig_load(&a, &p->cfg, err) < 0)
		return -1;
	p->cfg_loaded = true;
	if (manifest_load(p->cfg.tree, p->cwd, &p->manifest, err) < 0)
		return -1;
	p->manifest_loaded = true;
	for (size_t i = 0; i < p->cfg.nlayers; i++)
		podlog("config: %s", p->cfg.layers[i]);
	podlog("pod %s, session %s (%s)", p->cfg.name, p->session.id,
	       p->session.resumed ? "resumed" : "new");
	return 0;
}

/* The recorded config means on resume what it means now (recorded.h). */
static int create_session(struct pod *p, struct insomnia_error *err)
{
	bool same;
	struct toml_value *rec =
	    recorded_config(p->cfg.tree, &p->manifest, &same, err);
	int rc;

	if (!rec && !same)
		return -1;
	rc = podsession_create(&p->session, p->cfg.name, p->cwd,
	                       rec ? rec : p->cfg.tree, err);
	if (rec)
		toml_free(rec);
	return rc;
}

/* A new session is created only once the name is ours, so a refused
 * start leaves no session behind. */
static int begin_session(struct pod *p, struct insomnia_error *err)
{
	if (!p->session.resumed && create_session(p, err) < 0)
		return -1;
	podlog("session dir %s", p->session.dir);
	return podsession_begin(&p->session, p->cfg.name, err);
}

static void fill_state(struct pod *p)
{
	state_init(&p->state, p->cfg.name, p->session.id, p->run.sock,
	           p->cfg.description);
}

/* Only with pod.idle_timeout: the server tells when the last client
 * goes and when the first comes back. */
static int setup_idle(struct pod *p, struct insomnia_error *err)
{
	if (p->cfg.idle_timeout_ms <= 0)
		return 0;
	p->idle_timer = evtimer_new(p->base, on_idle, p);
	if (!p->idle_timer)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	p->no_clients = true;
	server_set_idle_hook(p->server, on_connections, p);
	return 0;
}

static int setup_loop(struct pod *p, struct insomnia_error *err)
{
	p->base = event_base_new();
	if (!p->base)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "cannot create the event loop");
	p->sigterm = evsignal_new(p->base, SIGTERM, on_signal, p);
	p->sigint = evsignal_new(p->base, SIGINT, on_signal, p);
	if (!p->sigterm || !p->sigint || evsignal_add(p->sigterm, NULL) < 0 ||
	    evsignal_add(p->sigint, NULL) < 0)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "cannot watch SIGTERM and SIGINT");
	p->events = events_new(&p->session);
	if (!p->events)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	events_set_progress(p->events, true);
	p->ctx.state = &p->state;
	p->ctx.events = p->events;
	p->ctx.request_stop = request_stop;
	p->server = server_new(p->base, p->run.listenfd, &p->ctx, err);
	if (!p->server)
		return -1;
	events_set_server(p->events, p->server);
	events_on_process(p->events, notify_counts, p);
	return setup_idle(p, err);
}

/* The processes start; what follows comes from the loop (the hooks). */
static int start_processes(struct pod *p, struct insomnia_error *err)
{
	const struct supervisor_env env = {
	    p->cfg.name,   p->run.dir,     p->run.dirfd,
	    p->session.id, p->session.dir, p->session.dirfd,
	};
	const struct supervisor_hooks hooks = {on_ready, on_start_failed,
	                                       on_stopped, p};

	p->supervisor =
	    supervisor_new(p->base, &p->manifest, &env, p->events, &hooks, err);
	if (!p->supervisor)
		return -1;
	p->ctx.supervisor = p->supervisor;
	if (supervisor_start(p->supervisor, err) < 0) {
		/* Some may run already: stop them, from the loop. */
		podlog("%s", err->message);
		remember_failure(p, err);
		enter_stopping(p, "start failed", err->message);
	}
	return 0;
}

static int pod_start(struct pod *p, const struct options *o,
                     struct insomnia_error *err)
{
	if (open_session(p, o, err) < 0 || load_config(p, o, err) < 0)
		return -1;
	if (podrun_open(&p->run, p->cfg.name, err) < 0)
		return -1;
	podlog("runtime dir %s", p->run.dir);
	if (podrun_lock(&p->run, p->cfg.name, err) < 0 ||
	    begin_session(p, err) < 0 || podrun_listen(&p->run, err) < 0)
		return -1;
	podlog("listening on %s", p->run.sock);
	fill_state(p);
	if (podrun_publish(&p->run, &p->state, err) < 0 ||
	    setup_loop(p, err) < 0)
		return -1;
	return start_processes(p, err);
}

static int pod_serve(struct pod *p, struct insomnia_error *err)
{
	int rc;

	block_stop_signals(SIG_UNBLOCK);
	rc = event_base_dispatch(p->base);
	block_stop_signals(SIG_BLOCK);
	if (rc < 0 || !p->stopped)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_INTERNAL,
		    "the event loop stopped unexpectedly");
	if (p->failed) {
		*err = p->failure;
		return -1;
	}
	return 0;
}

/* Reverse order of pod_start; safe after any partial start.  The
 * session goes last: its "stopped" record means the name is free. */
static void pod_release(struct pod *p, const struct insomnia_error *failure)
{
	notify_close();
	/* Connections first: their pending replies' cancels reach the
	 * supervisor, which must still be there. */
	if (p->events)
		events_set_server(p->events, NULL);
	server_free(p->server);
	if (p->supervisor)
		supervisor_free(p->supervisor);
	events_free(p->events);
	if (p->sigterm)
		event_free(p->sigterm);
	if (p->sigint)
		event_free(p->sigint);
	if (p->idle_timer)
		event_free(p->idle_timer);
	if (p->base)
		event_base_free(p->base);
	podrun_close(&p->run);
	podsession_close(&p->session, failure);
	if (p->manifest_loaded)
		manifest_free(&p->manifest);
	if (p->cfg_loaded)
		podconfig_free(&p->cfg);
}

/* Each process costs the pod a few descriptors for its whole life: the
 * pod takes the hard limit for itself.  Its processes get the soft limit
 * (and the umask) the pod was started with back (childstart). */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		podlog("cannot raise the descriptor limit: %s",
		       strerror(errno));
}

/* A pod leads its own process group, however it was started (a spawner
 * already made it a session leader; a script without job control did
 * not), so the group recorded in state.json holds the pod and what it
 * started, never its starter: stop and reap signal it as a whole.  Not a
 * leader means not a session leader either, so setsid() can fail only
 * when some group already has our pid as its id; setpgid() is then the
 * fallback (same failure, same outcome: we stay where we are). */
static void lead_own_group(void)
{
	if (getpgrp() == getpid())
		return;
	if (setsid() < 0)
		setpgid(0, 0);
}

/* The last lines of stderr.log are what a spawner shows (the client keeps
 * LOGTAIL_KEEP of them): a process that failed the start gets its output
 * there, then the failure itself last, so stopping's progress lines or a
 * chatty process cannot push the reason out. */
static int pod_exit_failed(const struct pod *p,
                           const struct insomnia_error *err)
{
	if (p->failed && err->kind == INSOMNIA_ERR_PROCESS_FAILED) {
		log_lines(err->detail);
		podlog("%s", err->message);
	} else if (!p->failed) {
		podlog("%s", err->message);
	} /* else: logged as it happened */
	return insomnia_error_exit_code(err->kind);
}

int main(int argc, char **argv)
{
	struct options o;
	struct insomnia_error err;
	struct pod p;
	int rc;

	childstart_remember_inherited(); /* before anything changes them */
	raise_fd_limit();
	memset(&p, 0, sizeof p);
	podrun_init(&p.run);
	podsession_init(&p.session);
	insomnia_error_clear(&err);
	rc = parse_args(argc, argv, &o, &err);
	if (rc != 0) {
		if (rc > 0)
			return 0;
		podlog("%s", err.message);
		podlog("try 'pod --help'");
		return insomnia_error_exit_code(err.kind);
	}
	lead_own_group();
	fds_close_inherited();
	/* Everything the pod makes (dirs, lock files, the socket before its
	 * chmod) is private whatever umask the caller had. */
	umask(077);
	notify_init();
	/* A client that hangs up mid-reply must not kill the pod. */
	signal(SIGPIPE, SIG_IGN);
	block_stop_signals(SIG_BLOCK);
	rc = pod_start(&p, &o, &err) < 0 || pod_serve(&p, &err) < 0 ? -1 : 0;
	pod_release(&p, rc < 0 ? &err : NULL);
	if (rc < 0)
		return pod_exit_failed(&p, &err);
	podlog("stopped");
	return 0;
}
