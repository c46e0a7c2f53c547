/* End-to-end: the async spawn never holds the caller's loop, whatever the
 * pod does with its stderr (each test proves it by the order of events in
 * one base, not by time). */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "podspawn.h"

TestSuite(spawn_loop, .init = e2e_setup, .fini = e2e_teardown, .timeout = 60);

/* Empty lines the monitor wrapper writes to stderr.log before the real
 * monitor starts: all in the file before the spawn reads any of it. */
#define PREFILL_LINES (4 * 1024 * 1024)

struct watcher {
	struct event_base *base;
	int pipe[2];       /* progress -> the caller's own event */
	long lines;        /* progress lines so far */
	long lines_at_own; /* when the caller's event ran; -1: never */
	int ready, failed;
	struct insomnia_spawn_result res;
	struct insomnia_error err;
};

static void count_line(const char *line, void *arg)
{
	struct watcher *w = arg;
	char c = 1;

	(void)line;
	if (w->lines++ == 0)
		cr_assert_eq(write(w->pipe[1], &c, 1), 1);
}

static void own_event(evutil_socket_t fd, short what, void *arg)
{
	struct watcher *w = arg;
	char c;

	cr_assert_eq(read(fd, &c, 1), 1);
	w->lines_at_own = w->lines;
}

static void on_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct watcher *w = arg;

	w->ready++;
	w->res = *res;
	event_base_loopbreak(w->base);
}

static void on_failed(const struct insomnia_error *err, void *arg)
{
	struct watcher *w = arg;

	w->failed++;
	w->err = *err;
	event_base_loopbreak(w->base);
}

/* A monitor wrapper that floods the log fd it hands on, then execs the
 * real monitor. */
static void flood_before_monitor(void)
{
	static char path[512];
	const char *real = getenv("INSOMNIA_LAUNCH_MONITOR");
	FILE *f;

	cr_assert_not_null(real);
	snprintf(path, sizeof path, "%s/flood-monitor", e2e_home);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "#!/bin/sh\n"
	        "head -c %d /dev/zero | tr '\\0' '\\n' >&%d\n"
	        "exec '%s' \"$@\"\n",
	        PREFILL_LINES, LAUNCH_FD_LOG, real);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(chmod(path, 0700), 0);
	setenv("INSOMNIA_LAUNCH_MONITOR", path, 1);
}

static struct event *watch_start(struct watcher *w)
{
	struct event *ev;

	w->base = event_base_new();
	w->lines_at_own = -1;
	cr_assert_not_null(w->base);
	cr_assert_eq(pipe2(w->pipe, O_CLOEXEC), 0);
	ev = event_new(w->base, w->pipe[0], EV_READ, own_event, w);
	cr_assert_not_null(ev);
	cr_assert_eq(event_add(ev, NULL), 0);
	return ev;
}

static void watch_end(struct watcher *w, struct event *ev)
{
	event_free(ev);
	close(w->pipe[0]);
	close(w->pipe[1]);
	event_base_free(w->base);
}

/* The caller's event, made ready by the first line, runs while the
 * flood is still being read, not after all of it. */
Test(spawn_loop, a_flooded_log_is_read_between_the_callers_events)
{
	struct watcher w = {0};
	struct insomnia_spawn_options opts = e2e_options("web", NULL);
	int fds = e2e_fd_count();
	struct event *ev = watch_start(&w);

	flood_before_monitor();
	opts.progress = count_line;
	opts.arg = &w;
	cr_assert_not_null(
	    insomnia_spawn_start(w.base, &opts, on_ready, on_failed, NULL));
	event_base_dispatch(w.base);
	cr_assert_eq(w.ready, 1, "%s", w.err.message);
	cr_assert_gt(w.lines, PREFILL_LINES);
	cr_assert_gt(w.lines_at_own, 0, "the caller's event never ran");
	cr_assert_lt(w.lines_at_own, PREFILL_LINES,
	             "the caller's event waited for the whole flood");
	watch_end(&w, ev);
	e2e_stop(w.res.pid);
	e2e_assert_group_gone(w.res.pid);
	cr_assert_eq(e2e_fd_count(), fds);
}

/* A pod that never becomes ready behind a flood: the deadline (1 ms,
 * long past once the monitor has started, since the flood was written
 * before it) fires between two chunks, before the flood is read. */
