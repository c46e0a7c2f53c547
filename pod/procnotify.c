/* procnotify.c: a process's NOTIFY_SOCKET (procnotify.h).
 *
 * The path of a datagram: read (at most DATAGRAM_MAX bytes, a bigger one
 * is cut by the kernel and dropped here), its descriptors closed at once,
 * its sender (from SO_PASSCRED, which the kernel fills in: a sender
 * cannot lie about its pid without privilege) checked against the run,
 * its lines checked, and only then its assignments handed to the hooks
 * in order.  A malformed datagram fires no hook at all.
 *
 * A callback reads at most BATCH_MAX datagrams: the socket is level
 * triggered, so the rest waits for the next turn of the loop, and a
 * process that floods its socket cannot starve the pod's other events.
 *
 * A sender is vouched for when its datagram is read, through /proc: a
 * helper that sent and exited at once (other than the run or its
 * MAINPID, known by pid alone) may be gone by then, and is dropped.
 * sd_notify_barrier(3) clients, systemd-notify(1) by default, wait for
 * the descriptor of their BARRIER=1 to be closed, which happens here
 * only after what they sent before it was read, so they stay to be
 * seen. */
#include "procnotify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proctree.h"
#include "safedir.h"
#include "utf8seq.h"

#define NOTIFY_DIR "notify"
/* sd_notify messages are a few short lines; systemd itself takes 4 KiB
 * of text less what credentials need. */
#define DATAGRAM_MAX 4096
#define BATCH_MAX    64
/* A datagram drained by procnotify_run(n, 0, NULL) is read this many at
 * most; what a live flooder sends meanwhile is dropped by the callback
 * (no run takes it). */
#define DRAIN_MAX  1024
#define STATUS_MAX 256
/* Descriptors closed per datagram; a datagram with more is dropped (the
 * kernel releases those that did not fit: MSG_CTRUNC). */
#define FDS_MAX 16
/* Parents walked from a sender towards the run: deeper is not ours. */
#define CHAIN_MAX 64

struct procnotify {
	struct event *ev;
	int fd;
	int pod_dirfd; /* ours: notify/ and the socket removed at the end */
	dev_t dev;     /* the socket file bound, so only it is removed */
	ino_t ino;
	bool dir_checked; /* notify/ was found safe (or made) */
	char *name;
	char *path;
	struct procnotify_hooks hooks;
	pid_t pid;     /* the run, 0: none */
	pid_t mainpid; /* announced by the run, 0: none */
	char token[PROCTREE_TOKEN_MAX];
	unsigned run; /* bumped by procnotify_run: a hook that starts or
	               * ends a run ends the datagram it was called from */
	size_t dropped;
	bool dispatching; /* inside on_readable: free is deferred */
	bool doomed;      /* procnotify_free was called meanwhile */
};

/* ---- the socket ---------------------------------------------------- */

/* Remove what a dead pod left at notify/<name>: a socket only.  A
 * symlink, a file or a directory there is someone's, and refused. */
static int remove_stale(int dirfd, const struct procnotify *n,
                        struct insomnia_error *err)
{
	struct stat st;

	if (fstatat(dirfd, n->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT
		           ? 0
		           : insomnia_error_set_errno(err, INSOMNIA_ERR_IO,
		                                      errno, "cannot use %s",
		                                      n->path);
	if (!S_ISSOCK(st.st_mode))
		return insomnia_error_set(err, INSOMNIA_ERR_IO,
		                          "cannot bind %s: something other "
		                          "than a socket is there",
		                          n->path);
	if (unlinkat(dirfd, n->name, 0) < 0 && errno != ENOENT)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "cannot remove the stale "
		                                "socket %s",
		                                n->path);
	return 0;
}

/* Bind through the checked directory's descriptor, never through a
 * path that could be swapped meanwhile.  The socket inode's mode, set
 * before bind, is the file's mode (less the umask): 0600 from the
 * start, with no moment when it is wider. */
static int bind_in(int dirfd, struct procnotify *n, struct insomnia_error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int on = 1, len;
	struct stat st;

	len = snprintf(addr.sun_path, sizeof addr.sun_path,
	               "/proc/self/fd/%d/%s", dirfd, n->name);

	/* a short dir with a long name: its own path fits (make_path) */
	if (len < 0 || (size_t)len >= sizeof addr.sun_path)
		snprintf(addr.sun_path, sizeof addr.sun_path, "%s", n->path);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0 ||
	    setsockopt(n->fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) < 0 ||
	    fchmod(n->fd, 0600) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "cannot make the socket %s",
		                                n->path);
	if (bind(n->fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "cannot bind %s", n->path);
	if (fstatat(dirfd, n->name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    ((st.st_mode & 07777) != 0600 &&
	     fchmodat(dirfd, n->name, 0600, 0) < 0)) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                         "cannot make %s mode 0600", n->path);
		unlinkat(dirfd, n->name, 0);
		return -1;
	}
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	return 0;
}

