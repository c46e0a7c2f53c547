/* supervisor-watch.c: a run's readiness and liveness (docs/supervision.md,
 * "Readiness" and "Liveness"): how a running process is seen ready
 * (sd_notify READY=1, a newline on its fd, a log line, a polled try) and,
 * once ready, how it is seen alive (polled tries, the watchdog).  The
 * verdicts go back to supervisor.c (sup_ready, sup_fail_run), which owns
 * the state machine.
 *
 * Nothing here wakes the pod unless the manifest asks for polling or a
 * watchdog: notify, fd and log readiness are events on descriptors the
 * pod already watches, and a timer is armed only while a wait has a
 * deadline (the readiness timeout, the next try, the watchdog). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "probe.h"
#include "proclog.h"
#include "procnotify.h"
#include "supervisor-int.h"

/* How far up /proc's parent links a MAINPID is looked for the pod. */
/* One read of a readiness fd. */
#define READY_FD_BUF 4096
/* ps's reason while a polled readiness try failed: "not ready: HTTP 500" */
#define NOT_READY "not ready: "

static void on_tick(evutil_socket_t fd, short what, void *arg);

/* ---- small helpers --------------------------------------------------- */

/* "30s", "2m", "1500ms": a duration as the manifest would write it. */
static void format_ms(int64_t ms, char *buf, size_t size)
{
	if (ms >= 60000 && ms % 60000 == 0)
		snprintf(buf, size, "%lldm", (long long)(ms / 60000));
	else if (ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, size, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%lldms", (long long)ms);
}

static const char *kind_name(enum probe_kind k)
{
	switch (k) {
	case PROBE_TCP:
		return "tcp";
	case PROBE_HTTP:
		return "http";
	case PROBE_EXEC:
		return "exec";
	default:
		return "probe";
	}
}

static bool polled(enum probe_kind k)
{
	return k == PROBE_TCP || k == PROBE_HTTP || k == PROBE_EXEC;
}

/* From now, not from the loop's cached time (as supervisor.c's). */
static void arm(struct event *ev, int64_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (ms % 1000) * 1000};

	if (ms < 0)
		tv = (struct timeval){0, 0};
	event_base_update_cache_time(event_get_base(ev));
	evtimer_add(ev, &tv);
}

static void disarm(struct event *ev)
{
	if (ev)
		evtimer_del(ev);
}

