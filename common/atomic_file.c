/* atomic_file.c: temp file, fsync, rename, fsync of the directory. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"

/* A name unique to this call: two writers (threads or processes) of the
 * same file never share a temporary. */
static int make_temp(int dirfd, const char *name, mode_t mode, char *tmp,
                     size_t size)
{
	static unsigned counter;

	for (int attempt = 0; attempt < 100; attempt++) {
		int fd;
		snprintf(tmp, size, ".%s.tmp.%ld.%u", name, (long)getpid(),
		         __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
		fd = openat(
		    dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

int atomic_write_sync_at(int dirfd, const char *name, const void *data,
                         size_t len, mode_t mode, unsigned sync,
                         struct insomnia_error *err)
{
	char tmp[512];
	int fd, rc = -1;

	fd = make_temp(dirfd, name, mode, tmp, sizeof tmp);
	if (fd < 0)
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_IO, errno,
		    "cannot create a temporary file for %s", name);
	/* The mode asked for, whatever the caller's umask. */
	if (fchmod(fd, mode) < 0 || fd_write_all(fd, data, len) < 0 ||
	    ((sync & ATOMIC_SYNC_FILE) && fsync(fd) < 0)) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                         "cannot write %s", name);
		goto out;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                         "cannot rename over %s", name);
		goto out;
	}
	tmp[0] = '\0';
	if ((sync & ATOMIC_SYNC_DIR) && fsync(dirfd) < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                         "cannot sync the directory of %s",
		                         name);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	if (tmp[0])
		unlinkat(dirfd, tmp, 0);
	return rc;
}

int atomic_write_at(int dirfd, const char *name, const void *data, size_t len,
                    mode_t mode, struct insomnia_error *err)
{
	return atomic_write_sync_at(dirfd, name, data, len, mode,
	                            ATOMIC_SYNC_FILE | ATOMIC_SYNC_DIR, err);
}
