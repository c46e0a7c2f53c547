/* test_procnotify.c: a process's NOTIFY_SOCKET (pod/procnotify.c) on a
 * real libevent loop, with real senders: forked children of the test,
 * and the test binary itself exec'd as a sender (sender_mode) where the
 * sender's initial environment matters (its token).
 *
 * The test process plays the pod: a child subreaper, so a double-forked
 * daemon comes back to it.  Every wait is on a hook, on the dropped
 * count, or on waitpid, never a sleep; each test ends with no child,
 * no descriptor and no file left. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/tmpdir.h"
#include "compat.h"
#include "procnotify.h"
#include "proctree.h"

#define SEND_VAR "PROCNOTIFY_TEST_SEND"

/* ---- a datagram sent, from any process ------------------------------ */

/* text (len bytes) to path, with nfds descriptors (each /dev/null)
 * attached; 0 or -1.  Blocking: a full queue makes the sender wait. */
static int send_with_fds(const char *path, const char *text, size_t len,
                         int nfds)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(64 * sizeof(int))];
	} control;
	struct iovec iov = {(void *)text, len};
	struct msghdr msg = {.msg_name = &addr,
	                     .msg_namelen = sizeof addr,
	                     .msg_iov = &iov,
	                     .msg_iovlen = 1};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), fds[64];
	ssize_t n;

	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	if (nfds > 0) {
		struct cmsghdr *c;
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		for (int i = 0; i < nfds; i++)
			fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int send_text(const char *path, const char *text)
{
	return send_with_fds(path, text, strlen(text), 0);
}

/* The test binary exec'd with SEND_VAR set: send its value to
 * NOTIFY_SOCKET, then stay alive until fd 3 reads EOF (the test says
 * when it has checked the datagram), so /proc still shows the sender. */
__attribute__((constructor)) static void sender_mode(void)
{
	const char *text = getenv(SEND_VAR), *path = getenv("NOTIFY_SOCKET");
	char c;

	if (!text || !path)
		return;
	if (send_text(path, text) < 0)
		_exit(1);
	while (read(3, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* ---- the fixture ---------------------------------------------------- */

static struct tmpdir dir;
static struct event_base *base;
static struct procnotify *n;
static mode_t old_umask;
static int fds_at_start;

static char hooklog[8192];
static size_t hooks_seen;
static pid_t last_mainpid;
static struct procnotify_hooks hooks;
/* A hook ends the turn of the loop, except where the flood test wants
 * every event of a turn to run. */
static bool break_on_hook;
/* A drop where a hook is awaited (or the reverse) fails at once, not
 * by the suite's timeout. */
static size_t drops_allowed;

static void note(const char *what)
{
	size_t len = strlen(hooklog);

	snprintf(hooklog + len, sizeof hooklog - len, "%s|", what);
	hooks_seen++;
	if (break_on_hook)
		event_base_loopbreak(base);
}

static void on_ready(void *arg)
{
	(void)arg;
	note("ready");
}

static void on_status(void *arg, const char *text)
{
	char buf[512];

	(void)arg;
	snprintf(buf, sizeof buf, "status:%s", text);
	note(buf);
}

static void on_mainpid(void *arg, pid_t pid)
{
	(void)arg;
	last_mainpid = pid;
	note("mainpid");
}

static void on_stopping(void *arg)
{
	(void)arg;
	note("stopping");
}

static void on_reloading(void *arg)
{
	(void)arg;
	note("reloading");
}

static size_t watchdogs;

static void on_watchdog(void *arg)
{
	(void)arg;
	watchdogs++;
	note("watchdog");
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int count = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		count++;
	closedir(d);
	return count;
}

static void setup(void)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	/* the modes must not depend on the umask the pod got */
	old_umask = umask(0);
	tmpdir_make(&dir, "procnotify");
	base = event_base_new();
	cr_assert_not_null(base);
	hooks = (struct procnotify_hooks){
	    on_ready,     on_status,   on_mainpid, on_stopping,
	    on_reloading, on_watchdog, NULL};
	hooklog[0] = '\0';
	hooks_seen = watchdogs = 0;
	break_on_hook = true;
	drops_allowed = 0;
	last_mainpid = 0;
	fds_at_start = open_fds();
}

static void teardown(void)
{
	procnotify_free(n);
	n = NULL;
	event_base_free(base);
	tmpdir_remove(&dir);
	umask(old_umask);
}

TestSuite(procnotify, .init = setup, .fini = teardown, .timeout = 30);

/* The end of each test (an assertion in .fini fails nothing): the
 * socket's descriptors and file gone, no child left. */
static void nothing_left(void)
{
	struct stat st;

	procnotify_free(n);
	n = NULL;
	cr_assert_eq(open_fds(), fds_at_start, "a descriptor was left");
	cr_assert_eq(fstatat(dir.fd, "notify", &st, AT_SYMLINK_NOFOLLOW), -1,
	             "notify/ was left");
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was left");
	cr_assert_eq(errno, ECHILD);
}

static struct procnotify *open_notify(const char *name)
{
	struct insomnia_error err;
	struct procnotify *p =
	    procnotify_new(base, dir.fd, dir.path, name, &hooks, &err);

	cr_assert_not_null(p, "%s", err.message);
	return p;
}

static void run_until_hooks(size_t count)
{
	while (hooks_seen < count) {
		cr_assert_geq(event_base_loop(base, EVLOOP_ONCE), 0);
		/* n is NULL once a hook freed it */
		cr_assert_leq(n ? procnotify_dropped(n) : 0, drops_allowed,
		              "dropped; heard so far: %s", hooklog);
	}
}

static void run_until_dropped(size_t count)
{
	size_t before = hooks_seen;

	while (procnotify_dropped(n) < count) {
		cr_assert_geq(event_base_loop(base, EVLOOP_ONCE), 0);
		cr_assert_eq(hooks_seen, before, "heard: %s", hooklog);
	}
}

static void reap(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pid %d: status %d",
	          pid, st);
}

static void on_exit_fd(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Reap pid, the loop running meanwhile: it may wait for the pod. */
static void run_until_exit(pid_t pid)
{
	int pidfd = compat_pidfd_open(pid);
	bool gone = false;
	struct event *ev;

	cr_assert_geq(pidfd, 0);
	ev = event_new(base, pidfd, EV_READ, on_exit_fd, &gone);
	cr_assert_not_null(ev);
	cr_assert_eq(event_add(ev, NULL), 0);
	while (!gone)
		cr_assert_geq(event_base_loop(base, EVLOOP_ONCE), 0);
	event_free(ev);
	close(pidfd);
	reap(pid);
}

/* ---- senders -------------------------------------------------------- */

/* A forked child that sends each of texts (NULL-terminated) in order,
 * then exits. */
static pid_t fork_sender(const char *const *texts)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (; *texts; texts++)
			if (send_text(procnotify_path(n), *texts) < 0)
				_exit(1);
		_exit(0);
	}
	return pid;
}

/* A forked child that sleeps until killed (no token): a stranger.  It
 * dies with the test, and holds none of Criterion's output, so a test
 * that fails does not leave it waiting. */
static pid_t fork_idle(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || null < 0 ||
		    dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		pause();
		_exit(0);
	}
	return pid;
}

