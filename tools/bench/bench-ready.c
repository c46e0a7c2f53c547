/* bench-ready: from a process's readiness to the pod's ready line
 * (docs/benchmarks.md, "Readiness").
 *
 * The real pod binary runs one process, this very binary in its
 * --notifier role, with `ready = { notify = true }` or `ready = { fd = 3
 * }`.  The notifier reads the clock, says READY=1 on $NOTIFY_SOCKET (or
 * writes a newline on fd 3), and reports the time it read through a FIFO.
 * The benchmark reads the pod's stderr from a pipe and reads the clock
 * when the ready line arrives.  The difference is what the pod adds
 * between the two: its wake-up, the datagram's sender check, the state
 * change, the journal record and the ready line.
 *
 * The floor, in the same run, alternating with the pod: a minimal
 * supervisor (this binary as --relay, exec'd once) that, for each round,
 * posix_spawns the same notifier with its own NOTIFY_SOCKET (or a pipe
 * at fd 3), blocks in read until the datagram (newline) comes, and
 * writes a line into a pipe the benchmark reads.  It has the pod's
 * structure (spawn, then wait) without its work, so the scheduler's part
 * (waking a process that has just started a child, on a virtual machine
 * whose idle vCPUs halt) is on both sides.
 *
 * Both clocks are CLOCK_MONOTONIC, one for the whole machine. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchlib.h"
#include "ready.h"

enum mode { MODE_NOTIFY, MODE_FD };

static const char *const mode_names[] = {"notify", "fd"};

static char home[BENCH_HOME_MAX];
static pid_t pods[1];
static int npods = 1;
static char self[4096], pod_exe[4096];

/* ---- the notifier (bench-ready --notifier MODE REPORT) ----------------- */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR) {
			bench_check_signal();
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	size_t len = strlen(path);

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (len == 0 || len >= sizeof sa->sun_path)
		return -1;
	memcpy(sa->sun_path, path, len);
	if (path[0] == '@') /* an abstract socket, as sd_notify(3) allows */
		sa->sun_path[0] = '\0';
	return (int)(offsetof(struct sockaddr_un, sun_path) + len);
}

/* Say ready, now, as the mode says; the time read just before. */
static int64_t say_ready(enum mode m, const char *notify_path)
{
	struct sockaddr_un sa;
	int64_t t;
	int fd, len;

	if (m == MODE_FD) {
		t = bench_now_ns();
		return write_all(3, "\n", 1) < 0 ? -1 : t;
	}
	len = unix_addr(notify_path ? notify_path : "", &sa);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (len < 0 || fd < 0)
		return -1;
	t = bench_now_ns();
	if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&sa,
	           (socklen_t)len) != 7)
		t = -1;
	close(fd);
	return t;
}

static int notifier(const char *mode, const char *report)
{
	enum mode m = strcmp(mode, "fd") ? MODE_NOTIFY : MODE_FD;
	int fd = open(report, O_WRONLY | O_CLOEXEC);
	int64_t t = say_ready(m, getenv("NOTIFY_SOCKET"));

	if (fd < 0 || t < 0 || write_all(fd, &t, sizeof t) < 0) {
		perror("bench-ready --notifier");
		return 1;
	}
	close(fd);
	for (;;) /* until the pod stops it */
		pause();
}

/* ---- the pod ------------------------------------------------------------ */

/* Start the pod by hand (own session, stderr on a pipe), as a script
 * would: no spawn handshake to measure. */
static pid_t start_pod(const char *overlay, int *err_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		bench_fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (setsid() < 0 || null < 0 || dup2(null, 0) < 0 ||
		    dup2(null, 1) < 0 || dup2(p[1], 2) < 0 || chdir(home) < 0)
			_exit(126);
		execl(pod_exe, "pod", "--overlay", overlay, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*err_fd = p[0];
	return pid;
}

/* Read the pod's stderr until the whole ready line; the time it came. */
static int64_t wait_ready_line(int fd)
{
	static char buf[16384];
	size_t len = 0;
	char *at;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		int64_t t = bench_now_ns();
		if (n < 0 && errno == EINTR) {
			bench_check_signal();
			continue;
		}
		if (n <= 0)
			bench_fail("the pod ended before its ready line:\n%.*s",
			           (int)len, buf);
		len += (size_t)n;
		buf[len] = '\0';
		at = strstr(buf, READY_PREFIX);
		if (at && strchr(at, '\n'))
			return t;
		if (len == sizeof buf - 1)
			bench_fail(
			    "the pod wrote too much before its ready line");
	}
}

static void stop_pod(pid_t pid)
{
	int status;

	if (kill(pid, SIGTERM) < 0)
		bench_fail("kill %d: %s", (int)pid, strerror(errno));
	if (bench_waitpid(pid, &status) < 0)
		bench_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_fail("the pod stopped with status %#x", status);
	pods[0] = 0;
}

