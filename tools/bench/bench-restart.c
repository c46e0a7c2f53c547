/* bench-restart: the supervisor (pod/supervisor.c) in this process, on a
 * real loop with real children (docs/benchmarks.md, "Supervision").
 *
 *  1. Exit to restart: a process (`sleep`) under policy always with zero
 *     backoff is SIGKILLed; the time from the kill to its successor's
 *     `running` event (reaped, leftovers looked for, restarted, exec'd).
 *  2. Time to ready: 50 independent processes against a chain of 50
 *     (each `depends_on` the previous one, condition started), from
 *     supervisor_start to the ready hook, with no settle.
 *
 * This file stands in for pod/events.c (it records the running events
 * itself), so no session or server is needed. */
#include <errno.h>
#include <spawn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"
#include "events.h"
#include "manifest.h"
#include "supervisor.h"

#define CHAIN 50

static struct event_base *base;
static pid_t last_running; /* pid of the last running event */
static int64_t running_at; /* when it came */
static bool ready, stopped;

void events_publish(struct events *ev, enum event_kind kind,
                    const char *process, json_t *data)
{
	const char *st = json_string_value(json_object_get(data, "state"));

	if (st && !strcmp(st, "running")) {
		running_at = bench_now_ns();
		last_running =
		    (pid_t)json_integer_value(json_object_get(data, "pid"));
	}
	json_decref(data);
}

bool events_wanted(const struct events *ev, enum event_kind kind,
                   const char *process)
{
	return false;
}

static void on_ready(void *arg)
{
	ready = true;
}

static void on_failed(void *arg, const struct insomnia_error *why)
{
	bench_fail("start failed: %s", why->message);
}

static void on_stopped(void *arg)
{
	stopped = true;
}

/* ---- a manifest of n `sleep` processes ------------------------------- */

static void make(struct manifest *m, size_t n, bool chain,
                 enum restart_policy policy)
{
	m->nprocs = n;
	m->procs = calloc(n, sizeof *m->procs);
	m->order = calloc(n, sizeof *m->order);
	if (!m->procs || !m->order)
		bench_fail("out of memory");
	for (size_t i = 0; i < n; i++) {
		struct proc_spec *p = &m->procs[i];
		snprintf(p->name, sizeof p->name, "p%zu", i);
		p->argv = calloc(3, sizeof *p->argv);
		p->argv[0] = strdup("sleep");
		p->argv[1] = strdup("100000");
		p->argc = 2;
		p->env = calloc(1, sizeof *p->env);
		p->ports = calloc(1, sizeof *p->ports);
		p->autostart = true;
		p->restart =
		    (struct restart_conf){policy, 0, 0, 1000000, INT64_MAX};
		p->stop = (struct stop_conf){SIGTERM, 5000};
		p->logs = (struct logs_conf){10000000, 3};
		if (chain && i > 0) {
			p->deps = calloc(1, sizeof *p->deps);
			p->deps[0] = (struct proc_dep){i - 1, DEP_STARTED};
			p->ndeps = 1;
		}
		m->order[i] = i;
	}
}

static void unmake(struct manifest *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		free(m->procs[i].argv[0]);
		free(m->procs[i].argv[1]);
		free(m->procs[i].argv);
		free(m->procs[i].env);
		free(m->procs[i].ports);
		free(m->procs[i].deps);
	}
	free(m->procs);
	free(m->order);
}

/* ---- running a pod's worth ------------------------------------------ */

static char home[BENCH_HOME_MAX];
static int homefd = -1;

static struct supervisor *start(const struct manifest *m)
{
	static unsigned serial;
	char sid[64];
	struct supervisor_env env = {"bench", home, homefd, sid, home, homefd};
	struct supervisor_hooks hooks = {on_ready, on_failed, on_stopped, NULL};
	static char recorder;
	struct insomnia_error err;
	struct supervisor *s;

	snprintf(sid, sizeof sid, "bench-%d-%u", (int)getpid(), serial++);
	ready = stopped = false;
	s = supervisor_new(base, m, &env, (struct events *)&recorder, &hooks,
	                   &err);
	if (!s)
		bench_fail("%s", err.message);
	supervisor_set_settle(s, 0);
	if (supervisor_start(s, &err) < 0)
		bench_fail("%s", err.message);
	return s;
}

static void loop_until(const bool *flag)
{
	while (!*flag) {
		bench_check_signal();
		if (event_base_loop(base, EVLOOP_ONCE) < 0)
			bench_fail("event loop failed");
	}
}

