/* childstart: what a started child has (exactly its descriptors, default
 * signals, its own group or session, its death signal, its cwd) and how
 * a failure before exec is told (the step and errno, never an exit
 * status).  The child's state is read from /proc by this process while
 * the child is blocked on a pipe we hold, or printed by the child itself
 * (cat /proc/self/status); every wait is on a pipe or a waitpid.  Each
 * test ends with no child and as many descriptors as it began with. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "childstart.h"
#include "tmpdir.h"

#define MAX_FDS 64

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n - 3; /* ".", ".." and the listing's own */
}

static int fds_before;

static void setup(void)
{
	fds_before = count_fds();
}

/* Nothing left: no child of ours, no descriptor. */
static void teardown(void)
{
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left");
	cr_assert_eq(errno, ECHILD);
	cr_assert_eq(count_fds(), fds_before, "descriptors left");
}

TestSuite(childstart, .init = setup, .fini = teardown, .timeout = 30);

static void make_pipe(int p[2])
{
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
}

static pid_t start(struct childstart_spec *spec)
{
	struct insomnia_error err;
	enum childstart_step step;
	pid_t pid = -1;

	cr_assert_eq(childstart(spec, &pid, NULL, &step, &err), 0, "%s",
	             err.message);
	cr_assert_eq(step, CHILDSTART_STEP_NONE);
	cr_assert_gt(pid, 0);
	return pid;
}

static int reap(pid_t pid)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return status;
}

/* Everything until end of file, NUL-terminated; closes fd. */
static void read_all(int fd, char *buf, size_t size)
{
	size_t used = 0;
	ssize_t n;

	while ((n = read(fd, buf + used, size - 1 - used)) > 0)
		used += (size_t)n;
	cr_assert_geq(n, 0);
	buf[used] = '\0';
	close(fd);
}

/* Run argv with stdout on a pipe and the rest as spec says; its whole
 * output, and it must exit 0. */
static void output_of(struct childstart_spec *spec, char *buf, size_t size)
{
	int out[2], fds[2] = {-1, -1};
	int status;

	make_pipe(out);
	fds[1] = out[1];
	spec->fds = fds;
	spec->nfds = 2;
	pid_t pid = start(spec);
	close(out[1]);
	read_all(out[0], buf, size);
	status = reap(pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "status %#x, output %s", status, buf);
}

static void link_of(pid_t pid, int fd, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, buf, size - 1);
	cr_assert_gt(n, 0, "%s: %s", path, strerror(errno));
	buf[n] = '\0';
}

/* What fd of ours is, as /proc names it in another process. */
static void link_of_ours(int fd, char *buf, size_t size)
{
	link_of(getpid(), fd, buf, size);
}

/* O_ACCMODE of pid's fd, from its fdinfo "flags:" (octal). */
static int accmode_of(pid_t pid, int fd)
{
	char path[64], buf[512], *flags;
	int f;

	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(f, 0);
	read_all(f, buf, sizeof buf);
	flags = strstr(buf, "flags:");
	cr_assert_not_null(flags);
	return (int)(strtol(flags + 6, NULL, 8) & O_ACCMODE);
}

/* pid's open descriptors as a bit set (all below MAX_FDS). */
static unsigned long long fd_set_of(pid_t pid)
{
	char path[64];
	unsigned long long set = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	cr_assert_not_null(d = opendir(path));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		cr_assert_lt(fd, MAX_FDS, "fd %d open in the child", fd);
		set |= 1ULL << fd;
	}
	closedir(d);
	return set;
}

/* cat with stdin from in[0], stdout to out[1]: once a byte has come
 * through, it is past its start-up (no descriptor of the loader's left)
 * and blocked reading. */
static void cat_settled(int in_w, int out_r)
{
	char c;

	cr_assert_eq(write(in_w, "x", 1), 1);
	cr_assert_eq(read(out_r, &c, 1), 1);
	cr_assert_eq(c, 'x');
}

