/* bench-logs: the process log pipeline (pod/proclog.c) against `cat`.
 *
 * Usage: bench-logs [--mib N] [--reps R] [--dir DIR]... [--rotate]
 *   --mib N    MiB of 100-byte lines per run (default 1024)
 *   --reps R   runs of each pipeline per directory (default 5)
 *   --dir DIR  where the files go; may be given several times (default
 *              /dev/shm, a tmpfs, then /var/tmp, a disk)
 *   --rotate   also measure proclog with the default rotation (10 MB,
 *              keep 3)
 *
 * A forked writer puts N MiB of 100-byte lines into a pipe as fast as it
 * can.  Two readers take it to a file in DIR, one after the other in
 * each repetition: `cat` (its stdin the pipe, its stdout the file), and a
 * proclog on a libevent loop in this process, which stamps, tags and
 * appends each line (about 30% more bytes written than cat).  Each run's
 * wall time is from the writer's fork to the end (cat's exit, or the
 * log's end-of-file hook) and both children reaped; the throughput is
 * the writer's bytes over that time.  Printed: median and p95 (the slow
 * end) of each, the ratio of the medians, and the median CPU time of the
 * reader alone (cat's from wait4, the proclog's from this process's
 * rusage): steadier than the wall time on a busy machine.  The files are
 * removed after each run (they are in a private dir under DIR).  This process's
 * maximum RSS is printed at the end: run it under /usr/bin/time -v to see the
 * children's too. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "proclog.h"

#include "benchlib.h"

#ifndef BENCH_BUILDTYPE
#define BENCH_BUILDTYPE "unknown"
#endif

#define LINE_LEN   100
#define CHUNK_LINE 655 /* lines per write: 65500 bytes, a pipe's worth */
#define MAX_DIRS   8

/* The private dir of the runs under the current DIR, removed by
 * bench_fail() too (as benchlib's "home"). */
static char work[4096];

extern char **environ;

enum reader { READER_CAT, READER_PROCLOG, READER_PROCLOG_ROTATE };

static const char *const reader_names[] = {
    [READER_CAT] = "cat",
    [READER_PROCLOG] = "proclog",
    [READER_PROCLOG_ROTATE] = "proclog, 10 MB x 3",
};

struct opts {
	long mib;
	int reps;
	const char *dirs[MAX_DIRS];
	int ndirs;
	bool rotate;
};

/* ---- the writer ---------------------------------------------------- */

static void write_lines(int fd, uint64_t bytes)
{
	static char chunk[CHUNK_LINE * LINE_LEN];
	size_t n;

	for (size_t i = 0; i < CHUNK_LINE; i++) {
		char *line = chunk + i * LINE_LEN;

		memset(line, 'a' + (int)(i % 26), LINE_LEN - 1);
		memcpy(line, "line ", 5);
		line[LINE_LEN - 1] = '\n';
	}
	while (bytes > 0) {
		n = bytes < sizeof chunk ? (size_t)bytes : sizeof chunk;
		if (fd_write_all(fd, chunk, n) < 0)
			_exit(1);
		bytes -= n;
	}
	_exit(0);
}

/* A child writing bytes into a new pipe; *rd is its read end. */
static pid_t start_writer(uint64_t bytes, int *rd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		bench_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		write_lines(p[1], bytes);
	}
	close(p[1]);
	*rd = p[0];
	return pid;
}

