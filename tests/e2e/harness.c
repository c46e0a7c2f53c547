/* harness.c: setup, teardown and leftover checks for e2e tests. */
#include "harness.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "ready.h"
#include "unixsock.h"

char e2e_home[256];

void e2e_setup(void)
{
	char buf[300];

	strcpy(e2e_home, "/tmp/insomnia-e2e-XXXXXX");
	cr_assert_not_null(mkdtemp(e2e_home));
	setenv("INSOMNIA_HOME", e2e_home, 1);
	unsetenv("INSOMNIA_RUNTIME_DIR");
	unsetenv("INSOMNIA_DATA_DIR");
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("MOCK_POD_ARGS");
	snprintf(buf, sizeof buf, "%s/home", e2e_home);
	setenv("HOME", buf, 1);
	snprintf(buf, sizeof buf, "%s/config", e2e_home);
	setenv("XDG_CONFIG_HOME", buf, 1);
	cr_assert_not_null(getenv("INSOMNIA_TEST_MOCK_POD"));
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_MOCK_POD"), 1);
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
}

/* The kernel's PF_EXITING (include/linux/sched.h), stat's 9th field. */
#define E2E_PF_EXITING 0x4u

/* A child already on its way out (PF_EXITING: past do_exit's start) is
 * not left behind: it is reaped here.  The launch monitor's log watcher
 * is one: the monitor's release (a successful spawn) kills it, and its
 * inotify teardown takes 10-20 ms after that, re-parented to us. */
static bool reaped_if_exiting(pid_t pid, unsigned flags)
{
	if (!(flags & E2E_PF_EXITING))
		return false;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return true;
}

/* Call fn(pid) for every live process whose parent is this test. */
static int each_child(bool (*fn)(pid_t pid))
{
	char path[300], buf[512], *p;
	DIR *d = opendir("/proc");
	struct dirent *e;
	long ppid;
	unsigned flags;
	int found = 0;

	while (d && (e = readdir(d))) {
		int fd, n;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = (int)read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (!p || p[2] == 'Z' ||
		    sscanf(p + 2, "%*c %ld %*d %*d %*d %*d %u", &ppid,
		           &flags) != 2 ||
		    ppid != getpid() ||
		    reaped_if_exiting((pid_t)atol(e->d_name), flags))
			continue;
		if (fn((pid_t)atol(e->d_name)))
			found++;
	}
	if (d)
		closedir(d);
	return found;
}

static bool kill_one(pid_t pid)
{
	kill(pid, SIGKILL);
	return true;
}

static void kill_children(void)
{
	each_child(kill_one);
}

static bool name_one(pid_t pid)
{
	char path[64], comm[64] = "?";
	int fd;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, comm, sizeof comm - 1);
		comm[n > 0 ? n - 1 : 0] = '\0';
		close(fd);
	}
	cr_log_error("left behind: pid %ld (%s)", (long)pid, comm);
	return true;
}

void e2e_assert_no_children(void)
{
	int left;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	left = each_child(name_one);
	cr_assert_eq(left, 0,
	             "%d processes left behind (re-parented to the "
	             "test)",
	             left);
}

void e2e_teardown(void)
{
	char cmd[300];

	/* anything still ours is a failure already reported; don't leave
	 * it running after the test */
	kill_children();
	while (waitpid(-1, NULL, 0) > 0)
		;
	snprintf(cmd, sizeof cmd, "/bin/rm -rf '%s'", e2e_home);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", e2e_home);
}

struct insomnia_spawn_options e2e_options(const char *name,
                                          const char *mock_args)
{
	struct insomnia_spawn_options o = {0};

	o.name = name;
	o.overlay = NULL;
	o.timeout_ms = 30000;
	o.grace_ms = 300;
	if (mock_args)
		setenv("MOCK_POD_ARGS", mock_args, 1);
	else
		unsetenv("MOCK_POD_ARGS");
	/* the mock reads the name from the overlay like a real pod would */
	static char overlay[128];
	snprintf(overlay, sizeof overlay, "[pod]\nname = \"%s\"\n", name);
	o.overlay = overlay;
	return o;
}

