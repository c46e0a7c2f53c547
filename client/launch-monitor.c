/* pod-launch-monitor: starts one pod for a client and reports on it.
 *
 * An exec'd program, not a fork of the client, so that starting it costs
 * the same whatever the client's size (childstart does not copy page
 * tables), and so that it starts with a clean signal state whatever the
 * client did with its own.  The contract is in common/launchmsg.h.
 *
 * Two processes:
 *  - the monitor: start the pod with childstart (common/childstart.h: in
 *    its cwd, a new session, fds 0-2 only, default signals, empty mask,
 *    then pidfd_open), report its pid or why it could not start, then
 *    wait on the pidfd for its exit (and report the status) or for the
 *    client's release (and exit at once, so the pod is re-parented away);
 *  - the log watcher, a fork of the monitor made before the pod starts:
 *    it alone owns the inotify instance on stderr.log and turns its
 *    events into LAUNCH_MSG_LOG reports.  It dies with the monitor
 *    (PR_SET_PDEATHSIG).  Closing an inotify instance can wait 10-20 ms
 *    for the kernel's teardown of its marks; here that wait is paid by
 *    a process nobody waits for, never by the client or the monitor. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "childstart.h"
#include "compat.h"
#include "launchmsg.h"

extern char **environ;

/* ---- reports -------------------------------------------------------- */

static int send_msg(const struct launch_msg *msg)
{
	ssize_t n;

	do
		n = write(LAUNCH_FD_REPORT, msg, sizeof *msg);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof *msg ? 0 : -1;
}

/* A report the client must get: wait while the pipe is full. */
static void report(int32_t type, int32_t value, int32_t step)
{
	struct launch_msg msg = {type, value, step, 0};
	struct pollfd pfd = {LAUNCH_FD_REPORT, POLLOUT, 0};

	while (send_msg(&msg) < 0 && errno == EAGAIN)
		(void)poll(&pfd, 1, -1);
}

/* The log watcher (a fork of ours), once started. */
static pid_t watcher;

/* Exit only once the watcher is gone too: its death signal would kill it
 * after us, asynchronously, and a client that failed a spawn (or its
 * subreaper) would briefly find a stray process of ours after reaping
 * us.  Not on release: there the client waits for our exit on its way
 * to "ready", and the watcher's inotify teardown (10-20 ms) would be on
 * that path; a watcher dying a moment after a successful spawn harms no
 * one. */
static void finish(int code)
{
	if (watcher > 0) {
		kill(watcher, SIGKILL);
		while (waitpid(watcher, NULL, 0) < 0 && errno == EINTR)
			;
	}
	_exit(code);
}

static void fail(enum launch_step step, int errnum)
{
	report(LAUNCH_MSG_FAILED, errnum, step);
	finish(1);
}

/* What the client names in its message: a pod that could not be forked
 * is told as one that could not be executed, as posix_spawn did. */
static enum launch_step launch_step_of(enum childstart_step step)
{
	switch (step) {
	case CHILDSTART_STEP_CHDIR:
		return LAUNCH_STEP_CHDIR;
	default:
		return LAUNCH_STEP_EXEC;
	}
}

/* ---- the log watcher ------------------------------------------------- */

/* "stderr.log grew".  A full pipe means the client has unread reports,
 * so it will read the log anyway: this one may be dropped. */
static bool report_log(void)
{
	struct launch_msg msg = {LAUNCH_MSG_LOG, 0, 0, 0};

	return send_msg(&msg) == 0 || errno == EAGAIN;
}

static void watch_log(int ino, pid_t monitor)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd = {ino, POLLIN, 0};
	ssize_t n;

	/* die with the monitor, also if it died before this line */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != monitor)
		_exit(0);
	close(LAUNCH_FD_RELEASE);
	close(LAUNCH_FD_LOG);
	for (;;) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			_exit(1);
		while ((n = read(ino, buf, sizeof buf)) > 0)
			;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			_exit(1);
		if (!report_log()) /* the client is gone */
			_exit(0);
	}
}

/* The watch is on the file before the pod exists, so no line is missed;
 * the monitor keeps no reference to the instance. */
static void start_log_watcher(void)
{
	pid_t monitor = getpid(), pid;
	int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	char path[64];

	snprintf(path, sizeof path, "/proc/self/fd/%d", LAUNCH_FD_LOG);
	if (ino < 0 || inotify_add_watch(ino, path, IN_MODIFY) < 0)
		fail(LAUNCH_STEP_INOTIFY, errno);
	pid = fork();
	if (pid < 0)
		fail(LAUNCH_STEP_FORK, errno);
	if (pid == 0)
		watch_log(ino, monitor);
	watcher = pid;
	close(ino); /* not the last reference: no teardown here */
}

/* ---- the pod ----------------------------------------------------------- */

