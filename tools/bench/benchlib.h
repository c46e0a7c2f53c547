/* benchlib: what the benchmarks under tools/bench share.
 *
 * Time and statistics, the private INSOMNIA_HOME, finding sibling
 * binaries, and giving up cleanly: a benchmark is a child subreaper, so
 * every pod it starts comes back to it as a child, and bench_fail() (or a
 * stop signal noticed by bench_check_signal()) kills and reaps all of
 * them and removes the home before it exits. */
#ifndef BENCHLIB_H
#define BENCHLIB_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/utsname.h>

/* /tmp/insomnia-bench-<name>-XXXXXX fits, with room to spare */
#define BENCH_HOME_MAX 64

/* ---- time and statistics ------------------------------------------ */

int64_t bench_now_ns(void);
double bench_ms_since(int64_t t0);

struct bench_stat {
	double median, p90;
};

/* Median (mean of the middle two for an even count) and nearest-rank
 * 90th percentile of n >= 1 samples; sorts v. */
struct bench_stat bench_stat_of(double *v, int n);

/* n zeroed samples, or bench_fail() */
double *bench_samples(int n);

/* ---- giving up ---------------------------------------------------- */

/* What bench_fail() cleans up, given once at the start of main: the
 * message prefix, the home buffer (skipped while empty) and the pods
 * whose process groups get SIGKILL (pods[0..*npods-1], entries <= 0
 * skipped).  The pointers are read only when bench_fail() runs. */
void bench_on_failure(const char *prog, const char *home, const pid_t *pods,
                      const int *npods);

/* Print "prog: message", kill and reap everything we started, remove
 * the home, exit(1). */
void bench_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* SIGKILL our children until waitpid() says there is none left. */
void bench_kill_children_until_none(void);

/* SIGINT, SIGTERM, SIGHUP and SIGALRM set a flag that
 * bench_check_signal() turns into bench_fail(); SIGPIPE is caught and
 * dropped, so `| head` cannot kill us before the clean-up. */
void bench_catch_signals(void);
void bench_check_signal(void);

/* waitpid() for one child, retrying after EINTR unless a stop signal
 * came in; -1 with errno for any other error. */
int bench_waitpid(pid_t pid, int *status);

/* ---- the private home and the binaries ---------------------------- */

/* mkdtemp(template) into home, point INSOMNIA_HOME at it with no other
 * directory override, run pods as pod_command, and become a child
 * subreaper; bench_fail() on error. */
void bench_setup_home(char *home, size_t size, const char *template,
                      const char *pod_command);
void bench_remove_home(const char *home);

/* This binary's path (/proc/self/exe); bench_fail() on error. */
void bench_self_exe(char *self, size_t size);

/* Make out an absolute path to an executable: when empty, `rel` from
 * the directory of `self` first.  -1 when there is no executable. */
int bench_resolve_exe(char *out, size_t size, const char *self,
                      const char *rel);

/* Unless INSOMNIA_LAUNCH_MONITOR is set, point it at the launch monitor
 * of the build tree this binary belongs to (../../client/ from it), so
 * an uninstalled build measures its own monitor. */
void bench_use_build_monitor(const char *self);

/* ---- the event loop ----------------------------------------------- */

/* cb(-1, EV_TIMEOUT, arg) from the loop once the running callback has
 * returned, i.e. after the library is done with it; bench_fail() if
 * libevent cannot. */
void bench_later(struct event_base *base, event_callback_fn cb, void *arg);

/* ---- the report --------------------------------------------------- */

/* What the first lines of a report say about where it ran. */
struct bench_host {
	char date[64];   /* "YYYY-MM-DD HH:MM TZ", now */
	char model[256]; /* the CPU model, or "unknown CPU" */
	long cpus;       /* online, as nproc counts them */
	struct utsname u;
};

void bench_host(struct bench_host *h);

#endif
