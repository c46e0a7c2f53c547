/* End-to-end: the libevent spawn inside a caller's event_base. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

TestSuite(spawn_event, .init = e2e_setup, .fini = e2e_teardown, .timeout = 20);

struct outcome {
	int progress, ready, failed;
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	struct event_base *base;
	int pending; /* loop exits when it reaches 0 */
};

static void on_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct outcome *o = arg;
	o->ready++;
	o->res = *res;
	if (--o->pending == 0)
		event_base_loopbreak(o->base);
}

static void on_failed(const struct insomnia_error *err, void *arg)
{
	struct outcome *o = arg;
	o->failed++;
	o->err = *err;
	if (--o->pending == 0)
		event_base_loopbreak(o->base);
}

/* The mock waits for SIGUSR1 before its ready line, and only an event of
 * the caller's own loop sends it: the spawn can complete only if the loop
 * kept running the caller's events while the spawn was pending. */
struct releaser {
	struct outcome *o;
	int pipe[2];  /* progress callback -> the caller's own event */
	pid_t pod;    /* from the mock's first line */
	int released; /* SIGUSR1 sent by the loop */
};

static void note_waiting(const char *line, void *arg)
{
	struct releaser *r = arg;
	char c = 1;

	r->o->progress++;
	if (strncmp(line, "mock-pod: pid ", 14) == 0)
		r->pod = (pid_t)atol(line + 14);
	if (strcmp(line, "mock-pod: waiting for SIGUSR1") == 0)
		cr_assert_eq(write(r->pipe[1], &c, 1), 1);
}

static void release_pod(evutil_socket_t fd, short what, void *arg)
{
	struct releaser *r = arg;
	char c;

	cr_assert_eq(read(fd, &c, 1), 1);
	cr_assert_gt(r->pod, 0);
	cr_assert_eq(kill(r->pod, SIGUSR1), 0);
	r->released++;
}

static void released_ready(const struct insomnia_spawn_result *res, void *arg)
{
	on_ready(res, ((struct releaser *)arg)->o);
}

static void released_failed(const struct insomnia_error *err, void *arg)
{
	on_failed(err, ((struct releaser *)arg)->o);
}

Test(spawn_event, spawn_runs_inside_the_callers_loop_with_callbacks)
{
	struct event_base *base = event_base_new();
	struct outcome o = {.base = base, .pending = 1};
	struct releaser r = {.o = &o};
	struct insomnia_spawn_options opts =
	    e2e_options("web", "--lines 3 --ready-delay -1");
	struct event *ev;

	cr_assert_eq(pipe2(r.pipe, O_CLOEXEC), 0);
	ev = event_new(base, r.pipe[0], EV_READ, release_pod, &r);
	event_add(ev, NULL);
	opts.progress = note_waiting;
	opts.arg = &r;
	opts.timeout_ms = 10000; /* a blocked loop fails, not hangs */
	cr_assert_not_null(insomnia_spawn_start(base, &opts, released_ready,
	                                        released_failed, NULL));
	event_base_dispatch(base);
	cr_assert_eq(o.ready, 1, "%s", o.err.message);
	cr_assert_eq(o.failed, 0);
	cr_assert_eq(o.progress, 5); /* pid line + 3 + waiting */
	cr_assert_eq(r.released, 1, "the caller's event never ran");
	event_free(ev);
	close(r.pipe[0]);
	close(r.pipe[1]);
	event_base_free(base);
	e2e_stop(o.res.pid);
}