/* The pod: a session of its own (its pgid is its pid), fds 0-1 on
 * /dev/null and 2 on stderr.log, nothing else, default signals, none
 * blocked, in its working directory ("" for ours).  No death signal: it
 * outlives us once the client lets it go.  Its pidfd comes from
 * pidfd_open (follow), not from clone: the client needs pidfd_open too,
 * so a kernel without it is told by the monitor, first, by that name. */
static pid_t start_pod(const char *cwd, const char *path, char **argv)
{
	static const int fds[3] = {-1, -1, LAUNCH_FD_LOG};
	struct childstart_spec spec = {
	    .path = path,
	    .argv = argv,
	    .envp = environ,
	    .cwd = cwd[0] ? cwd : NULL,
	    .fds = fds,
	    .nfds = 3,
	    .group = CHILDSTART_NEW_SESSION,
	};
	enum childstart_step step;
	struct insomnia_error err;
	pid_t pod;

	if (childstart(&spec, &pod, NULL, &step, &err) < 0)
		fail(launch_step_of(step), err.errnum);
	close(LAUNCH_FD_LOG);
	return pod;
}

/* A pidfd we cannot have is said so, and the pod does not outlive the
 * news: it is our child, so its pid cannot be reused before we reap. */
static int follow(pid_t pod)
{
	int pidfd = compat_pidfd_open(pod);
	int saved = errno;

	if (pidfd >= 0)
		return pidfd;
	kill(-pod, SIGKILL); /* its group: it leads it (a new session) */
	while (waitpid(pod, NULL, 0) < 0 && errno == EINTR)
		;
	fail(LAUNCH_STEP_PIDFD, saved);
	return -1;
}

/* A signal the client asks for (it may have no pidfd of its own): the
 * pod is our child and not yet reaped, so its pid, which is also its
 * group's id (a session leader cannot leave its group), still names it.
 * false at end of file: the client let the pod go. */
static bool relay_signals(pid_t pod)
{
	unsigned char sig[16];
	ssize_t n;

	do
		n = read(LAUNCH_FD_RELEASE, sig, sizeof sig);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 && errno == EAGAIN;
	for (ssize_t i = 0; i < n; i++)
		if (sig[i] > 0 && sig[i] < NSIG)
			kill(-pod, sig[i]);
	return true;
}

/* The pod's exit or the client's release, whichever first; a release
 * wins a tie, so the pod is never reaped after the client let it go. */
static void wait_pod(pid_t pod, int pidfd)
{
	struct pollfd fds[2] = {{LAUNCH_FD_RELEASE, POLLIN, 0},
	                        {pidfd, POLLIN, 0}};
	int status;

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fail(LAUNCH_STEP_WAIT, errno);
		}
		if (fds[0].revents) { /* poll again: a release may follow */
			if (!relay_signals(pod))
				_exit(
				    0); /* released: not finish(), see there */
			continue;
		}
		if (fds[1].revents)
			break;
	}
	/* our own child: a plain waitpid needs nothing newer than pidfd */
	while (waitpid(pod, &status, 0) < 0)
		if (errno != EINTR)
			fail(LAUNCH_STEP_WAIT, errno);
	report(LAUNCH_MSG_EXITED, status, 0);
	finish(0);
}

/* ---- main -------------------------------------------------------------- */

/* The client starts us with default signals and none blocked
 * (childstart), whatever it did with its own: a
 * caller ignoring SIGCHLD would otherwise make the pod's status vanish.
 * That one is checked again here, as it is the one we rely on.  SIGPIPE
 * is ignored so that a vanished client is an error on write, not our
 * death; the pod gets every signal back to default (childstart). */
static void reset_signals(void)
{
	sigset_t none;

	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int used_by_a_client(void)
{
	return fcntl(LAUNCH_FD_REPORT, F_GETFD) >= 0 &&
	       fcntl(LAUNCH_FD_RELEASE, F_GETFD) >= 0 &&
	       fcntl(LAUNCH_FD_LOG, F_GETFD) >= 0;
}

int main(int argc, char **argv)
{
	pid_t pod;
	int pidfd;

	if (!used_by_a_client()) {
		fputs(LAUNCH_MONITOR_NAME ": a helper of libinsomnia, "
		                          "started by it; not for direct use\n",
		      stderr);
		return 64;
	}
	reset_signals();
	compat_close_from(LAUNCH_FD_LOG + 1);
	fcntl(LAUNCH_FD_REPORT, F_SETFL, O_NONBLOCK);
	if (argc < 5 || strcmp(argv[1], LAUNCH_PROTO_VERSION) != 0)
		fail(LAUNCH_STEP_ARGS, EINVAL);
	start_log_watcher();
	pod = start_pod(argv[2], argv[3], argv + 4);
	pidfd = follow(pod);
	report(LAUNCH_MSG_PID, pod, 0);
	wait_pod(pod, pidfd);
	return 0;
}
