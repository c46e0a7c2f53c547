/* server.h: the control server on libevent: accepting connections on the
 * already-listening socket, refusing other users, framing lines and
 * dispatching them to the methods table (docs/protocol.md). */
#ifndef INSOMNIA_POD_SERVER_H
#define INSOMNIA_POD_SERVER_H

#include <event2/event.h>
#include <stddef.h>

#include "error.h"
#include "state.h"

/* Bytes of replies waiting for a reader before the pod stops reading
 * that connection's requests, and the hard cap past which it drops the
 * connection, so a peer that never reads cannot grow the pod's memory. */
#define SERVER_OUTPUT_PAUSE (64 * 1024)
#define SERVER_OUTPUT_MAX   (4 * 1024 * 1024)

struct server;

/* Called once when a client asked the pod to stop (after its reply went
 * out); reason is for the log line. */
typedef void (*server_stop_fn)(void *arg, const char *reason);

/* Serve listenfd (borrowed: the caller closes it after server_free).
 * state is borrowed too and must outlive the server. */
struct server *server_new(struct event_base *base, int listenfd,
                          const struct pod_state *state, server_stop_fn on_stop,
                          void *arg, struct insomnia_error *err);

/* Close every connection and stop accepting. */
void server_free(struct server *s);

#endif
