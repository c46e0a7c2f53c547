/* launch.c: starting the launch monitor and reading its reports. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "childstart.h"
#include "deadline.h"
#include "fdio.h"

#ifndef INSOMNIA_LAUNCH_MONITOR_PATH
#define INSOMNIA_LAUNCH_MONITOR_PATH                                           \
	"/usr/local/libexec/insomnia/" LAUNCH_MONITOR_NAME
#endif

extern char **environ;

/* Beside the running program (podctl in a build tree has it there). */
static bool beside_self(char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (n <= 0)
		return false;
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return false;
	*slash = '\0';
	return snprintf(buf, size, "%s/%s", self, LAUNCH_MONITOR_NAME) <
	           (int)size &&
	       access(buf, X_OK) == 0;
}

const char *launch_monitor_path(char *buf, size_t size)
{
	const char *env = getenv("INSOMNIA_LAUNCH_MONITOR");

	if (env && env[0])
		return env;
	if (beside_self(buf, size))
		return buf;
	return INSOMNIA_LAUNCH_MONITOR_PATH;
}

/* ---- starting the monitor ------------------------------------------ */

/* argv: name, protocol version, cwd ("" for ours), path, pod argv. */
static char **monitor_argv(const struct launch_spec *spec)
{
	size_t n = 0;
	char **argv;

	while (spec->argv[n])
		n++;
	argv = calloc(n + 5, sizeof *argv);
	if (!argv)
		return NULL;
	argv[0] = (char *)LAUNCH_MONITOR_NAME;
	argv[1] = (char *)LAUNCH_PROTO_VERSION;
	argv[2] = (char *)(spec->cwd ? spec->cwd : "");
	argv[3] = (char *)spec->path;
	memcpy(argv + 4, spec->argv, n * sizeof *argv);
	return argv;
}

/* Is entry ("NAME=value") the variable that set ("NAME=...") sets? */
static bool same_name(const char *entry, const char *set)
{
	size_t len = strcspn(set, "=");

	return strncmp(entry, set, len) == 0 && entry[len] == '=';
}

static bool overridden(const char *entry, char *const *env)
{
	for (size_t i = 0; env && env[i]; i++)
		if (same_name(entry, env[i]))
			return true;
	return false;
}

/* The caller's environment with spec->env set over it: an array of
 * pointers only (the strings stay the caller's), malloc'd. */
static char **monitor_envp(const struct launch_spec *spec)
{
	size_t n = 0, extra = 0, used = 0;
	char **envp;

	while (environ[n])
		n++;
	while (spec->env && spec->env[extra])
		extra++;
	envp = calloc(n + extra + 1, sizeof *envp);
	if (!envp)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!overridden(environ[i], spec->env))
			envp[used++] = environ[i];
	memcpy(envp + used, spec->env, extra * sizeof *envp);
	return envp;
}

/* fds 0-2 on /dev/null, ours at 3-5, nothing else; a session of its own
 * (a Ctrl-C meant for the client's group must not kill it), default
 * signals and none blocked whatever the client did.  No death signal:
 * the client's thread may end before the monitor is released. */
static int spawn_monitor(const struct launch_spec *spec, const int *fds,
                         pid_t *pid, struct insomnia_error *err)
{
	char buf[PATH_MAX];
	const char *path = launch_monitor_path(buf, sizeof buf);
	char **argv = monitor_argv(spec), **envp = monitor_envp(spec);
	struct childstart_spec cs = {
	    .path = path,
	    .argv = argv,
	    .envp = envp,
	    .fds = fds,
	    .nfds = LAUNCH_FD_LOG + 1,
	    .group = CHILDSTART_NEW_SESSION,
	};
	int rc;

	if (!argv || !envp) {
		free(argv);
		free(envp);
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	}
	rc = childstart(&cs, pid, NULL, NULL, err);
	free(argv);
	free(envp);
	if (rc < 0)
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_LAUNCH_FAILED, err->errnum,
		    "cannot start the launch monitor %s "
		    "(INSOMNIA_LAUNCH_MONITOR "
		    "overrides its path)",
		    path);
	return 0;
}

/* ---- its reports ---------------------------------------------------- */

int launch_failed(const struct launch_spec *spec, const struct launch_msg *msg,
                  struct insomnia_error *err)
{
	int e = msg->value;

	switch (msg->step) {
	case LAUNCH_STEP_CHDIR:
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_LAUNCH_FAILED, e,
		    "cannot use working directory %s",
		    spec->cwd ? spec->cwd : ".");
	case LAUNCH_STEP_EXEC:
		return insomnia_error_set_errno(err, INSOMNIA_ERR_LAUNCH_FAILED,
		                                e, "cannot execute %s",
		                                spec->path);
	case LAUNCH_STEP_PIDFD:
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_LAUNCH_FAILED, e,
		    "cannot follow the pod's exit: pidfd_open "
		    "(Linux 5.3 or later is needed)");
	case LAUNCH_STEP_INOTIFY:
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_LAUNCH_FAILED, e,
		    "cannot watch the pod's stderr.log");
	case LAUNCH_STEP_FORK:
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_LAUNCH_FAILED, e,
		    "the launch monitor cannot fork");
	case LAUNCH_STEP_WAIT:
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_INTERNAL, e,
		    "the launch monitor lost the pod");
	default:
		return insomnia_error_set(
		    err, INSOMNIA_ERR_LAUNCH_FAILED,
		    "the launch monitor does not match this library "
		    "(protocol %s)",
		    LAUNCH_PROTO_VERSION);
	}
}

