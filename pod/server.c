/* server.c: control connections: accept, peer check, line framing,
 * dispatch, backpressure. */
#include "server.h"

#include <errno.h>
#include <stdarg.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "methods.h"
#include "podlog.h"
#include "proto.h"
#include "utf8seq.h"

/* A reply still to come (methods.h: method_defer). */
struct reply {
	struct conn *conn;
	struct reply *prev, *next;
	json_t *id;
	void (*cancel)(void *arg);
	void *cancel_arg;
};

/* What a subscriber takes (methods.h: method_subscribe). */
struct filter {
	unsigned kinds;
	char **names; /* NULL: every process */
	size_t n;
};

struct conn {
	struct server *server;
	struct bufferevent *bev;
	struct conn *prev, *next;
	pid_t peer_pid;
	size_t scanned;  /* leading input bytes known to hold no newline */
	bool paused;     /* not reading until the output drains */
	bool closing;    /* free once the output is flushed */
	bool stop_after; /* stop the pod once the output is flushed */
	bool dead;       /* to be freed from the loop (kick_cb) */
	bool kicked;     /* kick_cb has work for it */
	struct reply *replies; /* still to come */
	size_t npending;
	struct filter *sub; /* set: a subscriber (after its reply) */
	bool subscribed;    /* the subscribe reply is out: events flow */
	size_t lost;        /* events dropped since the output filled */
	/* Output queued when the subscription began (the subscribe reply, a
	 * logs history): allowed on top of the bound until it drains. */
	size_t slack;
};

struct server {
	struct event_base *base;
	struct evconnlistener *listener;
	/* Later work from the loop, never from inside a method's owner:
	 * freeing dead connections, reading again, an overflow notice. */
	struct event *kick;
	struct podctx *pod;
	struct conn *conns;
	size_t nconns;
	bool accept_paused; /* out of descriptors: wait for a close */
	bool stopping;
	void (*idle_fn)(void *arg, bool idle); /* server_set_idle_hook */
	void *idle_arg;
};

static json_t later_sentinel;
json_t *const METHOD_LATER = &later_sentinel;

/* ---- connections ----------------------------------------------------- */

static size_t output_length(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

static void filter_free(struct filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f);
}

static void reply_unlink(struct reply *r)
{
	struct conn *c = r->conn;

	if (r->prev)
		r->prev->next = r->next;
	else
		c->replies = r->next;
	if (r->next)
		r->next->prev = r->prev;
	c->npending--;
}

static void reply_free(struct reply *r)
{
	json_decref(r->id);
	free(r);
}

/* The peer is gone: the owners of its replies must forget them. */
static void cancel_replies(struct conn *c)
{
	while (c->replies) {
		struct reply *r = c->replies;

		reply_unlink(r);
		if (r->cancel)
			r->cancel(r->cancel_arg);
		reply_free(r);
	}
}

static void conn_free(struct conn *c)
{
	struct server *s = c->server;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	if (s->nconns == 0 && s->idle_fn)
		s->idle_fn(s->idle_arg, true);
	bufferevent_free(c->bev);
	cancel_replies(c);
	filter_free(c->sub);
	free(c);
	/* A descriptor is free again: accepting can resume. */
	if (s->accept_paused) {
		s->accept_paused = false;
		evconnlistener_enable(s->listener);
	}
}

/* Drop c, but free it only from the loop: the caller may be deep in a
 * method's owner (a reply, an event) that must not see its connection,
 * nor other replies, vanish under it.  Nothing is sent to c after. */
static void kick(struct conn *c)
{
	c->kicked = true;
	event_active(c->server->kick, 0, 0);
}

static void conn_kill(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	kick(c);
}

static void process_input(struct conn *c);
static void send_overflow(struct conn *c);

static void kick_one(struct conn *c)
{
	c->kicked = false;
	if (c->dead)
		conn_free(c);
	else if (c->lost > 0 && output_length(c) == 0)
		send_overflow(c);
	else
		process_input(c);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	struct conn *c, *next;

	/* Only the next one can be freed meanwhile... by nobody: kick_one
	 * frees c alone, and what process_input runs frees nothing at once
	 * (conn_kill). */
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (c->kicked)
			kick_one(c);
	}
}

