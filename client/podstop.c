/* podstop.c: request, SIGTERM, SIGKILL as one state machine in a libevent
 * loop: the caller's (insomnia_stop_start) or a private one (insomnia_stop).
 *
 *   LOOKUP --(grace 0)--------------------------------> KILL
 *   LOOKUP --> ASKING --(reply: yes)--> WAITING --(grace over)--> TERM
 *              ASKING --(no answer / no / hang-up)----------------> TERM
 *              ASKING --(grace over)------------------------------> TERM
 *   TERM --(grace over)--> KILL --(kill wait over)--> DONE (timeout)
 *   any step --(pidfd readable: the pod exited)--> DONE
 *
 * Every step ends on an event: the pod's pidfd, the request's socket,
 * or the step's timer.  Nothing blocks the loop. */
#include <insomnia/stop.h>

#include <errno.h>
#include <event2/event.h>
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
#include "podkill.h"
#include "procsig.h"
#include "proto.h"
#include "rundir.h"
#include "unixsock.h"
#include <insomnia/pods.h>

/* Replies to shutdown are one short line; more is not our protocol. */
#define REPLY_MAX 4096

enum stop_phase {
	STOP_LOOKUP,  /* the loop's first turn will find the pod */
	STOP_ASKING,  /* request being sent or its reply awaited */
	STOP_WAITING, /* the pod said yes: the rest of the grace to exit */
	STOP_TERM,    /* SIGTERM sent, a grace running */
	STOP_KILL,    /* SIGKILL sent, INSOMNIA_STOP_KILL_WAIT_MS running */
	STOP_DONE,    /* torn down; inside the done callback */
};

struct insomnia_stop {
	struct event_base *base;
	insomnia_stop_done_fn done;
	void *arg;
	int grace_ms;
	enum stop_phase phase;
	struct insomnia_stop_result res;
	char socket[INSOMNIA_PATH_MAX];
	int dirfd, pidfd, sock;
	/* ev_timer is the step's timer; ev_exit the pidfd; ev_sock the
	 * request's connection (ASKING only) */
	struct event *ev_timer, *ev_exit, *ev_sock;
	char *out; /* the request line */
	size_t out_len, out_done;
	char in[REPLY_MAX];
	size_t in_len;
};

const char *insomnia_stop_how_name(enum insomnia_stop_how how)
{
	static const char *const names[] = {"request", "sigterm", "sigkill"};

	if ((unsigned)how >= sizeof names / sizeof names[0])
		return "unknown";
	return names[how];
}

/* ---- teardown and the end ----------------------------------------- */

