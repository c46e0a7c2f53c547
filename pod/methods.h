/* methods.h: the control methods (docs/protocol.md), one table entry
 * each, as tmux has one cmd-*.c per command.  Adding a method is one new
 * method-<name>.c and one line in methods.c.
 *
 * A method answers at once (run returns the result), later (run calls
 * method_defer and returns METHOD_LATER; the reply is sent when the
 * method's owner calls reply_result or reply_error), or turns its
 * connection into an event stream (method_subscribe).  The server side
 * of all three is pod/server.c. */
#ifndef INSOMNIA_POD_METHODS_H
#define INSOMNIA_POD_METHODS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "podctx.h"
#include "state.h"

struct conn;

/* What a method may look at and ask for. */
struct method_env {
	struct podctx *pod;
	size_t connections;    /* open control connections, caller's too */
	pid_t peer_pid;        /* the caller, for log lines */
	bool stop_after_reply; /* set to stop the pod once the reply is out */
	struct conn *conn;     /* opaque: for method_defer / method_subscribe */
	json_t *id;            /* the request id (borrowed) */
};

#define METHOD_MESSAGE_MAX 256

struct method_fail {
	const char *code; /* e.g. PROTO_ERR_BAD_REQUEST */
	char message[METHOD_MESSAGE_MAX];
};

struct method {
	const char *name;
	/* A new reference to the result; or NULL with fail filled in (code
	 * NULL means out of memory); or METHOD_LATER after method_defer(). */
	json_t *(*run)(struct method_env *env, json_t *params,
	               struct method_fail *fail);
};

/* What run returns when the reply comes later. */
extern json_t *const METHOD_LATER;

/* ---- replies that come later ---- */

struct reply;

/* Inside run only, once.  NULL when out of memory (run then fails with
 * code NULL).  The connection keeps reading other requests meanwhile:
 * pipelined calls are answered as each completes, matched by id. */
struct reply *method_defer(struct method_env *env);

/* Exactly one of these, once; r is freed by it.  result is stolen (NULL:
 * out of memory, answered as an internal error).  When the connection
 * has gone away meanwhile, nothing is sent. */
void reply_result(struct reply *r, json_t *result);
void reply_error(struct reply *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* When the connection goes away first (the peer closed it, or hung up
 * its writing side, or the pod stops), cancel(arg) is called once, from
 * the loop, and r is freed by the server: its owner must forget r (e.g.
 * supervisor_op_cancel).  Never called once r was answered. */
void reply_on_cancel(struct reply *r, void (*cancel)(void *arg), void *arg);

/* ---- subscriptions ---- */

/* Inside run only: after this request's reply, the connection becomes a
 * subscriber of the event kinds in `kinds` (enum event_kind bits) about
 * the processes in names (NULL / n 0: all; copied; pod-wide events pass
 * any names).  It reads no further requests: what it sends is read and
 * discarded, so its closing is seen.  Its output is bounded
 * (SERVER_SUBSCRIBER_MAX queued, on top of what was queued when it
 * subscribed until that drains: a logs history); events beyond are lost,
 * and once the output drains it gets {"event":"overflow",
 * "data":{"lost":N}} and is closed.  -1 on out of memory. */
int method_subscribe(struct method_env *env, unsigned kinds,
                     const char *const *names, size_t n);

extern const struct method method_hello;
extern const struct method method_logs;
extern const struct method method_ping;
extern const struct method method_ps;
extern const struct method method_restart;
extern const struct method method_shutdown;
extern const struct method method_start;
extern const struct method method_status;
extern const struct method method_stop;
extern const struct method method_subscribe_method;

/* The method called name, or NULL. */
const struct method *methods_find(const char *name);

#endif
