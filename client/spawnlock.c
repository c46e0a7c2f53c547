/* spawnlock.c: the spawn lock (an exclusive flock on the pod dir, which
 * serialises concurrent spawns of one name) and, holding it, the choice
 * between a live pod (reuse or refusal) and a launch. */
#include "podspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>

#include "fdio.h"
#include "inotify_cache.h"
#include "paths.h"
#include "rundir.h"
#include "unixsock.h"

/* A live pod: with reuse it is the answer, else the name is taken. */
static void found_live(struct insomnia_spawn *s)
{
	char socket[INSOMNIA_PATH_MAX];
	struct insomnia_error e;
	pid_t pid = 0;

	rundir_read_pid(s->dir_fd, &pid);
	if (!s->opts.reuse) {
		spawn_fail(s, INSOMNIA_ERR_ALREADY_RUNNING,
		           "pod %s is already running (pid %ld)", s->name,
		           (long)pid);
		return;
	}
	if (paths_join(socket, sizeof socket, s->dir_path, RUNDIR_SOCK, &e) <
	        0 ||
	    unixsock_check_listening(socket, &e) < 0) {
		spawn_fail(s, INSOMNIA_ERR_SOCKET_REFUSED,
		           "pod %s is running (pid %ld) but %s", s->name,
		           (long)pid, e.message);
		return;
	}
	spawn_succeed(s, socket, true);
}

/* We hold the spawn lock: decide between reuse, refusal and launch. */
static void locked(struct insomnia_spawn *s)
{
	struct insomnia_error e;
	int live = rundir_is_live(s->dir_fd, &e);

	if (live < 0) {
		spawn_fail_with(s, &e);
		return;
	}
	if (live) {
		found_live(s);
		return;
	}
	/* a crashed pod's pid and state lie; its lock file is kept for
	 * the new pod to take */
	rundir_remove_leftovers_locked(s->dir_fd, true);
	spawn_launch(s);
}

int spawn_open_dir(struct insomnia_spawn *s, struct insomnia_error *err)
{
	if (s->watch >= 0) { /* it watched the old inode */
		inotify_rm_watch(s->inotify_fd, s->watch);
		s->watch = -1;
	}
	spawn_close_fd(&s->dir_fd);
	/* retries when a reap removes the dir between mkdir and open */
	s->dir_fd =
	    rundir_open_dir(s->root_fd, s->name, s->dir_path, true, err);
	return s->dir_fd < 0 ? -1 : 0;
}

/* A watch left from waiting for the spawn lock has no use any more. */
void spawn_drop_lock_watch(struct insomnia_spawn *s)
{
	if (s->watch >= 0) {
		inotify_rm_watch(s->inotify_fd, s->watch);
		s->watch = -1;
	}
}

static void on_inotify(evutil_socket_t fd, short what, void *arg);

/* The instance for waiting on another client's spawn lock, taken from
 * the cache on first need: an uncontended spawn never has one. */
static int lock_wait_inotify(struct insomnia_spawn *s)
{
	if (s->inotify_fd >= 0)
		return 0;
	s->inotify_fd = inotify_cache_get();
	if (s->inotify_fd < 0)
		return -1;
	s->ev_inotify = event_new(s->base, s->inotify_fd, EV_READ | EV_PERSIST,
	                          on_inotify, s);
	if (!s->ev_inotify || event_add(s->ev_inotify, NULL) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Try the lock; when another client holds it, wait for it to let go: it
 * touches the dir after unlocking, which inotify reports to us. */
static void try_lock(struct insomnia_spawn *s)
{
	int rc = rundir_spawn_lock_try(s->dir_fd);
	char path[64];
	struct insomnia_error e;

	if (rc == 0) {
		/* reaped, and made anew, while we waited on it? */
		if (!fd_linked_at(s->dir_fd, s->root_fd, s->name)) {
			rundir_spawn_unlock(s->dir_fd);
			if (spawn_open_dir(s, &e) < 0) {
				spawn_fail_with(s, &e);
				return;
			}
			try_lock(s);
			return;
		}
		s->locked = true;
		locked(s);
		return;
	}
	if (rc < 0) {
		spawn_fail(s, INSOMNIA_ERR_RUNTIME_DIR, "cannot lock %s: %s",
		           s->dir_path, strerror(errno));
		return;
	}
	if (!fd_linked_at(s->dir_fd, s->root_fd, s->name)) {
		/* reaped under the holder's lock: no event will ever come
		 * from this inode again, so start over on a fresh dir */
		if (spawn_open_dir(s, &e) < 0) {
			spawn_fail_with(s, &e);
			return;
		}
		try_lock(s);
		return;
	}
	if (s->watch >= 0)
		return; /* already waiting */
	snprintf(path, sizeof path, "/proc/self/fd/%d", s->dir_fd);
	if (lock_wait_inotify(s) == 0)
		s->watch = inotify_add_watch(s->inotify_fd, path,
		                             IN_ATTRIB | IN_CLOSE |
		                                 IN_DELETE_SELF | IN_ONLYDIR);
	if (s->watch < 0) {
		spawn_fail(s, INSOMNIA_ERR_RUNTIME_DIR, "cannot watch %s: %s",
		           s->dir_path, strerror(errno));
		return;
	}
	/* it may have been released between the try and the watch */
	if (rundir_spawn_lock_try(s->dir_fd) == 0) {
		rundir_spawn_unlock(s->dir_fd);
		try_lock(s);
		return;
	}
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_spawn *s = arg;
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	while (fd_read_some(s->inotify_fd, buf, sizeof buf) > 0)
		;
	if (s->phase != PHASE_LOCK)
		return; /* a late event of the lock wait */
	spawn_drop_lock_watch(s);
	try_lock(s);
}

void spawn_lock_kick(evutil_socket_t fd, short what, void *arg)
{
	try_lock(arg);
}