static double cpu_secs(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
	       (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

/* Reap pid; returns the CPU time it used. */
static double reap(pid_t pid, const char *what)
{
	struct rusage ru;
	int st;

	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR)
			bench_fail("waitpid %s: %s", what, strerror(errno));
		bench_check_signal();
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		bench_fail("%s failed (status %d)", what, st);
	return cpu_secs(&ru);
}

/* ---- the readers --------------------------------------------------- */

/* Each returns the CPU time the reader used. */
static double run_cat(int dirfd, int rd)
{
	char *argv[] = {"cat", NULL};
	posix_spawn_file_actions_t fa;
	int out;
	pid_t pid;

	out = openat(dirfd, "cat.out", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	             0600);
	if (out < 0)
		bench_fail("cat.out: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, rd, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	if (posix_spawnp(&pid, "cat", &fa, NULL, argv, environ) != 0)
		bench_fail("cannot run cat");
	posix_spawn_file_actions_destroy(&fa);
	close(out);
	close(rd);
	return reap(pid, "cat");
}

static void on_log_eof(void *arg)
{
	event_base_loopbreak(arg);
}

static double run_proclog(int dirfd, int rd, bool rotate)
{
	struct logs_conf conf = {.max_size = rotate ? 10000000 : INT64_MAX,
	                         .keep = 3};
	struct event_base *base = event_base_new();
	struct proclog_hooks hooks = {.eof = on_log_eof, .arg = base};
	struct insomnia_error err;
	struct rusage before, after;
	struct proclog *l;

	getrusage(RUSAGE_SELF, &before);
	if (!base)
		bench_fail("event_base_new");
	l = proclog_new(base, dirfd, "bench", &conf, &hooks, &err);
	if (!l || proclog_attach(l, rd, -1, &err) < 0)
		bench_fail("proclog: %s", err.message);
	if (event_base_dispatch(base) < 0)
		bench_fail("event_base_dispatch");
	proclog_free(l);
	event_base_free(base);
	getrusage(RUSAGE_SELF, &after);
	return cpu_secs(&after) - cpu_secs(&before);
}

static void remove_files(int dirfd)
{
	static const char *const names[] = {"cat.out", "bench.log",
	                                    "bench.log.1", "bench.log.2",
	                                    "bench.log.3"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		(void)unlinkat(dirfd, names[i], 0);
}

/* One run of reader over bytes: wall seconds, the reader's CPU seconds
 * into *cpu. */
static double run_once(enum reader r, int dirfd, uint64_t bytes, double *cpu)
{
	int64_t t0 = bench_now_ns();
	int rd;
	pid_t writer = start_writer(bytes, &rd);

	if (r == READER_CAT)
		*cpu = run_cat(dirfd, rd);
	else
		*cpu = run_proclog(dirfd, rd, r == READER_PROCLOG_ROTATE);
	(void)reap(writer, "the writer");
	bench_check_signal();
	return bench_ms_since(t0) / 1000;
}

/* ---- the report ---------------------------------------------------- */

struct result {
	double median_mbs, p95_mbs, cpu_s;
};

/* From seconds: the median, and the 95th percentile of the time (the
 * slow end), as MB/s (10^6 bytes). */
static struct result result_of(double *secs, double *cpu, int n, uint64_t bytes)
{
	struct bench_stat s = bench_stat_of(secs, n);
	int rank = (95 * n + 99) / 100;

	return (struct result){.median_mbs = (double)bytes / 1e6 / s.median,
	                       .p95_mbs = (double)bytes / 1e6 / secs[rank - 1],
	                       .cpu_s = bench_stat_of(cpu, n).median};
}

static void bench_dir(const struct opts *o, const char *dir)
{
	uint64_t bytes = (uint64_t)o->mib * 1024 * 1024 / LINE_LEN * LINE_LEN;
	int nreaders = o->rotate ? 3 : 2;
	double *secs[3], *cpu[3];
	struct result res[3];
	int dirfd;

	snprintf(work, sizeof work, "%s/insomnia-bench-logs-XXXXXX", dir);
	if (!mkdtemp(work))
		bench_fail("%s: %s", work, strerror(errno));
	dirfd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		bench_fail("%s: %s", work, strerror(errno));
	for (int r = 0; r < nreaders; r++) {
		secs[r] = bench_samples(o->reps);
		cpu[r] = bench_samples(o->reps);
	}
	for (int i = 0; i < o->reps; i++) {
		for (int r = 0; r < nreaders; r++) {
			secs[r][i] =
			    run_once((enum reader)r, dirfd, bytes, &cpu[r][i]);
			remove_files(dirfd);
		}
	}
	printf("\n%s: %.0f MiB of %d-byte lines, %d runs each\n", dir,
	       (double)bytes / 1048576, LINE_LEN, o->reps);
	printf("  %-20s %12s %12s %8s %10s\n", "reader", "median MB/s",
	       "p95 MB/s", "vs cat", "CPU s");
	for (int r = 0; r < nreaders; r++) {
		res[r] = result_of(secs[r], cpu[r], o->reps, bytes);
		printf("  %-20s %12.0f %12.0f %7.0f%% %10.2f\n",
		       reader_names[r], res[r].median_mbs, res[r].p95_mbs,
		       100 * res[r].median_mbs / res[0].median_mbs,
		       res[r].cpu_s);
		free(secs[r]);
		free(cpu[r]);
	}
	close(dirfd);
	bench_remove_home(work);
	work[0] = '\0';
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-logs [--mib N] [--reps R] [--dir "
	                "DIR]... [--rotate]\n");
	exit(64);
}

static void parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.mib = 1024, .reps = 5};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rotate") == 0)
			o->rotate = true;
		else if (i + 1 >= argc)
			usage();
		else if (strcmp(argv[i], "--mib") == 0)
			o->mib = atol(argv[++i]);
		else if (strcmp(argv[i], "--reps") == 0)
			o->reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0 && o->ndirs < MAX_DIRS)
			o->dirs[o->ndirs++] = argv[++i];
		else
			usage();
	}
	if (o->mib < 1 || o->reps < 1)
		usage();
	if (o->ndirs == 0) {
		o->dirs[o->ndirs++] = "/dev/shm";
		o->dirs[o->ndirs++] = "/var/tmp";
	}
}

int main(int argc, char **argv)
{
	struct bench_host h;
	struct rusage ru;
	struct opts o;

	parse(argc, argv, &o);
	bench_on_failure("bench-logs", work, NULL, NULL);
	bench_catch_signals();
	bench_host(&h);
	printf("bench-logs (%s build), %s, %s, %ld CPUs, %s %s\n",
	       BENCH_BUILDTYPE, h.date, h.model, h.cpus, h.u.sysname,
	       h.u.release);
	for (int i = 0; i < o.ndirs; i++)
		bench_dir(&o, o.dirs[i]);
	getrusage(RUSAGE_SELF, &ru);
	printf("\nmax RSS of this process (the proclog side): %ld KiB\n",
	       ru.ru_maxrss);
	return 0;
}
