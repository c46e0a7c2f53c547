/* control-wait.c: the blocking calls of <insomnia/control.h>.
 *
 * A blocking connection is an async one on a private event_base: these
 * functions make the same async call and turn that base until its
 * callback ran or a timer fired.  Nothing here reads the socket itself,
 * so both flavours share one parser and one state machine. */
#include "control-impl.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "error.h"

/* What a blocking call waits for. */
struct waiter {
	bool done;
	bool timed_out;
	int rc;
	char *result;
	size_t len;
	struct insomnia_error err;
	struct event *timer;
	int timeout_ms;
	/* follow only */
	int (*event)(const char *name, const char *data, size_t len, void *arg);
	void *arg;
};

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;

	(void)fd;
	(void)what;
	w->timed_out = true;
}

/* (Re)start the timer: the whole call, or the gap between events. */
static void arm(struct waiter *w)
{
	struct timeval tv = {w->timeout_ms / 1000,
	                     (w->timeout_ms % 1000) * 1000};

	if (w->timer)
		evtimer_add(w->timer, &tv);
}

static int check_blocking(struct insomnia_control *c,
                          struct insomnia_error *err)
{
	if (!c)
		return insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                          "no connection");
	if (!ctl_is_blocking(c))
		return insomnia_error_set(
		    err, INSOMNIA_ERR_USAGE,
		    "a blocking call on a connection of the "
		    "caller's loop");
	/* begun last: the callers end it on every path from here */
	if (!ctl_wait_begin(c))
		return insomnia_error_set(
		    err, INSOMNIA_ERR_USAGE,
		    "a blocking call from a callback of a "
		    "blocking call on the same connection");
	return 0;
}

static int start_timer(struct insomnia_control *c, struct waiter *w,
                       int timeout_ms, struct insomnia_error *err)
{
	w->timeout_ms = timeout_ms;
	if (timeout_ms <= 0)
		return 0;
	w->timer = evtimer_new(ctl_base(c), on_timeout, w);
	if (!w->timer)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	arm(w);
	return 0;
}

static void stop_waiting(struct insomnia_control *c, struct waiter *w)
{
	if (w->timer)
		event_free(w->timer);
	w->timer = NULL;
	ctl_wait_end(c);
}

/* Turn c's loop until w is done, timed out or c closed by a callback.
 * The caller holds c. */
static void run(struct insomnia_control *c, struct waiter *w)
{
	while (!w->done && !w->timed_out && !ctl_closing(c))
		if (event_base_loop(ctl_base(c), EVLOOP_ONCE) != 0)
			break; /* nothing left to wait for */
}

/* How a wait that did not end by its callback ended. */
static void unfinished(struct insomnia_control *c, struct waiter *w)
{
	w->rc = -1;
	if (ctl_closing(c))
		insomnia_error_set(&w->err, INSOMNIA_ERR_INTERRUPTED,
		                   "the connection was closed by a callback");
	else if (w->timed_out)
		insomnia_error_set(&w->err, INSOMNIA_ERR_TIMEOUT,
		                   "no reply from the pod within %d ms",
		                   w->timeout_ms);
	else
		insomnia_error_set(
		    &w->err, INSOMNIA_ERR_INTERNAL,
		    "the connection has nothing left to wait for");
}

static void call_done(struct insomnia_control *c,
                      const struct insomnia_control_reply *r, void *arg)
{
	struct waiter *w = arg;

	(void)c;
	w->done = true;
	if (r->status != INSOMNIA_CONTROL_RESULT) {
		w->rc = -1;
		w->err = *r->err;
		return;
	}
	w->result = malloc(r->len + 1);
	if (!w->result) {
		w->rc = insomnia_error_set(&w->err, INSOMNIA_ERR_INTERNAL,
		                           "out of memory");
		return;
	}
	memcpy(w->result, r->json, r->len + 1);
	w->len = r->len;
}

int insomnia_control_call_wait(struct insomnia_control *c, const char *method,
                               const char *params, int timeout_ms,
                               char **result, size_t *len,
                               struct insomnia_error *err)
{
	struct waiter w = {0};
	struct ctl_call *call;

	*result = NULL;
	if (check_blocking(c, err) < 0)
		return -1;
	if (start_timer(c, &w, timeout_ms, err) < 0) {
		ctl_wait_end(c);
		return -1;
	}
	call = ctl_call_start(c, method, params, call_done, &w, err);
	if (!call) {
		stop_waiting(c, &w);
		return -1;
	}
	ctl_hold(c);
	run(c, &w);
	if (!w.done) {
		ctl_call_orphan(c, call);
		unfinished(c, &w);
	}
	stop_waiting(c, &w);
	ctl_release(c);
	if (w.rc < 0) {
		if (err)
			*err = w.err;
		free(w.result);
		return -1;
	}
	*result = w.result;
	if (len)
		*len = w.len;
	return 0;
}

/* --- follow -------------------------------------------------------------- */

static void follow_started(struct insomnia_control *c,
                           const struct insomnia_control_reply *r, void *arg)
{
	(void)c;
	(void)r;
	arm(arg);
}

static void follow_event(struct insomnia_control *c, const char *name,
                         const char *data, size_t len, void *arg)
{
	struct waiter *w = arg;

	arm(w);
	if (w->event && w->event(name, data, len, w->arg) != 0) {
		w->done = true;
		insomnia_control_unsubscribe(c);
	}
}

static void follow_ended(struct insomnia_control *c,
                         const struct insomnia_error *err, void *arg)
{
	struct waiter *w = arg;

	(void)c;
	w->done = true;
	if (err) {
		w->rc = -1;
		w->err = *err;
	}
}

int insomnia_control_follow(
    struct insomnia_control *c, const char *method, const char *params,
    int (*event)(const char *name, const char *data, size_t len, void *arg),
    void *arg, int timeout_ms, struct insomnia_error *err)
{
	struct waiter w = {.event = event, .arg = arg};
	struct insomnia_control_stream stream = {
	    .started = follow_started,
	    .event = follow_event,
	    .ended = follow_ended,
	    .arg = &w,
	};

	if (check_blocking(c, err) < 0)
		return -1;
	if (start_timer(c, &w, timeout_ms, err) < 0) {
		ctl_wait_end(c);
		return -1;
	}
	if (insomnia_control_subscribe(c, method, params, &stream, err) < 0) {
		stop_waiting(c, &w);
		return -1;
	}
	ctl_hold(c);
	run(c, &w);
	if (!w.done) {
		if (!ctl_closing(c))
			insomnia_control_unsubscribe(c);
		unfinished(c, &w);
	}
	stop_waiting(c, &w);
	ctl_release(c);
	if (w.rc < 0 && err)
		*err = w.err;
	return w.rc;
}