/* One pod: start it, wait for its ready line; ms from the notifier's
 * clock read to the ready line's arrival. */
static double pod_run(enum mode m, const char *report, int report_fd)
{
	char overlay[8192];
	int64_t t_ready, t_said;
	int err_fd;

	snprintf(overlay, sizeof overlay,
	         "[pod]\nname = \"ready\"\n"
	         "[process.p]\n"
	         "command = [\"%s\", \"--notifier\", \"%s\", \"%s\"]\n"
	         "ready = { %s, timeout = \"20s\" }\n",
	         self, mode_names[m], report,
	         m == MODE_FD ? "fd = 3" : "notify = true");
	pods[0] = start_pod(overlay, &err_fd);
	t_ready = wait_ready_line(err_fd);
	close(err_fd);
	if (read_all(report_fd, &t_said, sizeof t_said) < 0)
		bench_fail("no report from the notifier");
	stop_pod(pods[0]);
	return (double)(t_ready - t_said) / 1e6;
}

/* ---- the floor: a minimal supervisor --------------------------------- */

extern char **environ;

/* path with args, fd 3 as given (-1: none), env envp (NULL: ours); every
 * other descriptor of ours is close-on-exec. */
static pid_t spawn_self(char *const *args, int in, int out, int fd3,
                        char *const *envp)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	if (in >= 0)
		posix_spawn_file_actions_adddup2(&fa, in, 0);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(&fa, out, 1);
	if (fd3 >= 0)
		posix_spawn_file_actions_adddup2(&fa, fd3, 3);
	rc = posix_spawn(&pid, self, &fa, NULL, args, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		bench_fail("posix_spawn %s: %s", self, strerror(rc));
	return pid;
}

/* Kill and reap the last round's notifier (once its report is surely
 * written: the next round, or the end). */
static void relay_end_notifier(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGKILL);
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = 0;
}

/* One round of the relay: end the last notifier, start one, wait for
 * its datagram (or newline), say so on stdout. */
