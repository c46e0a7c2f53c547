/* bench-podctl: what `podctl ls` and `podctl status` cost with many live
 * pods (issue 5: ls linear in the number of pods, under 20 ms at 1000).
 *
 * Usage: bench-podctl [--quick] [-n RUNS] [--pod PATH] [--podctl PATH]
 *   --quick       20 runs and at most 100 pods, for smoke runs
 *   -n RUNS       runs for every exec and insomnia_pods_each figure (>= 2)
 *   --pod PATH    the pod binary (default: ../../pod/pod from this binary)
 *   --podctl PATH podctl (default: ../../client/podctl from this binary)
 *
 * Real pods (they write state.json and answer on their socket), started
 * with insomnia_spawn_start() 8 in flight, named pod-0000, pod-0001, ...  The
 * count grows 1, 100, 1000 and at each count the same figures are taken,
 * interleaved so that drift lands on all of them alike:
 *  - `podctl --version`, `podctl ls`, `podctl ls --json` and
 *    `podctl status pod-0000`, each a fork+exec with stdout on /dev/null,
 *    wall time to the reaped exit;
 *  - insomnia_pods_each() in this process, i.e. ls without process start-up;
 *  - on one connection to pod-0000: hello + status, against one ping.
 *
 * Everything lives in a private INSOMNIA_HOME under /tmp.  This process
 * is a child subreaper, so every pod comes back to it as a child: at the
 * end each one gets SIGTERM and is reaped, and the home is removed.  On
 * any failure or signal everything we started is killed and reaped
 * first. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <insomnia/pods.h>
#include <insomnia/spawn.h>
#include "proto.h"
#include "unixsock.h"

#include "benchlib.h"

#ifndef BENCH_BUILDTYPE
#define BENCH_BUILDTYPE "unknown"
#endif

#define MAX_PODS         1000
#define QUICK_MAX_PODS   100
#define CONCURRENCY      8
#define SPAWN_TIMEOUT_MS 20000
#define RUNS_DEFAULT     50
#define RUNS_QUICK       20
#define WARMUP           3
#define CALLS_DEFAULT    200 /* in-process status round trips */
#define CALLS_QUICK      50
#define STOP_DEADLINE_S  30
#define TARGET_LS_MS     20.0
#define NAME_FMT         "pod-%04d"

enum figure {
	FIG_VERSION, /* podctl --version: the process floor */
	FIG_LS,      /* podctl ls */
	FIG_LS_JSON, /* podctl ls --json */
	FIG_EACH,    /* insomnia_pods_each() in process */
	FIG_STATUS,  /* podctl status pod-0000 */
	FIG_CALL,    /* connect + hello + status */
	FIG_PING,    /* connect + ping */
	FIG_COUNT,
};

static const char *const figure_label[FIG_COUNT] = {
    "podctl --version (process floor)",
    "podctl ls",
    "podctl ls --json",
    "insomnia_pods_each() in process",
    "podctl status pod-0000",
    "in process: connect+hello+status",
    "in process: connect+ping (floor)",
};

struct level {
	int pods;
	struct bench_stat fig[FIG_COUNT];
	double spawn_ms; /* growing to this count */
};

struct bench {
	char self[PATH_MAX], pod[PATH_MAX], podctl[PATH_MAX];
	char home[BENCH_HOME_MAX];
	char sock0[INSOMNIA_PATH_MAX]; /* pod-0000's socket */
	int devnull;
	int runs, calls;
	int counts[3], ncounts;
	struct level levels[3];
	pid_t pids[MAX_PODS]; /* pids[i] is pod-<i>'s, 0 once reaped */
	int npods;
	long mem_before_kb, mem_after_kb, pod_rss_kb;
	int unclean; /* pods that did not exit 0 on SIGTERM */
};

/* ---- the private home -------------------------------------------------- */

static void setup_home(struct bench *b)
{
	bench_setup_home(b->home, sizeof b->home,
	                 "/tmp/insomnia-bench-podctl-XXXXXX", b->pod);
	snprintf(b->sock0, sizeof b->sock0, "%s/run/" NAME_FMT "/sock", b->home,
	         0);
}

/* ---- memory and limits ---------------------------------------------- */

/* A "Key:  123 kB" line of a /proc file, in kB; -1 when absent. */
static long proc_kb(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long kb = -1;
	FILE *f = fopen(path, "re");

	while (f && kb < 0 && fgets(line, sizeof line, f))
		if (!strncmp(line, key, klen) && line[klen] == ':')
			kb = atol(line + klen + 1);
	if (f)
		fclose(f);
	return kb;
}