static void kill_and_reap(pid_t pid)
{
	int st;

	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
}

/* In a child: exec this binary as a sender of text, with the token (or
 * none) in its environment, fd 3 the read end hold, output to
 * /dev/null (not Criterion's pipes). */
static void exec_sender(const char *text, const char *token, int hold)
{
	char sock[160], send[256], tok[PROCTREE_TOKEN_MAX + 32];
	char *envp[] = {sock, send, token ? tok : NULL, NULL};
	char *argv[] = {"procnotify-sender", NULL};
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	snprintf(sock, sizeof sock, "NOTIFY_SOCKET=%s", procnotify_path(n));
	snprintf(send, sizeof send, "%s=%s", SEND_VAR, text);
	snprintf(tok, sizeof tok, "%s=%s", PROCTREE_TOKEN_VAR,
	         token ? token : "");
	/* dup2 onto itself would keep close-on-exec */
	if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
	    (hold == 3 ? fcntl(3, F_SETFD, 0) : dup2(hold, 3)) < 0)
		_exit(127);
	execve("/proc/self/exe", argv, envp);
	_exit(127);
}

/* The run: a child that double-forks a sender of text (with token) and
 * exits at once, so the sender's parent is the test, not the run.
 * Returns the run's pid, reaped; *hold the pipe end whose close lets
 * the sender exit. */
