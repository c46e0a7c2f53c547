/* control.c: a connection to a pod's control socket, in a libevent loop.
 *
 * Reading goes through a bufferevent whose high watermark is one maximal
 * line, so a peer that never sends a newline costs at most 1 MiB.
 * Writing is ours: send(MSG_NOSIGNAL), so a pod that hung up gives
 * EPIPE and never a SIGPIPE the caller did not ask to ignore.
 *
 * Calls wait in one list in the order they were sent; each reply is
 * matched by id.  Callbacks may close the connection: ctl_hold/
 * ctl_release around every dispatch defer the free until the outermost
 * one returns, and every loop over callbacks stops once it was closed. */
#include "control-impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>

#include <insomnia/dirs.h>

#include "error.h"
#include "proto.h"
#include "rundir.h"
#include "unixsock.h"

struct ctl_call {
	TAILQ_ENTRY(ctl_call) link;
	int64_t id;
	bool is_stream; /* the request of the subscription */
	bool orphaned;  /* nobody wants the reply any more */
	insomnia_control_reply_fn reply;
	void *arg;
};

enum ctl_state {
	CTL_OPEN,  /* reading and writing */
	CTL_ENDED, /* the connection is gone; calls are refused */
};

struct insomnia_control {
	struct event_base *base;
	bool own_base;
	enum ctl_state state;
	int fd;
	struct bufferevent *bev; /* reading */
	struct event *wev;       /* writable, while out holds bytes */
	struct evbuffer *out;
	TAILQ_HEAD(, ctl_call) calls;
	int64_t next_id;
	/* The subscription: stream_call is its pending request, NULL once
	 * answered; stream_live says events go to it. */
	bool has_stream;
	bool stream_dropped; /* unsubscribed: the pod may still stream */
	bool stream_live;
	struct ctl_call *stream_call;
	struct insomnia_control_stream stream;
	insomnia_control_end_fn on_end;
	void *end_arg;
	int depth;    /* callbacks under way (ctl_hold) */
	bool closing; /* insomnia_control_close was called */
	bool waiting; /* a blocking call turns the private loop */
};

static void end_connection(struct insomnia_control *c,
                           const struct insomnia_error *why);

bool ctl_is_blocking(const struct insomnia_control *c)
{
	return c->own_base;
}

struct event_base *ctl_base(struct insomnia_control *c)
{
	return c->base;
}

bool ctl_closing(const struct insomnia_control *c)
{
	return c->closing;
}

/* Stop all I/O.  The fd is ours, not the bufferevent's: libevent
 * finalises a freed bufferevent later, from the loop, and the socket
 * must be closed now (the peer waits for our EOF; the caller counts its
 * descriptors).  Inside the bufferevent's own callback, freeing it
 * leaves its read event registered until the callback returns: on a
 * closed fd whose number the caller may reuse at once (a pipe it then
 * adds read-only would never fire), so the events are disabled first,
 * which removes them now. */
static void stop_io(struct insomnia_control *c)
{
	if (c->wev)
		event_free(c->wev);
	c->wev = NULL;
	if (c->bev) {
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		bufferevent_free(c->bev);
	}
	c->bev = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->out)
		evbuffer_free(c->out);
	c->out = NULL;
}

static void destroy(struct insomnia_control *c)
{
	struct ctl_call *call;

	stop_io(c);
	while ((call = TAILQ_FIRST(&c->calls))) {
		TAILQ_REMOVE(&c->calls, call, link);
		free(call);
	}
	if (c->own_base)
		event_base_free(c->base);
	free(c);
}

bool ctl_wait_begin(struct insomnia_control *c)
{
	if (c->waiting)
		return false;
	c->waiting = true;
	return true;
}

void ctl_wait_end(struct insomnia_control *c)
{
	c->waiting = false;
}

void ctl_hold(struct insomnia_control *c)
{
	c->depth++;
}

bool ctl_release(struct insomnia_control *c)
{
	if (--c->depth == 0 && c->closing) {
		destroy(c);
		return false;
	}
	return !c->closing;
}

void insomnia_control_close(struct insomnia_control *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	/* No more I/O even while a callback of c still runs. */
	stop_io(c);
	if (c->depth == 0)
		destroy(c);
}