static long mem_available_kb(void)
{
	return proc_kb("/proc/meminfo", "MemAvailable");
}

/* The pods are processes of ours: the process limit (which counts all
 * of this user's processes) must leave room for them, their launch
 * monitors and a podctl.  Descriptors are not an
 * issue: we hold none per pod (podlist opens one dir at a time). */
static void check_limits(const struct bench *b, int pods)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)pods + 64)
		bench_fail(
		    "RLIMIT_NPROC is %llu; %d pods need more (ulimit -u)",
		    (unsigned long long)rl.rlim_cur, pods);
}

/* Before growing to `target` pods: each new one may cost twice what
 * the live ones cost on average (MemAvailable since the start), or 4 MB
 * while too few are live to tell. */
static void check_memory(const struct bench *b, int target)
{
	long avail = mem_available_kb(), each = 4096, need;

	if (avail < 0 || b->mem_before_kb < 0)
		return;
	if (b->npods >= 50)
		each = 2 * (b->mem_before_kb - avail) / b->npods;
	if (each < 256)
		each = 256;
	need = (long)(target - b->npods) * each;
	if (need > avail)
		bench_fail("%d more pods may need %ld MB, %ld MB available",
		           target - b->npods, need / 1024, avail / 1024);
}

static void note_pod_rss(struct bench *b)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/%ld/status", (long)b->pids[0]);
	b->pod_rss_kb = proc_kb(path, "VmRSS");
}

/* ---- growing the pods -------------------------------------------------- */

struct grow;

struct grow_slot {
	struct grow *g;
	int index;
};

struct grow {
	struct bench *b;
	struct event_base *base;
	struct grow_slot slots[CONCURRENCY];
	int next, target, done;
};

static void grow_next(struct grow_slot *s);

static void grow_next_cb(evutil_socket_t fd, short what, void *arg)
{
	grow_next(arg);
}

/* The next name starts from the loop, after the library is done with
 * the spawn that just ended. */
static void grow_later(struct grow_slot *s)
{
	bench_check_signal();
	bench_later(s->g->base, grow_next_cb, s);
}

static void grow_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct grow_slot *s = arg;

	if (res->pid <= 0)
		bench_fail("pod-%04d: ready without a pid", s->index);
	s->g->b->pids[s->index] = res->pid;
	s->g->done++;
	grow_later(s);
}

static void grow_failed(const struct insomnia_error *err, void *arg)
{
	struct grow_slot *s = arg;

	bench_fail(NAME_FMT ": %s\n%s", s->index, err->message, err->detail);
}

static void grow_next(struct grow_slot *s)
{
	struct grow *g = s->g;
	char name[INSOMNIA_NAME_MAX + 1], overlay[128];
	struct insomnia_spawn_options o = {0};
	struct insomnia_error err;

	if (g->next == g->target)
		return;
	s->index = g->next++;
	snprintf(name, sizeof name, NAME_FMT, s->index);
	snprintf(overlay, sizeof overlay, "[pod]\nname = \"%s\"\n", name);
	o.name = name;
	o.overlay = overlay;
	o.cwd = g->b->home; /* no project manifest found upwards */
	o.timeout_ms = SPAWN_TIMEOUT_MS;
	o.arg = s;
	g->b->npods = g->next; /* bench_fail() kills up to here */
	if (!insomnia_spawn_start(g->base, &o, grow_ready, grow_failed, &err))
		bench_fail("insomnia_spawn_start %s: %s", name, err.message);
}

/* Spawn pod-<npods> .. pod-<target-1>; returns the wall time. */
static double grow_to(struct bench *b, int target)
{
	struct grow g = {.b = b, .next = b->npods, .target = target};
	int first = b->npods;
	int64_t t0 = bench_now_ns();

	check_memory(b, target);
	g.base = event_base_new();
	if (!g.base)
		bench_fail("event_base_new failed");
	for (int i = 0; i < CONCURRENCY; i++) {
		g.slots[i].g = &g;
		grow_next(&g.slots[i]);
	}
	event_base_dispatch(g.base);
	event_base_free(g.base);
	bench_check_signal();
	if (b->npods != target || g.done != target - first)
		bench_fail("grew to %d of %d pods", g.done + first, target);
	return bench_ms_since(t0);
}