static void free_event(struct event **ev)
{
	if (*ev) {
		event_free(*ev);
		*ev = NULL;
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* The request is over, whatever its outcome. */
static void end_request(struct insomnia_stop *st)
{
	free_event(&st->ev_sock);
	close_fd(&st->sock);
	free(st->out);
	st->out = NULL;
}

/* Events first: a descriptor number freed here may be reused at once by
 * a stop started from the done callback. */
static void stop_teardown(struct insomnia_stop *st)
{
	end_request(st);
	free_event(&st->ev_timer);
	free_event(&st->ev_exit);
	close_fd(&st->pidfd);
	close_fd(&st->dirfd);
}

/* The one exit of a started stop: everything is released before done
 * runs, so done may start anything; the struct lives until it returns so
 * that a cancel from inside done finds STOP_DONE. */
static void finish(struct insomnia_stop *st, const struct insomnia_error *err)
{
	stop_teardown(st);
	st->phase = STOP_DONE;
	st->done(&st->res, err, st->arg);
	free(st);
}

static void fail_internal(struct insomnia_stop *st, const char *what)
{
	struct insomnia_error err;

	insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL, "pod %s: %s",
	                   st->res.name, what);
	finish(st, &err);
}

/* A pod killed by SIGKILL cleaned nothing; its lock is free now.  A new
 * pod that took it meanwhile keeps its files: rundir_remove_leftovers
 * removes only while holding `lock` itself, and leaves a spawn in
 * progress to clean up for itself. */
static void exited(struct insomnia_stop *st)
{
	static const enum insomnia_stop_how by_phase[] = {
	    /* grace 0: gone before its SIGKILL, still SIGKILL's case */
	    [STOP_LOOKUP] = INSOMNIA_STOPPED_BY_KILL,
	    [STOP_ASKING] = INSOMNIA_STOPPED_BY_REQUEST,
	    [STOP_WAITING] = INSOMNIA_STOPPED_BY_REQUEST,
	    [STOP_TERM] = INSOMNIA_STOPPED_BY_TERM,
	    [STOP_KILL] = INSOMNIA_STOPPED_BY_KILL,
	};

	st->res.how = by_phase[st->phase];
	if (st->phase == STOP_KILL)
		rundir_remove_leftovers(st->dirfd);
	finish(st, NULL);
}

/* Has the pod exited already?  Checked before each escalation, so an exit
 * that raced the timer is reported as the step that earned it, and no
 * signal goes to a zombie. */
static bool has_exited(const struct insomnia_stop *st)
{
	struct pollfd p = {st->pidfd, POLLIN, 0};

	return poll(&p, 1, 0) == 1;
}

/* ---- the steps ------------------------------------------------------ */

static int arm_timer(struct insomnia_stop *st, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	return evtimer_add(st->ev_timer, &tv);
}

/* Signal through the library's one group kill (podkill.h): the pod's
 * group only while the live pod leads it, else the pod alone by its
 * pidfd; a pod that exited since has_exited() looked gets nothing, only
 * what is left of the session and group it led (podkill.h) does, as
 * after a spawn's or a reap's kill.  Then start the step's timer. */
static void signal_step(struct insomnia_stop *st, enum stop_phase phase,
                        int sig, int wait_ms)
{
	end_request(st);
	if (has_exited(st)) {
		exited(st);
		return;
	}
	st->phase = phase;
	podkill_signal(&(struct podkill){st->res.pid, st->pidfd, NULL, false},
	               sig);
	if (arm_timer(st, wait_ms) < 0)
		fail_internal(st, "cannot arm a timer");
}

static void enter_term(struct insomnia_stop *st)
{
	signal_step(st, STOP_TERM, SIGTERM, st->grace_ms);
}

static void enter_kill(struct insomnia_stop *st)
{
	signal_step(st, STOP_KILL, SIGKILL, INSOMNIA_STOP_KILL_WAIT_MS);
}

/* The pod said yes: the request's timer keeps running, so the grace is
 * counted from the request, not from the reply. */
static void enter_waiting(struct insomnia_stop *st)
{
	end_request(st);
	st->phase = STOP_WAITING;
}

static void kill_wait_over(struct insomnia_stop *st)
{
	struct insomnia_error err;

	if (has_exited(st)) {
		exited(st);
		return;
	}
	insomnia_error_set(&err, INSOMNIA_ERR_TIMEOUT,
	                   "pod %s: pid %ld survived SIGKILL for %d ms",
	                   st->res.name, (long)st->res.pid,
	                   INSOMNIA_STOP_KILL_WAIT_MS);
	finish(st, &err);
}

/* ---- the request's connection ---------------------------------------- */

static void on_sock(evutil_socket_t fd, short what, void *arg);

static int watch_sock(struct insomnia_stop *st, short what)
{
	free_event(&st->ev_sock);
	st->ev_sock =
	    event_new(st->base, st->sock, what | EV_PERSIST, on_sock, st);
	return st->ev_sock ? event_add(st->ev_sock, NULL) : -1;
}

/* 1 sent whole, 0 more to send, -1 the pod hung up. */
static int send_request(struct insomnia_stop *st)
{
	ssize_t n;

	do
		n = send(st->sock, st->out + st->out_done,
		         st->out_len - st->out_done, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	st->out_done += (size_t)n;
	return st->out_done == st->out_len;
}

enum reply { REPLY_MORE, REPLY_YES, REPLY_NO };

/* A whole reply line: a result means the pod is stopping. */
static enum reply judge_reply(struct insomnia_stop *st, size_t len)
{
	json_t *result = NULL;
	int rc = proto_parse_response(st->in, len, NULL, &result, NULL);

	json_decref(result);
	return rc == 0 ? REPLY_YES : REPLY_NO;
}

static enum reply read_reply(struct insomnia_stop *st)
{
	char *nl;
	ssize_t n;

	do
		n = recv(st->sock, st->in + st->in_len,
		         sizeof st->in - st->in_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return REPLY_MORE;
	if (n <= 0) /* EOF or ECONNRESET before a reply */
		return REPLY_NO;
	st->in_len += (size_t)n;
	if ((nl = memchr(st->in, '\n', st->in_len)))
		return judge_reply(st, (size_t)(nl - st->in));
	return st->in_len == sizeof st->in ? REPLY_NO : REPLY_MORE;
}

/* Send what is left, then read the reply.  An answer that is not "I am
 * stopping" (none at all, an error, a hang-up) ends the grace at once:
 * nothing more is coming, and waiting longer would only delay SIGTERM. */
static void talk(struct insomnia_stop *st)
{
	int sent;
	enum reply r;

	if (st->out_done < st->out_len) {
		sent = send_request(st);
		if (sent < 0)
			enter_term(st);
		else if (sent == 1 && watch_sock(st, EV_READ) < 0)
			fail_internal(st, "cannot watch its socket");
		return;
	}
	r = read_reply(st);
	if (r == REPLY_YES)
		enter_waiting(st);
	else if (r == REPLY_NO)
		enter_term(st);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	talk(arg);
}

/* Connect without blocking and queue the request; a pod that cannot be
 * asked (no socket, refused, a full accept queue) has answered no. */
static void enter_asking(struct insomnia_stop *st)
{
	st->phase = STOP_ASKING;
	if (arm_timer(st, st->grace_ms) < 0) {
		fail_internal(st, "cannot arm a timer");
		return;
	}
	st->out = proto_request_line(1, "shutdown", NULL, &st->out_len);
	if (!st->out ||
	    unixsock_connect_nonblock(st->socket, &st->sock, NULL) < 0) {
		enter_term(st);
		return;
	}
	if (watch_sock(st, EV_WRITE) < 0)
		fail_internal(st, "cannot watch its socket");
}

/* ---- the events ------------------------------------------------------ */

static void lookup(struct insomnia_stop *st);

/* The step's time is up. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_stop *st = arg;

	(void)fd;
	(void)what;
	switch (st->phase) {
	case STOP_LOOKUP:
		lookup(st);
		break;
	case STOP_ASKING:
	case STOP_WAITING:
		enter_term(st);
		break;
	case STOP_TERM:
		enter_kill(st);
		break;
	case STOP_KILL:
		kill_wait_over(st);
		break;
	case STOP_DONE:
		break;
	}
}

/* The pod's pidfd is readable: it exited. */
static void on_exit_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	exited(arg);
}

/* ---- finding the pod ------------------------------------------------ */

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
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_INTERNAL, errno,
		    "cannot watch pod %s: pidfd_open needs "
		    "Linux 5.3 or later",
		    info->name);
	if (pidfd < 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_NOT_RUNNING,
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
		insomnia_error_set(
		    err, INSOMNIA_ERR_NOT_RUNNING,
		    "pod %s holds its lock but pid %ld is not the "
		    "process holding it",
		    info->name, (long)info->pid);
	else if (live == 0)
		insomnia_error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		                   "pod %s is not running", info->name);
	return -1;
}