/* The monitor ended without a word: say how. */
static int monitor_died(struct launch *l, struct insomnia_error *err)
{
	int status = 0;
	pid_t pid = l->monitor;

	l->monitor = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		return insomnia_error_set(
		    err, INSOMNIA_ERR_LAUNCH_FAILED,
		    "the launch monitor was killed by signal %d",
		    WTERMSIG(status));
	return insomnia_error_set(
	    err, INSOMNIA_ERR_LAUNCH_FAILED,
	    "the launch monitor exited (status %d) without "
	    "starting the pod",
	    WEXITSTATUS(status));
}

/* The first report that counts: the pid, or why there is none.  Log
 * reports may come first (the pod writes before the monitor reports);
 * the caller reads the log once after this anyway. */
static int first_report(const struct launch_spec *spec, struct launch *l,
                        struct insomnia_error *err)
{
	struct launch_msg msg;
	int rc;

	while ((rc = launch_wait_msg(l, &msg, -1)) > 0 &&
	       msg.type == LAUNCH_MSG_LOG)
		;
	if (rc > 0 && msg.type == LAUNCH_MSG_PID && msg.value > 0) {
		l->pod = msg.value;
		return 0;
	}
	if (rc > 0 && msg.type == LAUNCH_MSG_FAILED)
		launch_failed(spec, &msg, err);
	else if (rc == 0)
		monitor_died(l, err);
	else
		insomnia_error_set_errno(
		    err, INSOMNIA_ERR_LAUNCH_FAILED, rc < 0 ? errno : 0,
		    "unexpected report from the launch monitor");
	launch_release(l);
	return -1;
}

int launch_start(const struct launch_spec *spec, struct launch *out,
                 struct insomnia_error *err)
{
	int report[2] = {-1, -1}, release[2] = {-1, -1};
	int fds[LAUNCH_FD_LOG + 1] = {-1, -1, -1, -1, -1, -1};
	int rc = -1;

	*out = (struct launch){0, 0, -1, -1};
	/* release is a socket pair: a monitor gone before the client
	 * writes to it means EPIPE, never a SIGPIPE to the client */
	if (pipe2(report, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, release) < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_LAUNCH_FAILED, errno,
		                         "cannot create pipes");
		goto out;
	}
	fds[LAUNCH_FD_REPORT] = report[1];
	fds[LAUNCH_FD_RELEASE] = release[0];
	fds[LAUNCH_FD_LOG] = spec->stderr_fd;
	if ((rc = spawn_monitor(spec, fds, &out->monitor, err)) < 0)
		goto out;
	fcntl(report[0], F_SETFL, O_NONBLOCK);
	out->report_fd = report[0];
	out->release_fd = release[1];
	report[0] = release[1] = -1;
	rc = first_report(spec, out, err);
out:
	for (int i = 0; i < 2; i++) {
		if (report[i] >= 0)
			close(report[i]);
		if (release[i] >= 0)
			close(release[i]);
	}
	return rc;
}

int launch_read_msg(const struct launch *l, struct launch_msg *msg)
{
	ssize_t n = fd_read_some(l->report_fd, msg, sizeof *msg);

	if (n == (ssize_t)sizeof *msg)
		return 1;
	if (n == 0)
		return 0;
	if (n > 0) /* cannot happen below PIPE_BUF: a broken monitor */
		errno = EPROTO;
	return -1;
}

int launch_wait_msg(const struct launch *l, struct launch_msg *msg,
                    int timeout_ms)
{
	struct pollfd pfd = {l->report_fd, POLLIN, 0};
	int64_t end = deadline_in(timeout_ms);
	int n;

	for (;;) {
		int rc = launch_read_msg(l, msg);
		if (rc >= 0 || errno != EAGAIN)
			return rc;
		n = poll(&pfd, 1, timeout_ms < 0 ? -1 : deadline_left_ms(end));
		if (n < 0 && errno != EINTR)
			return -1;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

int launch_signal(const struct launch *l, int sig)
{
	unsigned char byte = (unsigned char)sig;
	ssize_t n;

	if (l->release_fd < 0 || sig <= 0 || sig > 255) {
		errno = EINVAL;
		return -1;
	}
	do
		n = send(l->release_fd, &byte, 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

void launch_release(struct launch *l)
{
	if (l->release_fd >= 0) {
		close(l->release_fd);
		l->release_fd = -1;
	}
	if (l->report_fd >= 0) {
		close(l->report_fd);
		l->report_fd = -1;
	}
	if (l->monitor > 0) {
		/* the monitor exits at once on release, and has then let the
		 * pod go (re-parented); a caller that reaps every child
		 * itself, or ignores SIGCHLD, makes this ECHILD: also gone */
		while (waitpid(l->monitor, NULL, 0) < 0 && errno == EINTR)
			;
		l->monitor = 0;
	}
}
