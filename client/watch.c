/* watch.c: pods coming and going, from inotify events (insomnia/watch.h).
 *
 * One inotify instance watches the runtime root (or, while it does not
 * exist, its nearest existing parent) and each pod dir in it.  Every
 * event is a reason to look, not a verdict: the pod's dir is read again
 * (podlist_read) and only a change of what it says is reported, so
 * duplicates coalesce by construction.
 *
 * Each pod dir is a small state machine (enum life): NONE (no pod holds
 * `lock`), STARTING (held, not yet published), READY.  A life is a pod's:
 * it begins once the process holding `lock` is the one whose pid the dir
 * publishes, since a spawner or a reaper also holds `lock` for a moment
 * (to find the last pod dead and clean its files) and is no pod.  What
 * the pod had published (sock, pid, state.json) is followed from the
 * events in their order, so that when the pod closes `lock` the watcher
 * knows what was still there at that very moment, whatever a cleaner
 * removed since: a clean stop removes its files first, a crash leaves
 * them.  The pod's close is the life's first close of `lock` read while
 * the pod no longer has it open: a spawner's or a reaper's close (before
 * the pod took it, or after it let go) is not the pod's. */
#include <insomnia/watch.h>

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "podlist.h"
#include "procsig.h"
#include "rundir.h"
#include "safedir.h"