void insomnia_control_on_end(struct insomnia_control *c,
                             insomnia_control_end_fn fn, void *arg)
{
	if (!c)
		return;
	c->on_end = fn;
	c->end_arg = arg;
}

/* --- Writing --------------------------------------------------------- */

/* A peer that is gone: stop writing and let reading find the EOF, so
 * the replies it wrote before leaving are still delivered. */
static bool peer_gone(int errnum)
{
	return errnum == EPIPE || errnum == ECONNRESET;
}

static void flush_out(struct insomnia_control *c)
{
	struct evbuffer_iovec v;
	struct insomnia_error err;
	ssize_t n;

	while (evbuffer_peek(c->out, -1, NULL, &v, 1) > 0) {
		n = send(c->fd, v.iov_base, v.iov_len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && peer_gone(errno)) {
			evbuffer_drain(c->out, evbuffer_get_length(c->out));
			break;
		}
		if (n < 0) {
			insomnia_error_set_errno(
			    &err, INSOMNIA_ERR_IO, errno,
			    "cannot write to the pod's socket");
			end_connection(c, &err);
			return;
		}
		evbuffer_drain(c->out, (size_t)n);
	}
	event_del(c->wev);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_control *c = arg;

	(void)fd;
	(void)what;
	ctl_hold(c);
	flush_out(c);
	ctl_release(c);
}

/* --- Delivering -------------------------------------------------------- */

/* JSON text of v for a callback; "null" for a missing value. */
static char *dump(const json_t *v, size_t *len)
{
	char *text =
	    json_dumps(v ? v : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);

	*len = text ? strlen(text) : 0;
	return text;
}

static void stream_end(struct insomnia_control *c,
                       const struct insomnia_error *err)
{
	insomnia_control_end_fn ended = c->stream.ended;
	void *arg = c->stream.arg;

	c->has_stream = false;
	c->stream_live = false;
	c->stream_call = NULL;
	if (ended)
		ended(c, err, arg);
}

/* Hand r to whoever made call, which is already out of the list. */
static void deliver(struct insomnia_control *c, struct ctl_call *call,
                    const struct insomnia_control_reply *r)
{
	insomnia_control_reply_fn reply = call->reply;
	void *arg = call->arg;
	bool orphaned = call->orphaned, is_stream = call->is_stream;

	free(call);
	if (orphaned)
		return;
	if (!is_stream) {
		reply(c, r, arg);
		return;
	}
	c->stream_call = NULL;
	if (r->status != INSOMNIA_CONTROL_RESULT) {
		stream_end(c, r->err);
		return;
	}
	c->stream_live = true;
	if (c->stream.started)
		c->stream.started(c, r, c->stream.arg);
}

static void deliver_failure(struct insomnia_control *c, struct ctl_call *call,
                            const struct insomnia_error *err)
{
	struct insomnia_control_reply r = {
	    .status = INSOMNIA_CONTROL_FAILED,
	    .err = err,
	};

	deliver(c, call, &r);
}

/* The connection is over: tell every call, then the stream, then the
 * owner.  why is NULL for a clean EOF. */
static void end_connection(struct insomnia_control *c,
                           const struct insomnia_error *why)
{
	struct insomnia_error closed;
	struct ctl_call *call;

	if (c->state == CTL_ENDED)
		return;
	c->state = CTL_ENDED;
	stop_io(c);
	insomnia_error_set(&closed, INSOMNIA_ERR_PROTOCOL,
	                   "the pod closed the connection before replying");
	while (!c->closing && (call = TAILQ_FIRST(&c->calls))) {
		TAILQ_REMOVE(&c->calls, call, link);
		deliver_failure(c, call, why ? why : &closed);
	}
	if (!c->closing && c->stream_live)
		stream_end(c, why);
	if (!c->closing && c->on_end)
		c->on_end(c, why, c->end_arg);
}

static void fail(struct insomnia_control *c, const struct insomnia_error *err)
{
	end_connection(c, err);
}

