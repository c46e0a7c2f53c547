/* bench-spawn: what the spawn handshake costs next to the bare minimum.
 *
 * Usage: bench-spawn [--mock PATH] [--pod PATH] [--podctl PATH] [--quick]
 *                    [-n N] [--start-in-callback] [--client-rss MB]
 *                    [--disk-dir DIR] [--tmpfs-dir DIR]
 *   --mock PATH  the mock pod (default: ../mock-pod next to this binary)
 *   --pod PATH, --podctl PATH  the real pod and podctl (default:
 *                ../../pod/pod and ../../client/podctl from this binary)
 *   --quick      20 iterations instead of 200, for smoke runs
 *   -n N         N iterations for every measurement
 *   --start-in-callback  in the concurrent run, start the next spawn from
 *                inside the previous one's ready callback
 *   --client-rss MB  at the end, touch MB of memory and measure part 1
 *                again: the handshake's overhead must not grow with it
 *   --disk-dir DIR, --tmpfs-dir DIR  where the real pod's data dir goes
 *                (default: /var/tmp and /dev/shm)
 *
 * One run prints one table:
 *  - the floor (posix_spawn of the mock pod with stderr on a pipe, read the
 *    pipe up to the ready line, connect once) against insomnia_spawn() of the
 *    same mock through the full handshake, interleaved, median and p90;
 *  - N insomnia_spawn() in a row of distinct names, all alive at the end;
 *  - N insomnia_spawn_start() kept 8 in flight in one event_base;
 *  - the system calls a client makes while it waits for a mock that takes
 *    500 ms to get ready, counted with strace -ff;
 *  - insomnia_spawn() of the real pod, data dir on tmpfs and on disk;
 *  - `podctl spawn` by exec against `podctl --version` (median, p95, max);
 *  - with --client-rss, part 1 again from a client that big.
 *
 * Everything happens in a private INSOMNIA_HOME under /tmp, removed at the
 * end.  This process is a child subreaper, so every detached pod comes back
 * to it as a child: it is stopped with SIGTERM and reaped after each
 * measurement, and killed if the benchmark has to give up or gets
 * SIGINT, SIGTERM or SIGHUP (benchlib.h). */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include <insomnia/spawn.h>
#include "ready.h"
#include "unixsock.h"

#include "benchlib.h"

#ifndef BENCH_BUILDTYPE
#define BENCH_BUILDTYPE "unknown"
#endif

#define CONCURRENCY      8
#define SLOW_READY_MS    500
#define SPAWN_TIMEOUT    10000
#define MARK_BEGIN       "bench-spawn: handshake begins"
#define MARK_END         "bench-spawn: handshake ends"
#define SYSCALL_CLIENT   "--syscall-client"
#define MAX_LIVE         4096
#define MAX_SYSCALL_IDS  96
#define TRACE_PREFIX_MAX (BENCH_HOME_MAX + 16)

extern char **environ;

struct bench {
	char mock[PATH_MAX];
	char pod[PATH_MAX];
	char podctl[PATH_MAX];
	char disk_dir[PATH_MAX];
	char tmpfs_dir[PATH_MAX];
	long client_rss_mb;
	char self[PATH_MAX];
	char home[BENCH_HOME_MAX];
	int iterations;
	int warmup;
	/* every pod we have started and not yet reaped, for the bail-out */
	pid_t live[MAX_LIVE];
	int live_count;
	int term_killed; /* SIGTERM before the mock's handler was set */
	int unclean_stops;
	bool start_in_callback;
};

/* ---- the private home and the pods in it ---------------------------- */

static void setup_home(struct bench *b)
{
	bench_setup_home(b->home, sizeof b->home, "/tmp/insomnia-bench-XXXXXX",
	                 b->mock);
	unsetenv("MOCK_POD_ARGS"); /* the mock reads it: none by default */
}

static void overlay_for(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "[pod]\nname = \"%s\"\n", name);
}

/* Every pod started and every pod stopped is a point at which a stop
 * signal (Ctrl-C) ends the run through bench_fail(). */
static void track(struct bench *b, pid_t pid)
{
	bench_check_signal();
	if (pid <= 0)
		bench_fail("a pod without a pid");
	if (b->live_count == MAX_LIVE)
		bench_fail("too many live pods");
	b->live[b->live_count++] = pid;
}

static void untrack(struct bench *b, pid_t pid)
{
	for (int i = 0; i < b->live_count; i++)
		if (b->live[i] == pid) {
			b->live[i] = b->live[--b->live_count];
			return;
		}
}

/* Reap one pod that has been sent SIGTERM; it is our child because we
 * are a subreaper and its launch monitor has exited. */
static void reap(struct bench *b, pid_t pid)
{
	int status;

	bench_check_signal();
	if (bench_waitpid(pid, &status) < 0)
		bench_fail("waitpid %ld: %s (not re-parented to us?)",
		           (long)pid, strerror(errno));
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
		b->term_killed++;
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		b->unclean_stops++;
	untrack(b, pid);
}

/* Other children: the launch monitors' log watchers, which end up with
 * us (a subreaper) and die once their monitor has; reaped while no
 * tracked pod can be a zombie (each one is alive or already reaped). */
static void reap_strays(const struct bench *b)
{
	siginfo_t si;

	for (;;) {
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0)
			return;
		for (int i = 0; i < b->live_count; i++)
			if (b->live[i] == si.si_pid)
				return; /* not ours to take here */
		waitpid(si.si_pid, NULL, 0);
	}
}

static void stop_pod(struct bench *b, pid_t pid)
{
	if (kill(pid, SIGTERM) < 0)
		bench_fail("kill %ld: %s", (long)pid, strerror(errno));
	reap(b, pid);
	reap_strays(b);
}

