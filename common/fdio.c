/* fdio.c: EINTR- and short-count-safe descriptor I/O. */
#include "fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t fd_read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Reads at most max + 1 bytes: one past the limit is enough to know the
 * file is too long, without reading all of a hostile one. */
static int read_to_end(int fd, size_t max, char **out, size_t *len)
{
	size_t limit = max + 1, cap = limit < 256 ? limit : 256, used = 0;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -1;
	for (;;) {
		ssize_t n;
		if (used == cap && cap < limit) {
			char *bigger;
			cap = cap * 2 > limit ? limit : cap * 2;
			bigger = realloc(buf, cap + 1);
			if (!bigger) {
				free(buf);
				return -1;
			}
			buf = bigger;
		}
		if (used == cap)
			break;
		n = fd_read_some(fd, buf + used, cap - used);
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		free(buf);
		errno = EFBIG;
		return -1;
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	return 0;
}

int fd_open_regular_at(int dirfd, const char *name, int flags, mode_t mode)
{
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer */
	int fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	                mode);
	struct stat st;
	int saved;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = FD_ENOTREG;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

const char *fd_strerror(int errnum)
{
	if (errnum == FD_ENOTREG)
		return "not a regular file";
	return strerror(errnum);
}

int fd_read_fd(int fd, size_t max, char **out, size_t *len)
{
	return read_to_end(fd, max, out, len);
}

int fd_read_file_at(int dirfd, const char *name, size_t max, char **out,
                    size_t *len)
{
	int fd = fd_open_regular_at(dirfd, name, O_RDONLY, 0);
	int rc, saved;

	if (fd < 0)
		return -1;
	rc = read_to_end(fd, max, out, len);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

bool fd_linked_at(int fd, int dirfd, const char *name)
{
	struct stat held, named;

	return fstat(fd, &held) == 0 &&
	       fstatat(dirfd, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
	       held.st_dev == named.st_dev && held.st_ino == named.st_ino;
}