static void request_stop(struct server *s, const char *reason)
{
	if (s->stopping)
		return;
	s->stopping = true;
	s->pod->request_stop(s->pod, reason, "shutdown request", reason);
}

static void stop_for(struct conn *c)
{
	char reason[96];

	snprintf(reason, sizeof reason,
	         "shutdown requested over the control socket (pid %ld)",
	         (long)c->peer_pid);
	request_stop(c->server, reason);
}

/* Read requests only while that cannot grow the pod: little output
 * waiting, few replies still to come. */
static bool may_read(const struct conn *c)
{
	if (c->dead || c->closing)
		return false;
	if (c->sub)
		return true; /* discarded: only to see the close */
	return output_length(c) <= SERVER_OUTPUT_PAUSE &&
	       c->npending < SERVER_PENDING_MAX;
}

/* Queue a line.  Returns -1 when the connection was dropped for holding
 * too much unread output (or is already). */
static int conn_send(struct conn *c, const char *line, size_t len)
{
	if (c->dead)
		return -1;
	if (output_length(c) + len > SERVER_OUTPUT_MAX) {
		podlog("dropping connection from pid %ld: it left more than "
		       "%d bytes unread",
		       (long)c->peer_pid, SERVER_OUTPUT_MAX);
		conn_kill(c);
		return -1;
	}
	if (bufferevent_write(c->bev, line, len) < 0) {
		podlog("dropping connection from pid %ld: out of memory",
		       (long)c->peer_pid);
		conn_kill(c);
		return -1;
	}
	return 0;
}

static int conn_send_error(struct conn *c, json_t *id, const char *code,
                           const char *message)
{
	size_t len;
	char *line = proto_error_line(id, code, message, &len);
	int rc;

	if (!line) {
		podlog("cannot encode an error reply; dropping connection");
		conn_kill(c);
		return -1;
	}
	rc = conn_send(c, line, len);
	free(line);
	return rc;
}

static int conn_send_result(struct conn *c, json_t *id, json_t *result)
{
	size_t len;
	char *line = proto_result_line(id, result, &len);
	int rc;

	if (!line)
		return conn_send_error(c, id, PROTO_ERR_INTERNAL,
		                       "the result could not be encoded");
	rc = conn_send(c, line, len);
	free(line);
	return rc;
}

/* ---- replies that come later ---------------------------------------- */

struct reply *method_defer(struct method_env *env)
{
	struct conn *c = env->conn;
	struct reply *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->conn = c;
	r->id = json_incref(env->id);
	r->next = c->replies;
	if (c->replies)
		c->replies->prev = r;
	c->replies = r;
	c->npending++;
	return r;
}

void reply_on_cancel(struct reply *r, void (*cancel)(void *arg), void *arg)
{
	r->cancel = cancel;
	r->cancel_arg = arg;
}

static void update_reading(struct conn *c);

/* r is answered: forget it, and read again if it held the reading. */
static void reply_done(struct reply *r)
{
	struct conn *c = r->conn;

	reply_unlink(r);
	reply_free(r);
	update_reading(c);
}

void reply_result(struct reply *r, json_t *result)
{
	if (!result)
		conn_send_error(r->conn, r->id, PROTO_ERR_INTERNAL,
		                "out of memory");
	else
		conn_send_result(r->conn, r->id, result);
	json_decref(result);
	reply_done(r);
}

void reply_error(struct reply *r, const char *code, const char *fmt, ...)
{
	char msg[METHOD_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	conn_send_error(r->conn, r->id, code, msg);
	reply_done(r);
}

/* ---- subscriptions --------------------------------------------------- */

int method_subscribe(struct method_env *env, unsigned kinds,
                     const char *const *names, size_t n)
{
	struct conn *c = env->conn;
	struct filter *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	f->kinds = kinds;
	if (n > 0 && !(f->names = calloc(n, sizeof *f->names)))
		goto fail;
	for (; f->n < n; f->n++)
		if (!(f->names[f->n] = strdup(names[f->n])))
			goto fail;
	filter_free(c->sub);
	c->sub = f;
	return 0;
fail:
	filter_free(f);
	return -1;
}

static bool filter_takes(const struct filter *f, unsigned kind,
                         const char *process)
{
	if (!(f->kinds & kind))
		return false;
	if (!process || f->n == 0)
		return true;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->names[i], process) == 0)
			return true;
	return false;
}