static int relay_round(enum mode m, int sock, const char *path,
                       const char *report, pid_t *pid)
{
	char *args[] = {self, "--notifier", (char *)mode_names[m],
	                (char *)report, NULL};
	char env[300], *envp[] = {env, NULL}, buf[256];
	int p[2] = {-1, -1}, in = sock;
	ssize_t n;

	relay_end_notifier(pid);
	snprintf(env, sizeof env, "NOTIFY_SOCKET=%s", path);
	if (m == MODE_FD && pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (m == MODE_FD)
		in = p[0];
	*pid = spawn_self(args, -1, -1, p[1], envp);
	if (p[1] >= 0)
		close(p[1]);
	while ((n = read(in, buf, sizeof buf)) < 0 && errno == EINTR)
		;
	if (n <= 0 || write_all(1, "ready\n", 6) < 0)
		return -1;
	if (p[0] >= 0)
		close(p[0]);
	return 0;
}

/* bench-ready --relay MODE SOCKET REPORT: for each byte on stdin, one
 * round.  What a supervisor must do at least, and nothing else. */
static int relay(const char *mode, const char *path, const char *report)
{
	enum mode m = strcmp(mode, "fd") ? MODE_NOTIFY : MODE_FD;
	struct sockaddr_un sa;
	int len = unix_addr(path, &sa), sock = -1;
	pid_t pid = 0;
	char go;

	if (m == MODE_NOTIFY) {
		sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (len < 0 || sock < 0 ||
		    bind(sock, (struct sockaddr *)&sa, (socklen_t)len) < 0)
			return 1;
	}
	while (read_all(0, &go, 1) == 0)
		if (relay_round(m, sock, path, report, &pid) < 0)
			return 1;
	relay_end_notifier(&pid);
	return 0;
}

struct relay {
	pid_t pid;
	int go_fd;  /* a byte here starts a round */
	int out_fd; /* where the relay's lines come */
	char path[256];
};

static void relay_start(struct relay *r, enum mode m, const char *report)
{
	char *args[] = {self,    "--relay",      (char *)mode_names[m],
	                r->path, (char *)report, NULL};
	int in[2], out[2];

	snprintf(r->path, sizeof r->path, "%s/relay.sock", home);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		bench_fail("pipe: %s", strerror(errno));
	r->pid = spawn_self(args, in[0], out[1], -1, NULL);
	close(in[0]);
	close(out[1]);
	r->go_fd = in[1];
	r->out_fd = out[0];
}

static void relay_stop(struct relay *r)
{
	close(r->go_fd); /* EOF: it exits */
	if (bench_waitpid(r->pid, NULL) < 0)
		bench_fail("waitpid: %s", strerror(errno));
	close(r->out_fd);
	unlink(r->path);
}

/* One round of the relay; ms from the notifier's clock read to the
 * relay's line arriving here. */
static double floor_run(struct relay *r, int report_fd)
{
	int64_t t_said, t_line;
	char line[6];

	if (write_all(r->go_fd, "g", 1) < 0)
		bench_fail("the relay ended");
	if (read_all(r->out_fd, line, sizeof line) < 0)
		bench_fail("the relay failed");
	t_line = bench_now_ns();
	if (read_all(report_fd, &t_said, sizeof t_said) < 0)
		bench_fail("no report from the notifier");
	return (double)(t_line - t_said) / 1e6;
}

/* ---- the report --------------------------------------------------------- */

static double p95_of_sorted(const double *v, int n)
{
	int rank = (95 * n + 99) / 100;

	return v[rank - 1];
}

static void print_row(const char *what, double *v, int n)
{
	struct bench_stat s = bench_stat_of(v, n); /* sorts v */

	printf("  %-40s median %8.3f ms   p95 %8.3f ms   max %8.3f ms\n", what,
	       s.median, p95_of_sorted(v, n), v[n - 1]);
}

static void measure(enum mode m, int n, const char *report, int report_fd)
{
	double *pod = bench_samples(n), *fl = bench_samples(n);
	struct relay r = {0};

	relay_start(&r, m, report);
	pod_run(m, report, report_fd); /* warm-up: page cache, first exec */
	floor_run(&r, report_fd);
	for (int i = 0; i < n; i++) {
		bench_check_signal();
		pod[i] = pod_run(m, report, report_fd);
		fl[i] = floor_run(&r, report_fd);
	}
	relay_stop(&r);
	printf("%s, %d runs:\n",
	       m == MODE_FD ? "newline on fd 3 to the ready line"
	                    : "READY=1 to the ready line",
	       n);
	print_row(m == MODE_FD ? "floor (pipe, process, pipe)"
	                       : "floor (datagram, process, pipe)",
	          fl, n);
	print_row(m == MODE_FD ? "pod (newline to ready line)"
	                       : "pod (READY=1 to ready line)",
	          pod, n);
	free(pod);
	free(fl);
}

static const char *fs_name(const char *path)
{
	static char buf[32];
	struct statfs st;

	if (statfs(path, &st) < 0)
		return "?";
	switch ((unsigned long)st.f_type) {
	case 0x01021994UL:
		return "tmpfs";
	case 0xEF53UL:
		return "ext2/3/4";
	case 0x9123683EUL:
		return "btrfs";
	case 0x58465342UL:
		return "xfs";
	case 0x794C7630UL:
		return "overlayfs";
	}
	snprintf(buf, sizeof buf, "0x%lx", (unsigned long)st.f_type);
	return buf;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-ready [-n RUNS] [--quick] "
	                "[--home-dir DIR] [--pod PATH]\n");
	exit(64);
}

int main(int argc, char **argv)
{
	const char *dir = "/dev/shm";
	char template[BENCH_HOME_MAX], report[256];
	struct bench_host h;
	int n = 100, report_fd;

	bench_self_exe(self, sizeof self);
	if (argc == 4 && !strcmp(argv[1], "--notifier"))
		return notifier(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "--relay"))
		return relay(argv[2], argv[3], argv[4]);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			n = 10;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--home-dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--pod") && i + 1 < argc)
			snprintf(pod_exe, sizeof pod_exe, "%s", argv[++i]);
		else
			usage();
	}
	if (n < 1)
		usage();
	bench_on_failure("bench-ready", home, pods, &npods);
	bench_catch_signals();
	if (bench_resolve_exe(pod_exe, sizeof pod_exe, self, "../../pod/pod"))
		bench_fail("no pod binary (give --pod PATH)");
	if (snprintf(template, sizeof template,
	             "%s/insomnia-bench-ready-XXXXXX",
	             dir) >= (int)sizeof template)
		bench_fail("%s: too long for a home", dir);
	bench_setup_home(home, sizeof home, template, pod_exe);
	snprintf(report, sizeof report, "%s/report", home);
	if (mkfifo(report, 0600) < 0)
		bench_fail("mkfifo: %s", strerror(errno));
	/* read-write: the notifier's open never blocks, nor waits for us */
	report_fd = open(report, O_RDWR | O_CLOEXEC);
	if (report_fd < 0)
		bench_fail("%s: %s", report, strerror(errno));
	bench_host(&h);
	printf("bench-ready %s, %s, %ld CPUs, Linux %s\n", h.date, h.model,
	       h.cpus, h.u.release);
	printf("pod %s, home %s (%s)\n", pod_exe, home, fs_name(home));
	measure(MODE_NOTIFY, n, report, report_fd);
	measure(MODE_FD, n, report, report_fd);
	close(report_fd);
	bench_remove_home(home);
	return 0;
}