static int64_t ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 +
	       (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* ---- polled tries (tcp, http, exec) ---------------------------------- */

/* The table whose tries the run's state calls for, or NULL. */
static const struct probe_conf *polled_conf(const struct proc *p)
{
	if (p->state == PROC_RUNNING && polled(p->spec->ready.kind))
		return &p->spec->ready;
	if ((p->state == PROC_READY || p->state == PROC_RELOADING) &&
	    polled(p->spec->alive.kind))
		return &p->spec->alive;
	return NULL;
}

/* The next try, interval after the start of the last one. */
static void schedule_try(struct proc *p, const struct probe_conf *c)
{
	arm(p->tick, c->interval_ms - ms_since(&p->try_mono));
}

static void alive_failed(struct supervisor *s, struct proc *p,
                         const struct probe_conf *c, const char *why)
{
	char reason[sizeof p->failing];

	p->alive_failures++;
	if (p->alive_failures < c->failures) {
		schedule_try(p, c);
		return;
	}
	snprintf(reason, sizeof reason, "liveness: %s %s: %s (%d failure%s)",
	         kind_name(c->kind), p->try_what, why, p->alive_failures,
	         p->alive_failures == 1 ? "" : "s");
	sup_fail_run(s, p, reason);
}

static void try_result(struct supervisor *s, struct proc *p, bool ok,
                       const char *why)
{
	const struct probe_conf *c = polled_conf(p);

	if (!c)
		return;
	if (c == &p->spec->ready) {
		if (ok) {
			sup_ready(s, p);
			return;
		}
		/* Shown by ps while it lasts, and the last word should the
		 * deadline come: it explains. */
		snprintf(p->reason, sizeof p->reason, NOT_READY "%.*s",
		         (int)(sizeof p->reason - sizeof NOT_READY), why);
		schedule_try(p, c);
	} else if (ok) {
		p->alive_failures = 0;
		schedule_try(p, c);
	} else {
		alive_failed(s, p, c, why);
	}
}

static void on_try_done(void *arg, bool ok, const char *why)
{
	struct proc *p = arg;

	p->probe = NULL;
	try_result(p->owner, p, ok, why);
}

/* One try's limit: alive's timeout; for readiness the whole wait, as
 * the deadline (on_ready_limit) cancels a try still out and says what
 * the last answer was: a try cut to the few ms left would fail first
 * and bury it ("no answer within 6ms" instead of "HTTP 500"). */
static int64_t try_limit(const struct proc *p, const struct probe_conf *c)
{
	(void)p;
	return c->timeout_ms;
}

static void try_begin(struct supervisor *s, struct proc *p)
{
	const struct probe_conf *c = polled_conf(p);
	struct proc_probe_cmd cmd;
	struct insomnia_error err;

	if (!c || p->probe)
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->try_mono);
	snprintf(p->try_what, sizeof p->try_what, "%s",
	         c->kind == PROBE_EXEC ? c->argv[0] : c->target);
	if (sup_probe_cmd(s, p, c, &cmd, &err) == 0) {
		/* As tried: "127.0.0.1:8080", not "${port.http}". */
		snprintf(p->try_what, sizeof p->try_what, "%s",
		         cmd.target ? cmd.target : cmd.argv[0]);
		p->probe = probe_start(s->probes, c->kind, cmd.target, cmd.argv,
		                       cmd.envp, cmd.cwd, try_limit(p, c),
		                       on_try_done, p, &err);
		proc_probe_cmd_free(&cmd);
	}
	if (!p->probe) /* it cannot even begin: a failed try */
		try_result(s, p, false, err.message);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;

	try_begin(p->owner, p);
}

/* ---- fd readiness (s6) ----------------------------------------------- */

static void close_ready_fd(struct proc *p)
{
	if (p->ready_ev) {
		event_free(p->ready_ev);
		p->ready_ev = NULL;
	}
	if (p->ready_fd >= 0)
		close(p->ready_fd);
	p->ready_fd = -1;
}

/* A newline: ready.  End of file first: it never will be.  One read per
 * call: a process writing without end does not hold the loop (the event
 * is level-triggered: it fires again while data remains), and nothing
 * read is kept: only whether a newline came matters. */
static void on_ready_fd(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	char buf[READY_FD_BUF];
	ssize_t n;

	n = read(p->ready_fd, buf, sizeof buf);
	if (n > 0 && memchr(buf, '\n', (size_t)n)) {
		sup_ready(p->owner, p);
	} else if (n == 0) {
		close_ready_fd(p);
		sup_fail_run(p->owner, p,
		             "readiness fd closed without a newline");
	}
	/* n < 0: EAGAIN or EINTR, the event comes again. */
}

static void watch_ready_fd(struct supervisor *s, struct proc *p)
{
	if (p->ready_fd < 0)
		return;
	p->ready_ev = event_new(s->base, p->ready_fd, EV_READ | EV_PERSIST,
	                        on_ready_fd, p);
	if (!p->ready_ev || event_add(p->ready_ev, NULL) < 0)
		proclog_note(p->log, "cannot watch the readiness fd");
}

/* ---- the readiness deadline and the watchdog ------------------------- */

static void on_ready_limit(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	char reason[sizeof p->failing], d[32];

	format_ms(p->spec->ready.timeout_ms, d, sizeof d);
	/* A polled kind says what its last try saw ("HTTP 500"). */
	if (polled(p->spec->ready.kind) &&
	    !strncmp(p->reason, NOT_READY, strlen(NOT_READY)))
		snprintf(reason, sizeof reason,
		         "not ready within %s (last try: %.*s)", d,
		         (int)(sizeof reason / 2),
		         p->reason + strlen(NOT_READY));
	else
		snprintf(reason, sizeof reason, "not ready within %s", d);
	sup_fail_run(p->owner, p, reason);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	const struct probe_conf *c = &p->spec->alive;
	char reason[sizeof p->failing], d[32];

	p->alive_failures++;
	if (p->alive_failures < c->failures) {
		arm(p->watchdog, c->interval_ms);
		return;
	}
	format_ms(c->interval_ms, d, sizeof d);
	snprintf(reason, sizeof reason, "watchdog: no WATCHDOG=1 within %s", d);
	sup_fail_run(p->owner, p, reason);
}