#define ROOT_MASK                                                              \
	(IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM |                 \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define PARENT_MASK                                                            \
	(IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* Once attached, the root's parent tells when the root is removed: the
 * root's own IN_DELETE_SELF waits for the last descriptor of it, and the
 * watcher holds one. */
#define ATTACHED_PARENT_MASK (IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR)
/* IN_CLOSE_WRITE, never IN_CLOSE_NOWRITE: a probe of `lock` (ours
 * included) opens it read-only, so looking never wakes the watcher
 * again; the pod, a spawner and a reaper open it for writing. */
#define POD_MASK                                                               \
	(IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE |                \
	 IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* The runtime root's path has at most this many missing levels to wait
 * through (each attach walks one level further). */
#define ATTACH_TRIES 64

enum published { PUB_SOCK = 1, PUB_PID = 2, PUB_STATE = 4 };

enum life {
	LIFE_NONE,     /* no pod holds `lock`, as last seen */
	LIFE_STARTING, /* held, not yet published */
	LIFE_READY,    /* held and published: READY was reported */
};

struct pod {
	struct pod *next;
	struct insomnia_watch *w;
	char name[INSOMNIA_NAME_MAX + 1];
	int wd;
	enum life life;
	bool announced;   /* APPEARED reported for this dir or life */
	bool lock_closed; /* the pod closed `lock` (its first close, this
	                   * life) */
	bool resynced;    /* files read afresh: no close event to wait for */
	bool seen;        /* found by the current scan */
	bool failed_told; /* its spawner's "failed" record is known: reported
	                   * (SPAWN_FAILED), or there when first read */
	unsigned files;   /* enum published bits, as the events say */
	unsigned files_at_close; /* ... when `lock` was last closed */
	pid_t pid;               /* the live pod's, verified, or 0 */
	int pidfd;
	struct event *ev_pid;
	struct insomnia_pod_info info; /* the last reading */
};

struct insomnia_watch {
	struct event_base *base;
	insomnia_watch_fn fn;
	void *arg;
	char root[INSOMNIA_PATH_MAX];
	int ifd, root_fd, root_wd, parent_wd;
	struct event *ev_inotify, *ev_kick;
	struct pod *pods;
	bool in_callback, freed, failed;
};

const char *insomnia_watch_kind_name(enum insomnia_watch_kind k)
{
	static const char *const names[] = {
	    "appeared", "ready",  "stopped", "died",         "gone",
	    "synced",   "resync", "failed",  "spawn-failed",
	};

	return (unsigned)k < sizeof names / sizeof *names ? names[k]
	                                                  : "unknown";
}

/* ---- reporting --------------------------------------------------------- */

static bool going(const struct insomnia_watch *w)
{
	return !w->freed && !w->failed;
}

/* Call the user; false when processing must stop (freed from inside). */
static bool emit(struct insomnia_watch *w, enum insomnia_watch_kind kind,
                 const char *name, const struct insomnia_pod_info *info,
                 const struct insomnia_error *err)
{
	struct insomnia_watch_event ev = {kind, name, info, err};

	if (w->freed)
		return false;
	w->in_callback = true;
	w->fn(&ev, w->arg);
	w->in_callback = false;
	return going(w);
}

static bool emit_pod(struct pod *p, enum insomnia_watch_kind kind)
{
	return emit(p->w, kind, p->name, &p->info, NULL);
}

/* ---- pods -------------------------------------------------------------- */

static struct pod *pod_by_name(struct insomnia_watch *w, const char *name)
{
	for (struct pod *p = w->pods; p; p = p->next)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

static struct pod *pod_by_wd(struct insomnia_watch *w, int wd)
{
	for (struct pod *p = w->pods; p; p = p->next)
		if (p->wd == wd)
			return p;
	return NULL;
}

static void drop_pid(struct pod *p)
{
	if (p->ev_pid)
		event_free(p->ev_pid);
	p->ev_pid = NULL;
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
	p->pid = 0;
}

/* Unlink and free p; its inotify watch is removed unless the dir went
 * (the kernel removed it then) or the instance is closing anyway. */
static void pod_free(struct insomnia_watch *w, struct pod *p, bool rm_watch)
{
	struct pod **pp = &w->pods;

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	if (rm_watch)
		inotify_rm_watch(w->ifd, p->wd);
	drop_pid(p);
	free(p);
}

static bool is_type_at(int rootfd, const char *name, const char *file,
                       mode_t type)
{
	char rel[INSOMNIA_NAME_MAX + 32];
	struct stat st;

	snprintf(rel, sizeof rel, "%s/%s", name, file);
	return fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       (st.st_mode & S_IFMT) == type;
}

/* The published files as they are now (after adding the watch, so that
 * the events that follow only ever bring this up to date). */
static unsigned files_now(const struct insomnia_watch *w, const char *name)
{
	return (is_type_at(w->root_fd, name, RUNDIR_SOCK, S_IFSOCK) ? PUB_SOCK
	                                                            : 0) |
	       (is_type_at(w->root_fd, name, RUNDIR_PID, S_IFREG) ? PUB_PID
	                                                          : 0) |
	       (is_type_at(w->root_fd, name, RUNDIR_STATE, S_IFREG) ? PUB_STATE
	                                                            : 0);
}

/* Watch the dir name through a descriptor of it (never a symlink in its
 * place); NULL when it vanished meanwhile or cannot be watched (err). */
static struct pod *pod_add(struct insomnia_watch *w, const char *name,
                           struct insomnia_error *err)
{
	char path[64];
	struct pod *p;
	int fd, wd;

	fd = openat(w->root_fd, name,
	            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(w->ifd, path, POD_MASK);
	close(fd);
	if (wd < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, errno,
		                         "cannot watch pod dir %s/%s (see "
		                         "fs.inotify.max_user_watches)",
		                         w->root, name);
		return NULL;
	}
	if (!(p = calloc(1, sizeof *p))) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	*p = (struct pod){.next = w->pods, .w = w, .wd = wd, .pidfd = -1};
	snprintf(p->name, sizeof p->name, "%s", name);
	p->files = files_now(w, name);
	w->pods = p;
	return p;
}

/* ---- one pod's life ---------------------------------------------------- */

static void fail_watch(struct insomnia_watch *w,
                       const struct insomnia_error *err);
static void on_pid_exit(evutil_socket_t fd, short what, void *arg);

/* The process behind pidfd holds the pod's `lock` open: its published
 * pid is the live pod's, not a dead predecessor's left in the dir. */
static bool holds_lock(const struct pod *p, int pidfd, pid_t pid)
{
	char rel[INSOMNIA_NAME_MAX + 32];
	struct stat st;

	snprintf(rel, sizeof rel, "%s/%s", p->name, RUNDIR_LOCK);
	return fstatat(p->w->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) &&
	       procsig_has_open(pidfd, pid, st.st_dev, st.st_ino);
}

/* Follow the live pod's exit by its pidfd too: the close of `lock` is
 * reported a moment before the kernel releases the lock, so a look
 * right after it may still find it held; the pidfd turns readable only
 * after the release. */
static void watch_pid(struct pod *p)
{
	pid_t pid = p->info.pid;
	int pidfd;

	if (pid <= 0 || (p->pidfd >= 0 && p->pid == pid))
		return;
	drop_pid(p);
	pidfd = procsig_pidfd_open(pid);
	if (pidfd < 0)
		return;
	if (!holds_lock(p, pidfd, pid)) {
		close(pidfd);
		return;
	}
	p->ev_pid = event_new(p->w->base, pidfd, EV_READ, on_pid_exit, p);
	if (!p->ev_pid || event_add(p->ev_pid, NULL) < 0) {
		if (p->ev_pid)
			event_free(p->ev_pid);
		p->ev_pid = NULL;
		close(pidfd);
		return;
	}
	p->pidfd = pidfd;
	p->pid = pid;
}

static bool published(const struct pod *p)
{
	return p->pidfd >= 0 &&
	       is_type_at(p->w->root_fd, p->name, RUNDIR_SOCK, S_IFSOCK);
}

static bool alive_seen(struct pod *p)
{
	watch_pid(p);
	if (p->pidfd < 0)
		return true; /* held by no pod yet: a spawner, a reaper, or a
		              * pod that has not published its pid */
	if (p->life == LIFE_NONE) {
		p->life = LIFE_STARTING;
		p->lock_closed = false;
		p->resynced = false;
		p->failed_told = false;
		if (!p->announced) {
			p->announced = true;
			if (!emit_pod(p, INSOMNIA_WATCH_APPEARED))
				return false;
		}
	}
	if (p->life == LIFE_STARTING && published(p)) {
		p->life = LIFE_READY;
		return emit_pod(p, INSOMNIA_WATCH_READY);
	}
	return true;
}

/* The life is over: what was left when `lock` was let go tells how. */
static bool ended(struct pod *p)
{
	unsigned left = p->lock_closed ? p->files_at_close : p->files;

	p->life = LIFE_NONE;
	p->announced = false;
	drop_pid(p);
	return emit_pod(p, left ? INSOMNIA_WATCH_DIED : INSOMNIA_WATCH_STOPPED);
}

static bool gone(struct insomnia_watch *w, struct pod *p)
{
	struct insomnia_pod_info info = p->info;

	info.alive = false;
	pod_free(w, p, true);
	return emit(w, INSOMNIA_WATCH_GONE, info.name, &info, NULL);
}

/* A dead pod's spawner wrote its record of the failed start (state
 * "failed"), usually just after the pod's STOPPED or DIED: once per
 * record, as it is read. */
static bool spawn_failed(struct pod *p)
{
	if (p->failed_told || strcmp(p->info.state, "failed") != 0)
		return true;
	p->failed_told = true;
	return emit_pod(p, INSOMNIA_WATCH_SPAWN_FAILED);
}

/* Look at the dir and report what changed. */
static bool evaluate(struct insomnia_watch *w, struct pod *p)
{
	struct insomnia_error e;

	if (podlist_read(w->root_fd, w->root, p->name, &p->info, &e) < 0)
		/* unusable for now (a FIFO named lock...): a later event
		 * tells more */
		return e.kind == INSOMNIA_ERR_NOT_RUNNING ? gone(w, p) : true;
	if (p->info.alive)
		return alive_seen(p);
	/* Dead, but an event older than its death got us here (the pod
	 * rewrote state.json while stopping): what it left is known only
	 * once its close of `lock`, queued behind, is read. */
	if (p->life != LIFE_NONE && !p->lock_closed && !p->resynced)
		return true;
	if (p->life != LIFE_NONE)
		return ended(p);
	return spawn_failed(p);
}

/* A new dir: reported, then looked at like any other. */
static bool appeared(struct insomnia_watch *w, const char *name)
{
	struct insomnia_error err;
	struct pod *p;

	insomnia_error_clear(&err);
	if (!(p = pod_add(w, name, &err))) {
		if (err.kind != INSOMNIA_ERR_NONE)
			fail_watch(w, &err);
		return going(w);
	}
	p->seen = true;
	if (podlist_read(w->root_fd, w->root, name, &p->info, &err) < 0) {
		if (err.kind == INSOMNIA_ERR_NOT_RUNNING) {
			pod_free(w, p, true); /* gone already */
			return true;
		}
		snprintf(p->info.state, sizeof p->info.state, "unusable");
	}
	p->announced = true;
	/* a failure recorded before we looked is in APPEARED's info */
	p->failed_told = !strcmp(p->info.state, "failed");
	if (!emit_pod(p, INSOMNIA_WATCH_APPEARED))
		return false;
	return evaluate(w, p);
}

/* ---- the root ---------------------------------------------------------- */

static bool scan(struct insomnia_watch *w);

/* Every pod dir goes with the root. */
static bool root_lost(struct insomnia_watch *w)
{
	while (w->pods)
		if (!gone(w, w->pods))
			return false;
	if (w->root_wd >= 0)
		inotify_rm_watch(w->ifd, w->root_wd);
	w->root_wd = -1;
	if (w->root_fd >= 0)
		close(w->root_fd);
	w->root_fd = -1;
	return true;
}

/* Watch the root's own parent (its path cut at the last slash) for its
 * removal; a root whose parent cannot be watched is still watched, only
 * its removal goes unseen. */
static void set_parent_watch(struct insomnia_watch *w, uint32_t mask)
{
	char dir[INSOMNIA_PATH_MAX], *slash;
	int wd = -1;

	snprintf(dir, sizeof dir, "%s", w->root);
	if ((slash = strrchr(dir, '/'))) {
		*slash = '\0';
		wd = inotify_add_watch(w->ifd, dir[0] ? dir : "/", mask);
	}
	if (w->parent_wd >= 0 && w->parent_wd != wd)
		inotify_rm_watch(w->ifd, w->parent_wd);
	w->parent_wd = wd;
}

/* 1 attached to the root, 0 it does not exist, -1 with err. */
static int open_root(struct insomnia_watch *w, struct insomnia_error *err)
{
	char path[64];
	int fd = safedir_open(w->root, false, err), wd;

	if (fd < 0)
		return err->errnum == ENOENT ? 0 : -1;
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(w->ifd, path, ROOT_MASK);
	if (wd < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, errno,
		                         "cannot watch %s", w->root);
		close(fd);
		return -1;
	}
	w->root_fd = fd;
	w->root_wd = wd;
	set_parent_watch(w, ATTACHED_PARENT_MASK);
	return 1;
}

/* Watch the nearest existing parent of the root, for the next missing
 * level to appear.  1 watching, 0 that level appeared meanwhile (look
 * again), -1 with err. */
static int watch_parent(struct insomnia_watch *w, struct insomnia_error *err)
{
	char dir[INSOMNIA_PATH_MAX], *slash;
	struct stat st;
	int wd;

	snprintf(dir, sizeof dir, "%s", w->root);
	do {
		if (!(slash = strrchr(dir, '/')))
			return insomnia_error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
			                          "no parent of %s exists",
			                          w->root);
		*slash = '\0';
	} while (dir[0] && stat(dir, &st) < 0);
	wd = inotify_add_watch(w->ifd, dir[0] ? dir : "/", PARENT_MASK);
	if (wd < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR,
		                                errno, "cannot watch %s",
		                                dir[0] ? dir : "/");
	if (w->parent_wd >= 0 && w->parent_wd != wd)
		inotify_rm_watch(w->ifd, w->parent_wd);
	w->parent_wd = wd;
	/* the level below, made before the watch, would bring no event */
	*slash = '/';
	slash = strchr(slash + 1, '/');
	if (slash)
		*slash = '\0';
	return stat(dir, &st) < 0 ? 1 : 0;
}

/* Attach to the root, or to its nearest existing parent meanwhile.
 * 1 attached, 0 waiting, -1 with err. */
static int attach(struct insomnia_watch *w, struct insomnia_error *err)
{
	int rc;

	for (int i = 0; i < ATTACH_TRIES; i++) {
		if ((rc = open_root(w, err)) != 0)
			return rc;
		if ((rc = watch_parent(w, err)) != 0)
			return rc > 0 ? 0 : -1;
	}
	return insomnia_error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
	                          "%s keeps changing under the watch", w->root);
}

/* Something happened in the root's parent: perhaps the next level. */
static bool parent_changed(struct insomnia_watch *w)
{
	struct insomnia_error err;
	int rc;

	insomnia_error_clear(&err);
	rc = attach(w, &err);
	if (rc < 0) {
		fail_watch(w, &err);
		return false;
	}
	return rc == 0 || scan(w);
}

/* ---- listing ----------------------------------------------------------- */

static DIR *open_listing(struct insomnia_watch *w)
{
	int fd = fcntl(w->root_fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d && fd >= 0)
		close(fd);
	if (d)
		rewinddir(d); /* the dup shares the offset */
	return d;
}

/* List the root: new dirs appear, known ones are looked at again, those
 * no longer there are gone. */
static bool scan(struct insomnia_watch *w)
{
	struct insomnia_error err;
	struct dirent *e;
	struct pod *p, *next;
	DIR *d = open_listing(w);
	bool go = true;

	if (!d) {
		insomnia_error_set_errno(&err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		                         "cannot list %s", w->root);
		fail_watch(w, &err);
		return false;
	}
	for (p = w->pods; p; p = p->next)
		p->seen = false;
	while (go && (e = readdir(d))) {
		if ((e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) ||
		    insomnia_name_check(e->d_name, NULL) < 0)
			continue;
		if ((p = pod_by_name(w, e->d_name))) {
			p->seen = true;
			go = evaluate(w, p);
		} else {
			go = appeared(w, e->d_name);
		}
	}
	closedir(d);
	for (p = w->pods; go && p; p = next) {
		next = p->next;
		if (!p->seen)
			go = gone(w, p);
	}
	return go;
}

/* Events were lost: what each dir holds is read afresh. */
static bool resync(struct insomnia_watch *w)
{
	if (!emit(w, INSOMNIA_WATCH_RESYNC, NULL, NULL, NULL))
		return false;
	for (struct pod *p = w->pods; p; p = p->next) {
		p->files = files_now(w, p->name);
		p->lock_closed = false;
		p->resynced = true;
	}
	if (w->root_fd >= 0 && !scan(w))
		return false;
	return emit(w, INSOMNIA_WATCH_SYNCED, NULL, NULL, NULL);
}

/* ---- inotify events ---------------------------------------------------- */

static unsigned file_bit(const char *name)
{
	return !strcmp(name, RUNDIR_SOCK)    ? PUB_SOCK
	       : !strcmp(name, RUNDIR_PID)   ? PUB_PID
	       : !strcmp(name, RUNDIR_STATE) ? PUB_STATE
	                                     : 0;
}

/* A close of `lock` while the pod we follow still has it open is
 * another process's: a spawner that found it held, or one that held it
 * before this pod took it (its event read only now).  The pod's own
 * close comes once its descriptor is gone. */
static bool still_holds(const struct pod *p)
{
	return p->pidfd >= 0 && holds_lock(p, p->pidfd, p->pid);
}

static bool on_pod_event(struct insomnia_watch *w, struct pod *p,
                         const struct inotify_event *ev)
{
	bool lock = ev->len && !strcmp(ev->name, RUNDIR_LOCK);
	unsigned bit = ev->len ? file_bit(ev->name) : 0;

	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
		return gone(w, p);
	if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
		p->files &= ~bit;
		return true;
	}
	if (ev->mask & (IN_CREATE | IN_MOVED_TO))
		p->files |= bit;
	if (lock && (ev->mask & IN_CLOSE_WRITE) && !p->lock_closed &&
	    !still_holds(p)) {
		p->lock_closed = true;
		p->files_at_close = p->files;
	}
	return lock || bit ? evaluate(w, p) : true;
}