static void handle_event(struct insomnia_control *c,
                         const struct proto_incoming *in)
{
	size_t len;
	char *data;

	/* Events before the reply to subscribe belong to it too. */
	if (!c->has_stream || !c->stream.event)
		return;
	data = dump(in->value, &len);
	if (!data) {
		struct insomnia_error err;
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory");
		fail(c, &err);
		return;
	}
	c->stream.event(c, in->event, data, len, c->stream.arg);
	free(data);
}

/* The call a reply is for: its id, or the oldest call for an error
 * with a null id (the pod could not read ours, and answers in order). */
static struct ctl_call *find_call(struct insomnia_control *c,
                                  const struct proto_incoming *in)
{
	struct ctl_call *call;

	if ((!in->id || json_is_null(in->id)) && in->kind == PROTO_IN_ERROR)
		return TAILQ_FIRST(&c->calls);
	if (!json_is_integer(in->id))
		return NULL;
	TAILQ_FOREACH(call, &c->calls, link)
	{
		if (call->id == json_integer_value(in->id))
			return call;
	}
	return NULL;
}

static void unknown_id(struct insomnia_control *c,
                       const struct proto_incoming *in)
{
	struct insomnia_error err;
	char *id = in->id ? json_dumps(in->id, JSON_ENCODE_ANY) : NULL;

	insomnia_error_set(&err, INSOMNIA_ERR_PROTOCOL,
	                   "the pod replied to a request never sent (id %s)",
	                   id ? id : "missing");
	free(id);
	fail(c, &err);
}

static void handle_reply(struct insomnia_control *c,
                         const struct proto_incoming *in)
{
	struct insomnia_control_reply r = {0};
	struct ctl_call *call = find_call(c, in);
	char *text;

	if (!call) {
		unknown_id(c, in);
		return;
	}
	TAILQ_REMOVE(&c->calls, call, link);
	text = dump(in->value, &r.len);
	r.json = text;
	if (in->kind == PROTO_IN_RESULT) {
		r.status = INSOMNIA_CONTROL_RESULT;
	} else {
		r.status = INSOMNIA_CONTROL_ERROR;
		r.code = in->error.detail;
		r.err = &in->error;
	}
	deliver(c, call, &r);
	free(text);
}

static void handle_line(struct insomnia_control *c, const char *line,
                        size_t len)
{
	struct proto_incoming in;
	struct insomnia_error err;

	if (proto_parse_incoming(line, len, &in, &err) < 0) {
		fail(c, &err);
		return;
	}
	if (in.kind == PROTO_IN_EVENT)
		handle_event(c, &in);
	else if (in.kind != PROTO_IN_BLANK)
		handle_reply(c, &in);
	proto_incoming_free(&in);
}

/* --- Reading ----------------------------------------------------------- */

static bool usable(const struct insomnia_control *c)
{
	return !c->closing && c->state == CTL_OPEN;
}

/* One whole line out of the input, handled.  False when none is left. */
static bool take_line(struct insomnia_control *c, struct evbuffer *in)
{
	struct insomnia_error err;
	size_t len;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);

	if (!line)
		return false;
	if (len > PROTO_LINE_MAX) {
		free(line);
		insomnia_error_set(&err, INSOMNIA_ERR_PROTOCOL,
		                   "the pod sent a line longer than %d bytes",
		                   PROTO_LINE_MAX);
		fail(c, &err);
		return false;
	}
	handle_line(c, line, len);
	free(line);
	return true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct insomnia_control *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct insomnia_error err;

	ctl_hold(c);
	while (usable(c) && take_line(c, in))
		;
	/* What is left has no newline: past the limit it never will. */
	if (usable(c) && evbuffer_get_length(in) > PROTO_LINE_MAX) {
		insomnia_error_set(&err, INSOMNIA_ERR_PROTOCOL,
		                   "the pod sent a line longer than %d bytes",
		                   PROTO_LINE_MAX);
		fail(c, &err);
	}
	ctl_release(c);
}