/* ---- sd_notify ------------------------------------------------------- */

static void n_ready(void *arg)
{
	struct proc *p = arg;

	if ((p->state == PROC_RUNNING && p->spec->ready.kind == PROBE_NOTIFY) ||
	    p->state == PROC_RELOADING)
		sup_ready(p->owner, p);
}

static void n_status(void *arg, const char *text)
{
	struct proc *p = arg;
	char *dup = strdup(text);

	if (!dup)
		return; /* the old one stays: best effort */
	free(p->status);
	p->status = dup;
	sup_publish_status(p->owner, p);
}

static void unwatch_main(struct proc *p)
{
	if (p->main_ev)
		event_free(p->main_ev);
	p->main_ev = NULL;
}

/* The main pid died.  Its parent may be alive and reap it: no SIGCHLD
 * comes to the pod then, so its pidfd is what tells. */
static void on_main_gone(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;

	sup_main_gone(p->owner, p, p->pid);
}

static void watch_main(struct supervisor *s, struct proc *p)
{
	unwatch_main(p);
	p->main_ev = event_new(s->base, p->pidfd, EV_READ, on_main_gone, p);
	if (!p->main_ev || event_add(p->main_ev, NULL) < 0)
		proclog_note(p->log, "cannot watch the main pid");
}

/* Watch pid instead: its reaping now ends the run, the first pid's does
 * not (it is nobody's then: an orphan of the run). */
static void n_mainpid(void *arg, pid_t pid)
{
	struct proc *p = arg;
	struct supervisor *s = p->owner;
	char note[96];
	int fd;

	if (!p->pid || pid == p->pid || !proc_state_live(p->state))
		return;
	/* procnotify took it only from the run or its descendants, and
	 * only naming the sender or one of them: ours, or gone by now */
	fd = compat_pidfd_open(pid);
	if (fd < 0) {
		snprintf(note, sizeof note, "MAINPID=%d ignored: %s", (int)pid,
		         strerror(errno));
		proclog_note(p->log, note);
		return;
	}
	unwatch_main(p); /* before its pidfd is closed */
	proc_main_pid(p, pid, fd, s->pod_dirfd);
	watch_main(s, p);
	snprintf(note, sizeof note, "main pid is now %d", (int)pid);
	proclog_note(p->log, note);
	sup_publish(s, p);
}

static void n_stopping(void *arg)
{
	struct proc *p = arg;

	if (!proc_state_up(p->state) || p->stop_told)
		return;
	p->stop_told = true;
	sup_publish(p->owner, p);
}

/* Only once the pod is ready: before, the readiness wait is over for
 * this process (its deadline disarmed), and reloading would hold the
 * pod's start with nothing to end it. */
static void n_reloading(void *arg)
{
	struct proc *p = arg;
	struct supervisor *s = p->owner;

	if (p->state == PROC_READY && s->phase == SUP_READY)
		sup_change(s, p, PROC_RELOADING);
}

static void n_watchdog(void *arg)
{
	struct proc *p = arg;

	if (p->spec->alive.kind != PROBE_WATCHDOG ||
	    !evtimer_pending(p->watchdog, NULL))
		return;
	p->alive_failures = 0;
	arm(p->watchdog, p->spec->alive.interval_ms);
}

/* ---- a run's watch ---------------------------------------------------- */

static int init_notify(struct supervisor *s, struct proc *p,
                       struct insomnia_error *err)
{
	struct procnotify_hooks h = {n_ready,    n_status,    n_mainpid,
	                             n_stopping, n_reloading, n_watchdog,
	                             p};