/* notify/ made or checked (0700, a real directory of ours), then the
 * socket bound in it. */
static int make_socket(struct procnotify *n, struct insomnia_error *err)
{
	char dir[PATH_MAX];
	int dirfd, rc;

	snprintf(dir, sizeof dir, "%.*s",
	         (int)(strlen(n->path) - strlen(n->name) - 1), n->path);
	dirfd = safedir_openat(n->pod_dirfd, NOTIFY_DIR, dir, true, err);
	if (dirfd < 0) {
		if (err)
			err->kind = INSOMNIA_ERR_IO;
		return -1;
	}
	n->dir_checked = true;
	rc = remove_stale(dirfd, n, err);
	if (rc == 0)
		rc = bind_in(dirfd, n, err);
	close(dirfd);
	return rc;
}

/* The path a process is given must fit sun_path as it is: sd_notify
 * connects to it by name. */
static int make_path(struct procnotify *n, const char *pod_dir,
                     const char *name, struct insomnia_error *err)
{
	struct sockaddr_un addr;

	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return insomnia_error_set(err, INSOMNIA_ERR_IO,
		                          "no notify socket for a process "
		                          "named \"%s\"",
		                          name);
	if (asprintf(&n->path, "%s/%s/%s", pod_dir, NOTIFY_DIR, name) < 0) {
		n->path = NULL;
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, ENOMEM,
		                                "cannot make a notify socket");
	}
	n->name = strdup(name);
	if (!n->name)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, ENOMEM,
		                                "cannot make a notify socket");
	if (pod_dir[0] != '/')
		return insomnia_error_set(err, INSOMNIA_ERR_IO,
		                          "notify socket %s is not an "
		                          "absolute path",
		                          n->path);
	if (strlen(n->path) >= sizeof addr.sun_path)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_IO,
		    "notify socket path too long for a Unix socket (%zu "
		    "bytes, at most %zu): %s",
		    strlen(n->path), sizeof addr.sun_path - 1, n->path);
	return 0;
}

/* ---- one datagram -------------------------------------------------- */

struct datagram {
	char text[DATAGRAM_MAX + 1]; /* room for a NUL after the last line */
	size_t len;
	bool creds; /* SCM_CREDENTIALS came */
	pid_t pid;
	uid_t uid;
	bool cut; /* MSG_TRUNC or MSG_CTRUNC */
	int fds[FDS_MAX];
	size_t nfds;
};

/* The sender's credentials, and the descriptors it sent, kept to be
 * closed once the datagram is handled. */
static void read_control(struct msghdr *msg, struct datagram *d)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
	     c = CMSG_NXTHDR(msg, c)) {
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
			struct ucred cred;
			memcpy(&cred, CMSG_DATA(c), sizeof cred);
			d->creds = true;
			d->pid = cred.pid;
			d->uid = cred.uid;
		} else if (c->cmsg_type == SCM_RIGHTS) {
			for (size_t i = 0; i < count && d->nfds < FDS_MAX; i++)
				memcpy(&d->fds[d->nfds++],
				       CMSG_DATA(c) + i * sizeof(int),
				       sizeof(int));
		}
	}
}

/* Closed only after the datagram was handled: sd_notify_barrier(3)
 * waits for this close, so its sender is still there to be checked. */
static void close_fds(struct datagram *d)
{
	for (size_t i = 0; i < d->nfds; i++)
		close(d->fds[i]);
	d->nfds = 0;
}

/* One datagram: 1, or 0 when none is left (or the socket fails: the
 * next turn of the loop tries again). */
static int receive(int fd, struct datagram *d)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
		         CMSG_SPACE(FDS_MAX * sizeof(int))];
	} control;
	struct iovec iov = {d->text, DATAGRAM_MAX};
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = control.buf,
	                     .msg_controllen = sizeof control.buf};
	ssize_t n;

	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return 0;
	d->creds = false;
	d->nfds = 0;
	read_control(&msg, d);
	d->len = (size_t)n;
	d->cut = msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC);
	return 1;
}