/* ---- stopping them ------------------------------------------------------ */

/* All at once, so they shut down in parallel; a pod still there after
 * STOP_DEADLINE_S makes the alarm end the run through bench_fail(). */
static void stop_all(struct bench *b)
{
	int status;

	for (int i = 0; i < b->npods; i++)
		if (kill(b->pids[i], SIGTERM) < 0)
			bench_fail("kill pod-%04d: %s", i, strerror(errno));
	alarm(STOP_DEADLINE_S);
	for (int i = 0; i < b->npods; i++) {
		if (bench_waitpid(b->pids[i], &status) < 0)
			bench_fail("waitpid pod-%04d: %s", i, strerror(errno));
		b->pids[i] = 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			b->unclean++;
	}
	/* the launch monitors' log watchers come back to us as well (we
	 * are a subreaper); each dies with its monitor, so this ends */
	while (bench_waitpid(-1, &status) == 0)
		;
	alarm(0);
	if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
		bench_fail("a child is still there after every pod was reaped");
	b->npods = 0;
}

/* ---- the figures ------------------------------------------------------ */

static double exec_podctl(struct bench *b, char *const argv[])
{
	int64_t t0 = bench_now_ns();
	pid_t pid = fork();
	int status;
	double ms;

	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(b->devnull, 1);
		execv(b->podctl, argv);
		_exit(127);
	}
	if (bench_waitpid(pid, &status) < 0)
		bench_fail("waitpid podctl: %s", strerror(errno));
	ms = bench_ms_since(t0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_fail("podctl %s %s failed (status 0x%x)", argv[1],
		           argv[2] ? argv[2] : "", status);
	return ms;
}

static int count_alive(const struct insomnia_pod_info *info, void *arg)
{
	*(int *)arg += info->alive && !strcmp(info->state, "running");
	return 0;
}

static double list_in_process(const struct bench *b)
{
	struct insomnia_error err;
	int64_t t0 = bench_now_ns();
	int alive = 0;
	double ms;

	if (insomnia_pods_each(count_alive, &alive, &err) < 0)
		bench_fail("insomnia_pods_each: %s", err.message);
	ms = bench_ms_since(t0);
	if (alive != b->npods)
		bench_fail("insomnia_pods_each saw %d running pods of %d",
		           alive, b->npods);
	return ms;
}

static void call_or_bail(int fd, int64_t id, const char *method)
{
	json_t *result = NULL;
	struct insomnia_error err;

	if (proto_call(fd, id, method, NULL, &result, &err) < 0)
		bench_fail("%s: %s", method, err.message);
	json_decref(result);
}

/* One connection, as `podctl status` makes it; with hello_status false,
 * one ping instead of hello + status. */
static double call_pod(const struct bench *b, bool hello_status)
{
	struct insomnia_error err;
	int64_t t0 = bench_now_ns();
	int fd;

	if (unixsock_connect(b->sock0, &fd, &err) < 0)
		bench_fail("connect %s: %s", b->sock0, err.message);
	if (hello_status) {
		call_or_bail(fd, 1, "hello");
		call_or_bail(fd, 2, "status");
	} else {
		call_or_bail(fd, 1, "ping");
	}
	close(fd);
	return bench_ms_since(t0);
}

static double take(struct bench *b, enum figure f)
{
	static char *version[] = {"podctl", "--version", NULL};
	static char *ls[] = {"podctl", "ls", NULL};
	static char *ls_json[] = {"podctl", "ls", "--json", NULL};
	static char *status[] = {"podctl", "status", "pod-0000", NULL};

	switch (f) {
	case FIG_VERSION:
		return exec_podctl(b, version);
	case FIG_LS:
		return exec_podctl(b, ls);
	case FIG_LS_JSON:
		return exec_podctl(b, ls_json);
	case FIG_EACH:
		return list_in_process(b);
	case FIG_STATUS:
		return exec_podctl(b, status);
	case FIG_CALL:
		return call_pod(b, true);
	case FIG_PING:
		return call_pod(b, false);
	default:
		bench_fail("no figure %d", (int)f);
	}
}

/* Rounds of `first`..`last` figures, each round starting one figure
 * later, so no figure always runs right after the same other one. */
static void measure(struct bench *b, struct level *lv, enum figure first,
                    enum figure last, int rounds)
{
	int kinds = (int)last - (int)first + 1;
	double *v = bench_samples(kinds * rounds);

