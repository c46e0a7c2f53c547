/* rundir.c: opening the runtime root and a pod's dir, taking and probing
 * a pod's liveness lock, and removing what a dead pod left. */
#include "rundir.h"

#include "podremains.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "livelock.h"
#include "paths.h"
#include "procrec.h"
#include "safedir.h"

/* A reap can remove a dir at most once per spawn lock it gets; a dir
 * that vanishes this often is being removed in a loop by something
 * else, and saying so beats spinning. */
#define RUNDIR_TRIES 1000

int rundir_open_root(bool create, char *path, size_t size,
                     struct insomnia_error *err)
{
	if (insomnia_runtime_root(path, size, err) < 0)
		return -1;
	return safedir_open(path, create, err);
}

int rundir_open_dir(int rootfd, const char *name, const char *path, bool create,
                    struct insomnia_error *err)
{
	int fd = -1;

	for (int i = 0; i < RUNDIR_TRIES && fd < 0; i++) {
		fd = safedir_openat(rootfd, name, path, create, err);
		/* ENOENT after our own mkdir: reaped in between */
		if (fd < 0 && (!create || !err || err->errnum != ENOENT))
			break;
	}
	return fd;
}

int rundir_is_live(int dirfd, struct insomnia_error *err)
{
	return livelock_probe_at(dirfd, RUNDIR_LOCK, "the pod's lock file",
	                         err);
}

enum take { TAKE_OK, TAKE_HELD, TAKE_FAILED, TAKE_AGAIN };

/* One attempt on the dir *dirfd; TAKE_AGAIN when a reaper removed the
 * dir or the lock file around us. */
static enum take take_once(int rootfd, const char *name, const char *path,
                           int dirfd, int *lockfd, struct insomnia_error *err)
{
	char what[INSOMNIA_PATH_MAX + 32];
	int fd, rc;

	snprintf(what, sizeof what, "the lock file in %s", path);
	rc = livelock_take_at(dirfd, RUNDIR_LOCK, what, &fd, err);
	if (rc < 0) /* ENOENT: the dir is gone, can't create in it */
		return errno == ENOENT ? TAKE_AGAIN : TAKE_FAILED;
	if (rc == LIVELOCK_HELD)
		return TAKE_HELD;
	if (fd_linked_at(fd, dirfd, RUNDIR_LOCK) &&
	    fd_linked_at(dirfd, rootfd, name)) {
		*lockfd = fd;
		return TAKE_OK;
	}
	close(fd); /* held a file a reaper had unlinked: worthless */
	return TAKE_AGAIN;
}

int rundir_take_lock(int rootfd, const char *name, const char *path, int *dirfd,
                     int *lockfd, struct insomnia_error *err)
{
	for (int i = 0; i < RUNDIR_TRIES; i++) {
		if (*dirfd < 0)
			*dirfd = rundir_open_dir(rootfd, name, path, true, err);
		if (*dirfd < 0)
			return -1;
		switch (take_once(rootfd, name, path, *dirfd, lockfd, err)) {
		case TAKE_OK:
			return 0;
		case TAKE_HELD:
			return 1;
		case TAKE_FAILED:
			return -1;
		case TAKE_AGAIN:
			close(*dirfd);
			*dirfd = -1;
			break;
		}
	}
	return insomnia_error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
	                          "%s kept being removed while the pod started",
	                          path);
}

