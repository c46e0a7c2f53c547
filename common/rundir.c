/* rundir.c: opening the runtime root and probing a pod's liveness. */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

#include "fdio.h"
#include "paths.h"
#include "safedir.h"

int rundir_open_root(bool create, char *path, size_t size, struct error *err)
{
	if (paths_runtime_root(path, size, err) < 0)
		return -1;
	return safedir_open(path, create, err);
}

int rundir_is_live(int dirfd, struct error *err)
{
	int fd = openat(dirfd, RUNDIR_LOCK,
	                O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	int live;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return error_set_errno(err, ERR_RUNTIME_DIR, errno,
		                       "cannot open the pod's lock file");
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		live = 0;
	} else if (errno == EWOULDBLOCK) {
		live = 1;
	} else {
		live = error_set_errno(err, ERR_RUNTIME_DIR, errno,
		                       "cannot probe the pod's lock file");
	}
	close(fd); /* releases the probe's shared lock */
	return live;
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

void rundir_remove_leftovers(int dirfd)
{
	rundir_remove_state(dirfd);
	rundir_remove_entry(dirfd, RUNDIR_LOCK);
}