static void on_bev_event(struct bufferevent *bev, short what, void *arg)
{
	struct insomnia_control *c = arg;
	struct insomnia_error err;

	ctl_hold(c);
	if (what & BEV_EVENT_EOF) {
		if (evbuffer_get_length(bufferevent_get_input(bev)) == 0) {
			end_connection(c, NULL);
		} else {
			insomnia_error_set(
			    &err, INSOMNIA_ERR_PROTOCOL,
			    "the pod closed the connection in the "
			    "middle of a line");
			fail(c, &err);
		}
	} else if ((what & BEV_EVENT_ERROR) &&
	           EVUTIL_SOCKET_ERROR() == ECONNRESET) {
		/* A pod that closed with our requests unread (after
		 * "shutdown", say): what it wrote was read first, so this
		 * is its EOF, and unanswered calls fail as on EOF. */
		end_connection(c, NULL);
	} else if (what & BEV_EVENT_ERROR) {
		insomnia_error_set_errno(&err, INSOMNIA_ERR_IO,
		                         EVUTIL_SOCKET_ERROR(),
		                         "cannot read from the pod's socket");
		fail(c, &err);
	}
	ctl_release(c);
}

/* --- Connecting -------------------------------------------------------- */

static int start_io(struct insomnia_control *c, struct insomnia_error *err)
{
	c->out = evbuffer_new();
	c->wev =
	    event_new(c->base, c->fd, EV_WRITE | EV_PERSIST, on_writable, c);
	c->bev = bufferevent_socket_new(c->base, c->fd, 0);
	if (!c->out || !c->wev || !c->bev)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	bufferevent_setcb(c->bev, on_read, NULL, on_bev_event, c);
	/* One maximal line and its newline, and a byte to see it is more. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, PROTO_LINE_MAX + 2);
	if (bufferevent_enable(c->bev, EV_READ) < 0)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "cannot watch the pod's socket");
	return 0;
}

static struct insomnia_control *connect_in(struct event_base *base,
                                           bool own_base, const char *path,
                                           struct insomnia_error *err)
{
	struct insomnia_control *c = calloc(1, sizeof *c);

	if (!c || !base) {
		free(c);
		if (own_base && base)
			event_base_free(base);
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	c->base = base;
	c->own_base = own_base;
	c->fd = -1;
	c->next_id = 1;
	TAILQ_INIT(&c->calls);
	if (!path || unixsock_connect_nonblock(path, &c->fd, err) < 0 ||
	    start_io(c, err) < 0) {
		if (!path)
			insomnia_error_set(err, INSOMNIA_ERR_USAGE,
			                   "no socket path");
		destroy(c);
		return NULL;
	}
	return c;
}

/* <runtime root>/<name>/sock, in a root checked as every reader checks
 * it (ours, 0700, not a symlink): a name never leads to a socket that
 * another user could have planted in a shared root. */
static int socket_of(const char *name, char *path, size_t size,
                     struct insomnia_error *err)
{
	char root[INSOMNIA_PATH_MAX];
	struct insomnia_error local;
	int n, rootfd;

	if (insomnia_name_check(name, err) < 0)
		return -1;
	rootfd = rundir_open_root(false, root, sizeof root, &local);
	if (rootfd >= 0)
		close(rootfd);
	else if (local.errnum != ENOENT) {
		if (err)
			*err = local;
		return -1;
	} else if (insomnia_runtime_root(root, sizeof root, err) < 0) {
		return -1; /* a missing root: no listener, as connect says */
	}
	n = snprintf(path, size, "%s/%s/sock", root, name);
	if (n < 0 || (size_t)n >= size)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_RUNTIME_DIR,
		    "the socket path of pod %s is too long", name);
	return 0;
}

struct insomnia_control *
insomnia_control_connect_path(struct event_base *base, const char *path,
                              struct insomnia_error *err)
{
	if (!base) {
		insomnia_error_set(err, INSOMNIA_ERR_USAGE, "no event base");
		return NULL;
	}
	return connect_in(base, false, path, err);
}

struct insomnia_control *insomnia_control_connect(struct event_base *base,
                                                  const char *name,
                                                  struct insomnia_error *err)
{
	char path[INSOMNIA_PATH_MAX + 16];

	if (socket_of(name, path, sizeof path, err) < 0)
		return NULL;
	return insomnia_control_connect_path(base, path, err);
}

struct insomnia_control *insomnia_control_open_path(const char *path,
                                                    struct insomnia_error *err)
{
	return connect_in(event_base_new(), true, path, err);
}