static pid_t double_fork_sender(const char *text, const char *token, int *hold)
{
	int p[2];
	pid_t run;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	run = fork();
	cr_assert_geq(run, 0);
	if (run == 0) {
		pid_t daemon = fork();
		if (daemon == 0)
			exec_sender(text, token, p[0]);
		_exit(daemon > 0 ? 0 : 1);
	}
	close(p[0]);
	*hold = p[1];
	return run;
}

/* The sender double_fork_sender left: the test's only other child. */
static void release_daemon(int hold)
{
	int st;
	pid_t pid;

	close(hold);
	pid = waitpid(-1, &st, 0);
	cr_assert_gt(pid, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sender status %d",
	          st);
}

static const char *token_of(const char *name)
{
	static char buf[PROCTREE_TOKEN_MAX];
	char session[64];

	snprintf(session, sizeof session, "t%ld", (long)getpid());
	proctree_token(buf, sizeof buf, session, "1.1", name);
	return buf;
}

/* ---- what the run says ---------------------------------------------- */

Test(procnotify, the_runs_assignments_reach_the_hooks_in_order)
{
	const char *texts[] = {"READY=1\nSTATUS=serving 3 clients\n",
	                       "WATCHDOG=1", "STOPPING=1\nRELOADING=1",
	                       /* ignored: unknown keys, values not "1" */
	                       "X_CUSTOM=5\nREADY=0\nWATCHDOG=trigger",
	                       "STATUS=", NULL};
	pid_t run;

	n = open_notify("web");
	run = fork_sender(texts);
	procnotify_run(n, run, NULL);
	run_until_hooks(6);
	reap(run);
	cr_assert_str_eq(hooklog, "ready|status:serving 3 clients|watchdog|"
	                          "stopping|reloading|status:|");
	cr_assert_eq(procnotify_dropped(n), 0);
	nothing_left();
}

