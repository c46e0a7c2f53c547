/* unixsock.h: Unix stream sockets at paths of any length.
 *
 * sun_path holds 108 bytes; a deep INSOMNIA_HOME easily exceeds that.  A
 * socket is reached through its directory instead: /proc/self/fd/<dirfd>/
 * <name> is short whatever the real path, and the kernel resolves it. */
#ifndef INSOMNIA_UNIXSOCK_H
#define INSOMNIA_UNIXSOCK_H

#include <stdbool.h>

#include "error.h"

/* Bind and listen on name inside dirfd, mode 0600, non-blocking and
 * close-on-exec.  path_for_errors is the full path, for messages. */
int unixsock_listen_at(int dirfd, const char *name, const char *path_for_errors,
                       int backlog, struct insomnia_error *err);

/* Connect to an absolute socket path: 0 and the connected fd in *fd_out
 * (blocking, close-on-exec), or -1 with INSOMNIA_ERR_SOCKET_REFUSED saying why.
 * A listener whose accept queue is full makes a non-blocking AF_UNIX
 * connect fail with EAGAIN; that socket is not connected, so it is an
 * error too: "busy", errnum EAGAIN (see unixsock_is_busy). */
int unixsock_connect(const char *path, int *fd_out, struct insomnia_error *err);

/* Same, the fd left non-blocking, for callers that poll it. */
int unixsock_connect_nonblock(const char *path, int *fd_out,
                              struct insomnia_error *err);

/* Does something listen on path?  0 when a connection was accepted into
 * the queue (it is closed at once) or the queue is full (busy still
 * proves a listener is bound there), else -1 with err as above. */
int unixsock_check_listening(const char *path, struct insomnia_error *err);

/* Was err filled by a connect to a busy socket? */
bool unixsock_is_busy(const struct insomnia_error *err);

#endif