static bool on_root_event(struct insomnia_watch *w,
                          const struct inotify_event *ev)
{
	struct pod *p;

	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
		return root_lost(w) && parent_changed(w);
	if (!(ev->mask & IN_ISDIR) || !ev->len ||
	    insomnia_name_check(ev->name, NULL) < 0)
		return true;
	p = pod_by_name(w, ev->name);
	if (ev->mask & (IN_CREATE | IN_MOVED_TO))
		return p ? evaluate(w, p) : appeared(w, ev->name);
	return p ? gone(w, p) : true; /* IN_DELETE, IN_MOVED_FROM */
}

/* Waiting: perhaps the next level appeared.  Attached: perhaps the root
 * went. */
static bool on_parent_event(struct insomnia_watch *w,
                            const struct inotify_event *ev)
{
	const char *base = strrchr(w->root, '/') + 1;

	if (w->root_wd < 0)
		return parent_changed(w);
	if ((ev->mask & (IN_DELETE | IN_MOVED_FROM)) && ev->len &&
	    !strcmp(ev->name, base))
		return root_lost(w) && parent_changed(w);
	return true; /* a late event of the wait, or a sibling */
}

static bool on_event(struct insomnia_watch *w, const struct inotify_event *ev)
{
	struct pod *p;

	if (ev->mask & IN_Q_OVERFLOW)
		return resync(w);
	if (ev->wd == w->root_wd)
		return on_root_event(w, ev);
	if (ev->wd == w->parent_wd)
		return on_parent_event(w, ev);
	if ((p = pod_by_wd(w, ev->wd)))
		return on_pod_event(w, p, ev);
	return true; /* a late event of a watch already dropped */
}