/* Stop many at once: they all shut down in parallel. */
static void stop_all(struct bench *b, const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (kill(pids[i], SIGTERM) < 0)
			bench_fail("kill %ld: %s", (long)pids[i],
			           strerror(errno));
	for (int i = 0; i < n; i++)
		reap(b, pids[i]);
	reap_strays(b);
}

/* ---- the floor ------------------------------------------------------ */

struct floor_pod {
	pid_t pid;
	int pipe_fd; /* kept open until the pod stops: no SIGPIPE */
};

/* The pod starts exactly as the library starts it (own session, stdin
 * and stdout on /dev/null, no other descriptor, clean signal state), but
 * straight from here and with stderr on a pipe that we read. */
static pid_t floor_exec(const struct bench *b, const char *overlay,
                        int stderr_fd)
{
	char *argv[] = {(char *)b->mock, "--overlay", (char *)overlay, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, stderr_fd, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID |
	                                    POSIX_SPAWN_SETSIGMASK |
	                                    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	rc = posix_spawn(&pid, b->mock, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc)
		bench_fail("posix_spawn %s: %s", b->mock, strerror(rc));
	return pid;
}

/* Read the pipe until a whole ready line; returns its length. */
static size_t read_ready_line(int fd, char *buf, size_t size, char **line)
{
	size_t used = 0;
	char *start = buf, *nl;
	ssize_t n;

	for (;;) {
		while (
		    (nl = memchr(start, '\n', used - (size_t)(start - buf)))) {
			if (ready_has_prefix(start, (size_t)(nl - start))) {
				*line = start;
				return (size_t)(nl - start);
			}
			start = nl + 1;
		}
		if (used == size - 1)
			bench_fail("floor: no ready line in %zu bytes", used);
		n = fd_read_some(fd, buf + used, size - 1 - used);
		if (n <= 0)
			bench_fail(
			    "floor: the mock closed stderr before ready");
		used += (size_t)n;
	}
}

static double floor_once(struct bench *b, const char *name,
                         struct floor_pod *pod)
{
	char overlay[128], buf[2 * READY_LINE_MAX], *line;
	struct ready_line rl;
	struct insomnia_error err;
	int fds[2], sock;
	int64_t t0;
	size_t len;

	overlay_for(overlay, sizeof overlay, name);
	t0 = bench_now_ns();
	if (pipe2(fds, O_CLOEXEC) < 0)
		bench_fail("pipe2: %s", strerror(errno));
	pod->pid = floor_exec(b, overlay, fds[1]);
	track(b, pod->pid);
	close(fds[1]);
	pod->pipe_fd = fds[0];
	len = read_ready_line(fds[0], buf, sizeof buf, &line);
	if (ready_parse(line, len, &rl, &err) < 0 ||
	    unixsock_connect(rl.socket, &sock, &err) < 0)
		bench_fail("floor: %s", err.message);
	close(sock);
	return bench_ms_since(t0);
}

static void floor_stop(struct bench *b, struct floor_pod *pod)
{
	stop_pod(b, pod->pid);
	close(pod->pipe_fd);
}

/* ---- the library, blocking ------------------------------------------ */

static struct insomnia_spawn_options options_for(const char *name,
                                                 char *overlay, size_t size)
{
	struct insomnia_spawn_options o = {0};

	overlay_for(overlay, size, name);
	o.name = name;
	o.overlay = overlay;
	o.timeout_ms = SPAWN_TIMEOUT;
	o.grace_ms = 300;
	return o;
}

static double library_once(struct bench *b, const char *name, pid_t *pid)
{
	char overlay[128];
	struct insomnia_spawn_options o =
	    options_for(name, overlay, sizeof overlay);
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	int64_t t0 = bench_now_ns();

	if (insomnia_spawn(&o, &res, &err) < 0)
		bench_fail("insomnia_spawn %s: %s\n%s", name, err.message,
		           err.detail);
	*pid = res.pid;
	track(b, res.pid);
	return bench_ms_since(t0);
}

/* ---- 1: floor against the handshake --------------------------------- */

struct pair_result {
	struct bench_stat floor, lib;
	int n;
};

/* One floor and one library spawn of the same name, in alternating
 * order, so drift and noise land on both alike. */
static void measure_pair(struct bench *b, int i, double *f, double *l)
{
	struct floor_pod fp;
	pid_t pid;

	if (i % 2 == 0) {
		*f = floor_once(b, "bench", &fp);
		floor_stop(b, &fp);
	}
	*l = library_once(b, "bench", &pid);
	stop_pod(b, pid);
	if (i % 2 != 0) {
		*f = floor_once(b, "bench", &fp);
		floor_stop(b, &fp);
	}
}

static struct pair_result bench_pair(struct bench *b)
{
	struct pair_result r;
	double *f = bench_samples(b->iterations);
	double *l = bench_samples(b->iterations);
	double skip_f, skip_l;

	for (int i = 0; i < b->warmup; i++)
		measure_pair(b, i, &skip_f, &skip_l);
	for (int i = 0; i < b->iterations; i++)
		measure_pair(b, i, &f[i], &l[i]);
	r.n = b->iterations;
	r.floor = bench_stat_of(f, r.n);
	r.lib = bench_stat_of(l, r.n);
	free(f);
	free(l);
	return r;
}

/* ---- 2: sequential spawns of distinct names ------------------------- */

struct batch_result {
	double wall_ms;
	struct bench_stat each; /* per-spawn latency of the successes */
	int alive, n, failed;
	char first_error[INSOMNIA_ERROR_MESSAGE_MAX + 32];
};

/* Every pod still answers on its socket? */
static int count_alive(const struct bench *b, const char *prefix, int n)
{
	char path[INSOMNIA_PATH_MAX];
	int alive = 0, fd;

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/run/%s-%d/sock", b->home,
		         prefix, i);
		if (unixsock_connect(path, &fd, NULL) == 0) {
			close(fd);
			alive++;
		}
	}
	return alive;
}