/* Sources that are also targets, in an order where dup2s done one after
 * the other would overwrite a source before using it: fd a gets c's
 * pipe, b keeps its own (its close-on-exec flag must go), c gets a's;
 * our stdin/stdout pipes sit at numbers that are /dev/null targets. */
Test(childstart, exactly_the_given_fds_even_when_sources_collide)
{
	int in[2], out[2], obj[3][2], fds[MAX_FDS];
	char want[3][64], got[64], dev_null[] = "/dev/null";
	char *argv[] = {"cat", NULL};
	struct childstart_spec spec = {.path = "cat", .argv = argv};

	make_pipe(in);
	make_pipe(out);
	for (int k = 0; k < 3; k++)
		make_pipe(obj[k]);
	int a = obj[0][0], b = obj[1][0], c = obj[2][0];
	cr_assert(a < b && b < c && c < MAX_FDS);
	/* one the caller left without close-on-exec: closed all the same */
	int stray = dup(obj[0][1]);
	cr_assert(stray > c && stray < MAX_FDS);
	for (int i = 0; i < MAX_FDS; i++)
		fds[i] = -1;
	fds[0] = in[0];
	fds[1] = out[1];
	fds[a] = c;
	fds[b] = b;
	fds[c] = a;
	spec.fds = fds;
	spec.nfds = (size_t)c + 1;
	for (int k = 0; k < 3; k++)
		link_of_ours(obj[k][0], want[k], sizeof want[k]);

	pid_t pid = start(&spec);
	cat_settled(in[1], out[0]);
	cr_assert_eq(fd_set_of(pid), (1ULL << (c + 1)) - 1,
	             "fds 0..%d, no more, no less", c);
	link_of(pid, 0, got, sizeof got);
	char in_name[64], out_name[64];
	link_of_ours(in[0], in_name, sizeof in_name);
	link_of_ours(out[1], out_name, sizeof out_name);
	cr_assert_str_eq(got, in_name);
	link_of(pid, 1, got, sizeof got);
	cr_assert_str_eq(got, out_name);
	link_of(pid, a, got, sizeof got);
	cr_assert_str_eq(got, want[2]);
	link_of(pid, b, got, sizeof got);
	cr_assert_str_eq(got, want[1]);
	link_of(pid, c, got, sizeof got);
	cr_assert_str_eq(got, want[0]);
	for (int i = 2; i < c; i++) {
		if (i == a || i == b)
			continue;
		link_of(pid, i, got, sizeof got);
		cr_assert_str_eq(got, dev_null, "fd %d", i);
		cr_assert_eq(accmode_of(pid, i), O_WRONLY, "fd %d", i);
	}

	close(in[1]); /* cat ends */
	cr_assert_eq(reap(pid), 0);
	close(stray);
	close(in[0]);
	close(out[0]);
	close(out[1]);
	for (int k = 0; k < 3; k++) {
		close(obj[k][0]);
		close(obj[k][1]);
	}
}

/* close_range(2) made to fail with ENOSYS, as before Linux 5.9. */
static int deny_close_range(void)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	             offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof code / sizeof code[0], code};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* In a forked process (the filter stays with it): a stray descriptor
 * without close-on-exec is closed by the fallback too.  Exit code:
 * 0 when the child had exactly fds 0-2. */
static int closes_without_close_range(void)
{
	int in[2], out[2], fds[2];
	char *argv[] = {"cat", NULL};
	struct childstart_spec spec = {
	    .path = "cat", .argv = argv, .fds = fds, .nfds = 2};
	struct insomnia_error err;
	pid_t pid;
	char c;

	if (deny_close_range() < 0 || pipe2(in, O_CLOEXEC) < 0 ||
	    pipe2(out, O_CLOEXEC) < 0 || dup2(in[0], 40) != 40)
		return 2;
	fds[0] = in[0];
	fds[1] = out[1];
	if (childstart(&spec, &pid, NULL, NULL, &err) < 0)
		return 3;
	if (write(in[1], "x", 1) != 1 || read(out[0], &c, 1) != 1)
		return 4;
	return fd_set_of(pid) == 7 ? 0 : 5;
}