/* Everything queued, in order, until the queue is empty. */
static void read_events(struct insomnia_watch *w)
{
	char buf[16384]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	while (going(w)) {
		do
			n = read(w->ifd, buf, sizeof buf);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return; /* EAGAIN: drained */
		for (char *at = buf; at < buf + n && going(w);
		     at += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)at;
			if (!on_event(w, ev))
				return;
		}
	}
}

/* ---- the loop's entry points ------------------------------------------ */

static void destroy(struct insomnia_watch *w);

/* Each entry point ends here: a free from inside the callback is done
 * once nothing of the watch is in use any more. */
static void leave(struct insomnia_watch *w)
{
	if (w->freed)
		destroy(w);
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	read_events(arg);
	leave(arg);
}

/* The pod exited: first what the kernel queued before (its close of
 * `lock` among it), then a look. */
static void on_pid_exit(evutil_socket_t fd, short what, void *arg)
{
	struct pod *p = arg;
	struct insomnia_watch *w = p->w;
	char name[INSOMNIA_NAME_MAX + 1];

	(void)fd;
	(void)what;
	snprintf(name, sizeof name, "%s", p->name);
	drop_pid(p);
	read_events(w);
	if (going(w) && (p = pod_by_name(w, name)))
		evaluate(w, p);
	leave(w);
}