Test(spawn_event, two_spawns_share_one_loop)
{
	struct event_base *base = event_base_new();
	struct outcome a = {.base = base, .pending = 1};
	struct outcome b = {.base = base, .pending = 1};
	struct insomnia_spawn_options oa =
	    e2e_options("alpha", "--ready-delay 50");
	struct insomnia_spawn_options ob = oa;
	static char overlay_b[] = "[pod]\nname = \"beta\"\n";

	ob.name = "beta";
	ob.overlay = overlay_b;
	oa.arg = &a;
	ob.arg = &b;
	cr_assert_not_null(
	    insomnia_spawn_start(base, &oa, on_ready, on_failed, NULL));
	cr_assert_not_null(
	    insomnia_spawn_start(base, &ob, on_ready, on_failed, NULL));
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
	struct insomnia_spawn_options opts = e2e_options("a/b", NULL);
	struct insomnia_error err;

	opts.arg = &o;
	cr_assert_null(
	    insomnia_spawn_start(base, &opts, on_ready, on_failed, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_NAME);
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_assert_eq(o.ready + o.failed, 0);
	event_base_free(base);
}

/* Cancelled by an event of the caller's loop once the pod has started
 * (its first line seen), not after a guessed delay. */
struct canceller {
	struct outcome o; /* first: on_ready and on_failed take it */
	int pipe[2];
};

static void cancel_started(const char *line, void *arg)
{
	struct canceller *c = arg;
	char byte = 1;

	if (strncmp(line, "mock-pod: pid ", 14) == 0)
		cr_assert_eq(write(c->pipe[1], &byte, 1), 1);
}

static void cancel_now(evutil_socket_t fd, short what, void *arg)
{
	char byte;

	cr_assert_eq(read(fd, &byte, 1), 1);
	insomnia_spawn_cancel(arg);
}

Test(spawn_event, cancel_stops_the_pod_and_leaves_only_the_log)
{
	struct event_base *base = event_base_new();
	struct canceller c = {.o = {.base = base, .pending = 1}};
	struct insomnia_spawn_options opts = e2e_options("web", "--hang");
	static const char *const only_log[] = {"stderr.log", NULL};
	struct insomnia_spawn *s;
	pid_t pid;

	cr_assert_eq(pipe2(c.pipe, O_CLOEXEC), 0);
	opts.progress = cancel_started;
	opts.arg = &c;
	s = insomnia_spawn_start(base, &opts, on_ready, on_failed, NULL);
	cr_assert_not_null(s);
	event_base_once(base, c.pipe[0], EV_READ, cancel_now, s, NULL);
	event_base_dispatch(base); /* ends when nothing is pending */
	cr_assert_eq(c.o.ready + c.o.failed, 0,
	             "a cancelled spawn called back");
	pid = e2e_logged_pid("web");
	cr_assert_gt(pid, 0, "the pod never started");
	e2e_assert_group_gone(pid);
	e2e_assert_dir_holds("web", only_log);
	close(c.pipe[0]);
	close(c.pipe[1]);
	event_base_free(base);
}

/* Each ready callback starts the next spawn, several chains at once in
 * one loop: a spawn must not leave anything registered that a new one,
 * started from its callback, could trip over (descriptor numbers are
 * reused at once). */
struct chain {
	struct event_base *base;
	int id, started, ready, failed, exited_early, *live;
	bool expect_exit; /* the pods exit early: chain on errors */
	pid_t pids[24];
	char names[24][32];
	char overlays[24][64];
};

static void chain_next(struct chain *c);

static void chain_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct chain *c = arg;

	c->pids[c->ready++] = res->pid;
	(*c->live)--;
	chain_next(c);
}

static void chain_failed(const struct insomnia_error *err, void *arg)
{
	struct chain *c = arg;

	(*c->live)--;
	if (c->expect_exit && err->kind == INSOMNIA_ERR_EXITED_EARLY) {
		c->exited_early++;
		chain_next(c);
		return;
	}
	cr_log_error("chain spawn failed: %s: %s",
	             insomnia_error_kind_name(err->kind), err->message);
	c->failed++;
}

static void chain_next(struct chain *c)
{
	struct insomnia_spawn_options o;
	int i = c->started;

	if (i >= 6)
		return;
	snprintf(c->names[i], sizeof c->names[i], "chain%d-%d", c->id, i);
	o = e2e_options(c->names[i], c->expect_exit ? "--exit 42" : NULL);
	snprintf(c->overlays[i], sizeof c->overlays[i],
	         "[pod]\nname = \"chain%d-%d\"\n", c->id, i);
	o.overlay = c->overlays[i];
	o.arg = c;
	c->started++;
	(*c->live)++;
	cr_assert_not_null(
	    insomnia_spawn_start(c->base, &o, chain_ready, chain_failed, NULL));
}

