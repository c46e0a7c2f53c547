/* livelock.c: OFD write locks on whole files, taken and probed. */
#include "livelock.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"

int livelock_open(int dirfd, const char *name, bool create)
{
	int flags = O_RDWR | O_NOFOLLOW | (create ? O_CREAT : 0);
	int fd = fd_open_regular_at(dirfd, name, flags, 0600);

	/* whatever the umask: a 0400 lock made by a prober under umask 0277
	 * would refuse the pod's own O_RDWR open */
	if (create && fd >= 0 && fchmod(fd, 0600) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* The whole file, however long it grows: l_start 0, l_len 0. */
static void whole_file(struct flock *fl, short type)
{
	memset(fl, 0, sizeof *fl);
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
}

int livelock_try(int fd)
{
	struct flock fl;

	whole_file(&fl, F_WRLCK);
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return LIVELOCK_HELD;
	return -1;
}

int livelock_probe(int fd)
{
	struct flock fl;

	/* asking about a write lock finds a holder of any kind */
	whole_file(&fl, F_WRLCK);
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -1;
	return fl.l_type == F_UNLCK ? LIVELOCK_FREE : LIVELOCK_HELD;
}

int livelock_error(struct insomnia_error *err, int errnum, const char *verb,
                   const char *what)
{
	return insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR, errnum,
	                                "cannot %s %s", verb, what);
}

int livelock_probe_at(int dirfd, const char *name, const char *what,
                      struct insomnia_error *err)
{
	int fd = fd_open_regular_at(dirfd, name, O_RDONLY | O_NOFOLLOW, 0);
	int state, saved;

	if (fd < 0) {
		if (errno == ENOENT)
			return LIVELOCK_FREE;
		return livelock_error(err, errno, "open", what);
	}
	state = livelock_probe(fd);
	saved = errno;
	close(fd); /* the probe took nothing, so closing releases nothing */
	if (state < 0)
		return livelock_error(err, saved, "probe", what);
	return state;
}

int livelock_take_at(int dirfd, const char *name, const char *what, int *fd,
                     struct insomnia_error *err)
{
	int rc, saved;

	*fd = livelock_open(dirfd, name, true);
	if (*fd < 0) {
		saved = errno;
		livelock_error(err, saved, "open", what);
		errno = saved;
		return -1;
	}
	rc = livelock_try(*fd);
	if (rc == 0)
		return 0;
	saved = errno;
	if (rc < 0)
		livelock_error(err, saved, "lock", what);
	close(*fd);
	*fd = -1;
	errno = saved;
	return rc;
}
