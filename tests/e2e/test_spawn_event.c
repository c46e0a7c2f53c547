/* End-to-end: the libevent spawn inside a caller's event_base. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(spawn_event, .init = e2e_setup, .fini = e2e_teardown,
	  .timeout = 20);

struct outcome {
	int progress, ready, failed;
	struct spawn_result res;
	struct error err;
	struct event_base *base;
	int pending; /* loop exits when it reaches 0 */
};

static void on_progress(const char *line, void *arg)
{
	struct outcome *o = arg;
	(void)line;
	o->progress++;
}

static void on_ready(const struct spawn_result *res, void *arg)
{
	struct outcome *o = arg;
	o->ready++;
	o->res = *res;
	if (--o->pending == 0)
		event_base_loopbreak(o->base);
}

static void on_failed(const struct error *err, void *arg)
{
	struct outcome *o = arg;
	o->failed++;
	o->err = *err;
	if (--o->pending == 0)
		event_base_loopbreak(o->base);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	int *ticks = arg;
	(*ticks)++;
}

Test(spawn_event, spawn_runs_inside_the_callers_loop_with_callbacks)
{
	struct event_base *base = event_base_new();
	struct outcome o = {.base = base, .pending = 1};
	struct spawn_options opts = e2e_options("web", "--lines 3 --ready-delay 100");
	struct timeval ten_ms = {0, 10000};
	int ticks = 0;
	struct event *timer = event_new(base, -1, EV_PERSIST, tick, &ticks);

	opts.progress = on_progress;
	opts.arg = &o;
	event_add(timer, &ten_ms);
	cr_assert_not_null(spawn_start(base, &opts, on_ready, on_failed, NULL));
	event_base_dispatch(base);
	cr_assert_eq(o.ready, 1, "%s", o.err.message);
	cr_assert_eq(o.failed, 0);
	cr_assert_eq(o.progress, 4); /* pid line + 3 */
	/* the caller's own events kept running while the pod started */
	cr_assert_gt(ticks, 2, "the loop was blocked during the spawn");
	event_free(timer);
	event_base_free(base);
	e2e_stop(o.res.pid);
}

Test(spawn_event, two_spawns_share_one_loop)
{
	struct event_base *base = event_base_new();
	struct outcome a = {.base = base, .pending = 1};
	struct outcome b = {.base = base, .pending = 1};
	struct spawn_options oa = e2e_options("alpha", "--ready-delay 50");
	struct spawn_options ob = oa;
	static char overlay_b[] = "[pod]\nname = \"beta\"\n";

	ob.name = "beta";
	ob.overlay = overlay_b;
	oa.arg = &a;
	ob.arg = &b;
	cr_assert_not_null(spawn_start(base, &oa, on_ready, on_failed, NULL));
	cr_assert_not_null(spawn_start(base, &ob, on_ready, on_failed, NULL));
	while (a.ready + a.failed == 0 || b.ready + b.failed == 0)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert_eq(a.ready, 1, "%s", a.err.message);
	cr_assert_eq(b.ready, 1, "%s", b.err.message);
	cr_assert_str_eq(a.res.name, "alpha");
	cr_assert_str_eq(b.res.name, "beta");
	cr_assert_neq(a.res.pid, b.res.pid);
	event_base_free(base);
	e2e_stop(a.res.pid);
	e2e_stop(b.res.pid);
}

Test(spawn_event, bad_name_is_refused_synchronously_without_callback)
{
	struct event_base *base = event_base_new();
	struct outcome o = {.base = base, .pending = 1};
	struct spawn_options opts = e2e_options("a/b", NULL);
	struct error err;

	opts.arg = &o;
	cr_assert_null(spawn_start(base, &opts, on_ready, on_failed, &err));
	cr_assert_eq(err.kind, ERR_BAD_NAME);
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_assert_eq(o.ready + o.failed, 0);
	event_base_free(base);
}

static void cancel_now(evutil_socket_t fd, short what, void *arg)
{
	spawn_cancel(arg);
}

Test(spawn_event, cancel_stops_the_pod_and_leaves_only_the_log)
{
	struct event_base *base = event_base_new();
	struct outcome o = {.base = base, .pending = 1};
	struct spawn_options opts = e2e_options("web", "--hang");
	static const char *const only_log[] = {"stderr.log", NULL};
	struct timeval soon = {0, 100000};
	struct spawn *s;
	pid_t pid;

	opts.arg = &o;
	s = spawn_start(base, &opts, on_ready, on_failed, NULL);
	cr_assert_not_null(s);
	event_base_once(base, -1, EV_TIMEOUT, cancel_now, s, &soon);
	event_base_dispatch(base); /* ends when nothing is pending */
	cr_assert_eq(o.ready + o.failed, 0, "a cancelled spawn called back");
	pid = e2e_logged_pid("web");
	cr_assert_gt(pid, 0, "the pod never started");
	e2e_assert_group_gone(pid);
	e2e_assert_dir_holds("web", only_log);
	event_base_free(base);
}