Test(procnotify, the_path_is_absolute_under_the_pods_notify_dir)
{
	char want[128];
	struct stat st;

	n = open_notify("db");
	snprintf(want, sizeof want, "%s/notify/db", dir.path);
	cr_assert_str_eq(procnotify_path(n), want);
	cr_assert_eq(stat(want, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	nothing_left();
}

/* 256 bytes at most, never half a character; bytes that are not UTF-8
 * pass as they are. */
Test(procnotify, status_is_cut_at_256_bytes_and_other_bytes_pass)
{
	char big[400], twobyte[400];
	const char *texts[] = {big, twobyte, "STATUS=\xff\xfe ok", NULL};
	pid_t run;

	memcpy(big, "STATUS=", 7);
	memset(big + 7, 'a', 300);
	big[307] = '\0';
	/* 255 'b' then "é" (2 bytes): the cut falls inside it */
	memcpy(twobyte, "STATUS=", 7);
	memset(twobyte + 7, 'b', 255);
	strcpy(twobyte + 7 + 255, "\xc3\xa9tail");
	n = open_notify("web");
	run = fork_sender(texts);
	procnotify_run(n, run, NULL);
	run_until_hooks(3);
	reap(run);
	{
		char want[1024];
		snprintf(want, sizeof want, "status:%.256s|status:%.255s|%s|",
		         big + 7, twobyte + 7, "status:\xff\xfe ok");
		cr_assert_str_eq(hooklog, want);
	}
	nothing_left();
}

/* ---- who may speak -------------------------------------------------- */

Test(procnotify, the_pods_own_and_a_strangers_datagrams_are_dropped)
{
	const char *texts[] = {"READY=1", NULL};
	pid_t run = fork_idle(), stranger;

	n = open_notify("web");
	procnotify_run(n, run, NULL);
	cr_assert_eq(send_text(procnotify_path(n), "READY=1"), 0);
	run_until_dropped(1);
	stranger = fork_sender(texts);
	reap(stranger);
	run_until_dropped(2);
	cr_assert_str_eq(hooklog, "");
	kill_and_reap(run);
	nothing_left();
}

/* Its parent gone, the sender is the test's child; only its token says
 * it is the run's. */
Test(procnotify, a_double_forked_daemon_with_the_token_is_heard)
{
	const char *tok = token_of("web");
	int hold;
	pid_t run;

	n = open_notify("web");
	run = double_fork_sender("READY=1\nSTATUS=daemon", tok, &hold);
	procnotify_run(n, run, tok);
	reap(run);
	run_until_hooks(2);
	cr_assert_str_eq(hooklog, "ready|status:daemon|");
	release_daemon(hold);
	nothing_left();
}

Test(procnotify, a_double_forked_daemon_without_the_token_is_dropped)
{
	char tok[PROCTREE_TOKEN_MAX];
	int hold;
	pid_t run;

	snprintf(tok, sizeof tok, "%s", token_of("web"));
	n = open_notify("web");
	/* another process's token is not this one's */
	run = double_fork_sender("READY=1", token_of("web2"), &hold);
	procnotify_run(n, run, tok);
	reap(run);
	run_until_dropped(1);
	cr_assert_str_eq(hooklog, "");
	release_daemon(hold);
	nothing_left();
}

/* A child of the run (its parent chain reaches it), no token needed. */
Test(procnotify, a_child_of_the_run_is_heard)
{
	int p[2], st;
	char c;
	pid_t run;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	n = open_notify("web");
	run = fork();
	cr_assert_geq(run, 0);
	if (run == 0) {
		pid_t child = fork();
		if (child == 0)
			_exit(send_text(procnotify_path(n), "READY=1") < 0);
		/* alive until the test has heard it */
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(waitpid(child, &st, 0) == child && st == 0 ? 0 : 1);
	}
	close(p[0]);
	procnotify_run(n, run, NULL);
	run_until_hooks(1);
	cr_assert_str_eq(hooklog, "ready|");
	close(p[1]);
	reap(run);
	nothing_left();
}

/* The real client, when installed (not required): it waits for its
 * BARRIER=1 datagram's descriptor to be closed, so it is still there
 * when its sender is checked. */
Test(procnotify, systemd_notify_run_from_a_shell_is_heard)
{
	char sock[160];
	char *argv[] = {"sh", "-c",
	                "systemd-notify --ready --status='from sh' || exit 1",
	                NULL};
	char *envp[] = {sock, "PATH=/usr/bin:/bin", NULL};
	pid_t run;

	if (access("/usr/bin/systemd-notify", X_OK) != 0 &&
	    access("/bin/systemd-notify", X_OK) != 0)
		cr_skip_test("systemd-notify is not installed");
	n = open_notify("web");
	snprintf(sock, sizeof sock, "NOTIFY_SOCKET=%s", procnotify_path(n));
	run = fork();
	cr_assert_geq(run, 0);
	if (run == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	procnotify_run(n, run, NULL);
	run_until_hooks(2);
	run_until_exit(run); /* its barrier is closed by the loop */
	cr_assert_str_eq(hooklog, "ready|status:from sh|");
	cr_assert_eq(procnotify_dropped(n), 0, "its BARRIER=1 was dropped");
	nothing_left();
}

/* ---- MAINPID -------------------------------------------------------- */

Test(procnotify, mainpid_naming_a_stranger_or_no_pid_is_ignored)
{
	pid_t stranger = fork_idle(), run;
	char mp[64];
	const char *texts[] = {
	    mp,         "MAINPID=0",  "MAINPID=-3", "MAINPID=12x",
	    "MAINPID=", "WATCHDOG=1", NULL};

	snprintf(mp, sizeof mp, "MAINPID=%d", stranger);
	n = open_notify("web");
	run = fork_sender(texts);
	procnotify_run(n, run, NULL);
	run_until_hooks(1);
	reap(run);
	cr_assert_str_eq(hooklog, "watchdog|");
	cr_assert_eq(procnotify_dropped(n), 0);
	kill_and_reap(stranger);
	nothing_left();
}

/* In a child: wait for the test to close the pipe's write end (every
 * copy a forked child inherited must be closed first). */
static void wait_eof(int fd)
{
	char c;

	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
}

/* The run forks the real server and says so; the server then speaks
 * for itself after the run is gone, its parent the pod, no token. */
Test(procnotify, mainpid_of_the_runs_child_is_honoured_and_heard_after)
{
	int r[2], go[2], end[2], st;
	pid_t run, server;

	cr_assert_eq(pipe2(r, O_CLOEXEC), 0);   /* the run: its end */
	cr_assert_eq(pipe2(go, O_CLOEXEC), 0);  /* the server: send */
	cr_assert_eq(pipe2(end, O_CLOEXEC), 0); /* the server: its end */
	n = open_notify("web");
	run = fork();
	cr_assert_geq(run, 0);
	if (run == 0) {
		char mp[64];
		close(r[1]);
		close(go[1]);
		close(end[1]);
		server = fork();
		if (server == 0) {
			wait_eof(go[0]);
			if (send_text(procnotify_path(n), "READY=1") < 0)
				_exit(1);
			wait_eof(end[0]);
			_exit(0);
		}
		snprintf(mp, sizeof mp, "MAINPID=%d", server);
		if (server < 0 || send_text(procnotify_path(n), mp) < 0)
			_exit(1);
		/* alive until heard: the server is its child meanwhile */
		wait_eof(r[0]);
		_exit(0);
	}
	close(r[0]);
	close(go[0]);
	close(end[0]);
	procnotify_run(n, run, NULL);
	run_until_hooks(1);
	cr_assert_str_eq(hooklog, "mainpid|");
	server = last_mainpid;
	cr_assert_gt(server, 0);
	close(r[1]);
	reap(run);
	cr_assert_eq(proctree_parent(server), getpid(), "not reparented");
	close(go[1]);
	run_until_hooks(2);
	cr_assert_str_eq(hooklog, "mainpid|ready|");
	close(end[1]);
	cr_assert_eq(waitpid(server, &st, 0), server);
	cr_assert_eq(st, 0);
	nothing_left();
}

/* ---- malformed, too big, descriptors -------------------------------- */

Test(procnotify, malformed_and_oversized_datagrams_are_dropped_whole)
{
	static char big[5000];
	pid_t run;

	memset(big, 'x', sizeof big);
	memcpy(big, "STATUS=", 7);
	n = open_notify("web");
	run = fork();
	cr_assert_geq(run, 0);
	if (run == 0) {
		const char *path = procnotify_path(n);
		/* the READY=1 before the bad line fires nothing either */
		_exit(send_text(path, "READY=1\nnoequals") ||
		      send_text(path, "READY=1\n=1") ||
		      send_with_fds(path, "READY=1\0STATUS=x", 16, 0) ||
		      send_with_fds(path, big, sizeof big, 0) ||
		      send_text(path, "STOPPING=1"));
	}
	drops_allowed = 4;
	procnotify_run(n, run, NULL);
	run_until_hooks(1);
	reap(run);
	cr_assert_str_eq(hooklog, "stopping|");
	cr_assert_eq(procnotify_dropped(n), 4);
	nothing_left();
}

/* A datagram's descriptors are closed at once: the message is still
 * heard; one with more than a datagram may carry is dropped. */
Test(procnotify, descriptors_sent_along_are_closed)
{
	int fds;
	pid_t run;

	n = open_notify("web");
	fds = open_fds();
	run = fork();
	cr_assert_geq(run, 0);
	if (run == 0) {
		const char *path = procnotify_path(n);
		_exit(send_with_fds(path, "READY=1", 7, 3) ||
		      send_with_fds(path, "READY=1", 7, 40) ||
		      send_text(path, "STOPPING=1"));
	}
	drops_allowed = 1;
	procnotify_run(n, run, NULL);
	run_until_hooks(2);
	reap(run);
	cr_assert_str_eq(hooklog, "ready|stopping|");
	cr_assert_eq(procnotify_dropped(n), 1);
	cr_assert_eq(open_fds(), fds, "%d descriptors kept", open_fds() - fds);
	nothing_left();
}

/* ---- runs ----------------------------------------------------------- */

/* What a run left queued is not the next run's; with no run, all is
 * dropped. */
Test(procnotify, ending_a_run_discards_its_queued_datagrams)
{
	const char *first[] = {"READY=1", NULL},
	           *second[] = {"STOPPING=1", NULL};
	pid_t run;

	n = open_notify("web");
	run = fork_sender(first);
	procnotify_run(n, run, NULL);
	reap(run); /* its READY=1 waits in the socket */
	procnotify_run(n, 0, NULL);
	cr_assert_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	cr_assert_str_eq(hooklog, "");
	cr_assert_eq(procnotify_dropped(n), 0, "drained, not refused");

	cr_assert_eq(send_text(procnotify_path(n), "READY=1"), 0);
	run_until_dropped(1); /* no run: nobody's */
	drops_allowed = 1;

	run = fork_sender(second);
	procnotify_run(n, run, NULL);
	run_until_hooks(1);
	reap(run);
	cr_assert_str_eq(hooklog, "stopping|");
	nothing_left();
}

static void free_in_hook(void *arg)
{
	(void)arg;
	note("ready");
	procnotify_free(n);
	n = NULL;
}

/* The supervisor may drop a process from a hook: the socket goes at
 * once, the rest of the datagram is not dispatched. */
Test(procnotify, freeing_from_a_hook_ends_the_datagram)
{
	const char *texts[] = {"READY=1\nWATCHDOG=1", NULL};
	struct stat st;
	pid_t run;

	hooks.ready = free_in_hook;
	n = open_notify("web");
	run = fork_sender(texts);
	procnotify_run(n, run, NULL);
	run_until_hooks(1);
	reap(run);
	cr_assert_null(n);
	cr_assert_eq(fstatat(dir.fd, "notify/web", &st, AT_SYMLINK_NOFOLLOW),
	             -1);
	cr_assert_eq(event_base_loop(base, EVLOOP_NONBLOCK), 1, "no event");
	cr_assert_str_eq(hooklog, "ready|");
	nothing_left();
}

static void end_run_in_hook(void *arg)
{
	(void)arg;
	note("ready");
	procnotify_run(n, 0, NULL);
}

/* The run ends from a hook (the supervisor saw it fail): what followed
 * in its datagram, and what it queued, is not heard. */
Test(procnotify, ending_the_run_from_a_hook_ends_its_datagram)
{
	const char *texts[] = {"READY=1\nWATCHDOG=1", "STOPPING=1", NULL};
	pid_t run;

	hooks.ready = end_run_in_hook;
	n = open_notify("web");
	run = fork_sender(texts);
	procnotify_run(n, run, NULL);
	run_until_hooks(1);
	reap(run);
	cr_assert_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
	cr_assert_str_eq(hooklog, "ready|");
	nothing_left();
}

/* ---- a flood -------------------------------------------------------- */

static int ticker[2];
static size_t ticks, at_last_tick, most_between;

/* Always readable: runs once every turn of the loop. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (watchdogs - at_last_tick > most_between)
		most_between = watchdogs - at_last_tick;
	at_last_tick = watchdogs;
	ticks++;
}

#define FLOOD 10000
Test(procnotify, a_flood_is_taken_in_batches_between_other_events)
{
	struct event *tick;
	pid_t run;

	n = open_notify("web");
	cr_assert_eq(pipe2(ticker, O_CLOEXEC), 0);
	cr_assert_eq(write(ticker[1], "t", 1), 1);
	tick = event_new(base, ticker[0], EV_READ | EV_PERSIST, on_tick, NULL);
	cr_assert_not_null(tick);
	cr_assert_eq(event_add(tick, NULL), 0);
	run = fork();
	cr_assert_geq(run, 0);
	if (run == 0) {
		for (int i = 0; i < FLOOD; i++)
			if (send_text(procnotify_path(n), "WATCHDOG=1") < 0)
				_exit(1);
		_exit(send_text(procnotify_path(n), "STOPPING=1") < 0);
	}
	break_on_hook = false;
	procnotify_run(n, run, NULL);
	run_until_hooks(FLOOD + 1); /* the last is STOPPING=1 */
	reap(run);
	event_free(tick);
	close(ticker[0]);
	close(ticker[1]);
	cr_log_info("flood of %d: %zu turns, at most %zu datagrams in one",
	            FLOOD, ticks, most_between);
	cr_assert_eq(watchdogs, FLOOD);
	cr_assert_eq(procnotify_dropped(n), 0);
	cr_assert_leq(most_between, 64, "%zu datagrams in one turn",
	              most_between);
	cr_assert_geq(ticks, FLOOD / 64);
	nothing_left();
}

/* ---- the socket and its directory ------------------------------------ */

Test(procnotify, the_socket_is_0600_and_its_dir_0700_under_umask_0)
{
	struct stat st;

	n = open_notify("web");
	cr_assert_eq(fstatat(dir.fd, "notify", &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0700, "dir mode %o", st.st_mode);
	cr_assert_eq(fstatat(dir.fd, "notify/web", &st, AT_SYMLINK_NOFOLLOW),
	             0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600, "socket mode %o", st.st_mode);
	nothing_left();
}

/* Another process's socket stays when one goes; the last takes the dir
 * with it. */
Test(procnotify, freeing_removes_only_its_own_socket_then_the_empty_dir)
{
	struct procnotify *db = open_notify("db");
	struct stat st;

	n = open_notify("web");
	procnotify_free(db);
	cr_assert_eq(fstatat(dir.fd, "notify/db", &st, AT_SYMLINK_NOFOLLOW),
	             -1);
	cr_assert_eq(fstatat(dir.fd, "notify/web", &st, AT_SYMLINK_NOFOLLOW),
	             0);
	nothing_left();
}

Test(procnotify, a_stale_socket_is_replaced)
{
	struct stat before, after;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	const char *texts[] = {"READY=1", NULL};
	pid_t run;

	cr_assert_eq(mkdirat(dir.fd, "notify", 0700), 0);
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s/notify/web",
	         dir.path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	close(fd); /* a dead pod's */
	cr_assert_eq(stat(addr.sun_path, &before), 0);
	n = open_notify("web");
	cr_assert_eq(stat(addr.sun_path, &after), 0);
	cr_assert_eq(before.st_mode & 07777, 0777, "not the stale one");
	cr_assert_eq(after.st_mode & 07777, 0600, "the stale one kept");
	run = fork_sender(texts);
	procnotify_run(n, run, NULL);
	run_until_hooks(1);
	reap(run);
	nothing_left();
}

static void assert_refused(const char *pod_dir, const char *name,
                           const char *says)
{
	struct insomnia_error err;

	cr_assert_null(
	    procnotify_new(base, dir.fd, pod_dir, name, &hooks, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_IO);
	cr_assert_not_null(strstr(err.message, says), "message: %s",
	                   err.message);
	cr_assert_eq(open_fds(), fds_at_start);
}

Test(procnotify, a_symlink_at_notify_is_refused)
{
	struct stat st;

	cr_assert_eq(mkdirat(dir.fd, "elsewhere", 0700), 0);
	cr_assert_eq(symlinkat("elsewhere", dir.fd, "notify"), 0);
	assert_refused(dir.path, "web", "symbolic link");
	cr_assert_eq(fstatat(dir.fd, "elsewhere/web", &st, 0), -1);
	cr_assert_eq(unlinkat(dir.fd, "notify", 0), 0);
	cr_assert_eq(unlinkat(dir.fd, "elsewhere", AT_REMOVEDIR), 0);
	nothing_left();
}

Test(procnotify, a_file_at_notify_or_at_the_socket_is_refused_and_kept)
{
	struct stat st;
	int fd;

	fd = openat(dir.fd, "notify", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	assert_refused(dir.path, "web", "not a directory");
	cr_assert_eq(unlinkat(dir.fd, "notify", 0), 0);

	cr_assert_eq(mkdirat(dir.fd, "notify", 0700), 0);
	fd = openat(dir.fd, "notify/web", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	assert_refused(dir.path, "web", "notify/web");
	cr_assert_eq(fstatat(dir.fd, "notify/web", &st, 0), 0);
	cr_assert(S_ISREG(st.st_mode), "someone's file was removed");
	cr_assert_eq(unlinkat(dir.fd, "notify/web", 0), 0);
	cr_assert_eq(unlinkat(dir.fd, "notify", AT_REMOVEDIR), 0);
	nothing_left();
}

/* sd_notify connects by name: a path that does not fit sun_path would
 * reach no one, so it is refused, named, before a file is made. */
Test(procnotify, a_path_too_long_for_sun_path_is_refused_by_name)
{
	char pod_dir[200];
	struct stat st;

	snprintf(pod_dir, sizeof pod_dir, "%s/%0120d", dir.path, 0);
	assert_refused(pod_dir, "web", "too long");
	assert_refused(pod_dir, "web", pod_dir);
	cr_assert_eq(fstatat(dir.fd, "notify", &st, AT_SYMLINK_NOFOLLOW), -1);
	nothing_left();
}

/* As every dir the project makes (DESIGN.md): one merely readable by
 * others is tightened, one writable by others refused. */
Test(procnotify, an_open_notify_dir_is_tightened_and_a_writable_one_refused)
{
	struct stat st;

	cr_assert_eq(mkdirat(dir.fd, "notify", 0755), 0);
	n = open_notify("web");
	cr_assert_eq(fstatat(dir.fd, "notify", &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(st.st_mode & 07777, 0700, "dir mode %o", st.st_mode);
	procnotify_free(n);
	n = NULL;

	cr_assert_eq(mkdirat(dir.fd, "notify", 0777), 0);
	assert_refused(dir.path, "web", "writable by group or others");
	cr_assert_eq(fstatat(dir.fd, "notify", &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(st.st_mode & 07777, 0777, "someone's dir was changed");
	cr_assert_eq(unlinkat(dir.fd, "notify", AT_REMOVEDIR), 0);
	nothing_left();
}