/* Lines of KEY=VALUE, KEY not empty; empty lines are allowed (a
 * trailing newline).  No NUL anywhere: it would cut a value short. */
static bool well_formed(const char *text, size_t len)
{
	const char *line = text, *end = text + len;

	if (memchr(text, '\0', len))
		return false;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *stop = nl ? nl : end;
		const char *eq = memchr(line, '=', (size_t)(stop - line));
		if (stop > line && (!eq || eq == line))
			return false;
		line = stop + 1;
	}
	return true;
}

/* Is pid the run, its MAINPID, or one of their descendants: its parent
 * chain reaches them (stopping at the pod, which is above the run), or
 * it carries the run's token (a double-forked daemon's parent is the
 * pod, a subreaper)? */
static bool is_ours(const struct procnotify *n, pid_t pid)
{
	pid_t self = getpid(), up = pid;

	if (n->pid <= 0 || pid <= 0 || pid == self)
		return false;
	for (int i = 0; i < CHAIN_MAX && up > 1 && up != self; i++) {
		if (up == n->pid || up == n->mainpid)
			return true;
		up = proctree_parent(up);
	}
	return n->token[0] && proctree_has_token(pid, n->token);
}

static bool sender_ok(const struct procnotify *n, const struct datagram *d)
{
	return d->creds && d->uid == geteuid() && is_ours(n, d->pid);
}

/* ---- the assignments ------------------------------------------------ */

typedef void assign_fn(struct procnotify *n, const char *value, pid_t sender);

static void hook0(struct procnotify *n, void (*hook)(void *), const char *value)
{
	/* "1" only: READY=0 or WATCHDOG=trigger mean something else */
	if (hook && !strcmp(value, "1"))
		hook(n->hooks.arg);
}

static void on_ready(struct procnotify *n, const char *value, pid_t sender)
{
	(void)sender;
	hook0(n, n->hooks.ready, value);
}

static void on_stopping(struct procnotify *n, const char *value, pid_t sender)
{
	(void)sender;
	hook0(n, n->hooks.stopping, value);
}

static void on_reloading(struct procnotify *n, const char *value, pid_t sender)
{
	(void)sender;
	hook0(n, n->hooks.reloading, value);
}

static void on_watchdog(struct procnotify *n, const char *value, pid_t sender)
{
	(void)sender;
	hook0(n, n->hooks.watchdog, value);
}

/* Cut on a character boundary where the text is UTF-8; other bytes
 * pass through (the caller escapes them). */
static void on_status(struct procnotify *n, const char *value, pid_t sender)
{
	char text[STATUS_MAX + 1];
	size_t len = utf8_cut(value, strlen(value), STATUS_MAX);

	(void)sender;
	memcpy(text, value, len);
	text[len] = '\0';
	if (n->hooks.status)
		n->hooks.status(n->hooks.arg, text);
}

/* Decimal, > 0, nothing else; 0 when not. */
static pid_t parse_pid(const char *value)
{
	char *end;
	long v;

	if (value[0] < '0' || value[0] > '9')
		return 0;
	errno = 0;
	v = strtol(value, &end, 10);
	return errno || *end || v <= 0 || v > INT_MAX ? 0 : (pid_t)v;
}

/* Honoured only for the sender or another process of the run: a
 * process may not point the pod at a stranger to watch. */
static void on_mainpid(struct procnotify *n, const char *value, pid_t sender)
{
	pid_t pid = parse_pid(value);

	if (pid <= 0 || (pid != sender && !is_ours(n, pid)))
		return;
	n->mainpid = pid;
	if (n->hooks.mainpid)
		n->hooks.mainpid(n->hooks.arg, pid);
}

static const struct {
	const char *key;
	assign_fn *fn;
} assignments[] = {
    {"READY", on_ready},         {"STATUS", on_status},
    {"MAINPID", on_mainpid},     {"STOPPING", on_stopping},
    {"RELOADING", on_reloading}, {"WATCHDOG", on_watchdog},
};

/* line is "KEY=VALUE" (well_formed); unknown keys are ignored. */
static void assign(struct procnotify *n, char *line, pid_t sender)
{
	char *eq = strchr(line, '=');

	*eq = '\0';
	for (size_t i = 0; i < sizeof assignments / sizeof assignments[0]; i++)
		if (!strcmp(line, assignments[i].key)) {
			assignments[i].fn(n, eq + 1, sender);
			return;
		}
}