	for (int r = -WARMUP; r < rounds; r++)
		for (int k = 0; k < kinds; k++) {
			int f = (k + (r < 0 ? 0 : r)) % kinds;
			double ms = take(b, (enum figure)((int)first + f));

			if (r >= 0)
				v[f * rounds + r] = ms;
		}
	for (int f = 0; f < kinds; f++)
		lv->fig[(int)first + f] = bench_stat_of(v + f * rounds, rounds);
	free(v);
}

static void measure_level(struct bench *b, struct level *lv)
{
	lv->pods = b->npods;
	measure(b, lv, FIG_VERSION, FIG_STATUS, b->runs);
	measure(b, lv, FIG_CALL, FIG_PING, b->calls);
}

/* ---- the report -------------------------------------------------------- */

static void print_header(const struct bench *b)
{
	struct bench_host h;

	bench_host(&h);
	printf("bench-podctl  %s\n", h.date);
	printf("machine       %ld CPUs, %s, Linux %s\n", h.cpus, h.model,
	       h.u.release);
	printf("build         %s; pod %s\n", BENCH_BUILDTYPE, b->pod);
	printf("runs          %d per exec / insomnia_pods_each figure, %d per "
	       "in-process call (after %d warm-up)\n\n",
	       b->runs, b->calls, WARMUP);
}

static void print_row(const struct bench *b, enum figure f)
{
	printf("  %-34s", figure_label[f]);
	for (int i = 0; i < b->ncounts; i++)
		printf(" %7.3f %7.3f", b->levels[i].fig[f].median,
		       b->levels[i].fig[f].p90);
	printf("\n");
}

/* What one more pod adds to a figure's median, from the 1-pod level. */
static double per_pod_us(const struct bench *b, enum figure f, int i)
{
	const struct level *one = &b->levels[0], *lv = &b->levels[i];

	return (lv->fig[f].median - one->fig[f].median) * 1000.0 /
	       (lv->pods - one->pods);
}

static void print_per_pod(const struct bench *b, enum figure f)
{
	printf("  %-34s", figure_label[f]);
	printf(" %15s", "-");
	for (int i = 1; i < b->ncounts; i++)
		printf(" %12.1f us", per_pod_us(b, f, i));
	printf("\n");
}

static void print_ratio(const struct bench *b, enum figure f, int hi, int lo)
{
	const struct bench_stat *h = &b->levels[hi].fig[f],
	                        *l = &b->levels[lo].fig[f];
	const struct bench_stat *one = &b->levels[0].fig[f];

	printf("  %-34s %14.2fx %14.2fx\n", figure_label[f],
	       h->median / l->median,
	       (h->median - one->median) / (l->median - one->median));
}

/* Linear growth makes the cost above 1 pod grow by (1000-1)/(100-1). */
static void print_linearity(const struct bench *b)
{
	const struct level *mid = &b->levels[1], *top = &b->levels[2];
	char head[64];

	snprintf(head, sizeof head, "ratio %d / %d pods", top->pods, mid->pods);
	printf("\n  %-34s %15s %15s\n", head, "of medians", "above 1 pod");
	print_ratio(b, FIG_LS, 2, 1);
	print_ratio(b, FIG_LS_JSON, 2, 1);
	print_ratio(b, FIG_EACH, 2, 1);
	printf("  %-34s %15s %14.2fx\n", "(exactly linear)", "",
	       (double)(top->pods - 1) / (mid->pods - 1));
}

static void print_table(const struct bench *b)
{
	int last = b->ncounts - 1;
	double ls = b->levels[last].fig[FIG_LS].median;

	printf("  %-34s", "live pods");
	for (int i = 0; i < b->ncounts; i++)
		printf(" %15d", b->levels[i].pods);
	printf("\n  %-34s", "(ms)");
	for (int i = 0; i < b->ncounts; i++)
		printf(" %7s %7s", "median", "p90");
	printf("\n");
	for (int f = 0; f < FIG_COUNT; f++)
		print_row(b, (enum figure)f);
	if (b->ncounts < 2)
		return;
	printf("\n  %-34s\n", "per pod: (median(N) - median(1)) / (N - 1)");
	print_per_pod(b, FIG_LS);
	print_per_pod(b, FIG_LS_JSON);
	print_per_pod(b, FIG_EACH);
	if (b->ncounts == 3)
		print_linearity(b);
	if (b->levels[last].pods < MAX_PODS)
		printf("\n  target: podctl ls under %.0f ms with %d pods: not "
		       "measured (--quick)\n",
		       TARGET_LS_MS, MAX_PODS);
	else
		printf("\n  target: podctl ls under %.0f ms with %d pods: %s "
		       "(median %.2f ms)\n",
		       TARGET_LS_MS, MAX_PODS,
		       ls < TARGET_LS_MS ? "met" : "NOT met", ls);
}

