/* rundir.c: opening the runtime root and a pod's dir, taking and probing
 * a pod's liveness lock, and removing what a dead pod left. */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "livelock.h"
#include "paths.h"
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
	int fd = livelock_open(dirfd, RUNDIR_LOCK, true);
	int rc;

	if (fd < 0) {
		if (errno == ENOENT) /* the dir is gone: can't create in it */
			return TAKE_AGAIN;
		livelock_error(err, errno, "open the lock file in", path);
		return TAKE_FAILED;
	}
	rc = livelock_try(fd);
	if (rc == 0 && fd_linked_at(fd, dirfd, RUNDIR_LOCK) &&
	    fd_linked_at(dirfd, rootfd, name)) {
		*lockfd = fd;
		return TAKE_OK;
	}
	close(fd);
	if (rc == 0) /* held a file a reaper had unlinked: worthless */
		return TAKE_AGAIN;
	if (rc == LIVELOCK_HELD)
		return TAKE_HELD;
	livelock_error(err, errno, "lock the lock file in", path);
	return TAKE_FAILED;
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
	return error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
	                 "%s kept being removed while the pod started", path);
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
	if (sock ? !S_ISSOCK(st.st_mode) : !S_ISREG(st.st_mode)) {
		errno = sock ? ENOTSOCK : FD_ENOTREG;
		return -1;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

void rundir_remove_state(int dirfd)
{
	rundir_remove_entry(dirfd, RUNDIR_SOCK);
	rundir_remove_entry(dirfd, RUNDIR_PID);
	rundir_remove_entry(dirfd, RUNDIR_STATE);
}

int rundir_hold_dead(int dirfd)
{
	int fd = livelock_open(dirfd, RUNDIR_LOCK, true);
	int rc, saved;

	if (fd < 0)
		return -1;
	rc = livelock_try(fd);
	if (rc == 0)
		return fd;
	saved = rc == LIVELOCK_HELD ? EAGAIN : errno;
	close(fd);
	errno = saved;
	return -1;
}

int rundir_remove_leftovers_locked(int dirfd, bool keep_lock)
{
	int fd = rundir_hold_dead(dirfd);

	if (fd < 0)
		return errno == EAGAIN ? 0 : -1;
	rundir_remove_state(dirfd);
	if (!keep_lock) /* while held: see livelock.h, "Rule for removing" */
		rundir_remove_entry(dirfd, RUNDIR_LOCK);
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