/* The pod's dir and pidfd into st; -1 and err when it is not running. */
static int find_pod(struct insomnia_stop *st, struct insomnia_error *err)
{
	char root[INSOMNIA_PATH_MAX];
	struct insomnia_pod_info info;
	int rootfd, rc = -1;

	rootfd = rundir_open_root(false, root, sizeof root, err);
	if (rootfd < 0 && err->errnum == ENOENT)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_NOT_RUNNING,
		    "pod %s is not running (no runtime dir %s)", st->res.name,
		    root);
	if (rootfd < 0)
		return -1;
	if (podlist_read(rootfd, root, st->res.name, &info, err) < 0)
		goto out;
	if (!info.alive) {
		insomnia_error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		                   "pod %s is not running", st->res.name);
		goto out;
	}
	st->dirfd = openat(rootfd, st->res.name,
	                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (st->dirfd < 0) {
		insomnia_error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		                   "pod %s is not running", st->res.name);
		goto out;
	}
	st->res.pid = info.pid;
	st->pidfd = open_pod(st->dirfd, &info, err);
	if (st->pidfd >= 0) {
		memcpy(st->socket, info.socket, sizeof st->socket);
		rc = 0;
	}
out:
	close(rootfd);
	return rc;
}

/* The loop's first turn: find the pod, watch its exit, take the first
 * step. */