int rundir_spawn_lock_try(int dirfd)
{
	if (flock(dirfd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	return errno == EWOULDBLOCK ? 1 : -1;
}

void rundir_spawn_unlock(int dirfd)
{
	flock(dirfd, LOCK_UN);
}

int rundir_read_pid(int dirfd, pid_t *pid)
{
	char *text, *end;
	long v;
	size_t len;

	if (fd_read_file_at(dirfd, RUNDIR_PID, 32, &text, &len) < 0)
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || (*end && *end != '\n') || v <= 0) {
		free(text);
		return -1;
	}
	free(text);
	*pid = (pid_t)v;
	return 0;
}

/* The process records' dir (procrec.h): its records, then itself;
 * anything else found in it keeps it. */
static int remove_procs(int dirfd)
{
	struct stat st;

	procrec_remove_all(dirfd);
	if (fstatat(dirfd, PROCREC_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = ENOTEMPTY;
		return -1;
	}
	return 0;
}

/* The notify sockets' dir (procnotify.h): its sockets, then itself;
 * anything but a socket found in it is not the pod's and keeps it. */
static int remove_notify(int dirfd)
{
	int fd = openat(dirfd, RUNDIR_NOTIFY,
	                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	struct stat st;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d)))
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISSOCK(st.st_mode))
			unlinkat(fd, e->d_name, 0);
	closedir(d);
	if (unlinkat(dirfd, RUNDIR_NOTIFY, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

/* Only what a pod makes under these names is ours to delete: `sock` a
 * socket, every other file a regular file.  Anything else (a directory,
 * a FIFO, a regular file where the socket goes) was put there by someone
 * else and may be their data: it is kept, and the dir with it. */
int rundir_remove_entry(int dirfd, const char *name)
{
	bool sock = strcmp(name, RUNDIR_SOCK) == 0;
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (strcmp(name, PROCREC_DIR) == 0 && S_ISDIR(st.st_mode))
		return remove_procs(dirfd);
	if (strcmp(name, RUNDIR_NOTIFY) == 0 && S_ISDIR(st.st_mode))
		return remove_notify(dirfd);
	if (sock ? !S_ISSOCK(st.st_mode) : !S_ISREG(st.st_mode)) {
		errno = sock ? ENOTSOCK : FD_ENOTREG;
		return -1;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

int rundir_hold_dead(int dirfd)
{
	int fd,
	    rc = livelock_take_at(dirfd, RUNDIR_LOCK, RUNDIR_LOCK, &fd, NULL);

	if (rc == LIVELOCK_HELD)
		errno = EAGAIN;
	return rc == 0 ? fd : -1;
}

/* ---- removing, under `lock` ------------------------------------------ */

static void note(const struct rundir_removal *how, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(const struct rundir_removal *how, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!how->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	how->note(msg, how->arg);
}

/* One entry; false (with a note) when it was kept. */
static bool remove_one(int dirfd, const char *name,
                       const struct rundir_removal *how)
{
	if (rundir_remove_entry(dirfd, name) == 0)
		return true;
	/* a non-socket sock, a FIFO or dir named pid: not ours */
	note(how, "kept %s: %s", name,
	     errno == ENOTSOCK ? "not a socket" : fd_strerror(errno));
	return false;
}

/* Every entry but `lock`, as rundir_remove_entry allows. */
static bool remove_listed(int dirfd, const struct rundir_removal *how)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	bool all = true;

	if (!d) {
		note(how, "cannot list the dir: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	rewinddir(d); /* the dup shares its offset with dirfd */
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, RUNDIR_LOCK))
			all &= remove_one(dirfd, e->d_name, how);
	closedir(d);
	return all;
}

/* What a pod publishes; its log stays, it explains the death. */
static bool remove_published(int dirfd, const struct rundir_removal *how)
{
	static const char *const names[] = {RUNDIR_SOCK, RUNDIR_PID,
	                                    RUNDIR_STATE};
	bool all = true;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		all &= remove_one(dirfd, names[i], how);
	return all;
}

/* `lock` (while held: see livelock.h, "Rule for removing"), then for
 * RUNDIR_REMOVE_ALL the dir. */
static int remove_lock_and_dir(int dirfd, const struct rundir_removal *how)
{
	if (unlinkat(dirfd, RUNDIR_LOCK, 0) < 0 && errno != ENOENT) {
		note(how, "cannot remove %s: %s", RUNDIR_LOCK, strerror(errno));
		return 0;
	}
	if (how->what != RUNDIR_REMOVE_ALL)
		return 0;
	/* a pod started by hand that made a new `lock` meanwhile keeps
	 * the dir: it is live now, and that is no failure of ours */
	if (unlinkat(how->rootfd, how->name, AT_REMOVEDIR) == 0)
		return 1;
	if (errno != ENOTEMPTY)
		note(how, "cannot remove the dir: %s", strerror(errno));
	return 0;
}

int rundir_remove_held(int dirfd, const struct rundir_removal *how)
{
	bool all = how->what == RUNDIR_REMOVE_ALL
	               ? remove_listed(dirfd, how)
	               : remove_published(dirfd, how);

	/* anything kept keeps `lock` and the dir with it (reap) */
	if (how->what == RUNDIR_REMOVE_STATE ||
	    (how->what == RUNDIR_REMOVE_ALL && !all))
		return 0;
	return remove_lock_and_dir(dirfd, how);
}

int rundir_remove_leftovers_locked(int dirfd, bool keep_lock)
{
	struct rundir_removal how = {keep_lock ? RUNDIR_REMOVE_STATE
	                                       : RUNDIR_REMOVE_STATE_LOCK,
	                             -1, NULL, NULL, NULL};
	int fd = rundir_hold_dead(dirfd);

	if (fd < 0)
		return errno == EAGAIN ? 0 : -1;
	/* the pod is dead and nothing can start here: its processes'
	 * remains go first (a daemon would hold ports a new pod needs) */
	podremains_kill(dirfd);
	rundir_remove_held(dirfd, &how);
	close(fd);
	return 1;
}

int rundir_remove_leftovers(int dirfd)
{
	/* a description of our own, so unlocking never drops a spawn
	 * lock the caller holds through dirfd */
	int own = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (own < 0)
		return -1;
	rc = rundir_spawn_lock_try(own);
	if (rc == 1) { /* a spawn in progress cleans up for itself */
		close(own);
		return 0;
	}
	if (rc == 0)
		rc = rundir_remove_leftovers_locked(dirfd, false);
	close(own);
	/* wake spawners waiting on the dir: the close event of a spawn lock
	 * can come before the lock is free; this one comes after */
	futimens(dirfd, NULL);
	return rc;
}