Test(spawn_loop, the_deadline_fires_while_a_flood_is_read)
{
	struct watcher w = {0};
	struct insomnia_spawn_options opts = e2e_options("web", "--hang");
	struct event *ev = watch_start(&w);
	static const char *const left[] = {"lock", "state.json", "stderr.log",
	                                   NULL};

	flood_before_monitor();
	opts.progress = count_line;
	opts.arg = &w;
	opts.timeout_ms = 1;
	cr_assert_not_null(
	    insomnia_spawn_start(w.base, &opts, on_ready, on_failed, NULL));
	event_base_dispatch(w.base);
	cr_assert_eq(w.failed, 1);
	cr_assert_eq(w.err.kind, INSOMNIA_ERR_TIMEOUT, "%s", w.err.message);
	cr_assert_lt(w.lines, PREFILL_LINES,
	             "the deadline waited for the whole flood");
	watch_end(&w, ev);
	e2e_assert_dir_holds("web", left);
}

static void never_ready(const struct insomnia_spawn_result *res, void *arg)
{
	cr_assert_fail("no callback for a refused spawn");
}

static void never_failed(const struct insomnia_error *err, void *arg)
{
	cr_assert_fail("no callback for a refused spawn");
}

Test(spawn_loop, null_base_or_callbacks_are_usage_errors)
{
	struct event_base *base = event_base_new();
	struct insomnia_spawn_options opts = e2e_options("web", NULL);
	struct insomnia_error err;

	cr_assert_null(
	    insomnia_spawn_start(NULL, &opts, never_ready, never_failed, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_USAGE, "%s", err.message);
	cr_assert_null(
	    insomnia_spawn_start(base, &opts, NULL, never_failed, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_USAGE);
	cr_assert_null(
	    insomnia_spawn_start(base, &opts, never_ready, NULL, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_USAGE);
	cr_assert_null(
	    insomnia_spawn_start(base, NULL, never_ready, never_failed, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_USAGE);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
}

/* The monitor, stopped by the test, cannot report the pod's exit nor
 * deliver the KILL: the spawn's wait after KILL must leave the loop
 * running, and the test's own timer (run only while the spawn is in
 * that wait) lets the monitor go on. */
struct killwait {
	struct watcher w; /* first: on_ready and on_failed take it */
	struct insomnia_spawn *s;
	struct event *timer;
	pid_t monitor, pod;
	int continued;
};

static void stop_monitor(const char *line, void *arg)
{
	struct killwait *k = arg;
	int st;

	if (strncmp(line, "mock-pod: pid ", 14) != 0 || k->monitor)
		return;
	k->pod = (pid_t)atol(line + 14);
	k->monitor = k->s->launch.monitor;
	cr_assert_gt(k->monitor, 0);
	cr_assert_eq(kill(k->monitor, SIGSTOP), 0);
	cr_assert_eq(waitpid(k->monitor, &st, WUNTRACED), k->monitor);
	cr_assert(WIFSTOPPED(st));
}

static void continue_monitor(evutil_socket_t fd, short what, void *arg)
{
	struct killwait *k = arg;
	struct timeval again = {0, 100 * 1000};

	if (k->s->phase != PHASE_KILLING) { /* a slow machine: not yet */
		cr_assert_eq(evtimer_add(k->timer, &again), 0);
		return;
	}
	cr_assert_eq(kill(k->monitor, SIGCONT), 0);
	k->continued++;
}

Test(spawn_loop, the_wait_after_kill_leaves_the_loop_running)
{
	struct killwait k = {0};
	struct insomnia_spawn_options opts = e2e_options("web", "--hang");
	struct event *ev = watch_start(&k.w);
	struct timeval later = {1, 0}; /* after deadline + grace, below 5 s */
	static const char *const left[] = {"lock", "state.json", "stderr.log",
	                                   NULL};

	opts.progress = stop_monitor;
	opts.arg = &k;
	opts.timeout_ms = 200;
	opts.grace_ms = 50;
	k.s = insomnia_spawn_start(k.w.base, &opts, on_ready, on_failed, NULL);
	cr_assert_not_null(k.s);
	k.timer = evtimer_new(k.w.base, continue_monitor, &k);
	cr_assert_eq(evtimer_add(k.timer, &later), 0);
	event_base_dispatch(k.w.base);
	cr_assert_eq(k.w.failed, 1);
	cr_assert_eq(k.w.err.kind, INSOMNIA_ERR_TIMEOUT, "%s", k.w.err.message);
	cr_assert_eq(k.continued, 1, "the loop was held after KILL: %s",
	             k.w.err.message);
	cr_assert_null(strstr(k.w.err.message, "outlived"), "%s",
	               k.w.err.message);
	event_free(k.timer);
	watch_end(&k.w, ev);
	e2e_assert_group_gone(k.pod);
	e2e_assert_dir_holds("web", left);
}