	/* As proc_spec_wants_notify (manifest.c, not linked with the
	 * supervisor alone). */
	if (p->spec->ready.kind != PROBE_NOTIFY &&
	    p->spec->alive.kind != PROBE_WATCHDOG)
		return 0;
	p->notify = procnotify_new(s->base, s->pod_dirfd, s->pod_dir,
	                           p->spec->name, &h, err);
	return p->notify ? 0 : -1;
}

static int init_regex(struct proc *p, struct insomnia_error *err)
{
	if (p->spec->ready.kind != PROBE_LOG)
		return 0;
	/* The manifest checked it; REG_NOSUB: only whether it matches. */
	if (regcomp(&p->ready_re, p->spec->ready.pattern,
	            REG_EXTENDED | REG_NOSUB) != 0)
		return insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
		                          "process %s: bad ready.log regex",
		                          p->spec->name);
	p->has_re = true;
	return 0;
}

int sw_init(struct supervisor *s, struct proc *p, struct insomnia_error *err)
{
	p->ready_fd = -1;
	p->ready_limit = evtimer_new(s->base, on_ready_limit, p);
	p->tick = evtimer_new(s->base, on_tick, p);
	p->watchdog = evtimer_new(s->base, on_watchdog, p);
	if (!p->ready_limit || !p->tick || !p->watchdog)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "out of memory");
	if (init_regex(p, err) < 0)
		return -1;
	return init_notify(s, p, err);
}

void sw_run_started(struct supervisor *s, struct proc *p)
{
	const struct probe_conf *r = &p->spec->ready;

	p->alive_failures = 0;
	p->stop_told = false;
	p->failing[0] = '\0';
	if (p->status) {
		free(p->status);
		p->status = NULL;
		sup_publish_status(s, p);
	}
	if (p->notify)
		procnotify_run(p->notify, p->pid, p->token);
	if (r->kind == PROBE_NONE)
		return;
	arm(p->ready_limit, r->timeout_ms);
	watch_ready_fd(s, p);
	if (polled(r->kind))
		try_begin(s, p);
}

/* Everything of the readiness wait off. */
static void end_wait(struct proc *p)
{
	disarm(p->ready_limit);
	disarm(p->tick);
	close_ready_fd(p);
	if (p->probe)
		probe_cancel(p->probe);
	p->probe = NULL;
}

void sw_now_ready(struct supervisor *s, struct proc *p)
{
	const struct probe_conf *a = &p->spec->alive;

	end_wait(p);
	p->reason[0] = '\0';
	p->alive_failures = 0;
	if (polled(a->kind)) {
		/* It just proved itself: the first try after an interval. */
		clock_gettime(CLOCK_MONOTONIC, &p->try_mono);
		schedule_try(p, a);
	} else if (a->kind == PROBE_WATCHDOG) {
		arm(p->watchdog, a->interval_ms);
	}
}

void sw_quiet(struct proc *p)
{
	end_wait(p);
	disarm(p->watchdog);
}

void sw_run_over(struct proc *p)
{
	sw_quiet(p);
	unwatch_main(p);
	if (p->notify)
		procnotify_run(p->notify, 0, NULL);
}

void sw_log_line(struct supervisor *s, struct proc *p,
                 const struct logline *line)
{
	char *text;
	bool match;

	if (!p->has_re || p->state != PROC_RUNNING)
		return;
	text = strndup(line->text, line->len);
	if (!text)
		return;
	match = regexec(&p->ready_re, text, 0, NULL, 0) == 0;
	free(text);
	if (match)
		sup_ready(s, p);
}

void sw_free(struct proc *p)
{
	if (p->ready_limit)
		sw_quiet(p);
	if (p->ready_limit)
		event_free(p->ready_limit);
	if (p->tick)
		event_free(p->tick);
	if (p->watchdog)
		event_free(p->watchdog);
	if (p->has_re)
		regfree(&p->ready_re);
	unwatch_main(p);
	procnotify_free(p->notify);
	free(p->status);
}
