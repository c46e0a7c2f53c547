/* server.h: the control server on libevent: accepting connections on the
 * already-listening socket, refusing other users, framing lines,
 * dispatching them to the methods table (docs/protocol.md), sending
 * replies that come later (methods.h: method_defer) and feeding event
 * subscribers (method_subscribe, server_broadcast). */
#ifndef INSOMNIA_POD_SERVER_H
#define INSOMNIA_POD_SERVER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "podctx.h"

/* Bytes of replies waiting for a reader before the pod stops reading
 * that connection's requests, and the hard cap past which it drops the
 * connection, so a peer that never reads cannot grow the pod's memory. */
#define SERVER_OUTPUT_PAUSE (64 * 1024)
#define SERVER_OUTPUT_MAX   (4 * 1024 * 1024)
/* Replies still to come on one connection before the pod stops reading
 * its requests (until one is answered): a peer cannot pile up work. */
#define SERVER_PENDING_MAX 64
/* Event bytes queued for one subscriber; beyond, events are lost and the
 * subscriber is told so and closed (methods.h, method_subscribe). */
#define SERVER_SUBSCRIBER_MAX (256 * 1024)

struct server;

/* Serve listenfd (borrowed: the caller closes it after server_free).
 * pod is borrowed too and must outlive the server; a shutdown request
 * calls pod->request_stop once its reply is out.  The process must
 * ignore SIGPIPE (the pod's main() does): libevent writes with writev,
 * which has no MSG_NOSIGNAL, and a peer that hung up with output still
 * queued for it must cost its connection, not the pod. */
struct server *server_new(struct event_base *base, int listenfd,
                          struct podctx *pod, struct insomnia_error *err);

/* fn(arg, true) when the last control connection closes, fn(arg, false)
 * when one opens while none was: the pod's idle timer (pod.idle_timeout)
 * follows it.  Not called from server_free. */
void server_set_idle_hook(struct server *s, void (*fn)(void *arg, bool idle),
                          void *arg);

/* Queue one event line (ending in '\n') to every subscriber whose filter
 * takes kind (enum event_kind) and process (NULL: pod-wide). */
void server_broadcast(struct server *s, unsigned kind, const char *process,
                      const char *line, size_t len);

/* Would server_broadcast send such an event to anyone? */
bool server_has_subscriber(const struct server *s, unsigned kind,
                           const char *process);

/* Bytes queued in the pod for all its connections (for tests and
 * status: what a slow reader costs). */
size_t server_buffered(const struct server *s);

/* Close every connection (cancelling the replies still to come) and stop
 * accepting. */
void server_free(struct server *s);

#endif
