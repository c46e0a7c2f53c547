/* server.c: control connections: accept, peer check, line framing,
 * dispatch, backpressure. */
#include "server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "utf8seq.h"
#include "methods.h"
#include "podlog.h"
#include "proto.h"

struct conn {
	struct server *server;
	struct bufferevent *bev;
	struct conn *prev, *next;
	pid_t peer_pid;
	size_t scanned;  /* leading input bytes known to hold no newline */
	bool paused;     /* not reading until the output drains */
	bool closing;    /* free once the output is flushed */
	bool stop_after; /* stop the pod once the output is flushed */
};

struct server {
	struct event_base *base;
	struct evconnlistener *listener;
	const struct pod_state *state;
	server_stop_fn on_stop;
	void *arg;
	struct conn *conns;
	size_t nconns;
	bool accept_paused; /* out of descriptors: wait for a close */
	bool stopping;
};

/* ---- connections ----------------------------------------------------- */

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
	bufferevent_free(c->bev);
	free(c);
	/* A descriptor is free again: accepting can resume. */
	if (s->accept_paused) {
		s->accept_paused = false;
		evconnlistener_enable(s->listener);
	}
}

static void request_stop(struct server *s, const char *reason)
{
	if (s->stopping)
		return;
	s->stopping = true;
	s->on_stop(s->arg, reason);
}

static void stop_for(struct conn *c)
{
	char reason[96];

	snprintf(reason, sizeof reason,
	         "shutdown requested over the control socket (pid %ld)",
	         (long)c->peer_pid);
	request_stop(c->server, reason);
}

/* Queue a line.  Returns -1 when the connection was dropped (freed) for
 * holding too much unread output. */
static int conn_send(struct conn *c, const char *line, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (evbuffer_get_length(out) + len > SERVER_OUTPUT_MAX) {
		podlog("dropping connection from pid %ld: it left more than "
		       "%d bytes unread",
		       (long)c->peer_pid, SERVER_OUTPUT_MAX);
		conn_free(c);
		return -1;
	}
	if (bufferevent_write(c->bev, line, len) < 0) {
		podlog("dropping connection from pid %ld: out of memory",
		       (long)c->peer_pid);
		conn_free(c);
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
		conn_free(c);
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

static int dispatch(struct conn *c, struct proto_request *req)
{
	const struct method *m = methods_find(req->method);
	struct method_env env = {c->server->state, c->server->nconns,
	                         c->peer_pid, false};
	struct method_fail fail = {NULL, ""};
	json_t *result;
	int rc;

	if (!m)
		return unknown_method(c, req);
	result = m->run(&env, req->params, &fail);
	if (!result)
		return conn_send_error(
		    c, req->id, fail.code ? fail.code : PROTO_ERR_INTERNAL,
		    fail.code ? fail.message : "out of memory");
	rc = conn_send_result(c, req->id, result);
	json_decref(result);
	if (rc == 0 && env.stop_after_reply) {
		/* Nothing after a shutdown request will be answered. */
		c->stop_after = true;
		c->closing = true;
		bufferevent_disable(c->bev, EV_READ);
	}
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
	bufferevent_disable(c->bev, EV_READ);
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

/* Answer every complete line queued.  Returns -1 when c is gone. */
static int process_input(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *line;
	size_t len;
	int got, rc;

	while (!c->closing && !c->paused) {
		got = take_line(c, &line, &len);
		if (got == 0)
			return 0;
		if (got < 0)
			return too_long(c);
		rc = handle_line(c, line, len);
		free(line);
		if (rc < 0)
			return -1;
		/* Backpressure: a peer that sends faster than it reads
		 * waits, rather than the pod buffering for it. */
		if (evbuffer_get_length(out) > SERVER_OUTPUT_PAUSE) {
			c->paused = true;
			bufferevent_disable(c->bev, EV_READ);
		}
	}
	return 0;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	process_input(arg);
}

/* The output has drained completely. */
static void write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->stop_after)
		stop_for(c);
	if (c->closing) {
		conn_free(c);
		return;
	}
	if (c->paused) {
		c->paused = false;
		bufferevent_enable(c->bev, EV_READ);
		process_input(c);
	}
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
	 * gets the replies already queued. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		c->closing = true;
		bufferevent_disable(bev, EV_READ);
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
	s->nconns++;
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
                          const struct pod_state *state, server_stop_fn on_stop,
                          void *arg, struct insomnia_error *err)
{
	struct server *s = calloc(1, sizeof *s);

	if (!s) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	s->base = base;
	s->state = state;
	s->on_stop = on_stop;
	s->arg = arg;
	/* backlog 0: the socket is listening already. */
	s->listener = evconnlistener_new(base, accept_cb, s,
	                                 LEV_OPT_CLOSE_ON_EXEC, 0, listenfd);
	if (!s->listener) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "cannot serve the control socket");
		free(s);
		return NULL;
	}
	evconnlistener_set_error_cb(s->listener, accept_error_cb);
	return s;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	s->accept_paused = false;
	while (s->conns)
		conn_free(s->conns);
	evconnlistener_free(s->listener);
	free(s);
}