/* Each line in order, until a hook starts another run or frees n. */
static void dispatch(struct procnotify *n, struct datagram *d)
{
	unsigned run = n->run;
	char *line = d->text, *end = d->text + d->len;

	while (line < end && n->run == run && !n->doomed) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *stop = nl ? nl : end;
		*stop = '\0';
		if (stop > line)
			assign(n, line, d->pid);
		line = stop + 1;
	}
}

/* ---- the loop ------------------------------------------------------- */

/* One datagram taken or dropped: false when none was left. */
static bool take_one(struct procnotify *n)
{
	struct datagram d;

	if (!receive(n->fd, &d))
		return false;
	if (d.cut || !well_formed(d.text, d.len) || !sender_ok(n, &d))
		n->dropped++;
	else
		dispatch(n, &d);
	close_fds(&d);
	return true;
}

static void destroy(struct procnotify *n)
{
	if (n->ev)
		event_free(n->ev);
	free(n->path);
	free(n->name);
	free(n);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct procnotify *n = arg;

	(void)fd;
	(void)what;
	n->dispatching = true;
	for (int i = 0; i < BATCH_MAX && !n->doomed && take_one(n); i++)
		;
	n->dispatching = false;
	if (n->doomed)
		destroy(n);
}

/* ---- the interface -------------------------------------------------- */

/* The socket closed and its file (only the one bound) removed, then
 * notify/ if no other process's socket is left in it. */
static void close_socket(struct procnotify *n)
{
	int dirfd = -1;
	struct stat st;

	if (n->ev)
		event_del(n->ev);
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	if (n->pod_dirfd < 0)
		return;
	if (n->ino)
		dirfd = openat(n->pod_dirfd, NOTIFY_DIR,
		               O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd >= 0 &&
	    fstatat(dirfd, n->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISSOCK(st.st_mode) && st.st_dev == n->dev && st.st_ino == n->ino)
		unlinkat(dirfd, n->name, 0);
	if (dirfd >= 0)
		close(dirfd);
	/* only one found safe, and only when empty: the others' sockets,
	 * or a file we refused to touch, keep it */
	if (n->dir_checked)
		unlinkat(n->pod_dirfd, NOTIFY_DIR, AT_REMOVEDIR);
	close(n->pod_dirfd);
	n->pod_dirfd = -1;
}

struct procnotify *procnotify_new(struct event_base *base, int pod_dirfd,
                                  const char *pod_dir, const char *name,
                                  const struct procnotify_hooks *hooks,
                                  struct insomnia_error *err)
{
	struct procnotify *n = calloc(1, sizeof *n);

	if (!n) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_IO, ENOMEM,
		                         "cannot make a notify socket");
		return NULL;
	}
	n->fd = -1;
	if (hooks)
		n->hooks = *hooks;
	n->pod_dirfd = fcntl(pod_dirfd, F_DUPFD_CLOEXEC, 0);
	if (n->pod_dirfd < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                         "cannot make a notify socket");
		goto fail;
	}
	if (make_path(n, pod_dir, name, err) < 0 || make_socket(n, err) < 0)
		goto fail;
	n->ev = event_new(base, n->fd, EV_READ | EV_PERSIST, on_readable, n);
	if (!n->ev || event_add(n->ev, NULL) < 0) {
		insomnia_error_set(err, INSOMNIA_ERR_IO,
		                   "cannot watch the socket %s", n->path);
		goto fail;
	}
	return n;
fail:
	close_socket(n);
	destroy(n);
	return NULL;
}

const char *procnotify_path(const struct procnotify *n)
{
	return n->path;
}

/* What the socket holds now, read and forgotten (not counted: nobody
 * refused it, its run is over). */
static void drain(struct procnotify *n)
{
	struct datagram d;

	for (int i = 0; i < DRAIN_MAX && receive(n->fd, &d); i++)
		close_fds(&d);
}

void procnotify_run(struct procnotify *n, pid_t pid, const char *token)
{
	n->run++;
	n->pid = pid > 0 ? pid : 0;
	n->mainpid = 0;
	snprintf(n->token, sizeof n->token, "%s", n->pid && token ? token : "");
	if (!n->pid)
		drain(n);
}

void procnotify_drain(struct procnotify *n)
{
	if (n && n->fd >= 0 && !n->dispatching)
		on_readable(n->fd, EV_READ, n);
}

size_t procnotify_dropped(const struct procnotify *n)
{
	return n->dropped;
}

void procnotify_free(struct procnotify *n)
{
	if (!n || n->doomed)
		return;
	close_socket(n);
	if (n->dispatching)
		n->doomed = true; /* on_readable frees it on its way out */
	else
		destroy(n);
}