static bool takes(const struct conn *c, unsigned kind, const char *process)
{
	return c->subscribed && !c->dead && filter_takes(c->sub, kind, process);
}

bool server_has_subscriber(const struct server *s, unsigned kind,
                           const char *process)
{
	for (const struct conn *c = s->conns; c; c = c->next)
		if (takes(c, kind, process))
			return true;
	return false;
}

/* One event to one subscriber, or one more lost.  Once any is lost the
 * rest are too (the stream must not skip silently), until write_cb tells
 * the subscriber how many and closes it. */
static void send_event(struct conn *c, const char *line, size_t len)
{
	if (c->lost == 0 &&
	    output_length(c) + len <= SERVER_SUBSCRIBER_MAX + c->slack) {
		conn_send(c, line, len);
		return;
	}
	/* An event bigger than the whole bound, on an empty output, leaves
	 * no write to wait for. */
	if (c->lost++ == 0 && output_length(c) == 0)
		kick(c);
	c->closing = true;
}

void server_broadcast(struct server *s, unsigned kind, const char *process,
                      const char *line, size_t len)
{
	for (struct conn *c = s->conns; c; c = c->next)
		if (takes(c, kind, process))
			send_event(c, line, len);
}

/* The overflowed subscriber's last line, sent once its output drained. */
static void send_overflow(struct conn *c)
{
	char line[96];
	int len = snprintf(line, sizeof line,
	                   "{\"event\":\"overflow\",\"data\":{\"lost\":%zu}}\n",
	                   c->lost);

	podlog("closing subscriber pid %ld: it lost %zu events (too slow)",
	       (long)c->peer_pid, c->lost);
	c->lost = 0;
	c->subscribed = false; /* nothing more after the overflow */
	conn_send(c, line, (size_t)len);
}

size_t server_buffered(const struct server *s)
{
	size_t total = 0;

	for (const struct conn *c = s->conns; c; c = c->next)
		total += output_length(c);
	return total;
}

/* ---- requests -------------------------------------------------------- */

/* Quote at most this much of an unknown method's name. */
#define METHOD_QUOTE_MAX 128

static int unknown_method(struct conn *c, struct proto_request *req)
{
	size_t len = strlen(req->method);
	/* Cut on a character boundary, so the reply stays valid UTF-8. */
	int quoted = (int)utf8_cut(req->method, len, METHOD_QUOTE_MAX);
	char msg[METHOD_MESSAGE_MAX];

	snprintf(msg, sizeof msg, "unknown method \"%.*s%s\"", quoted,
	         req->method, (size_t)quoted < len ? "..." : "");
	return conn_send_error(c, req->id, PROTO_ERR_UNKNOWN_METHOD, msg);
}

/* After the reply went out: what the method asked the connection to
 * become. */
static void after_reply(struct conn *c, const struct method_env *env)
{
	if (env->stop_after_reply) {
		/* Nothing after a shutdown request will be answered. */
		c->stop_after = true;
		c->closing = true;
	}
	if (c->sub && !c->subscribed) {
		c->subscribed = true;
		c->slack = output_length(c);
	}
}

static int dispatch(struct conn *c, struct proto_request *req)
{
	const struct method *m = methods_find(req->method);
	struct method_env env = {
	    c->server->pod, c->server->nconns, c->peer_pid, false, c, req->id};
	struct method_fail fail = {NULL, ""};
	json_t *result;
	int rc;

	if (!m)
		return unknown_method(c, req);
	result = m->run(&env, req->params, &fail);
	if (result == METHOD_LATER)
		return c->dead ? -1 : 0;
	if (!result) {
		/* A failed subscribe is no subscriber. */
		filter_free(c->sub);
		c->sub = NULL;
		return conn_send_error(
		    c, req->id, fail.code ? fail.code : PROTO_ERR_INTERNAL,
		    fail.code ? fail.message : "out of memory");
	}
	rc = conn_send_result(c, req->id, result);
	json_decref(result);
	if (rc == 0)
		after_reply(c, &env);
	return rc;
}