static struct batch_result bench_sequential(struct bench *b)
{
	struct batch_result r = {0};
	double *lat = bench_samples(b->iterations);
	pid_t *pids = calloc((size_t)b->iterations, sizeof *pids);
	char name[32];
	int64_t t0;

	if (!pids)
		bench_fail("out of memory");
	t0 = bench_now_ns();
	for (int i = 0; i < b->iterations; i++) {
		snprintf(name, sizeof name, "pod-%d", i);
		lat[i] = library_once(b, name, &pids[i]);
	}
	r.wall_ms = bench_ms_since(t0);
	r.n = b->iterations;
	r.alive = count_alive(b, "pod", r.n);
	stop_all(b, pids, r.n);
	r.each = bench_stat_of(lat, r.n);
	free(lat);
	free(pids);
	return r;
}

/* ---- 3: CONCURRENCY spawns at a time in one event loop -------------- */

/* One event_base and the libevent API, not threads: that is how a TUI
 * would start several pods, and it shows whether handshakes overlap in
 * one thread.  When a spawn ends, its slot takes the next name from a
 * zero-delay timer, i.e. after the library has freed the finished spawn;
 * with --start-in-callback it does so inside the ready callback, the
 * pattern that loses ready lines (docs/benchmarks.md). */

struct conc;

struct slot {
	struct conc *c;
	int index;
	int64_t t0;
};

struct conc {
	struct bench *b;
	struct event_base *base;
	struct slot slots[CONCURRENCY];
	int next, n, failed, timeout_ms;
	char first_error[INSOMNIA_ERROR_MESSAGE_MAX + 32];
	pid_t *pids; /* 0 for a failed spawn */
	double *lat;
};

static void conc_start(struct slot *s);

static void conc_start_cb(evutil_socket_t fd, short what, void *arg)
{
	conc_start(arg);
}

static void conc_next(struct slot *s)
{
	if (s->c->b->start_in_callback)
		conc_start(s);
	else
		bench_later(s->c->base, conc_start_cb, s);
}

static void conc_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct slot *s = arg;

	s->c->lat[s->index] = bench_ms_since(s->t0);
	s->c->pids[s->index] = res->pid;
	track(s->c->b, res->pid);
	conc_next(s);
}

/* Counted, not fatal: the library has already stopped that pod. */
static void conc_failed(const struct insomnia_error *err, void *arg)
{
	struct slot *s = arg;
	struct conc *c = s->c;

	if (!c->failed++)
		snprintf(c->first_error, sizeof c->first_error, "cpod-%d: %s",
		         s->index, err->message);
	conc_next(s);
}

/* Give the slot the next name, if any is left. */
static void conc_start(struct slot *s)
{
	struct conc *c = s->c;
	char name[32], overlay[128];
	struct insomnia_spawn_options o;
	struct insomnia_error err;

	if (c->next == c->n)
		return;
	s->index = c->next++;
	snprintf(name, sizeof name, "cpod-%d", s->index);
	o = options_for(name, overlay, sizeof overlay);
	o.timeout_ms = c->timeout_ms;
	o.arg = s;
	s->t0 = bench_now_ns();
	if (!insomnia_spawn_start(c->base, &o, conc_ready, conc_failed, &err))
		bench_fail("insomnia_spawn_start %s: %s", name, err.message);
}

/* The successful spawns' pids and latencies, packed to the front. */
static int conc_pack(struct conc *c)
{
	int ok = 0;

	for (int i = 0; i < c->n; i++)
		if (c->pids[i] > 0) {
			c->pids[ok] = c->pids[i];
			c->lat[ok++] = c->lat[i];
		}
	return ok;
}

static void conc_init(struct conc *c, struct bench *b)
{
	memset(c, 0, sizeof *c);
	c->b = b;
	c->n = b->iterations;
	/* a lost ready line costs the whole timeout: keep it short when
	 * the run is meant to show that */
	c->timeout_ms = b->start_in_callback ? 2000 : SPAWN_TIMEOUT;
	c->base = event_base_new();
	c->pids = calloc((size_t)c->n, sizeof *c->pids);
	c->lat = bench_samples(c->n);
	if (!c->base || !c->pids)
		bench_fail("cannot set up the event loop");
	for (int i = 0; i < CONCURRENCY; i++)
		c->slots[i].c = c;
}

static struct batch_result bench_concurrent(struct bench *b)
{
	struct conc c;
	struct batch_result r = {0};
	int64_t t0;
	int ok;

	conc_init(&c, b);
	t0 = bench_now_ns();
	for (int i = 0; i < CONCURRENCY; i++)
		conc_start(&c.slots[i]);
	event_base_dispatch(c.base);
	r.wall_ms = bench_ms_since(t0);
	r.n = c.n;
	r.failed = c.failed;
	snprintf(r.first_error, sizeof r.first_error, "%s", c.first_error);
	r.alive = count_alive(b, "cpod", r.n);
	ok = conc_pack(&c);
	stop_all(b, c.pids, ok);
	if (ok)
		r.each = bench_stat_of(c.lat, ok);
	event_base_free(c.base);
	free(c.pids);
	free(c.lat);
	return r;
}

/* ---- 4: system calls while waiting for a slow pod ------------------- */

/* Run in the process strace starts: one insomnia_spawn() between two marker
 * writes that the counter looks for, then report pid and time. */
