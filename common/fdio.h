/* fdio.h: read and write that survive EINTR and short counts. */
#ifndef INSOMNIA_FDIO_H
#define INSOMNIA_FDIO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Write all of buf; returns 0, or -1 with errno set. */
int fd_write_all(int fd, const void *buf, size_t len);

/* One read(2), retried on EINTR; returns bytes read, 0 at EOF, -1. */
ssize_t fd_read_some(int fd, void *buf, size_t len);

/* errno for "exists but is not a regular file" (a FIFO, a socket, a
 * device, a directory).  Linux has no such errno; this one is never
 * returned by open(2) on a local file, and insomnia_error_set_errno() prints it
 * as "not a regular file". */
#define FD_ENOTREG EMEDIUMTYPE

/* Open dirfd/name for flags (O_RDONLY, O_RDWR or O_WRONLY, optionally
 * O_CREAT, O_APPEND, O_TRUNC with mode, O_NOFOLLOW) without ever
 * blocking on a FIFO or a device, and refuse anything that is not a
 * regular file (errno FD_ENOTREG).  The fd is O_CLOEXEC and blocking.
 * Returns the fd, or -1 with errno set. */
int fd_open_regular_at(int dirfd, const char *name, int flags, mode_t mode);

/* The text for errnum: strerror(), except FD_ENOTREG. */
const char *fd_strerror(int errnum);

/* Read a whole (small) regular file at dirfd/name into a malloc'd
 * NUL-terminated buffer of at most max bytes.  Returns 0, or -1 with errno set
 * (EFBIG when longer than max, FD_ENOTREG when not a regular file).  Never
 * blocks on a FIFO. */
int fd_read_file_at(int dirfd, const char *name, size_t max, char **out,
                    size_t *len);

/* Same, from an open descriptor of any type (a pipe for "-" on the
 * command line), read to its end. */
int fd_read_fd(int fd, size_t max, char **out, size_t *len);

/* Is the file behind fd still linked as dirfd/name (same device and
 * inode, the name not followed)?  A lock or a directory that was
 * unlinked or replaced meanwhile protects nothing. */
bool fd_linked_at(int fd, int dirfd, const char *name);

#endif
