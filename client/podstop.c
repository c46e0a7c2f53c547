/* podstop.c: request, SIGTERM, SIGKILL, each waited for on a pidfd. */
#include "podstop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "podlist.h"
#include "proto.h"
#include "rundir.h"
#include "unixsock.h"

const char *pod_stop_how_name(enum pod_stop_how how)
{
	static const char *const names[] = {"request", "sigterm", "sigkill"};
	return names[how];
}

/* 1 when the process behind pidfd exited within ms, else 0. */
static int exited_within(int pidfd, int ms)
{
	struct pollfd pfd = {pidfd, POLLIN, 0};
	int rc;

	do
		rc = poll(&pfd, 1, ms);
	while (rc < 0 && errno == EINTR);
	return rc > 0;
}

/* Best effort: a pod that does not speak our protocol just ignores it. */
static void request_shutdown(const char *socket, int grace_ms)
{
	struct timeval tv = {grace_ms / 1000, (grace_ms % 1000) * 1000};
	json_t *result = NULL;
	int fd;

	if (unixsock_connect(socket, &fd, NULL) < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	proto_call(fd, 1, "shutdown", NULL, &result, NULL);
	json_decref(result);
	close(fd);
}

/* A pod killed by SIGKILL cleaned nothing; its lock is free now. */
static void clean_after_kill(int rootfd, const char *name)
{
	int dirfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int lockfd;

	if (dirfd < 0)
		return;
	lockfd = openat(dirfd, RUNDIR_LOCK, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (lockfd >= 0 && flock(lockfd, LOCK_EX | LOCK_NB) == 0)
		rundir_remove_leftovers(dirfd);
	if (lockfd >= 0)
		close(lockfd);
	close(dirfd);
}

/* Escalate until the pod is gone. */
static int escalate(int pidfd, const struct pod_info *info, int grace_ms,
                    enum pod_stop_how *how)
{
	pid_t group = info->pgid > 0 ? info->pgid : info->pid;

	request_shutdown(info->socket, grace_ms);
	*how = POD_STOPPED_BY_REQUEST;
	if (exited_within(pidfd, grace_ms))
		return 0;
	syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0);
	kill(-group, SIGTERM);
	*how = POD_STOPPED_BY_TERM;
	if (exited_within(pidfd, grace_ms))
		return 0;
	kill(-group, SIGKILL);
	syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	*how = POD_STOPPED_BY_KILL;
	return exited_within(pidfd, grace_ms) ? 0 : -1;
}

int pod_stop(const char *name, int grace_ms, enum pod_stop_how *how, pid_t *pid,
             struct error *err)
{
	char root[PATHS_MAX];
	struct pod_info info;
	int rootfd, pidfd = -1, rc = -1;

	if (podname_check(name, err) < 0)
		return -1;
	rootfd = rundir_open_root(false, root, sizeof root, err);
	if (rootfd < 0 && err && err->errnum == ENOENT)
		return error_set(err, ERR_NOT_RUNNING,
		                 "pod %s is not running (no runtime dir %s)",
		                 name, root);
	if (rootfd < 0)
		return -1;
	if (podlist_read(rootfd, root, name, &info, err) < 0)
		goto out;
	if (!info.alive) {
		error_set(err, ERR_NOT_RUNNING, "pod %s is not running", name);
		goto out;
	}
	if (info.pid <= 0 ||
	    (pidfd = (int)syscall(SYS_pidfd_open, info.pid, 0)) < 0) {
		error_set(err, ERR_NOT_RUNNING,
		          "pod %s holds its lock but has no live pid to stop",
		          name);
		goto out;
	}
	*pid = info.pid;
	if (escalate(pidfd, &info, grace_ms, how) < 0) {
		error_set(err, ERR_TIMEOUT,
		          "pod %s (pid %ld) survived SIGKILL for %d ms", name,
		          (long)info.pid, grace_ms);
		goto out;
	}
	if (*how == POD_STOPPED_BY_KILL)
		clean_after_kill(rootfd, name);
	rc = 0;
out:
	if (pidfd >= 0)
		close(pidfd);
	close(rootfd);
	return rc;
}