static int syscall_client(const char *name)
{
	char overlay[128];
	struct insomnia_spawn_options o =
	    options_for(name, overlay, sizeof overlay);
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	int mark = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int64_t t0 = bench_now_ns();
	int rc;

	(void)!write(mark, MARK_BEGIN, sizeof MARK_BEGIN - 1);
	rc = insomnia_spawn(&o, &res, &err);
	(void)!write(mark, MARK_END, sizeof MARK_END - 1);
	if (rc < 0) {
		fprintf(stderr, "insomnia_spawn: %s\n%s", err.message,
		        err.detail);
		return 1;
	}
	printf("%ld %ld %.3f\n", (long)getpid(), (long)res.pid,
	       bench_ms_since(t0));
	return 0;
}

struct syscall_count {
	char name[32];
	int n;
};

struct process_count {
	struct syscall_count ids[MAX_SYSCALL_IDS];
	int distinct, total;
};

struct syscall_result {
	bool ran;
	char why[128];
	double handshake_ms;
	struct process_count client, monitor;
	int monitors;
};

static void count_syscall(struct process_count *pc, const char *line)
{
	size_t len = strcspn(line, "(");
	int i;

	if (len == 0 || len >= sizeof pc->ids[0].name || !line[len])
		return;
	for (i = 0; i < pc->distinct; i++)
		if (strncmp(pc->ids[i].name, line, len) == 0 &&
		    !pc->ids[i].name[len])
			break;
	if (i == pc->distinct) {
		if (i == MAX_SYSCALL_IDS)
			return;
		memcpy(pc->ids[i].name, line, len);
		pc->ids[i].name[len] = '\0';
		pc->distinct++;
	}
	pc->ids[i].n++;
	pc->total++;
}

/* Count one strace -ff file; with only_marked, only the lines between
 * the two marker writes.  Signals, exits and resumed halves are not
 * calls of their own. */
static void count_file(const char *path, bool only_marked,
                       struct process_count *pc)
{
	FILE *f = fopen(path, "re");
	char line[8192];
	bool on = !only_marked;

	if (!f)
		bench_fail("cannot read %s: %s", path, strerror(errno));
	while (fgets(line, sizeof line, f)) {
		if (only_marked && strstr(line, MARK_BEGIN)) {
			on = true;
			continue;
		}
		if (only_marked && strstr(line, MARK_END))
			break;
		if (!on || !strncmp(line, "+++", 3) ||
		    !strncmp(line, "---", 3) || !strncmp(line, "<...", 4))
			continue;
		count_syscall(pc, line);
	}
	fclose(f);
}

static int cmp_count(const void *a, const void *b)
{
	const struct syscall_count *x = a, *y = b;

	return y->n - x->n;
}

static bool find_strace(char *out, size_t size)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	bool found = false;

	copy = strdup(path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, size, "%s/strace", dir);
		found = access(out, X_OK) == 0;
	}
	free(copy);
	return found;
}

static pid_t start_traced_client(const struct bench *b, const char *strace,
                                 const char *prefix, int out_fd)
{
	char delay[64];
	char *argv[] = {(char *)strace,  "-ff",          "-o",   (char *)prefix,
	                (char *)b->self, SYSCALL_CLIENT, "slow", NULL};
	pid_t pid = fork();

	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	snprintf(delay, sizeof delay, "--ready-delay %d", SLOW_READY_MS);
	setenv("MOCK_POD_ARGS", delay, 1);
	dup2(out_fd, 1);
	execv(strace, argv);
	_exit(127);
}

/* The files other than the client's and the pod's: the launch monitor. */
static void count_monitors(const char *prefix, long client, long pod,
                           struct syscall_result *r)
{
	char pattern[TRACE_PREFIX_MAX + 8];
	glob_t g;

	snprintf(pattern, sizeof pattern, "%s.*", prefix);
	if (glob(pattern, 0, NULL, &g) != 0)
		bench_fail("no strace output under %s", prefix);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		long pid = atol(strrchr(g.gl_pathv[i], '.') + 1);
		if (pid == client || pid == pod)
			continue;
		count_file(g.gl_pathv[i], false, &r->monitor);
		r->monitors++;
	}
	globfree(&g);
}

static void collect_traced_run(struct bench *b, pid_t tracer, int out_fd,
                               const char *prefix, struct syscall_result *r)
{
	char line[128], path[TRACE_PREFIX_MAX + 32];
	long client, pod;
	ssize_t n = fd_read_some(out_fd, line, sizeof line - 1);
	int status;

	line[n > 0 ? n : 0] = '\0';
	if (sscanf(line, "%ld %ld %lf", &client, &pod, &r->handshake_ms) != 3) {
		/* e.g. ptrace not allowed here: the rest of the table stands */
		bench_kill_children_until_none();
		snprintf(r->why, sizeof r->why,
		         "skipped: the client under strace failed (see above)");
		return;
	}
	track(b, (pid_t)pod);
	stop_pod(b, (pid_t)pod); /* then strace, which follows it, exits */
	(void)bench_waitpid(tracer, &status);
	snprintf(path, sizeof path, "%s.%ld", prefix, client);
	count_file(path, true, &r->client);
	count_monitors(prefix, client, pod, r);
	qsort(r->client.ids, (size_t)r->client.distinct,
	      sizeof r->client.ids[0], cmp_count);
	qsort(r->monitor.ids, (size_t)r->monitor.distinct,
	      sizeof r->monitor.ids[0], cmp_count);
	r->ran = true;
}

static struct syscall_result bench_syscalls(struct bench *b)
{
	struct syscall_result r = {0};
	char strace[PATH_MAX], prefix[TRACE_PREFIX_MAX];
	int fds[2];
	pid_t tracer;

