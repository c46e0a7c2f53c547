/* podstop.c: request, SIGTERM, SIGKILL, each step ended by the pod's exit
 * (its pidfd) or the step's deadline, in one poll loop. */
#include <insomnia/stop.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "podlist.h"
#include "deadline.h"
#include "fdio.h"
#include <insomnia/pods.h>
#include "procsig.h"
#include "proto.h"
#include "rundir.h"
#include "unixsock.h"

/* Replies to shutdown are one short line; more is not our protocol. */
#define REPLY_MAX 4096

/* One stop in progress.  The request's connection lives only during the
 * request step; sock is -1 once the pod answered, refused or hung up. */
struct stop {
	int pidfd;
	pid_t pid;
	enum insomnia_stop_how how; /* the step we are in */
	int64_t deadline;
	int sock;
	char *out; /* the request line */
	size_t out_len, out_done;
	char in[REPLY_MAX];
	size_t in_len;
};

enum wait_result { WAIT_EXITED, WAIT_DEADLINE, WAIT_FAILED };

const char *insomnia_stop_how_name(enum insomnia_stop_how how)
{
	static const char *const names[] = {"request", "sigterm", "sigkill"};
	return names[how];
}

/* The request is over.  An answer that is not "I am stopping" (none at
 * all, an error, a hang-up) ends its grace at once: nothing more is
 * coming, and waiting longer would only delay SIGTERM. */
static void end_request(struct stop *st, bool accepted)
{
	if (st->sock >= 0)
		close(st->sock);
	st->sock = -1;
	if (!accepted)
		st->deadline = deadline_in(0);
}

/* Connect and queue the request; a pod that cannot be asked (no socket,
 * refused, busy) has answered no. */
static void start_request(struct stop *st, const char *socket)
{
	st->out = proto_request_line(1, "shutdown", NULL, &st->out_len);
	if (!st->out ||
	    unixsock_connect_nonblock(socket, &st->sock, NULL) < 0) {
		st->sock = -1;
		end_request(st, false);
	}
}

static void send_request(struct stop *st)
{
	ssize_t n;

	do
		n = send(st->sock, st->out + st->out_done,
		         st->out_len - st->out_done, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN)
		end_request(st, false);
	else if (n > 0)
		st->out_done += (size_t)n;
}

/* A whole reply line: a result means the pod is stopping. */
static void judge_reply(struct stop *st, size_t len)
{
	json_t *result = NULL;
	int rc = proto_parse_response(st->in, len, NULL, &result, NULL);

	json_decref(result);
	end_request(st, rc == 0);
}

static void read_reply(struct stop *st)
{
	char *nl;
	ssize_t n;

	do
		n = recv(st->sock, st->in + st->in_len,
		         sizeof st->in - st->in_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) { /* EOF or ECONNRESET before a reply */
		end_request(st, false);
		return;
	}
	st->in_len += (size_t)n;
	if ((nl = memchr(st->in, '\n', st->in_len)))
		judge_reply(st, (size_t)(nl - st->in));
	else if (st->in_len == sizeof st->in)
		end_request(st, false);
}

static void talk(struct stop *st, short revents)
{
	if (st->out_done < st->out_len && (revents & POLLOUT))
		send_request(st);
	else if (revents & (POLLIN | POLLHUP | POLLERR))
		read_reply(st);
}

/* Until the pod exits or the step's deadline passes, serving the
 * request's connection meanwhile. */
static enum wait_result wait_step(struct stop *st)
{
	struct pollfd fds[2];
	int n;

