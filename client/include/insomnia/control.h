/* insomnia/control.h: talk to a live pod over its control socket.
 *
 * The pod serves newline-delimited JSON on <runtime root>/<name>/sock
 * (docs/protocol.md).  A struct insomnia_control is one connection to
 * it, in one of two flavours sharing one implementation:
 *
 *  - async: insomnia_control_connect*(base, ...) runs in the caller's
 *    libevent loop.  Nothing blocks that loop, connect included (a
 *    non-blocking connect; a pod whose accept queue is full is refused
 *    at once as "busy", see below).  Replies and events arrive through
 *    callbacks run from the loop.
 *  - blocking: insomnia_control_open*() runs a private event loop that
 *    only insomnia_control_call_wait() and insomnia_control_follow()
 *    turn, each with a timeout.
 *
 * Requests may be pipelined: several calls outstanding on one
 * connection, each reply matched to its call by id and delivered to that
 * call's callback (the pod answers in order, so callbacks run in the
 * order the calls were made).
 *
 * Everything handed to the caller is JSON text (const char *, length,
 * NUL-terminated too), never a JSON library type.  Such text lives until
 * the callback it was passed to returns: copy it to keep it.
 *
 * Failures of the connection (peer closed, garbage, a line longer than
 * the protocol's 1 MiB limit, a reply with an id nobody asked for) are
 * INSOMNIA_ERR_PROTOCOL (or INSOMNIA_ERR_IO for a socket error): every
 * outstanding call gets it, the connection is closed, and later calls on
 * it are refused.  Memory per connection stays bounded by the line
 * limit whatever the peer sends.
 *
 * Not thread-safe: one connection is used from one thread (that of its
 * loop).  Writes never raise SIGPIPE. */
#ifndef INSOMNIA_CONTROL_H
#define INSOMNIA_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <insomnia/api.h>
#include <insomnia/error.h>

INSOMNIA_BEGIN_DECLS

struct event_base;
struct insomnia_control;

/* Values fixed; new ones only appended. */
enum insomnia_control_status {
	INSOMNIA_CONTROL_RESULT = 0, /* the pod answered with a result */
	INSOMNIA_CONTROL_ERROR = 1,  /* the pod answered with an error */
	INSOMNIA_CONTROL_FAILED = 2, /* no answer: the connection failed */
};

/* One reply, as a callback sees it.  Every pointer in it lives until the
 * callback returns. */
struct insomnia_control_reply {
	enum insomnia_control_status status;
	/* RESULT: the "result" value; ERROR: the "error" object
	 * ({"code":...,"message":...}); FAILED: NULL and 0. */
	const char *json;
	size_t len;
	/* ERROR: the pod's stable code (e.g. "unknown_method"); else NULL. */
	const char *code;
	/* ERROR and FAILED: what went wrong, as the blocking calls would
	 * return it (ERROR: kind INSOMNIA_ERR_PROTOCOL, message the pod's
	 * message, detail its code).  RESULT: NULL. */
	const struct insomnia_error *err;
};

typedef void (*insomnia_control_reply_fn)(
    struct insomnia_control *c, const struct insomnia_control_reply *reply,
    void *arg);

/* An event line {"event": name, "data": ...}.  name and data (the
 * "data" value as JSON text, "null" when absent) live until the callback
 * returns. */
typedef void (*insomnia_control_event_fn)(struct insomnia_control *c,
                                          const char *name, const char *data,
                                          size_t len, void *arg);

/* The end of a stream or a connection: err is NULL when it ended
 * cleanly (the pod closed the connection between lines), else why.  err
 * lives until the callback returns. */
typedef void (*insomnia_control_end_fn)(struct insomnia_control *c,
                                        const struct insomnia_error *err,
                                        void *arg);

/* --- Connecting -------------------------------------------------------
 *
 * By name: the socket <runtime root>/<name>/sock (insomnia/dirs.h).  By
 * path: any length (paths longer than sun_path's 108 bytes are reached
 * through their directory).  Connecting never waits: a pod whose accept
 * queue is full gives INSOMNIA_ERR_SOCKET_REFUSED with errnum EAGAIN
 * ("busy": something listens, try again later); no listener gives
 * INSOMNIA_ERR_SOCKET_REFUSED with the connect errno (ENOENT,
 * ECONNREFUSED).  Each returns the connection, or NULL and err (err may
 * be NULL).  name and path are not kept. */

/* Async flavour, in base (which must outlive the connection). */
INSOMNIA_API struct insomnia_control *
insomnia_control_connect(struct event_base *base, const char *name,
                         struct insomnia_error *err);
INSOMNIA_API struct insomnia_control *
insomnia_control_connect_path(struct event_base *base, const char *path,
                              struct insomnia_error *err);

/* Blocking flavour, with a private loop. */
INSOMNIA_API struct insomnia_control *
insomnia_control_open(const char *name, struct insomnia_error *err);
INSOMNIA_API struct insomnia_control *
insomnia_control_open_path(const char *path, struct insomnia_error *err);