static bool is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r", line[i]))
			return false;
	return true;
}

/* Returns -1 when the connection is gone. */
static int handle_line(struct conn *c, const char *line, size_t len)
{
	struct proto_request req;
	struct insomnia_error err;
	int rc;

	/* A stray empty line (an interactive user's extra Enter) is not a
	 * request, so it gets no reply. */
	if (is_blank(line, len))
		return 0;
	insomnia_error_clear(&err);
	if (proto_parse_request(line, len, &req, &err) < 0)
		rc = conn_send_error(c, req.id, PROTO_ERR_BAD_REQUEST,
		                     err.message);
	else
		rc = dispatch(c, &req);
	proto_request_free(&req);
	return rc;
}

/* ---- framing --------------------------------------------------------- */

/* A line over the limit: say so, forget the input, close after the
 * reply.  The peer cannot be resynchronised to a line boundary. */
static int too_long(struct conn *c)
{
	char msg[96];

	evbuffer_drain(bufferevent_get_input(c->bev),
	               evbuffer_get_length(bufferevent_get_input(c->bev)));
	c->closing = true;
	snprintf(msg, sizeof msg, "request line longer than %d bytes",
	         PROTO_LINE_MAX);
	return conn_send_error(c, NULL, PROTO_ERR_LINE_TOO_LONG, msg);
}

/* The next complete line, malloc'd, without its '\n'.  1 when one was
 * taken, 0 when more input is needed, -1 when the line is too long. */
static int take_line(struct conn *c, char **line, size_t *len)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer_ptr from, eol;
	size_t have = evbuffer_get_length(in);

	/* Scan only what arrived since the last look. */
	if (c->scanned >= have ||
	    evbuffer_ptr_set(in, &from, c->scanned, EVBUFFER_PTR_SET) < 0)
		eol.pos = -1;
	else
		eol = evbuffer_search(in, "\n", 1, &from);
	if (eol.pos < 0) {
		c->scanned = have;
		return have > PROTO_LINE_MAX ? -1 : 0;
	}
	if ((size_t)eol.pos > PROTO_LINE_MAX)
		return -1;
	*len = (size_t)eol.pos;
	*line = malloc(*len + 1);
	if (!*line)
		return -1;
	evbuffer_remove(in, *line, *len);
	(*line)[*len] = '\0';
	evbuffer_drain(in, 1);
	c->scanned = 0;
	return 1;
}

/* Answer every complete line queued, while reading is allowed. */
static void process_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	char *line;
	size_t len;
	int got, rc;

	while (may_read(c)) {
		if (c->sub) {
			/* A subscriber asks nothing more. */
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		}
		got = take_line(c, &line, &len);
		if (got == 0)
			break;
		if (got < 0) {
			too_long(c);
			break;
		}
		rc = handle_line(c, line, len);
		free(line);
		if (rc < 0)
			return;
	}
	update_reading(c);
}

/* Backpressure: a peer that sends faster than it reads waits, rather
 * than the pod buffering for it. */
static void update_reading(struct conn *c)
{
	bool read = may_read(c);

	if (c->dead)
		return;
	if (read && c->paused) {
		c->paused = false;
		bufferevent_enable(c->bev, EV_READ);
		/* Lines may be waiting in the input already. */
		kick(c);
	} else if (!read && !c->paused) {
		c->paused = true;
		bufferevent_disable(c->bev, EV_READ);
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	process_input(arg);
}

/* The output has drained completely. */
static void write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	c->slack = 0; /* all of it is out */
	if (c->lost > 0) {
		send_overflow(c);
		return; /* closed once that is out too */
	}
	if (c->stop_after)
		stop_for(c);
	if (c->closing) {
		conn_free(c);
		return;
	}
	process_input(c);
}