	for (;;) {
		fds[0] = (struct pollfd){st->pidfd, POLLIN, 0};
		fds[1] = (struct pollfd){
		    st->sock, st->out_done < st->out_len ? POLLOUT : POLLIN, 0};
		n = poll(fds, st->sock >= 0 ? 2 : 1,
		         deadline_left_ms(st->deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return WAIT_FAILED; /* ENOMEM: nothing is known */
		if (fds[0].revents)
			return WAIT_EXITED;
		if (n == 0)
			return WAIT_DEADLINE;
		talk(st, fds[1].revents);
	}
}

/* Enter step how: signal (the pod's group only when it leads it, see
 * procsig.h) and set the step's deadline. */
static void enter_step(struct stop *st, enum insomnia_stop_how how, int wait_ms)
{
	end_request(st, true);
	st->how = how;
	procsig_send(st->pidfd, st->pid,
	             how == INSOMNIA_STOPPED_BY_TERM ? SIGTERM : SIGKILL, NULL);
	st->deadline = deadline_in(wait_ms);
}

static int poll_failed(struct insomnia_error *err)
{
	return error_set_errno(err, INSOMNIA_ERR_INTERNAL, errno,
	                       "cannot wait for its exit");
}

/* The last step: SIGKILL, then the kernel has INSOMNIA_STOP_KILL_WAIT_MS. */
static int kill_pod(struct stop *st, struct insomnia_error *err)
{
	enum wait_result r;

	enter_step(st, INSOMNIA_STOPPED_BY_KILL, INSOMNIA_STOP_KILL_WAIT_MS);
	r = wait_step(st);
	if (r == WAIT_DEADLINE)
		return error_set(err, INSOMNIA_ERR_TIMEOUT,
		                 "pid %ld survived SIGKILL for %d ms",
		                 (long)st->pid, INSOMNIA_STOP_KILL_WAIT_MS);
	return r == WAIT_EXITED ? 0 : poll_failed(err);
}

/* Escalate until the pod is gone: 0, or -1 with err. */
static int escalate(struct stop *st, const char *socket, int grace_ms,
                    struct insomnia_error *err)
{
	enum wait_result r;

	if (grace_ms == 0)
		return kill_pod(st, err);
	st->how = INSOMNIA_STOPPED_BY_REQUEST;
	st->deadline = deadline_in(grace_ms);
	start_request(st, socket);
	if ((r = wait_step(st)) != WAIT_DEADLINE)
		return r == WAIT_EXITED ? 0 : poll_failed(err);
	enter_step(st, INSOMNIA_STOPPED_BY_TERM, grace_ms);
	if ((r = wait_step(st)) != WAIT_DEADLINE)
		return r == WAIT_EXITED ? 0 : poll_failed(err);
	return kill_pod(st, err);
}

/* A pod killed by SIGKILL cleaned nothing; its lock is free now.  A new
 * pod that took it meanwhile keeps its files (rundir_remove_leftovers
 * removes only while holding `lock` itself). */
static void clean_after_kill(int dirfd)
{
	/* takes the spawn lock and the pod's lock itself; a spawn in
	 * progress is left to clean up for itself */
	rundir_remove_leftovers(dirfd);
}

/* Does the process behind pidfd hold the dir's `lock` open?  A held lock
 * alone proves nothing about `pid`: a reaper or a spawner holds it for a
 * moment while a dead pod's pid file still stands (its number perhaps a
 * stranger's by now), and a new pod holds it before it writes its pid. */
static bool holds_lock(int dirfd, int pidfd, pid_t pid)
{
	struct stat st;

	return fstatat(dirfd, RUNDIR_LOCK, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) &&
	       procsig_has_open(pidfd, pid, st.st_dev, st.st_ino);
}

static int pidfd_of(const struct insomnia_pod_info *info,
                    struct insomnia_error *err)
{
	int pidfd = info->pid > 0 ? procsig_pidfd_open(info->pid) : -1;

	if (pidfd < 0 && info->pid > 0 && errno == ENOSYS)
		return error_set_errno(err, INSOMNIA_ERR_INTERNAL, errno,
		                       "cannot watch pod %s: pidfd_open needs "
		                       "Linux 5.3 or later",
		                       info->name);
	if (pidfd < 0)
		return error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		                 "pod %s holds its lock but has no live pid "
		                 "to stop",
		                 info->name);
	return pidfd;
}

/* A pidfd for the pod: opened, then the lock found still held, and held
 * by that very process, so the pid had not been handed to another. */
static int open_pod(int dirfd, const struct insomnia_pod_info *info,
                    struct insomnia_error *err)
{
	int pidfd = pidfd_of(info, err);
	int live;

	if (pidfd < 0)
		return -1;
	live = rundir_is_live(dirfd, err);
	if (live == 1 && holds_lock(dirfd, pidfd, info->pid))
		return pidfd;
	close(pidfd);
	if (live == 1)
		error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		          "pod %s holds its lock but pid %ld is not the "
		          "process holding it",
		          info->name, (long)info->pid);
	else if (live == 0)
		error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		          "pod %s is not running", info->name);
	return -1;
}

static int stop_pod(int dirfd, const struct insomnia_pod_info *info,
                    int grace_ms, enum insomnia_stop_how *how,
                    struct insomnia_error *err)
{
	struct stop st = {.sock = -1, .pid = info->pid};
	int rc = -1;

	st.pidfd = open_pod(dirfd, info, err);
	if (st.pidfd < 0)
		return -1;
	if (escalate(&st, info->socket, grace_ms, err) < 0) {
		error_prefix(err, "pod %s", info->name);
		goto out;
	}
	*how = st.how;
	if (st.how == INSOMNIA_STOPPED_BY_KILL)
		clean_after_kill(dirfd);
	rc = 0;
out:
	end_request(&st, true);
	free(st.out);
	close(st.pidfd);
	return rc;
}

int insomnia_stop(const char *name, int grace_ms, enum insomnia_stop_how *how,
                  pid_t *pid, struct insomnia_error *err)
{
	char root[INSOMNIA_PATH_MAX];
	struct insomnia_pod_info info;
	int rootfd, dirfd = -1, rc = -1;

	if (insomnia_name_check(name, err) < 0)
		return -1;
	if (grace_ms < 0)
		return error_set(err, INSOMNIA_ERR_USAGE,
		                 "negative grace %d ms", grace_ms);
	rootfd = rundir_open_root(false, root, sizeof root, err);
	if (rootfd < 0 && err && err->errnum == ENOENT)
		return error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		                 "pod %s is not running (no runtime dir %s)",
		                 name, root);
	if (rootfd < 0)
		return -1;
	if (podlist_read(rootfd, root, name, &info, err) < 0)
		goto out;
	if (!info.alive) {
		error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		          "pod %s is not running", name);
		goto out;
	}
	dirfd = openat(rootfd, name,
	               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0) {
		error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		          "pod %s is not running", name);
		goto out;
	}
	*pid = info.pid;
	rc = stop_pod(dirfd, &info, grace_ms, how, err);
out:
	if (dirfd >= 0)
		close(dirfd);
	close(rootfd);
	return rc;
}
