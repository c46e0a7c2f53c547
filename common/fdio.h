/* fdio.h: read and write that survive EINTR and short counts. */
#ifndef INSOMNIA_FDIO_H
#define INSOMNIA_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all of buf; returns 0, or -1 with errno set. */
int fd_write_all(int fd, const void *buf, size_t len);

/* One read(2), retried on EINTR; returns bytes read, 0 at EOF, -1. */
ssize_t fd_read_some(int fd, void *buf, size_t len);

/* Read a whole (small) file at dirfd/name into a malloc'd NUL-terminated
 * buffer of at most max bytes.  Returns 0, or -1 with errno set (EFBIG
 * when longer than max). */
int fd_read_file_at(int dirfd, const char *name, size_t max, char **out,
                    size_t *len);

#endif