static void print_setup(const struct bench *b)
{
	int last = b->ncounts - 1;
	int pods = b->levels[last].pods;

	printf("\n  spawn (8 in flight):");
	for (int i = 0; i < b->ncounts; i++)
		printf(" to %d in %.0f ms;", b->levels[i].pods,
		       b->levels[i].spawn_ms);
	printf("\n  memory: MemAvailable fell by %ld MB for %d pods (%ld kB "
	       "each);\n  one pod's RSS %ld kB, mostly shared libraries\n",
	       (b->mem_before_kb - b->mem_after_kb) / 1024, pods,
	       (b->mem_before_kb - b->mem_after_kb) / pods, b->pod_rss_kb);
}

static void print_cleanup(const struct bench *b, bool home_gone)
{
	printf("  clean-up: every pod stopped with SIGTERM and reaped (%d not "
	       "exiting 0),\n  no child left, %s %s\n",
	       b->unclean, b->home, home_gone ? "removed" : "NOT removed");
}

/* ---- main ------------------------------------------------------------ */

static void usage(void)
{
	fputs("usage: bench-podctl [--quick] [-n RUNS] [--pod PATH] "
	      "[--podctl PATH]\n",
	      stderr);
	exit(64);
}

static void parse_args(struct bench *b, int argc, char **argv)
{
	bool quick = false;

	b->runs = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = true;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			b->runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--pod") && i + 1 < argc)
			snprintf(b->pod, sizeof b->pod, "%s", argv[++i]);
		else if (!strcmp(argv[i], "--podctl") && i + 1 < argc)
			snprintf(b->podctl, sizeof b->podctl, "%s", argv[++i]);
		else
			usage();
	}
	if (!b->runs)
		b->runs = quick ? RUNS_QUICK : RUNS_DEFAULT;
	if (b->runs < 2 || b->runs > 100000)
		usage();
	b->calls = quick ? CALLS_QUICK : CALLS_DEFAULT;
	b->counts[0] = 1;
	b->counts[1] = 100;
	b->counts[2] = MAX_PODS;
	b->ncounts = quick ? 2 : 3;
}

/* `rel` from this binary's directory, unless given; made absolute. */
static void resolve(const struct bench *b, char *out, size_t size,
                    const char *rel, const char *what)
{
	if (bench_resolve_exe(out, size, b->self, rel) < 0)
		bench_fail("no executable %s at %s; give --%s PATH", what, out,
		           what);
}

static void find_binaries(struct bench *b)
{
	bench_self_exe(b->self, sizeof b->self);
	resolve(b, b->pod, sizeof b->pod, "../../pod/pod", "pod");
	resolve(b, b->podctl, sizeof b->podctl, "../../client/podctl",
	        "podctl");
	bench_use_build_monitor(b->self);
}

int main(int argc, char **argv)
{
	static struct bench b;
	bool home_gone;

	bench_on_failure("bench-podctl", b.home, b.pids, &b.npods);
	parse_args(&b, argc, argv);
	find_binaries(&b);
	b.devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (b.devnull < 0)
		bench_fail("/dev/null: %s", strerror(errno));
	bench_catch_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
	check_limits(&b, b.counts[b.ncounts - 1]);
	setup_home(&b);
	print_header(&b);
	b.mem_before_kb = mem_available_kb();
	for (int i = 0; i < b.ncounts; i++) {
		fprintf(stderr, "bench-podctl: starting pods up to %d\n",
		        b.counts[i]);
		b.levels[i].spawn_ms = grow_to(&b, b.counts[i]);
		if (i == 0)
			note_pod_rss(&b);
		fprintf(stderr, "bench-podctl: %d pods live, measuring\n",
		        b.npods);
		measure_level(&b, &b.levels[i]);
	}
	b.mem_after_kb = mem_available_kb();
	print_table(&b);
	print_setup(&b);
	stop_all(&b);
	bench_remove_home(b.home);
	home_gone = access(b.home, F_OK) < 0 && errno == ENOENT;
	print_cleanup(&b, home_gone);
	return home_gone && !b.unclean ? 0 : 1;
}