static void finish(struct supervisor *s)
{
	supervisor_stop_all(s);
	loop_until(&stopped);
	supervisor_free(s);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- the floor: what any supervisor must do -------------------------- */

extern char **environ;

static pid_t spawn_sleep(void)
{
	char *argv[] = {"sleep", "100000", NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "sleep", NULL, NULL, argv, environ);

	if (rc)
		bench_fail("posix_spawn sleep: %s", strerror(rc));
	return pid;
}

/* kill, waitpid, posix_spawn the next: ms each, sorted. */
static double *floor_restart(int n)
{
	double *v = bench_samples(n);
	pid_t pid = spawn_sleep();

	for (int i = 0; i < n; i++) {
		int64_t t0 = bench_now_ns();
		kill(pid, SIGKILL);
		if (bench_waitpid(pid, NULL) < 0)
			bench_fail("waitpid: %s", strerror(errno));
		pid = spawn_sleep();
		v[i] = bench_ms_since(t0);
	}
	kill(pid, SIGKILL);
	bench_waitpid(pid, NULL);
	return v;
}

/* CHAIN posix_spawns in a row, then kill them all: ms to spawn. */
static double floor_spawns(void)
{
	pid_t pids[CHAIN];
	int64_t t0 = bench_now_ns();
	double ms;

	for (int i = 0; i < CHAIN; i++)
		pids[i] = spawn_sleep();
	ms = bench_ms_since(t0);
	for (int i = 0; i < CHAIN; i++) {
		kill(pids[i], SIGKILL);
		bench_waitpid(pids[i], NULL);
	}
	return ms;
}

/* ---- 1. exit to restart ---------------------------------------------- */

static void restart_loop(int n)
{
	struct manifest m;
	struct supervisor *s;
	double *v = bench_samples(n), *fl;
	bool again;

	make(&m, 1, false, RESTART_ALWAYS);
	s = start(&m);
	loop_until(&ready);
	for (int i = 0; i < n; i++) {
		pid_t pid = last_running;
		int64_t t0 = bench_now_ns();
		if (kill(pid, SIGKILL) < 0)
			bench_fail("kill %d: %s", (int)pid, strerror(errno));
		do {
			again = last_running == pid;
			if (again && event_base_loop(base, EVLOOP_ONCE) < 0)
				bench_fail("event loop failed");
			bench_check_signal();
		} while (again);
		v[i] = (double)(running_at - t0) / 1e6;
	}
	finish(s);
	unmake(&m);
	fl = floor_restart(n);
	qsort(v, (size_t)n, sizeof *v, cmp);
	qsort(fl, (size_t)n, sizeof *fl, cmp);
	printf("exit to restart (zero backoff), %d runs:\n", n);
	printf("  floor (kill, waitpid, posix_spawn)  median %7.3f ms   "
	       "p95 %7.3f ms\n",
	       fl[n / 2], fl[(n * 95) / 100]);
	printf("  supervisor (kill to running event)  median %7.3f ms   "
	       "p95 %7.3f ms   (%.1fx the floor)\n",
	       v[n / 2], v[(n * 95) / 100], v[n / 2] / fl[n / 2]);
	free(v);
	free(fl);
}

/* ---- 2. time to ready ------------------------------------------------ */

static double to_ready(bool chain)
{
	struct manifest m;
	struct supervisor *s;
	int64_t t0;
	double ms;

	make(&m, CHAIN, chain, RESTART_NO);
	t0 = bench_now_ns();
	s = start(&m);
	loop_until(&ready);
	ms = bench_ms_since(t0);
	finish(s);
	unmake(&m);
	return ms;
}

static void ready_times(int n)
{
	double *ind = bench_samples(n), *ch = bench_samples(n);
	double *fl = bench_samples(n);
	struct bench_stat a, b, f;

	for (int i = 0; i < n; i++) {
		fl[i] = floor_spawns();
		ind[i] = to_ready(false);
		ch[i] = to_ready(true);
	}
	a = bench_stat_of(ind, n);
	b = bench_stat_of(ch, n);
	f = bench_stat_of(fl, n);
	printf("time to ready, %d processes, %d runs each:\n", CHAIN, n);
	printf("  floor (%d posix_spawns) median %8.2f ms   p90 %8.2f ms\n",
	       CHAIN, f.median, f.p90);
	printf("  independent   median %8.2f ms   p90 %8.2f ms\n", a.median,
	       a.p90);
	printf("  chain         median %8.2f ms   p90 %8.2f ms\n", b.median,
	       b.p90);
	free(ind);
	free(ch);
	free(fl);
}

int main(int argc, char **argv)
{
	int runs = 200, ready_runs = 10;
	static const pid_t none[1];
	static const int nnone = 0;
	struct bench_host h;

	if (argc > 1 && !strcmp(argv[1], "--quick")) {
		runs = 20;
		ready_runs = 3;
	}
	bench_on_failure("bench-restart", home, none, &nnone);
	bench_catch_signals();
	bench_setup_home(home, sizeof home,
	                 "/tmp/insomnia-bench-restart-XXXXXX", "pod");
	homefd = open(home, O_DIRECTORY | O_CLOEXEC);
	if (homefd < 0)
		bench_fail("%s: %s", home, strerror(errno));
	base = event_base_new();
	if (!base)
		bench_fail("no event base");
	bench_host(&h);
	printf("bench-restart %s, %s, %ld CPUs, Linux %s\n", h.date, h.model,
	       h.cpus, h.u.release);
	restart_loop(runs);
	ready_times(ready_runs);
	event_base_free(base);
	close(homefd);
	bench_remove_home(home);
	return 0;
}
