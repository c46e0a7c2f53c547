/* End-to-end: what a spawn's own callbacks may do with it (podspawn.h).
 * Meant to run under ASan too (tests/run-all): a use after free in the
 * library shows there even when the plain build survives it. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(spawn_reentry, .init = e2e_setup, .fini = e2e_teardown,
          .timeout = 20);

static const char *const only_log[] = {"stderr.log", NULL};

struct ctx {
	struct insomnia_spawn *s;
	int progress, ready, failed;
	int cancel_at; /* cancel from the progress line with this number */
	bool cancel_in_ready, cancel_in_failed;
	struct insomnia_spawn_result res;
	struct insomnia_error err;
};

static void progress_cb(const char *line, void *arg)
{
	struct ctx *c = arg;

	c->progress++;
	if (c->progress == c->cancel_at)
		insomnia_spawn_cancel(c->s);
}

static void ready_cb(const struct insomnia_spawn_result *res, void *arg)
{
	struct ctx *c = arg;

	c->ready++;
	c->res = *res;
	if (c->cancel_in_ready)
		insomnia_spawn_cancel(c->s); /* allowed: does nothing */
}

static void failed_cb(const struct insomnia_error *err, void *arg)
{
	struct ctx *c = arg;

	c->failed++;
	c->err = *err;
	if (c->cancel_in_failed)
		insomnia_spawn_cancel(c->s); /* allowed: does nothing */
}

static void run(struct ctx *c, const char *name, const char *mock_args)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_spawn_options o = e2e_options(name, mock_args);

	o.progress = progress_cb;
	o.arg = c;
	c->s = insomnia_spawn_start(base, &o, ready_cb, failed_cb, NULL);
	cr_assert_not_null(c->s);
	event_base_dispatch(base); /* returns when nothing is pending */
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "descriptors leaked");
}

/* Several lines arrive in one read: cancelling at the first must stop
 * the rest, kill the pod and clean its dir, with no callback after. */
Test(spawn_reentry, cancel_from_the_first_progress_line_stops_the_spawn)
{
	struct ctx c = {.cancel_at = 1};

	run(&c, "web", "--lines 5 --hang");
	cr_assert_eq(c.progress, 1, "progress went on after the cancel");
	cr_assert_eq(c.ready + c.failed, 0, "a cancelled spawn called back");
	e2e_assert_group_gone(e2e_logged_pid("web"));
	e2e_assert_dir_holds("web", only_log);
}

Test(spawn_reentry, cancel_from_the_last_progress_line_before_ready)
{
	struct ctx c = {.cancel_at = 4}; /* pid line + 3 */

	run(&c, "web", "--lines 3");
	cr_assert_eq(c.progress, 4);
	cr_assert_eq(c.ready + c.failed, 0, "a cancelled spawn called back");
	e2e_assert_group_gone(e2e_logged_pid("web"));
	e2e_assert_dir_holds("web", only_log);
}

Test(spawn_reentry, cancel_from_the_ready_callback_does_nothing)
{
	struct ctx c = {.cancel_in_ready = true};

	run(&c, "web", "--lines 2");
	cr_assert_eq(c.ready, 1, "%s", c.err.message);
	cr_assert(e2e_socket_accepts(c.res.socket), "the pod was stopped");
	e2e_stop(c.res.pid);
}

Test(spawn_reentry, cancel_from_the_failed_callback_does_nothing)
{
	struct ctx c = {.cancel_in_failed = true};

	static const char *const failed_dir[] = {"lock", "stderr.log",
	                                         "state.json", NULL};

	run(&c, "web", "--lines 2 --exit 42");
	cr_assert_eq(c.failed, 1);
	cr_assert_eq(c.err.kind, INSOMNIA_ERR_EXITED_EARLY);
	cr_assert_eq(c.err.exit_status, 42);
	e2e_assert_dir_holds("web", failed_dir);
}

/* A progress callback may start another spawn and cancel it again, or
 * let it finish; its own spawn goes on. */
struct pair {
	struct ctx a, b;
	struct event_base *base;
	bool started;
	bool cancel_b;
};

static void pair_progress(const char *line, void *arg)
{
	struct pair *p = arg;
	struct insomnia_spawn_options o;

	p->a.progress++;
	if (p->started)
		return;
	p->started = true;
	o = e2e_options("other", NULL);
	o.arg = &p->b;
	p->b.s = insomnia_spawn_start(p->base, &o, ready_cb, failed_cb, NULL);
	cr_assert_not_null(p->b.s);
	if (p->cancel_b)
		insomnia_spawn_cancel(p->b.s);
}

static void pair_ready(const struct insomnia_spawn_result *res, void *arg)
{
	ready_cb(res, &((struct pair *)arg)->a);
}

static void pair_failed(const struct insomnia_error *err, void *arg)
{
	failed_cb(err, &((struct pair *)arg)->a);
}

static void run_pair(struct pair *p)
{
	struct insomnia_spawn_options o = e2e_options("web", "--lines 2");

	p->base = event_base_new();
	o.progress = pair_progress;
	o.arg = p;
	p->a.s =
	    insomnia_spawn_start(p->base, &o, pair_ready, pair_failed, NULL);
	cr_assert_not_null(p->a.s);
	event_base_dispatch(p->base);
	event_base_free(p->base);
	cr_assert_eq(p->a.ready, 1, "%s", p->a.err.message);
}

Test(spawn_reentry, a_spawn_started_in_progress_completes)
{
	struct pair p = {0};

	run_pair(&p);
	cr_assert_eq(p.b.ready, 1, "%s", p.b.err.message);
	e2e_stop(p.a.res.pid);
	e2e_stop(p.b.res.pid);
}

Test(spawn_reentry, a_spawn_started_and_cancelled_in_progress_leaves_nothing)
{
	struct pair p = {.cancel_b = true};

	run_pair(&p);
	cr_assert_eq(p.b.ready + p.b.failed, 0);
	e2e_stop(p.a.res.pid);
}