/* The loop's first turn: the listing, then SYNCED. */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_watch *w = arg;

	(void)fd;
	(void)what;
	if ((w->root_fd < 0 || scan(w)) && going(w))
		emit(w, INSOMNIA_WATCH_SYNCED, NULL, NULL, NULL);
	leave(w);
}

/* ---- setup and teardown ------------------------------------------------ */

/* Every descriptor and event; the struct stays for the caller to free. */
static void release(struct insomnia_watch *w)
{
	while (w->pods)
		pod_free(w, w->pods, false);
	if (w->ev_inotify)
		event_free(w->ev_inotify);
	if (w->ev_kick)
		event_free(w->ev_kick);
	w->ev_inotify = w->ev_kick = NULL;
	if (w->root_fd >= 0)
		close(w->root_fd);
	if (w->ifd >= 0)
		close(w->ifd); /* removes every watch */
	w->root_fd = w->ifd = w->root_wd = w->parent_wd = -1;
}

static void destroy(struct insomnia_watch *w)
{
	release(w);
	free(w);
}

static void fail_watch(struct insomnia_watch *w,
                       const struct insomnia_error *err)
{
	release(w);
	w->failed = true;
	w->in_callback = true;
	w->fn(&(struct insomnia_watch_event){INSOMNIA_WATCH_FAILED, NULL, NULL,
	                                     err},
	      w->arg);
	w->in_callback = false;
}