struct insomnia_control *insomnia_control_open(const char *name,
                                               struct insomnia_error *err)
{
	char path[INSOMNIA_PATH_MAX + 16];

	if (socket_of(name, path, sizeof path, err) < 0)
		return NULL;
	return insomnia_control_open_path(path, err);
}

/* --- Calling ----------------------------------------------------------- */

static int parse_params(const char *params, json_t **out,
                        struct insomnia_error *err)
{
	json_error_t jerr;

	*out = NULL;
	if (!params)
		return 0;
	*out = json_loads(params, JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_object(*out))
		return 0;
	json_decref(*out);
	*out = NULL;
	return insomnia_error_set(err, INSOMNIA_ERR_USAGE,
	                          "params must be a JSON object: %s",
	                          jerr.text[0] ? jerr.text : "not an object");
}

static int send_request(struct insomnia_control *c, int64_t id,
                        const char *method, const char *params,
                        struct insomnia_error *err)
{
	json_t *p;
	size_t len;
	char *line;
	int rc;

	if (!method || !method[0])
		return insomnia_error_set(err, INSOMNIA_ERR_USAGE, "no method");
	if (parse_params(params, &p, err) < 0)
		return -1;
	line = proto_request_line(id, method, p, &len);
	json_decref(p);
	if (!line)
		return insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                          "cannot encode the %s request",
		                          method);
	rc = evbuffer_add(c->out, line, len);
	free(line);
	if (rc < 0 || event_add(c->wev, NULL) < 0)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	return 0;
}

struct ctl_call *ctl_call_start(struct insomnia_control *c, const char *method,
                                const char *params,
                                insomnia_control_reply_fn reply, void *arg,
                                struct insomnia_error *err)
{
	struct ctl_call *call;

	if (!c) {
		insomnia_error_set(err, INSOMNIA_ERR_USAGE, "no connection");
		return NULL;
	}
	if (c->closing || c->state != CTL_OPEN) {
		insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
		                   "the connection to the pod is closed");
		return NULL;
	}
	call = calloc(1, sizeof *call);
	if (!call) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	call->id = c->next_id;
	call->reply = reply;
	call->arg = arg;
	if (send_request(c, call->id, method, params, err) < 0) {
		free(call);
		return NULL;
	}
	c->next_id++;
	TAILQ_INSERT_TAIL(&c->calls, call, link);
	return call;
}

void ctl_call_orphan(struct insomnia_control *c, struct ctl_call *call)
{
	struct ctl_call *it;

	/* Only while it waits: an answered call is already freed. */
	TAILQ_FOREACH(it, &c->calls, link)
	{
		if (it == call)
			call->orphaned = true;
	}
}

int insomnia_control_call(struct insomnia_control *c, const char *method,
                          const char *params, insomnia_control_reply_fn reply,
                          void *arg, struct insomnia_error *err)
{
	if (!reply)
		return insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                          "no reply callback");
	return ctl_call_start(c, method, params, reply, arg, err) ? 0 : -1;
}

int insomnia_control_subscribe(struct insomnia_control *c, const char *method,
                               const char *params,
                               const struct insomnia_control_stream *stream,
                               struct insomnia_error *err)
{
	struct ctl_call *call;

	if (!c)
		return insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                          "no connection");
	if (!stream || !stream->ended)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_USAGE,
		    "a subscription needs an ended callback");
	if (c->has_stream)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_USAGE,
		    "this connection already has a subscription");
	if (c->stream_dropped)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_USAGE,
		    "this connection's pod may still send the "
		    "events of a dropped subscription: subscribe "
		    "on a new connection");
	call = ctl_call_start(c, method, params, NULL, NULL, err);
	if (!call)
		return -1;
	call->is_stream = true;
	c->has_stream = true;
	c->stream_live = false;
	c->stream_call = call;
	c->stream = *stream;
	return 0;
}

void insomnia_control_unsubscribe(struct insomnia_control *c)
{
	if (!c || !c->has_stream)
		return;
	if (c->stream_call)
		c->stream_call->orphaned = true;
	c->stream_call = NULL;
	c->has_stream = false;
	c->stream_live = false;
	c->stream_dropped = true;
}