Test(childstart, closes_the_rest_without_close_range)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(closes_without_close_range());
	int status = reap(pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0);
}

/* fds 0-2 are set before exec, so they can be read as soon as
 * childstart returns: /dev/null, read-only for 0, write-only else. */
Test(childstart, dev_null_for_minus_one_and_for_0_to_2_beyond_nfds)
{
	int fds[1] = {-1};
	char *argv[] = {"sleep", "1000", NULL};
	struct childstart_spec spec = {
	    .path = "sleep", .argv = argv, .fds = fds, .nfds = 1};
	char got[64];

	pid_t pid = start(&spec);
	for (int i = 0; i < 3; i++) {
		link_of(pid, i, got, sizeof got);
		cr_assert_str_eq(got, "/dev/null", "fd %d", i);
		cr_assert_eq(accmode_of(pid, i), i ? O_WRONLY : O_RDONLY,
		             "fd %d", i);
	}
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert(WIFSIGNALED(reap(pid)));
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void assert_status_line(const char *status, const char *name)
{
	const char *line = strstr(status, name);

	cr_assert_not_null(line, "no %s in %s", name, status);
	line += strlen(name);
	cr_assert(strncmp(line, ":\t0000000000000000\n", 19) == 0, "%.40s",
	          line - strlen(name));
}

Test(childstart, default_signals_and_empty_mask_whatever_the_caller_did)
{
	char *argv[] = {"cat", "/proc/self/status", NULL};
	struct childstart_spec spec = {.path = "cat", .argv = argv};
	sigset_t block, mask;
	char status[8192];

	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	cr_assert_eq(sigprocmask(SIG_BLOCK, &block, NULL), 0);

	output_of(&spec, status, sizeof status);
	assert_status_line(status, "SigIgn");
	assert_status_line(status, "SigBlk");
	assert_status_line(status, "SigCgt");
	/* and the caller's own mask is what it was */
	cr_assert_eq(sigprocmask(SIG_SETMASK, NULL, &mask), 0);
	cr_assert(sigismember(&mask, SIGINT));
	cr_assert(!sigismember(&mask, SIGTERM));
	cr_assert(!sigismember(&mask, SIGCHLD));
}

Test(childstart, new_session)
{
	char *argv[] = {"sleep", "1000", NULL};
	struct childstart_spec spec = {
	    .path = "sleep", .argv = argv, .group = CHILDSTART_NEW_SESSION};

	pid_t pid = start(&spec);
	cr_assert_eq(getsid(pid), pid);
	cr_assert_eq(getpgid(pid), pid);
	kill(pid, SIGKILL);
	reap(pid);
}

Test(childstart, new_group_in_our_session)
{
	char *argv[] = {"sleep", "1000", NULL};
	struct childstart_spec spec = {
	    .path = "sleep", .argv = argv, .group = CHILDSTART_NEW_GROUP};

	pid_t pid = start(&spec);
	cr_assert_eq(getpgid(pid), pid);
	cr_assert_neq(getpgid(0), pid);
	cr_assert_eq(getsid(pid), getsid(0));
	kill(pid, SIGKILL);
	reap(pid);
}

/* A middle process starts cat with SIGKILL as its death signal, says
 * its pid and exits.  We are a subreaper, so cat comes back to us: once
 * the middle is reaped the signal has been sent; cat, whose stdin we
 * then close, would exit 0 had it not been. */
Test(childstart, death_signal_when_the_parent_dies)
{
	int in[2], said[2];
	pid_t middle, pid = 0;

	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	make_pipe(in);
	make_pipe(said);
	middle = fork();
	cr_assert_geq(middle, 0);
	if (middle == 0) {
		char *argv[] = {"cat", NULL};
		int fds[1] = {in[0]};
		struct childstart_spec spec = {.path = "cat",
		                               .argv = argv,
		                               .fds = fds,
		                               .nfds = 1,
		                               .death_signal = SIGKILL};
		struct insomnia_error err;
		if (childstart(&spec, &pid, NULL, NULL, &err) < 0)
			_exit(1);
		_exit(write(said[1], &pid, sizeof pid) == sizeof pid ? 0 : 1);
	}
	close(said[1]);
	close(in[0]);
	cr_assert_eq(read(said[0], &pid, sizeof pid), (ssize_t)sizeof pid);
	close(said[0]);
	cr_assert_eq(reap(middle), 0);
	close(in[1]);
	int status = reap(pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	          "status %#x", status);
}

static void assert_fails(struct childstart_spec *spec,
                         enum childstart_step want, int errnum,
                         const char *message)
{
	struct insomnia_error err;
	enum childstart_step step;
	pid_t pid = 0;

	cr_assert_eq(childstart(spec, &pid, NULL, &step, &err), -1);
	cr_assert_eq(step, want);
	cr_assert_eq(err.kind, INSOMNIA_ERR_LAUNCH_FAILED);
	cr_assert_eq(err.errnum, errnum, "%s", err.message);
	cr_assert_str_eq(err.message, message);
	cr_assert_eq(pid, 0);
}

Test(childstart, exec_failure_is_told_as_exec_not_as_an_exit_status)
{
	char *argv[] = {"prog", NULL};
	struct childstart_spec spec = {.path = "/nonexistent/prog",
	                               .argv = argv};

	assert_fails(&spec, CHILDSTART_STEP_EXEC, ENOENT,
	             "cannot execute /nonexistent/prog: "
	             "No such file or directory");
}

Test(childstart, name_not_in_path_is_enoent)
{
	char *argv[] = {"cat", NULL}, *envp[] = {"PATH=/nonexistent:", NULL};
	struct childstart_spec spec = {.path = "cat-childstart-none",
	                               .argv = argv,
	                               .envp = envp,
	                               .cwd = "/"};

	assert_fails(&spec, CHILDSTART_STEP_EXEC, ENOENT,
	             "cannot execute cat-childstart-none: "
	             "No such file or directory");
}

Test(childstart, chdir_failure_is_told_as_chdir)
{
	char *argv[] = {"true", NULL};
	struct childstart_spec spec = {
	    .path = "/bin/true", .argv = argv, .cwd = "/nonexistent/dir"};

	assert_fails(&spec, CHILDSTART_STEP_CHDIR, ENOENT,
	             "cannot use working directory /nonexistent/dir: "
	             "No such file or directory");
}

Test(childstart, bad_descriptor_is_told_as_setup)
{
	char *argv[] = {"true", NULL};
	int fds[3] = {-1, MAX_FDS * 4, -1};
	struct childstart_spec spec = {
	    .path = "/bin/true", .argv = argv, .fds = fds, .nfds = 3};

	assert_fails(&spec, CHILDSTART_STEP_SETUP, EBADF,
	             "cannot prepare to start /bin/true: Bad file descriptor");
}

Test(childstart, runs_in_its_working_directory)
{
	char *argv[] = {"sh", "-c", "pwd -P", NULL}, out[PATH_MAX + 2],
	     real[PATH_MAX + 2];
	struct tmpdir t;

	tmpdir_make(&t, "childstart");
	struct childstart_spec spec = {
	    .path = "/bin/sh", .argv = argv, .cwd = t.path};
	output_of(&spec, out, sizeof out);
	cr_assert_not_null(realpath(t.path, real));
	strcat(real, "\n");
	cr_assert_str_eq(out, real);
	tmpdir_remove(&t);
}

/* The umask and soft descriptor limit a child of the shell reports. */
static void umask_and_nofile(char *out, size_t size)
{
	char *argv[] = {"sh", "-c", "umask; ulimit -n", NULL};
	struct childstart_spec spec = {.path = "/bin/sh", .argv = argv};

	output_of(&spec, out, size);
}

static void set_soft_nofile(rlim_t soft)
{
	struct rlimit rl;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	cr_assert_gt(rl.rlim_max, 200, "a hard limit of at least 201 needed");
	rl.rlim_cur = soft == RLIM_INFINITY ? rl.rlim_max : soft;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

/* What the pod does: remember, then tighten the umask and take the hard
 * limit for itself; its children still get what it was started with. */
Test(childstart, children_get_back_the_remembered_umask)
{
	char out[64];

	umask(022);
	childstart_remember_inherited();
	umask(077);
	umask_and_nofile(out, sizeof out);
	cr_assert(!strncmp(out, "0022\n", 5), "%s", out);
}

Test(childstart, children_get_back_the_remembered_soft_fd_limit)
{
	char out[64];

	set_soft_nofile(200);
	childstart_remember_inherited();
	set_soft_nofile(RLIM_INFINITY); /* the hard limit */
	umask_and_nofile(out, sizeof out);
	cr_assert(strstr(out, "\n200\n"), "%s", out);
}

/* A caller that never remembers (the client) passes on what it has. */
Test(childstart, without_remembering_children_get_the_current_ones)
{
	char out[64];

	umask(022);
	set_soft_nofile(200);
	umask(027);
	set_soft_nofile(201);
	umask_and_nofile(out, sizeof out);
	cr_assert_str_eq(out, "0027\n201\n");
}

/* A script in a temporary dir, found by name through PATH. */
static void make_script(const struct tmpdir *t, const char *name, int mode)
{
	static const char text[] = "#!/bin/sh\necho \"found $0\"\n";
	int fd = openat(t->fd, name, O_WRONLY | O_CREAT | O_CLOEXEC, mode);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof text - 1),
	             (ssize_t)sizeof text - 1);
	close(fd);
}