static int setup(struct insomnia_watch *w, struct insomnia_error *err)
{
	if (insomnia_runtime_root(w->root, sizeof w->root, err) < 0)
		return -1;
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->ifd < 0)
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_INTERNAL, errno,
		    "cannot create an inotify instance");
	/* watches first, listing after (on the loop's first turn): nothing
	 * that happens in between is missed */
	if (attach(w, err) < 0)
		return -1;
	w->ev_inotify =
	    event_new(w->base, w->ifd, EV_READ | EV_PERSIST, on_inotify, w);
	w->ev_kick = event_new(w->base, -1, 0, on_kick, w);
	if (!w->ev_inotify || !w->ev_kick || event_add(w->ev_inotify, NULL) < 0)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "cannot register events");
	event_active(w->ev_kick, EV_TIMEOUT, 0);
	return 0;
}

struct insomnia_watch *insomnia_watch_start(struct event_base *base,
                                            insomnia_watch_fn fn, void *arg,
                                            struct insomnia_error *err)
{
	struct insomnia_error local;
	struct insomnia_watch *w;

	if (!base || !fn) {
		insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                   "no event base or callback");
		return NULL;
	}
	if (!(w = calloc(1, sizeof *w))) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	*w = (struct insomnia_watch){.base = base,
	                             .fn = fn,
	                             .arg = arg,
	                             .ifd = -1,
	                             .root_fd = -1,
	                             .root_wd = -1,
	                             .parent_wd = -1};
	insomnia_error_clear(&local);
	if (setup(w, &local) < 0) {
		if (err)
			*err = local;
		destroy(w);
		return NULL;
	}
	return w;
}

void insomnia_watch_free(struct insomnia_watch *w)
{
	if (!w)
		return;
	if (w->in_callback) {
		w->freed = true; /* done once the callback returns */
		return;
	}
	destroy(w);
}