	if (!find_strace(strace, sizeof strace)) {
		snprintf(r.why, sizeof r.why,
		         "skipped: strace not found (apt-get install strace)");
		return r;
	}
	snprintf(prefix, sizeof prefix, "%s/trace", b->home);
	if (pipe2(fds, O_CLOEXEC) < 0)
		bench_fail("pipe2: %s", strerror(errno));
	tracer = start_traced_client(b, strace, prefix, fds[1]);
	close(fds[1]);
	collect_traced_run(b, tracer, fds[0], prefix, &r);
	close(fds[0]);
	return r;
}

/* ---- 5: the real pod, data dir on tmpfs and on disk ----------------- */

static const char *fs_name(const char *path, char *buf, size_t size)
{
	struct statfs st;

	if (statfs(path, &st) < 0)
		return "unknown";
	switch ((unsigned long)st.f_type) {
	case 0x01021994UL:
		return "tmpfs";
	case 0xEF53UL:
		return "ext4";
	case 0x58465342UL:
		return "xfs";
	case 0x9123683EUL:
		return "btrfs";
	case 0x794c7630UL:
		return "overlayfs";
	}
	snprintf(buf, size, "fs 0x%lx", (unsigned long)st.f_type);
	return buf;
}

struct real_result {
	struct bench_stat on_tmpfs, on_disk;
	char tmpfs_fs[32], disk_fs[32], run_fs[32];
	char tmpfs_dir[PATH_MAX], disk_dir[PATH_MAX], run_dir[PATH_MAX];
	int n;
};

static void make_dir_in(char *out, size_t size, const char *parent,
                        const char *what)
{
	snprintf(out, size, "%s/insomnia-bench-%s-XXXXXX", parent, what);
	if (!mkdtemp(out))
		bench_fail("mkdtemp %s: %s", out, strerror(errno));
}

/* One insomnia_spawn() of the real pod (a new session each time), stopped. */
static double real_once(struct bench *b, const char *data_dir)
{
	char overlay[128];
	struct insomnia_spawn_options o =
	    options_for("real", overlay, sizeof overlay);
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	int64_t t0;
	double ms;

	setenv("INSOMNIA_DATA_DIR", data_dir, 1);
	o.pod_command = b->pod;
	o.cwd = b->home; /* no project manifest on the way up */
	t0 = bench_now_ns();
	if (insomnia_spawn(&o, &res, &err) < 0)
		bench_fail("insomnia_spawn of %s: %s\n%s", b->pod, err.message,
		           err.detail);
	ms = bench_ms_since(t0);
	track(b, res.pid);
	stop_pod(b, res.pid);
	return ms;
}

static void real_dirs(struct bench *b, struct real_result *r)
{
	make_dir_in(r->tmpfs_dir, sizeof r->tmpfs_dir, b->tmpfs_dir, "data");
	make_dir_in(r->disk_dir, sizeof r->disk_dir, b->disk_dir, "data");
	make_dir_in(r->run_dir, sizeof r->run_dir, b->tmpfs_dir, "run");
	snprintf(r->tmpfs_fs, sizeof r->tmpfs_fs, "%s",
	         fs_name(r->tmpfs_dir, r->tmpfs_fs, sizeof r->tmpfs_fs));
	snprintf(r->disk_fs, sizeof r->disk_fs, "%s",
	         fs_name(r->disk_dir, r->disk_fs, sizeof r->disk_fs));
	snprintf(r->run_fs, sizeof r->run_fs, "%s",
	         fs_name(r->run_dir, r->run_fs, sizeof r->run_fs));
}

/* The runtime dir on tmpfs for both, as usual; only the data dir (the
 * session and its journal) moves. */
static struct real_result bench_real(struct bench *b)
{
	struct real_result r = {0};
	double *t = bench_samples(b->iterations);
	double *d = bench_samples(b->iterations);

	real_dirs(b, &r);
	setenv("INSOMNIA_RUNTIME_DIR", r.run_dir, 1);
	for (int i = 0; i < b->warmup; i++) {
		real_once(b, r.tmpfs_dir);
		real_once(b, r.disk_dir);
	}
	for (int i = 0; i < b->iterations; i++) {
		if (i % 2 == 0)
			t[i] = real_once(b, r.tmpfs_dir);
		d[i] = real_once(b, r.disk_dir);
		if (i % 2 != 0)
			t[i] = real_once(b, r.tmpfs_dir);
	}
	unsetenv("INSOMNIA_RUNTIME_DIR");
	unsetenv("INSOMNIA_DATA_DIR");
	bench_remove_home(r.tmpfs_dir);
	bench_remove_home(r.disk_dir);
	bench_remove_home(r.run_dir);
	r.n = b->iterations;
	r.on_tmpfs = bench_stat_of(t, r.n);
	r.on_disk = bench_stat_of(d, r.n);
	free(t);
	free(d);
	return r;
}

/* ---- 6: podctl spawn by exec ------------------------------------------ */

struct tail_stat {
	double median, p95, max;
};

static struct tail_stat tail_of(double *v, int n)
{
	struct bench_stat st = bench_stat_of(v, n); /* sorts v */

	return (struct tail_stat){st.median, v[(95 * n + 99) / 100 - 1],
	                          v[n - 1]};
}