Test(childstart, path_search_in_the_given_environment)
{
	struct tmpdir t;
	char path[128], *argv[] = {"hello-cs", NULL}, *envp[2], out[256],
	                want[256];

	tmpdir_make(&t, "childstart");
	make_script(&t, "hello-cs", 0700);
	snprintf(path, sizeof path, "PATH=/nonexistent:%s", t.path);
	envp[0] = path;
	envp[1] = NULL;
	struct childstart_spec spec = {
	    .path = "hello-cs", .argv = argv, .envp = envp};
	output_of(&spec, out, sizeof out);
	snprintf(want, sizeof want, "found %s/hello-cs\n", t.path);
	cr_assert_str_eq(out, want);
	tmpdir_remove(&t);
}

Test(childstart, path_search_in_the_callers_environment)
{
	struct tmpdir t;
	char path[128], *argv[] = {"hello-cs", NULL}, out[256], want[256];

	tmpdir_make(&t, "childstart");
	make_script(&t, "hello-cs", 0700);
	snprintf(path, sizeof path, "%s:/bin:/usr/bin", t.path);
	cr_assert_eq(setenv("PATH", path, 1), 0);
	struct childstart_spec spec = {.path = "hello-cs", .argv = argv};
	output_of(&spec, out, sizeof out);
	snprintf(want, sizeof want, "found %s/hello-cs\n", t.path);
	cr_assert_str_eq(out, want);
	tmpdir_remove(&t);
}

