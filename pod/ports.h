/* ports.h: free loopback TCP ports for the processes' `ports`
 * (${port.NAME}, PORT_<NAME>), and the listening sockets of the ones
 * declared `listen = true` (socket activation, docs/supervision.md). */
#ifndef INSOMNIA_POD_PORTS_H
#define INSOMNIA_POD_PORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Fill ports[0..n-1] with distinct ports the kernel found free on
 * 127.0.0.1 (all sockets are held until the last one is bound, so no two
 * are the same).  A port is free when asked; a process binds it later,
 * so a stranger could take it meanwhile: the kernel hands out ephemeral
 * ports in turn, which makes that rare.
 *
 * listen (NULL: none) and fds: for each listen[i], the socket is kept
 * instead, listening (SOMAXCONN, SO_REUSEADDR so a later pod may bind it
 * while old connections linger, close-on-exec) in fds[i]: nobody can
 * take that port while the caller holds it.  fds[i] is -1 for the
 * others; fds may be NULL when listen is.  0, or -1 with err (nothing
 * left open). */
int ports_alloc(int *ports, const bool *listen, int *fds, size_t n,
                struct insomnia_error *err);

/* Before a run: is the listen socket *fd still listening?  A process can
 * end that (shutdown() on its fd 3), and every later run would inherit a
 * dead socket while the port is free for anyone.  Then a new socket is
 * bound to the same port and listens, and replaces *fd.  0, or -1 with
 * err (the port was taken meanwhile, named). */
int ports_listen_again(int *fd, int port, const char *name,
                       struct insomnia_error *err);

#endif