/* Run argv (stdout and stderr on /dev/null) and wait; ms until reaped. */
static double exec_once(struct bench *b, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	int64_t t0 = bench_now_ns();
	int status, rc;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		bench_fail("posix_spawn %s: %s", argv[0], strerror(rc));
	if (bench_waitpid(pid, &status) < 0)
		bench_fail("waitpid %s: %s", argv[0], strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_fail("%s %s failed (status %#x)", argv[0], argv[1],
		           status);
	return bench_ms_since(t0);
}

static pid_t pid_in_dir(const struct bench *b, const char *name)
{
	char path[INSOMNIA_PATH_MAX], *text;
	long pid;

	snprintf(path, sizeof path, "%s/run/%s/pid", b->home, name);
	if (fd_read_file_at(AT_FDCWD, path, 64, &text, NULL) < 0)
		bench_fail("no pid file %s: %s", path, strerror(errno));
	pid = atol(text);
	free(text);
	return (pid_t)pid;
}

struct exec_result {
	struct tail_stat version, spawn;
	int n;
};

static void exec_round(struct bench *b, int i, double *v, double *sp)
{
	char *version[] = {b->podctl, "--version", NULL};
	char *spawn[] = {b->podctl, "spawn", "--name", "pc", "--quiet", NULL};
	pid_t pid;

	if (i % 2 == 0)
		*v = exec_once(b, version);
	*sp = exec_once(b, spawn);
	pid = pid_in_dir(b, "pc");
	track(b, pid);
	stop_pod(b, pid);
	if (i % 2 != 0)
		*v = exec_once(b, version);
}

static struct exec_result bench_exec(struct bench *b)
{
	struct exec_result r = {.n = b->iterations};
	double *v = bench_samples(r.n), *sp = bench_samples(r.n), skip1, skip2;

	for (int i = 0; i < b->warmup; i++)
		exec_round(b, i, &skip1, &skip2);
	for (int i = 0; i < r.n; i++)
		exec_round(b, i, &v[i], &sp[i]);
	r.version = tail_of(v, r.n);
	r.spawn = tail_of(sp, r.n);
	free(v);
	free(sp);
	return r;
}

/* ---- 7: the client's size --------------------------------------------- */

/* Touch mb MiB of private memory, in small pages (a long-lived heap is
 * rarely all huge pages), and keep it for the rest of the run. */
static void grow_client(long mb)
{
	size_t len = (size_t)mb << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bench_fail("cannot map %ld MiB: %s", mb, strerror(errno));
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += 4096)
		p[off] = 1;
}

static long rss_mb(void)
{
	char *text, *p;
	long kb = 0;

	if (fd_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &text,
	                    NULL) < 0)
		return -1;
	if ((p = strstr(text, "VmRSS:")))
		kb = atol(p + 6);
	free(text);
	return kb / 1024;
}

/* A second client, forked while we are small, that grows to mb MiB and
 * then measures one pair per request, so the small and the big client
 * alternate and the machine's load lands on both alike.  It is a
 * subreaper itself: the pods it starts come back to it, not to us. */
struct big_client {
	pid_t pid;
	int cmd, res; /* our ends: requests out, results in */
	long rss;
};

static void big_serve(struct bench *b, int cmd, int res)
{
	double fl[2];
	long rss;
	int i;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		_exit(1);
	b->live_count = 0; /* the parent's pods are not ours */
	grow_client(b->client_rss_mb);
	rss = rss_mb();
	if (fd_write_all(res, &rss, sizeof rss) < 0)
		_exit(1);
	while (fd_read_some(cmd, &i, sizeof i) == (ssize_t)sizeof i) {
		measure_pair(b, i, &fl[0], &fl[1]);
		if (fd_write_all(res, fl, sizeof fl) < 0)
			_exit(1);
	}
	_exit(0);
}