/* As execvp: a match that may not be run is skipped, and said if
 * nothing else is found. */
Test(childstart, path_search_skips_and_then_tells_eacces)
{
	struct tmpdir t;
	char path[128], *argv[] = {"hello-cs", NULL}, *envp[2];

	tmpdir_make(&t, "childstart");
	make_script(&t, "hello-cs", 0600);
	snprintf(path, sizeof path, "PATH=%s:/nonexistent", t.path);
	envp[0] = path;
	envp[1] = NULL;
	struct childstart_spec spec = {
	    .path = "hello-cs", .argv = argv, .envp = envp};
	assert_fails(&spec, CHILDSTART_STEP_EXEC, EACCES,
	             "cannot execute hello-cs: Permission denied");
	tmpdir_remove(&t);
}

Test(childstart, pidfd_follows_the_child)
{
	int in[2], fds[1], pidfd = -1;
	char *argv[] = {"cat", NULL};
	struct childstart_spec spec = {.path = "cat",
	                               .argv = argv,
	                               .fds = fds,
	                               .nfds = 1,
	                               .want_pidfd = true};
	struct insomnia_error err;
	pid_t pid;

	make_pipe(in);
	fds[0] = in[0];
	cr_assert_eq(childstart(&spec, &pid, &pidfd, NULL, &err), 0, "%s",
	             err.message);
	close(in[0]);
	cr_assert_geq(pidfd, 0);
	cr_assert_eq(fcntl(pidfd, F_GETFD), FD_CLOEXEC);
	struct pollfd p = {pidfd, POLLIN, 0};
	cr_assert_eq(poll(&p, 1, 0), 0, "readable before the child exits");
	close(in[1]); /* cat ends */
	cr_assert_eq(poll(&p, 1, -1), 1);
	cr_assert_eq(reap(pid), 0);
	close(pidfd);
}

