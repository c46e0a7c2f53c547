/* benchlib.c: the scaffolding the benchmarks share (see benchlib.h). */
#include "benchlib.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The only global state.  bench_fail() is called from libevent and
 * library callbacks, which carry no pointer of ours, so what it cleans
 * up has to be reachable from here; a signal handler can only set a
 * flag, which the main flow checks. */
static struct {
	const char *prog;
	const char *home;
	const pid_t *pods;
	const int *npods;
} failure = {"bench", NULL, NULL, NULL};

static volatile sig_atomic_t stop_signal;

/* ---- time and statistics ------------------------------------------ */

int64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double bench_ms_since(int64_t t0)
{
	return (double)(bench_now_ns() - t0) / 1e6;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct bench_stat bench_stat_of(double *v, int n)
{
	struct bench_stat s;
	int rank = (90 * n + 99) / 100;

	qsort(v, (size_t)n, sizeof *v, by_value);
	s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.p90 = v[rank - 1];
	return s;
}

double *bench_samples(int n)
{
	double *v = calloc((size_t)n, sizeof *v);

	if (!v)
		bench_fail("out of memory");
	return v;
}

/* ---- giving up ---------------------------------------------------- */

void bench_on_failure(const char *prog, const char *home, const pid_t *pods,
                      const int *npods)
{
	failure.prog = prog;
	failure.home = home;
	failure.pods = pods;
	failure.npods = npods;
}

/* The 4th field of /proc/PID/stat, after the last ')' since the command
 * may hold spaces and parentheses. */
static bool is_our_child(const char *pid_dir)
{
	char path[64], buf[512], *close_paren;
	long ppid = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%.20s/stat", pid_dir);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	close_paren = strrchr(buf, ')');
	return close_paren && sscanf(close_paren + 1, " %*c %ld", &ppid) == 1 &&
	       ppid == (long)getpid();
}

/* Our children right now: pods re-parented to us, launch monitors
 * waiting for their release, a podctl, strace. */
static void kill_our_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		    is_our_child(e->d_name))
			kill((pid_t)atol(e->d_name), SIGKILL);
	if (d)
		closedir(d);
}

/* Each kill can hand us a grandchild (a monitor's pod): repeat. */
void bench_kill_children_until_none(void)
{
	for (;;) {
		kill_our_children();
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			return;
	}
}

void bench_fail(const char *fmt, ...)
{
	int npods = failure.npods ? *failure.npods : 0;
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", failure.prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	/* a pod's own group first: it may have children of its own */
	for (int i = 0; i < npods; i++)
		if (failure.pods[i] > 0)
			kill(-failure.pods[i], SIGKILL);
	bench_kill_children_until_none();
	if (failure.home && failure.home[0])
		bench_remove_home(failure.home);
	exit(1);
}

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void on_sigpipe(int sig)
{
}

/* No SA_RESTART: a blocked waitpid() returns EINTR and we give up. */
void bench_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	/* a handler, not SIG_IGN, which exec would pass on to the pods */
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, NULL);
}

void bench_check_signal(void)
{
	if (stop_signal)
		bench_fail("stopped by signal %d; every pod killed",
		           (int)stop_signal);
}

int bench_waitpid(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		bench_check_signal();
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* ---- the private home and the binaries ---------------------------- */

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
	remove(path);
	return 0;
}

void bench_remove_home(const char *home)
{
	nftw(home, remove_one, 32, FTW_DEPTH | FTW_PHYS);
}

void bench_setup_home(char *home, size_t size, const char *template,
                      const char *pod_command)
{
	snprintf(home, size, "%s", template);
	if (!mkdtemp(home)) {
		home[0] = '\0'; /* nothing for bench_fail() to remove */
		bench_fail("mkdtemp: %s", strerror(errno));
	}
	setenv("INSOMNIA_HOME", home, 1);
	unsetenv("INSOMNIA_RUNTIME_DIR");
	unsetenv("INSOMNIA_DATA_DIR");
	unsetenv("XDG_RUNTIME_DIR");
	setenv("INSOMNIA_POD_COMMAND", pod_command, 1);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		bench_fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
}

void bench_self_exe(char *self, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", self, size - 1);

	if (n < 0)
		bench_fail("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
}

int bench_resolve_exe(char *out, size_t size, const char *self, const char *rel)
{
	const char *slash = strrchr(self, '/');
	char *abs;
	int n;

	if (!out[0]) {
		if (!slash)
			return -1;
		n = snprintf(out, size, "%.*s/%s", (int)(slash - self), self,
		             rel);
		if (n < 0 || (size_t)n >= size)
			return -1;
	}
	abs = realpath(out, NULL);
	if (!abs || access(abs, X_OK) < 0) {
		free(abs);
		return -1;
	}
	snprintf(out, size, "%s", abs);
	free(abs);
	return 0;
}

void bench_use_build_monitor(const char *self)
{
	char path[PATH_MAX] = "";
	const char *set = getenv("INSOMNIA_LAUNCH_MONITOR");

	if (set && set[0])
		return;
	if (bench_resolve_exe(path, sizeof path, self,
	                      "../../client/pod-launch-monitor") == 0)
		setenv("INSOMNIA_LAUNCH_MONITOR", path, 1);
}

/* ---- the event loop ----------------------------------------------- */

void bench_later(struct event_base *base, event_callback_fn cb, void *arg)
{
	static const struct timeval now = {0, 0};

	if (event_base_once(base, -1, EV_TIMEOUT, cb, arg, &now) < 0)
		bench_fail("event_base_once failed");
}

/* ---- the report --------------------------------------------------- */

static void cpu_model(char *buf, size_t size)
{
	char line[512], *colon;
	FILE *f = fopen("/proc/cpuinfo", "re");

	snprintf(buf, size, "unknown CPU");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "model name", 10) &&
		    (colon = strchr(line, ':'))) {
			snprintf(buf, size, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
}

void bench_host(struct bench_host *h)
{
	time_t t = time(NULL);

	strftime(h->date, sizeof h->date, "%Y-%m-%d %H:%M %Z", localtime(&t));
	cpu_model(h->model, sizeof h->model);
	h->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uname(&h->u);
}