Test(spawn_event, spawns_started_from_ready_callbacks_all_complete)
{
	struct event_base *base = event_base_new();
	struct chain chains[4];
	int live = 0;

	for (int k = 0; k < 4; k++) {
		chains[k] =
		    (struct chain){.base = base, .id = k, .live = &live};
		chain_next(&chains[k]);
	}
	while (live > 0)
		event_base_loop(base, EVLOOP_ONCE);
	for (int k = 0; k < 4; k++) {
		cr_assert_eq(chains[k].failed, 0);
		cr_assert_eq(chains[k].ready, 6);
		for (int i = 0; i < 6; i++)
			e2e_stop(chains[k].pids[i]);
	}
	event_base_free(base);
}

Test(spawn_event, early_exits_chained_from_error_callbacks_are_each_seen,
     .timeout = 15)
{
	struct event_base *base = event_base_new();
	struct chain chains[4];
	int live = 0;

	for (int k = 0; k < 4; k++) {
		chains[k] = (struct chain){
		    .base = base, .id = k, .live = &live, .expect_exit = true};
		chain_next(&chains[k]);
	}
	while (live > 0)
		event_base_loop(base, EVLOOP_ONCE);
	for (int k = 0; k < 4; k++) {
		cr_assert_eq(chains[k].failed, 0, "an exit was missed");
		cr_assert_eq(chains[k].exited_early, 6);
	}
	event_base_free(base);
}

/* The invariant behind chaining: by the time a callback runs, the spawn
 * holds no descriptor (and so no registered event, no spawn lock). */
struct fd_probe {
	int before, at_callback;
};

static void probe_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct fd_probe *p = arg;

	p->at_callback = e2e_fd_count();
	e2e_stop(res->pid);
}

static void probe_failed(const struct insomnia_error *err, void *arg)
{
	struct fd_probe *p = arg;

	(void)err;
	p->at_callback = e2e_fd_count();
}

static void probe(const char *mock_args)
{
	struct event_base *base = event_base_new();
	struct insomnia_spawn_options o = e2e_options("web", mock_args);
	struct fd_probe p = {0, -1};

	o.arg = &p;
	p.before = e2e_fd_count();
	cr_assert_not_null(
	    insomnia_spawn_start(base, &o, probe_ready, probe_failed, NULL));
	event_base_dispatch(base);
	cr_assert_eq(p.at_callback, p.before,
	             "%d descriptors still held when the callback ran",
	             p.at_callback - p.before);
	event_base_free(base);
}

Test(spawn_event, a_spawn_holds_nothing_when_its_ready_callback_runs)
{
	probe(NULL);
}

Test(spawn_event, a_spawn_holds_nothing_when_its_error_callback_runs)
{
	probe("--exit 42");
}

/* Only a spawn that waits for another one's spawn lock watches the dir,
 * with an instance that the library keeps for reuse (closing one may
 * wait for the kernel): five contended rounds use one instance. */
Test(spawn_event, waiting_for_the_spawn_lock_reuses_one_inotify_instance)
{
	struct event_base *base = event_base_new();
	char name[16], overlay[64];

	for (int i = 0; i < 5; i++) {
		struct outcome a = {.base = base, .pending = 1};
		struct outcome b = {.base = base, .pending = 1};
		struct insomnia_spawn_options oa, ob;

		snprintf(name, sizeof name, "web-%d", i);
		snprintf(overlay, sizeof overlay, "[pod]\nname = \"%s\"\n",
		         name);
		oa = e2e_options(name, NULL);
		oa.overlay = overlay;
		ob = oa;
		oa.arg = &a;
		ob.arg = &b;
		cr_assert_not_null(
		    insomnia_spawn_start(base, &oa, on_ready, on_failed, NULL));
		cr_assert_not_null(
		    insomnia_spawn_start(base, &ob, on_ready, on_failed, NULL));
		while (a.ready + a.failed == 0 || b.ready + b.failed == 0)
			event_base_loop(base, EVLOOP_ONCE);
		cr_assert_eq(a.ready + b.ready, 1, "%s%s", a.err.message,
		             b.err.message);
		cr_assert_eq((a.failed ? a : b).err.kind,
		             INSOMNIA_ERR_ALREADY_RUNNING,
		             "the second spawn did not wait for the first");
		e2e_stop((a.ready ? a : b).res.pid);
	}
	cr_assert_eq(e2e_inotify_count(), 1,
	             "%d inotify instances after 5 contended spawns",
	             e2e_inotify_count());
	event_base_free(base);
}