/* A kernel before 5.2 (clone refuses CLONE_PIDFD: EINVAL here; older
 * ones ignore it), and optionally before 5.3 (no pidfd_open: ENOSYS). */
static int old_kernel(bool with_pidfd_open)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	             offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, with_pidfd_open
	                                  ? SECCOMP_RET_ALLOW
	                                  : SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	             offsetof(struct seccomp_data, args[0])),
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_PIDFD, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof code / sizeof code[0], code};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* In a forked process: exit 0 when the outcome is the expected one. */
static int pidfd_on_old_kernel(bool with_pidfd_open)
{
	char *argv[] = {"sleep", "1000", NULL};
	struct childstart_spec spec = {
	    .path = "sleep", .argv = argv, .want_pidfd = true};
	struct insomnia_error err;
	enum childstart_step step;
	int pidfd = -1, status;
	pid_t pid;

	if (old_kernel(with_pidfd_open) < 0)
		return 2;
	if (!with_pidfd_open) /* no pidfd: no child either, reaped */
		return childstart(&spec, &pid, &pidfd, &step, &err) == -1 &&
		               step == CHILDSTART_STEP_PIDFD &&
		               err.errnum == ENOSYS && pidfd == -1 &&
		               waitpid(-1, NULL, WNOHANG) == -1 &&
		               errno == ECHILD
		           ? 0
		           : 3;
	if (childstart(&spec, &pid, &pidfd, &step, &err) < 0 || pidfd < 0)
		return 4;
	kill(pid, SIGKILL);
	struct pollfd p = {pidfd, POLLIN, 0};
	if (poll(&p, 1, -1) != 1 || waitpid(pid, &status, 0) != pid)
		return 5;
	close(pidfd);
	return WIFSIGNALED(status) ? 0 : 6;
}

static void assert_in_fork(int (*fn)(bool), bool arg)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(fn(arg));
	int status = reap(pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0);
}

Test(childstart, pidfd_from_pidfd_open_when_clone_gives_none)
{
	assert_in_fork(pidfd_on_old_kernel, true);
}

Test(childstart, no_pidfd_at_all_is_told_and_the_child_is_gone)
{
	assert_in_fork(pidfd_on_old_kernel, false);
}

/* LISTEN_PID must be the child's own pid, which only the child knows
 * before it execs: pid_env is filled in the child, and the program sees
 * its own pid there ("$$" of the shell it became). */
Test(childstart, pid_env_holds_the_childs_own_pid)
{
	char entry[sizeof "LISTEN_PID=" + CHILDSTART_PID_DIGITS] =
	    "LISTEN_PID=";
	char *argv[] = {"/bin/sh", "-c", "echo \"$LISTEN_PID $$\"", NULL};
	char *envp[] = {"PATH=/bin:/usr/bin", entry, NULL};
	char out[128], a[32], b[32];
	struct childstart_spec spec = {
	    .path = argv[0], .argv = argv, .envp = envp, .pid_env = entry};

	output_of(&spec, out, sizeof out);
	cr_assert_eq(sscanf(out, "%31s %31s", a, b), 2, "output %s", out);
	cr_assert_str_eq(a, b, "LISTEN_PID %s, the child is %s", a, b);
	cr_assert_neq(atol(a), (long)getpid());
	/* The buffer is the caller's (shared memory): it holds the pid. */
	cr_assert_str_eq(entry + strlen("LISTEN_PID="), a);
}
