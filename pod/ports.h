/* ports.h: free loopback TCP ports for the processes' `ports`
 * (${port.NAME}, PORT_<NAME>). */
#ifndef INSOMNIA_POD_PORTS_H
#define INSOMNIA_POD_PORTS_H

#include <stddef.h>

#include "error.h"

/* Fill ports[0..n-1] with distinct ports the kernel found free on
 * 127.0.0.1 (all sockets are held until the last one is bound, so no two
 * are the same).  A port is free when asked; a process binds it later,
 * so a stranger could take it meanwhile: the kernel hands out ephemeral
 * ports in turn, which makes that rare.  0, or -1 with err. */
int ports_alloc(int *ports, size_t n, struct insomnia_error *err);

#endif