static void lookup(struct insomnia_stop *st)
{
	struct insomnia_error err;

	insomnia_error_clear(&err);
	if (find_pod(st, &err) < 0) {
		finish(st, &err);
		return;
	}
	st->ev_exit =
	    event_new(st->base, st->pidfd, EV_READ, on_exit_event, st);
	if (!st->ev_exit || event_add(st->ev_exit, NULL) < 0) {
		fail_internal(st, "cannot wait for its exit");
		return;
	}
	if (st->grace_ms == 0)
		enter_kill(st);
	else
		enter_asking(st);
}

/* ---- public entry points -------------------------------------------- */

struct insomnia_stop *insomnia_stop_start(struct event_base *base,
                                          const char *name, int grace_ms,
                                          insomnia_stop_done_fn done, void *arg,
                                          struct insomnia_error *err)
{
	struct insomnia_stop *st;

	if (!base || !done) {
		insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                   "no event base or callback");
		return NULL;
	}
	if (insomnia_name_check(name, err) < 0)
		return NULL;
	if (grace_ms < 0) {
		insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                   "negative grace %d ms", grace_ms);
		return NULL;
	}
	if (!(st = calloc(1, sizeof *st))) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	*st = (struct insomnia_stop){.base = base,
	                             .done = done,
	                             .arg = arg,
	                             .grace_ms = grace_ms,
	                             .phase = STOP_LOOKUP,
	                             .dirfd = -1,
	                             .pidfd = -1,
	                             .sock = -1};
	snprintf(st->res.name, sizeof st->res.name, "%s", name);
	/* the lookup runs on the loop's first turn, so done is never
	 * called from inside this function */
	st->ev_timer = evtimer_new(base, on_timer, st);
	if (!st->ev_timer || arm_timer(st, 0) < 0) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "cannot register events");
		stop_teardown(st);
		free(st);
		return NULL;
	}
	return st;
}

void insomnia_stop_cancel(struct insomnia_stop *s)
{
	if (!s || s->phase == STOP_DONE)
		return; /* from its own done callback: it is over */
	stop_teardown(s);
	free(s);
}

/* ---- the blocking stop: the same machine on a private loop ---------- */

struct blocking {
	struct insomnia_stop_result res;
	struct insomnia_error err;
	int rc;
};

static void blocking_done(const struct insomnia_stop_result *res,
                          const struct insomnia_error *err, void *arg)
{
	struct blocking *b = arg;

	b->res = *res;
	if (err)
		b->err = *err;
	b->rc = err ? -1 : 0;
}

int insomnia_stop(const char *name, int grace_ms, enum insomnia_stop_how *how,
                  pid_t *pid, struct insomnia_error *err)
{
	struct blocking b = {.rc = -1};
	struct event_base *base = event_base_new();

	if (!base)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "cannot create an event loop");
	insomnia_error_clear(&b.err);
	if (!insomnia_stop_start(base, name, grace_ms, blocking_done, &b,
	                         &b.err))
		b.rc = -1;
	else
		event_base_dispatch(base);
	event_base_free(base);
	if (b.rc < 0) {
		if (err)
			*err = b.err;
		return -1;
	}
	if (how)
		*how = b.res.how;
	if (pid)
		*pid = b.res.pid;
	return 0;
}