static void big_start(struct bench *b, struct big_client *c)
{
	int cmd[2], res[2];

	if (pipe2(cmd, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
		bench_fail("pipe2: %s", strerror(errno));
	c->pid = fork();
	if (c->pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (c->pid == 0) {
		close(cmd[1]);
		close(res[0]);
		big_serve(b, cmd[0], res[1]);
	}
	close(cmd[0]);
	close(res[1]);
	c->cmd = cmd[1];
	c->res = res[0];
	if (fd_read_some(c->res, &c->rss, sizeof c->rss) != sizeof c->rss)
		bench_fail("the %ld MiB client failed to start",
		           b->client_rss_mb);
}

static void big_pair(struct big_client *c, int i, double *f, double *l)
{
	double fl[2];

	if (fd_write_all(c->cmd, &i, sizeof i) < 0 ||
	    fd_read_some(c->res, fl, sizeof fl) != sizeof fl)
		bench_fail("the big client died");
	*f = fl[0];
	*l = fl[1];
}

static void big_stop(struct big_client *c)
{
	int status;

	close(c->cmd);
	close(c->res);
	if (bench_waitpid(c->pid, &status) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		bench_fail("the big client did not end cleanly");
}

struct rss_result {
	struct pair_result small, big;
	long small_rss, big_rss;
};

static struct rss_result bench_rss(struct bench *b)
{
	struct rss_result r;
	struct big_client c;
	int n = b->iterations;
	double *f[2] = {bench_samples(n), bench_samples(n)};
	double *l[2] = {bench_samples(n), bench_samples(n)};
	double skip_f, skip_l;

	big_start(b, &c);
	for (int i = 0; i < b->warmup; i++) {
		measure_pair(b, i, &skip_f, &skip_l);
		big_pair(&c, i, &skip_f, &skip_l);
	}
	for (int i = 0; i < n; i++) {
		if (i % 2 == 0)
			measure_pair(b, i, &f[0][i], &l[0][i]);
		big_pair(&c, i, &f[1][i], &l[1][i]);
		if (i % 2 != 0)
			measure_pair(b, i, &f[0][i], &l[0][i]);
	}
	big_stop(&c);
	r.small_rss = rss_mb();
	r.big_rss = c.rss;
	for (int k = 0; k < 2; k++) {
		struct pair_result *p = k ? &r.big : &r.small;
		p->n = n;
		p->floor = bench_stat_of(f[k], n);
		p->lib = bench_stat_of(l[k], n);
		free(f[k]);
		free(l[k]);
	}
	return r;
}

/* ---- the report ------------------------------------------------------- */

static void print_machine(const struct bench *b)
{
	struct bench_host h;

	bench_host(&h);
	printf("bench-spawn  %s\n", h.date);
	printf("machine      %ld CPUs (nproc), %s, Linux %s %s\n", h.cpus,
	       h.model, h.u.release, h.u.machine);
	printf("build        %s; mock pod %s\n", BENCH_BUILDTYPE, b->mock);
	printf("monitor      %s\n", getenv("INSOMNIA_LAUNCH_MONITOR")
	                                ? getenv("INSOMNIA_LAUNCH_MONITOR")
	                                : "(installed path)");
	printf("iterations   %d (after %d warm-up)\n\n", b->iterations,
	       b->warmup);
}

static void print_pair(const char *title, const struct pair_result *r)
{
	double dm = r->lib.median - r->floor.median;
	double dp = r->lib.p90 - r->floor.p90;

	printf("%s (%d each, interleaved)\n", title, r->n);
	printf("   %-44s %9s %9s\n", "", "median", "p90");
	printf("   %-44s %6.3f ms %6.3f ms\n",
	       "floor: posix_spawn, read pipe, connect", r->floor.median,
	       r->floor.p90);
	printf("   %-44s %6.3f ms %6.3f ms\n",
	       "library: insomnia_spawn(), full handshake", r->lib.median,
	       r->lib.p90);
	printf("   %-44s %+6.3f ms %+6.3f ms\n", "difference (library - floor)",
	       dm, dp);
	printf("   %-44s %7.2fx  %7.2fx\n", "ratio (library / floor)",
	       r->lib.median / r->floor.median, r->lib.p90 / r->floor.p90);
	printf("   target: median difference <= 1 ms: %s\n\n",
	       dm <= 1.0 ? "met" : "NOT met");
}

static void print_batch(const char *title, const struct batch_result *r)
{
	printf("%s\n", title);
	printf("   total %.1f ms, %.3f ms per spawn, %.0f spawns/s\n",
	       r->wall_ms, r->wall_ms / r->n, r->n * 1000.0 / r->wall_ms);
	printf("   each spawn: median %.3f ms, p90 %.3f ms; "
	       "%d/%d alive at the end, then stopped\n",
	       r->each.median, r->each.p90, r->alive, r->n);
	if (r->failed)
		printf("   FAILED: %d of %d spawns; first: %s\n", r->failed,
		       r->n, r->first_error);
	printf("\n");
}

static int count_of(const struct process_count *pc, const char *name)
{
	for (int i = 0; i < pc->distinct; i++)
		if (!strcmp(pc->ids[i].name, name))
			return pc->ids[i].n;
	return 0;
}

static void print_counts(const char *who, const struct process_count *pc)
{
	int col = 0;

	printf("   %-9s %3d syscalls:", who, pc->total);
	for (int i = 0; i < pc->distinct; i++) {
		if (col >= 52) {
			printf("\n   %-23s", "");
			col = 0;
		}
		col += printf(" %s %d%s", pc->ids[i].name, pc->ids[i].n,
		              i + 1 < pc->distinct ? "," : "");
	}
	printf("\n");
}

static void print_syscalls(const struct syscall_result *r)
{
	printf(
	    "4. system calls of one insomnia_spawn() of a pod ready after %d "
	    "ms (strace -ff)\n",
	    SLOW_READY_MS);
	if (!r->ran) {
		printf("   %s\n", r->why);
		return;
	}
	printf("   handshake %.1f ms under strace; the pod's own calls are "
	       "not counted\n",
	       r->handshake_ms);
	print_counts("client", &r->client);
	print_counts(r->monitors == 1 ? "monitor" : "monitors", &r->monitor);
	/* the only calls in which the client can sleep */
	printf("   the client sleeps in %d calls (epoll_wait %d, poll %d, "
	       "wait4 %d);\n   polling every 10 ms would wake it %d times\n",
	       count_of(&r->client, "epoll_wait") +
	           count_of(&r->client, "poll") + count_of(&r->client, "wait4"),
	       count_of(&r->client, "epoll_wait"), count_of(&r->client, "poll"),
	       count_of(&r->client, "wait4"), SLOW_READY_MS / 10);
}

static void print_real(const struct bench *b, const struct real_result *r)
{
	printf(
	    "\n5. insomnia_spawn() of the real pod %s (%d each, interleaved)\n",
	    b->pod, r->n);
	printf("   runtime dir on %s (%s)\n", r->run_fs, b->tmpfs_dir);
	printf("   %-44s %9s %9s\n", "data dir", "median", "p90");
	printf("   %-44s %6.3f ms %6.3f ms\n", r->tmpfs_fs, r->on_tmpfs.median,
	       r->on_tmpfs.p90);
	printf("   %-44s %6.3f ms %6.3f ms\n", r->disk_fs, r->on_disk.median,
	       r->on_disk.p90);
	printf("   (data dirs under %s and %s)\n", b->tmpfs_dir, b->disk_dir);
}

static void print_exec(const struct exec_result *r)
{
	printf("\n6. podctl by exec, mock pod (%d each, interleaved)\n", r->n);
	printf("   %-44s %9s %9s %9s\n", "", "median", "p95", "max");
	printf("   %-44s %6.3f ms %6.3f ms %6.3f ms\n", "podctl --version",
	       r->version.median, r->version.p95, r->version.max);
	printf("   %-44s %6.3f ms %6.3f ms %6.3f ms\n", "podctl spawn --quiet",
	       r->spawn.median, r->spawn.p95, r->spawn.max);
	printf("   %-44s %+6.3f ms %+6.3f ms %+6.3f ms\n", "difference",
	       r->spawn.median - r->version.median,
	       r->spawn.p95 - r->version.p95, r->spawn.max - r->version.max);
	printf("   tail: p95 - median of podctl spawn = %.3f ms\n",
	       r->spawn.p95 - r->spawn.median);
}

static void print_stops(const struct bench *b)
{
	if (b->term_killed)
		printf("\nnote: %d pods died of the SIGTERM itself: it came "
		       "before the mock\n      blocked it (the mock announces "
		       "first, then sets up its handler)\n",
		       b->term_killed);
	if (b->unclean_stops)
		printf("\nwarning: %d pods did not exit 0 on SIGTERM\n",
		       b->unclean_stops);
}

/* ---- main ----------------------------------------------------------- */

static void usage(void)
{
	fputs(
	    "usage: bench-spawn [--mock PATH] [--pod PATH] [--podctl PATH]\n"
	    "       [--quick] [-n N] [--start-in-callback] [--client-rss MB]\n"
	    "       [--disk-dir DIR] [--tmpfs-dir DIR]\n",
	    stderr);
	exit(64);
}

static void parse_args(struct bench *b, int argc, char **argv)
{
	b->iterations = 200;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			b->iterations = 20;
		else if (!strcmp(argv[i], "--start-in-callback"))
			b->start_in_callback = true;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			b->iterations = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--mock") && i + 1 < argc)
			snprintf(b->mock, sizeof b->mock, "%s", argv[++i]);
		else if (!strcmp(argv[i], "--pod") && i + 1 < argc)
			snprintf(b->pod, sizeof b->pod, "%s", argv[++i]);
		else if (!strcmp(argv[i], "--podctl") && i + 1 < argc)
			snprintf(b->podctl, sizeof b->podctl, "%s", argv[++i]);
		else if (!strcmp(argv[i], "--disk-dir") && i + 1 < argc)
			snprintf(b->disk_dir, sizeof b->disk_dir, "%s",
			         argv[++i]);
		else if (!strcmp(argv[i], "--tmpfs-dir") && i + 1 < argc)
			snprintf(b->tmpfs_dir, sizeof b->tmpfs_dir, "%s",
			         argv[++i]);
		else if (!strcmp(argv[i], "--client-rss") && i + 1 < argc)
			b->client_rss_mb = atol(argv[++i]);
		else
			usage();
	}
	if (b->iterations < 2 || b->iterations > MAX_LIVE / 2 ||
	    b->client_rss_mb < 0)
		usage();
	if (!b->disk_dir[0])
		strcpy(b->disk_dir, "/var/tmp");
	if (!b->tmpfs_dir[0])
		strcpy(b->tmpfs_dir, "/dev/shm");
	b->warmup = b->iterations >= 100 ? 10 : 2;
}

/* The mock defaults to ../mock-pod next to this binary:
 * build-dir/tools/mock-pod. */
static void find_self_and_mock(struct bench *b)
{
	int rc;

	bench_self_exe(b->self, sizeof b->self);
	rc = bench_resolve_exe(b->mock, sizeof b->mock, b->self, "../mock-pod");
	if (rc < 0)
		bench_fail("no executable mock pod at %s; give --mock PATH",
		           b->mock);
	if (bench_resolve_exe(b->pod, sizeof b->pod, b->self, "../../pod/pod") <
	    0)
		bench_fail("no executable pod at %s; give --pod PATH", b->pod);
	if (bench_resolve_exe(b->podctl, sizeof b->podctl, b->self,
	                      "../../client/podctl") < 0)
		bench_fail("no executable podctl at %s; give --podctl PATH",
		           b->podctl);
	bench_use_build_monitor(b->self);
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct pair_result pair;
	struct batch_result seq, conc;
	struct syscall_result sys;
	struct real_result real;
	struct exec_result ex;
	struct rss_result rss;
	char title[96];

	if (argc == 3 && !strcmp(argv[1], SYSCALL_CLIENT))
		return syscall_client(argv[2]);
	bench_on_failure("bench-spawn", b.home, b.live, &b.live_count);
	parse_args(&b, argc, argv);
	find_self_and_mock(&b);
	bench_catch_signals();
	setup_home(&b);

	/* each part is printed as soon as it is measured */
	setvbuf(stdout, NULL, _IOLBF, 0);
	print_machine(&b);
	pair = bench_pair(&b);
	snprintf(title, sizeof title,
	         "1. one spawn, floor vs library, client RSS %ld MiB",
	         rss_mb());
	print_pair(title, &pair);
	seq = bench_sequential(&b);
	print_batch("2. sequential insomnia_spawn() of distinct names", &seq);
	conc = bench_concurrent(&b);
	snprintf(title, sizeof title,
	         "3. insomnia_spawn_start(), %d in flight in one event_base%s",
	         CONCURRENCY,
	         b.start_in_callback ? ", next started in the callback" : "");
	print_batch(title, &conc);
	sys = bench_syscalls(&b);
	print_syscalls(&sys);
	real = bench_real(&b);
	print_real(&b, &real);
	ex = bench_exec(&b);
	print_exec(&ex);
	if (b.client_rss_mb > 0) {
		rss = bench_rss(&b);
		snprintf(title, sizeof title,
		         "\n7a. part 1 again, client RSS %ld MiB, alternating "
		         "with 7b",
		         rss.small_rss);
		print_pair(title, &rss.small);
		snprintf(title, sizeof title,
		         "7b. part 1 again, client RSS %ld MiB", rss.big_rss);
		print_pair(title, &rss.big);
		printf("   overhead at %ld MiB minus overhead at %ld MiB: "
		       "%+.3f ms (median)\n",
		       rss.big_rss, rss.small_rss,
		       (rss.big.lib.median - rss.big.floor.median) -
		           (rss.small.lib.median - rss.small.floor.median));
	}
	print_stops(&b);
	bench_remove_home(b.home);
	return 0;
}