/* Close the connection and free c.  Outstanding calls and a running
 * subscription are dropped without any callback.  Safe from inside any
 * callback of c (the memory goes once the callback returns; no callback
 * of c runs after this one).  NULL is ignored. */
INSOMNIA_API void insomnia_control_close(struct insomnia_control *c);

/* Called once when the connection ends other than by
 * insomnia_control_close (after the calls and the subscription were
 * told); NULL to remove.  It may close c. */
INSOMNIA_API void insomnia_control_on_end(struct insomnia_control *c,
                                          insomnia_control_end_fn fn,
                                          void *arg);

/* --- Calls -----------------------------------------------------------
 *
 * method: the method name.  params: a JSON object as text, or NULL for
 * none; both are copied. */

/* Send a request; reply(c, r, arg) is called exactly once, later, from
 * the loop (never from inside this call) unless c is closed first.
 * Returns 0, or -1 and err with no callback: params not a JSON object
 * (INSOMNIA_ERR_USAGE), or the connection already ended.  The callback
 * may make new calls on c (they queue behind the outstanding ones),
 * close c, or close other connections. */
INSOMNIA_API int insomnia_control_call(struct insomnia_control *c,
                                       const char *method, const char *params,
                                       insomnia_control_reply_fn reply,
                                       void *arg, struct insomnia_error *err);

/* A subscription: a call whose server goes on sending event lines
 * after (or before) its reply, e.g. a pod's `subscribe` or `logs`.
 * Event lines carry no id, so a connection has at most one
 * subscription at a time (open another connection for a second stream;
 * plain calls on the same connection still work).  Callbacks, all
 * optional but ended:
 *  - started(c, reply, arg) with the RESULT reply to the request;
 *  - event(c, name, data, len, arg) for each event line, in order;
 *  - ended(c, err, arg) exactly once, last: err NULL when the pod closed
 *    the connection cleanly after starting the stream; else the error
 *    reply to the request (INSOMNIA_ERR_PROTOCOL, detail the pod's code)
 *    or the connection's failure.
 * Each may close c or make calls on c.  stream is copied (it need not
 * outlive the call; stream->arg is passed to each callback).  Returns 0,
 * or -1 and err (no callback), INSOMNIA_ERR_USAGE when c already has a
 * subscription or had one dropped by insomnia_control_unsubscribe. */
struct insomnia_control_stream {
	insomnia_control_reply_fn started;
	insomnia_control_event_fn event;
	insomnia_control_end_fn ended;
	void *arg;
};

INSOMNIA_API int insomnia_control_subscribe(
    struct insomnia_control *c, const char *method, const char *params,
    const struct insomnia_control_stream *stream, struct insomnia_error *err);

/* Stop delivering c's subscription: no further callback of it runs
 * (ended neither) and later event lines are discarded; plain calls on c
 * go on working.  The pod is not told and goes on streaming, so c
 * cannot subscribe again (the old stream's events could not be told
 * from the new one's): open another connection for that, or close c to
 * stop the pod's stream.  Safe from inside the subscription's
 * callbacks.  Nothing when none. */
INSOMNIA_API void insomnia_control_unsubscribe(struct insomnia_control *c);

/* --- Blocking calls (connections from insomnia_control_open*) ---------
 *
 * timeout_ms <= 0 waits without limit.  While they wait, callbacks of
 * c's async calls made earlier run too; those callbacks may close c (the
 * wait then returns INSOMNIA_ERR_INTERRUPTED); a blocking call on c from
 * inside them is refused (INSOMNIA_ERR_USAGE).
 * Refused (INSOMNIA_ERR_USAGE) on an async connection: they would turn
 * the caller's loop.  Another blocking connection may be used from
 * anywhere, callbacks of an async one included. */

/* Call and wait for the reply: 0 and *result (the "result" value as
 * malloc'd JSON text, NUL-terminated; free() it) and *len (may be NULL),
 * or -1 and err: an error reply is INSOMNIA_ERR_PROTOCOL with the pod's
 * message and its code in err->detail; no reply in time is
 * INSOMNIA_ERR_TIMEOUT (the connection stays usable, the late reply is
 * discarded). */
INSOMNIA_API int insomnia_control_call_wait(struct insomnia_control *c,
                                            const char *method,
                                            const char *params, int timeout_ms,
                                            char **result, size_t *len,
                                            struct insomnia_error *err);

/* Subscribe and deliver the stream: event(name, data, len, arg) for each
 * event (the strings live until it returns; a non-zero return stops the
 * stream, as insomnia_control_unsubscribe).  timeout_ms bounds the wait
 * for the reply and then for each next event.  0 when the stream ended
 * cleanly or event stopped it, else -1 and err as for ended. */
INSOMNIA_API int insomnia_control_follow(
    struct insomnia_control *c, const char *method, const char *params,
    int (*event)(const char *name, const char *data, size_t len, void *arg),
    void *arg, int timeout_ms, struct insomnia_error *err);

INSOMNIA_END_DECLS

#endif
