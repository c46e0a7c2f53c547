/* unixsock.h: Unix stream sockets at paths of any length.
 *
 * sun_path holds 108 bytes; a deep INSOMNIA_HOME easily exceeds that.  A
 * socket is reached through its directory instead: /proc/self/fd/<dirfd>/
 * <name> is short whatever the real path, and the kernel resolves it. */
#ifndef INSOMNIA_UNIXSOCK_H
#define INSOMNIA_UNIXSOCK_H

#include "error.h"

/* Bind and listen on name inside dirfd, mode 0600, non-blocking and
 * close-on-exec.  path_for_errors is the full path, for messages. */
int unixsock_listen_at(int dirfd, const char *name, const char *path_for_errors,
                       int backlog, struct error *err);

/* Connect to an absolute socket path.  Non-blocking connect: 0 when the
 * socket accepted (or its queue is full, which proves it listens), and
 * the connected fd in *fd_out (blocking, close-on-exec).  Errors are
 * ERR_SOCKET_REFUSED and say why. */
int unixsock_connect(const char *path, int *fd_out, struct error *err);

#endif