const char *e2e_rundir(const char *name, const char *file)
{
	static char path[1024];

	snprintf(path, sizeof path, "%s/run/%s%s%s", e2e_home, name,
	         file ? "/" : "", file ? file : "");
	return path;
}

void e2e_stop(pid_t pid)
{
	int status;

	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid,
	             "pod %d was not re-parented to the test", pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "pod did not stop cleanly (status %#x)", status);
}

static bool in_group(const char *pid_dir, pid_t pgid)
{
	char path[300], buf[512], *p;
	int fd, n;
	long grp;

	snprintf(path, sizeof path, "/proc/%s/stat", pid_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = (int)read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces */
	/* ") S ppid pgrp" */
	return p && sscanf(p + 2, "%*c %*d %ld", &grp) == 1 && grp == pgid;
}

void e2e_assert_group_gone(pid_t pgid)
{
	DIR *d;
	struct dirent *e;

	cr_assert_gt(pgid, 0);
	while (waitpid(-pgid, NULL, 0) > 0)
		;
	d = opendir("/proc");
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		    in_group(e->d_name, pgid))
			cr_assert_fail("process %s is still in pod group %d",
			               e->d_name, pgid);
	closedir(d);
}

void e2e_assert_dir_holds(const char *name, const char *const *files)
{
	DIR *d = opendir(e2e_rundir(name, NULL));
	struct dirent *e;
	int expected = 0, seen = 0;

	cr_assert_not_null(d, "no dir %s", e2e_rundir(name, NULL));
	while (files[expected])
		expected++;
	while ((e = readdir(d))) {
		bool known = false;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		for (int i = 0; files[i]; i++)
			known |= strcmp(files[i], e->d_name) == 0;
		cr_expect(known, "stray file %s in the pod dir", e->d_name);
		seen++;
	}
	closedir(d);
	cr_assert_eq(seen, expected, "pod dir holds %d files, expected %d",
	             seen, expected);
}

static bool is_inotify(const char *fd_name)
{
	char path[300], target[64];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/self/fd/%s", fd_name);
	n = readlink(path, target, sizeof target - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:inotify") == 0;
}

int e2e_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		if (!is_inotify(e->d_name))
			n++;
	closedir(d);
	return n;
}

int e2e_inotify_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		if (is_inotify(e->d_name))
			n++;
	closedir(d);
	return n;
}

char *e2e_read(const char *path)
{
	char *text = NULL;

	if (fd_read_file_at(AT_FDCWD, path, 8 << 20, &text, NULL) < 0)
		return NULL;
	return text;
}

bool e2e_socket_accepts(const char *path)
{
	int fd;

	if (unixsock_connect(path, &fd, NULL) < 0)
		return false;
	close(fd);
	return true;
}

pid_t e2e_logged_pid(const char *name)
{
	char *log = e2e_read(e2e_rundir(name, "stderr.log")), *p;
	long pid = 0;

	if (log && (p = strstr(log, "mock-pod: pid ")))
		pid = atol(p + strlen("mock-pod: pid "));
	free(log);
	return (pid_t)pid;
}

pid_t e2e_start_pod_by_hand(const char *overlay, int *err_fd)
{
	int pipefd[2];
	pid_t pid;

	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], 2);
		execl(getenv("INSOMNIA_TEST_POD"), "pod", "--overlay", overlay,
		      (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	*err_fd = pipefd[0];
	return pid;
}

void e2e_wait_ready(int err_fd)
{
	char buf[8192];
	size_t len = 0;
	ssize_t n;

	while ((n = fd_read_some(err_fd, buf + len, sizeof buf - 1 - len)) >
	       0) {
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, READY_PREFIX))
			return;
	}
	cr_assert_fail("the pod exited before its ready line: %.*s", (int)len,
	               buf);
}