static bool quiet_errno(int e)
{
	/* A probe or a client that went away: normal, not worth a line. */
	return e == 0 || e == ECONNRESET || e == EPIPE;
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	int e = EVUTIL_SOCKET_ERROR();

	if ((what & BEV_EVENT_ERROR) && !quiet_errno(e))
		podlog("connection from pid %ld: %s", (long)c->peer_pid,
		       strerror(e));
	if (c->stop_after)
		stop_for(c);
	/* A half-closed peer (shutdown(SHUT_WR) after its requests) still
	 * gets the replies already queued; those still to come are
	 * cancelled: it asked nothing more, and a client that went away
	 * looks the same. */
	if (!c->dead)
		cancel_replies(c);
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    output_length(c) > 0) {
		c->closing = true;
		c->subscribed = false;
		update_reading(c);
		return;
	}
	conn_free(c);
}

static struct conn *conn_new(struct server *s, int fd, pid_t peer_pid)
{
	struct conn *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		free(c);
		return NULL;
	}
	c->server = s;
	c->peer_pid = peer_pid;
	/* Reading stops once a whole maximal line (and its newline) is
	 * buffered, so input never grows past the limit. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, PROTO_LINE_MAX + 1);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	if (s->nconns++ == 0 && s->idle_fn)
		s->idle_fn(s->idle_arg, false);
	return c;
}

/* ---- accepting ------------------------------------------------------- */

/* Only the pod's own user may talk to it; the 0700 dir and 0600 socket
 * should already ensure that, this holds even if someone loosens them. */
static bool peer_allowed(int fd, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	*pid = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		podlog("refused a connection: cannot read its credentials: %s",
		       strerror(errno));
		return false;
	}
	*pid = cred.pid;
	if (cred.uid == geteuid())
		return true;
	podlog("refused a connection from uid %lu (pid %ld): only uid %lu "
	       "may connect",
	       (unsigned long)cred.uid, (long)cred.pid,
	       (unsigned long)geteuid());
	return false;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *addr, int socklen, void *arg)
{
	struct server *s = arg;
	pid_t pid;

	if (!peer_allowed(fd, &pid)) {
		close(fd);
		return;
	}
	if (!conn_new(s, fd, pid)) {
		podlog("refused a connection from pid %ld: out of memory",
		       (long)pid);
		close(fd);
	}
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server *s = arg;
	int e = errno;

	podlog("cannot accept a connection: %s", strerror(e));
	/* Out of descriptors: the socket stays readable, so accepting again
	 * at once would spin.  Wait until a connection closes. */
	if ((e == EMFILE || e == ENFILE) && s->nconns > 0) {
		s->accept_paused = true;
		evconnlistener_disable(l);
	}
}

struct server *server_new(struct event_base *base, int listenfd,
                          struct podctx *pod, struct insomnia_error *err)
{
	struct server *s = calloc(1, sizeof *s);

	if (!s) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	s->base = base;
	s->pod = pod;
	s->kick = event_new(base, -1, 0, kick_cb, s);
	/* backlog 0: the socket is listening already. */
	s->listener = evconnlistener_new(base, accept_cb, s,
	                                 LEV_OPT_CLOSE_ON_EXEC, 0, listenfd);
	if (!s->kick || !s->listener) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "cannot serve the control socket");
		server_free(s);
		return NULL;
	}
	evconnlistener_set_error_cb(s->listener, accept_error_cb);
	return s;
}

/* The pod is going: what each connection has queued (the last events,
 * the stopping one) goes out now, as far as its socket takes it without
 * waiting, since the loop will not run again to send it. */
static void flush_now(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (c->dead || fd < 0)
		return;
	/* The bufferevent keeps its output's start frozen: only it drains
	 * it.  It is about to be freed, so we may. */
	evbuffer_unfreeze(out, 1);
	while (evbuffer_get_length(out) > 0)
		if (evbuffer_write(out, fd) <= 0)
			break;
	evbuffer_freeze(out, 1);
}

void server_set_idle_hook(struct server *s, void (*fn)(void *arg, bool idle),
                          void *arg)
{
	s->idle_fn = fn;
	s->idle_arg = arg;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	s->idle_fn = NULL; /* the pod is going: no timer to move */
	s->accept_paused = false;
	for (struct conn *c = s->conns; c; c = c->next)
		flush_now(c);
	while (s->conns)
		conn_free(s->conns);
	if (s->listener)
		evconnlistener_free(s->listener);
	if (s->kick)
		event_free(s->kick);
	free(s);
}
