/* probe.c: one try of a tcp, http or exec probe on the pod's loop
 * (probe.h).
 *
 * Each probe has one timer: first its time limit, then, once the result
 * is known, a zero timeout that reports it.  Every result goes through
 * that deferral, so done never runs inside probe_start, and an evhttp
 * connection is never freed inside its own callback (libevent forbids
 * it): it is freed by the timer, on the next pass of the loop. */
#include "probe.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "childstart.h"
#include "proctree.h"
#include "signame.h"

enum probe_state {
	PROBE_RUNNING, /* the connect, the answer or the exit is awaited */
	PROBE_KILLING, /* exec over time: group killed, reaping awaited */
	PROBE_SETTLED, /* result known: reported on the loop's next pass */
	PROBE_ORPHAN,  /* cancelled exec: freed once the reaper has its pid */
};

/* An address to connect to, from a literal (no DNS on the loop). */
struct probe_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
	char host[INET6_ADDRSTRLEN]; /* the literal, without brackets */
	uint16_t port;
};

struct probe {
	struct probes *ps;
	struct probe *prev, *next;
	enum probe_kind kind;
	enum probe_state state;
	probe_done_fn done;
	void *arg;
	int64_t timeout_ms;
	struct event *timer;
	/* tcp */
	int fd;
	struct event *io;
	/* http: the request is the connection's until its callback */
	struct evhttp_connection *conn;
	enum evhttp_request_error http_error;
	bool http_failed;                /* the error callback ran */
	int http_errno;                  /* a failed connect's */
	bufferevent_event_cb conn_event; /* evhttp's, while connecting */
	void *conn_event_arg;
	/* exec: > 0 until the reaper (or probes_free) reaped it */
	pid_t pid;
	/* exec: its INSOMNIA_PROCESS_TOKEN (from envp), or NULL: what the
	 * command left running is killed by it once the command is over */
	char *token;
	/* the result, once settled */
	bool ok;
	char why[256];
};

struct probes {
	struct event_base *base;
	struct probe *head;
};

struct probes *probes_new(struct event_base *base)
{
	struct probes *ps = calloc(1, sizeof *ps);

	if (ps)
		ps->base = base;
	return ps;
}

/* An answer's status line and headers, at most (a try reads no more). */
#define HTTP_HEADERS_MAX 16384
/* ---- the probe's life ---- */

static void link_probe(struct probes *ps, struct probe *p)
{
	p->ps = ps;
	p->next = ps->head;
	if (ps->head)
		ps->head->prev = p;
	ps->head = p;
}

static void unlink_probe(struct probe *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		p->ps->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

/* Close what the try holds, but not its child (see kill_group). */
static void release(struct probe *p)
{
	if (p->io) {
		event_free(p->io);
		p->io = NULL;
	}
	if (p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
	if (p->conn) {
		/* frees the request too, without calling its callback */
		evhttp_connection_free(p->conn);
		p->conn = NULL;
	}
}

static void destroy(struct probe *p)
{
	unlink_probe(p);
	release(p);
	free(p->token);
	if (p->timer)
		event_free(p->timer);
	free(p);
}

/* The group is ours while its leader is unreaped (its pid, hence its
 * group id, cannot be reused before): never signal it after. */
static void kill_group(struct probe *p)
{
	if (p->pid > 0)
		kill(-p->pid, SIGKILL);
}

static void arm(struct probe *p, int64_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (ms % 1000) * 1000};

	event_add(p->timer, &tv);
}

/* The result is known: stop watching, report on the next pass. */
static void settle(struct probe *p, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void settle(struct probe *p, bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->why, sizeof p->why, fmt, ap);
	va_end(ap);
	p->ok = ok;
	p->state = PROBE_SETTLED;
	if (p->io)
		event_del(p->io);
	arm(p, 0);
}

static void report(struct probe *p)
{
	probe_done_fn done = p->done;
	void *arg = p->arg;
	bool ok = p->ok;
	char why[sizeof p->why];

	memcpy(why, p->why, sizeof why);
	destroy(p);
	done(arg, ok, why); /* never NULL: "HTTP 200" when ok */
}

/* The limit as people read it: "5s", or "250ms" when not whole
 * seconds. */
static const char *limit_text(int64_t ms, char *buf, size_t size)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, size, "%lldms", (long long)ms);
	return buf;
}

static void on_limit(struct probe *p)
{
	char limit[32];

	limit_text(p->timeout_ms, limit, sizeof limit);
	if (p->kind != PROBE_EXEC) {
		settle(p, false, "no answer within %s", limit);
		return;
	}
	/* the result waits for the reaper: the group is gone by then */
	p->state = PROBE_KILLING;
	kill_group(p);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	if (p->state == PROBE_RUNNING)
		on_limit(p);
	else if (p->state == PROBE_SETTLED)
		report(p);
}

/* strerror as a reason: "connection refused". */
static const char *errno_text(int e, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(e));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static void settle_errno(struct probe *p, int e)
{
	char text[128];

	settle(p, false, "%s", errno_text(e, text, sizeof text));
}

/* ---- targets ---- */

static int bad_target(struct insomnia_error *err, const char *kind,
                      const char *target, const char *why)
{
	return insomnia_error_set(err, INSOMNIA_ERR_CONFIG, "%s probe %s: %s",
	                          kind, target, why);
}

/* host: an IPv4 literal, an IPv6 one (brackets allowed) or "localhost". */
static bool parse_host(const char *host, uint16_t port, struct probe_addr *a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
	size_t len = strlen(host);

	memset(a, 0, sizeof *a);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
		snprintf(a->host, sizeof a->host, "%.*s", (int)len - 2,
		         host + 1);
	else if (strcasecmp(host, "localhost") == 0)
		snprintf(a->host, sizeof a->host, "127.0.0.1");
	else if (len < sizeof a->host)
		memcpy(a->host, host, len + 1);
	a->port = port;
	if (inet_pton(AF_INET, a->host, &in->sin_addr) == 1) {
		in->sin_family = a->family = AF_INET;
		in->sin_port = htons(port);
		a->len = sizeof *in;
		return true;
	}
	if (inet_pton(AF_INET6, a->host, &in6->sin6_addr) == 1) {
		in6->sin6_family = a->family = AF_INET6;
		in6->sin6_port = htons(port);
		a->len = sizeof *in6;
		return true;
	}
	return false;
}

static bool parse_port(const char *text, uint16_t *port)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)text[0]))
		return false;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* "host:port", "[v6]:port". */
static int parse_tcp_target(const char *target, struct probe_addr *a,
                            struct insomnia_error *err)
{
	const char *colon = strrchr(target, ':');
	char host[INET6_ADDRSTRLEN + 2];
	uint16_t port;

	if (!colon || !parse_port(colon + 1, &port))
		return bad_target(err, "tcp", target, "expected host:port");
	if ((size_t)(colon - target) >= sizeof host)
		return bad_target(
		    err, "tcp", target,
		    "the host must be an IP address or localhost");
	snprintf(host, sizeof host, "%.*s", (int)(colon - target), target);
	/* a bare IPv6 literal would be ambiguous with its port */
	if (strchr(host, ':') && host[0] != '[')
		return bad_target(err, "tcp", target,
		                  "an IPv6 address goes in brackets: [::1]:80");
	if (!parse_host(host, port, a))
		return bad_target(err, "tcp", target,
		                  "the host must be an IP address or localhost "
		                  "(no DNS on the pod's loop)");
	return 0;
}

/* ---- tcp: a non-blocking connect, done when writable ---- */

static void on_tcp_writable(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	int e = 0;
	socklen_t len = sizeof e;

	(void)what;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	if (e)
		settle_errno(p, e);
	else
		settle(p, true, "connected");
}

static int start_tcp(struct probe *p, const char *target,
                     struct insomnia_error *err)
{
	struct probe_addr a;

	if (parse_tcp_target(target, &a, err) < 0)
		return -1;
	p->fd = socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		settle_errno(p, errno);
		return 0;
	}
	p->io = event_new(p->ps->base, p->fd, EV_WRITE, on_tcp_writable, p);
	if (!p->io)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "tcp probe %s", target);
	if (connect(p->fd, (struct sockaddr *)&a.ss, a.len) == 0)
		settle(p, true, "connected");
	else if (errno == EINPROGRESS || errno == EINTR)
		event_add(p->io, NULL);
	else
		settle_errno(p, errno);
	return 0;
}

/* ---- http: libevent's client, one GET ---- */

/* No status: say why.  A failed connect reaches on_http_done without
 * the error callback (and with errno clobbered): its reason is the one
 * on_connect_event kept. */
static void http_reason(struct probe *p)
{
	char limit[32];

	if (!p->http_failed) {
		if (p->http_errno)
			settle_errno(p, p->http_errno);
		else
			settle(p, false, "cannot connect");
		return;
	}
	switch (p->http_error) {
	case EVREQ_HTTP_TIMEOUT: /* libevent's, set to ours */
		settle(p, false, "no answer within %s",
		       limit_text(p->timeout_ms, limit, sizeof limit));
		break;
	case EVREQ_HTTP_INVALID_HEADER:
		settle(p, false, "malformed answer");
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		settle(p, false, "answer too long");
		break;
	default:
		settle(p, false, "connection closed without an answer");
		break;
	}
}

static void settle_code(struct probe *p, int code)
{
	if (code >= 200 && code < 400)
		settle(p, true, "HTTP %d", code);
	else if (code > 0)
		settle(p, false, "HTTP %d", code);
	else
		http_reason(p);
}

/* The status is known with the headers: the body is not waited for
 * (the connection is freed on the next pass, whatever it still sends).
 * Called by libevent: not a place to free the connection. */
static int on_http_headers(struct evhttp_request *req, void *arg)
{
	struct probe *p = arg;

	if (p->state == PROBE_RUNNING)
		settle_code(p, evhttp_request_get_response_code(req));
	return 0;
}

/* The end of the request, or its failure (req NULL, or no status). */
static void on_http_done(struct evhttp_request *req, void *arg)
{
	struct probe *p = arg;

	if (p->state == PROBE_RUNNING)
		settle_code(p, req ? evhttp_request_get_response_code(req) : 0);
}

static void on_http_error(enum evhttp_request_error e, void *arg)
{
	struct probe *p = arg;

	p->http_failed = true;
	p->http_error = e;
}

/* The connecting bufferevent's event, seen first: on an error errno is
 * still the socket's (evhttp's cleanup loses it), then evhttp's own. */
static void on_connect_event(struct bufferevent *bev, short what, void *arg)
{
	struct probe *p = arg;

	if ((what & BEV_EVENT_ERROR) && !(what & BEV_EVENT_CONNECTED))
		p->http_errno = EVUTIL_SOCKET_ERROR();
	p->conn_event(bev, what, p->conn_event_arg);
}

/* evhttp connects with only an event callback on its bufferevent (it
 * sets the rest once connected, which also drops this wrapper).  Any
 * other arrangement is left alone: the reason is then unknown. */
static void watch_connect(struct probe *p)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(p->conn);
	bufferevent_data_cb rd = NULL, wr = NULL;

	if (!bev)
		return;
	bufferevent_getcb(bev, &rd, &wr, &p->conn_event, &p->conn_event_arg);
	if (rd || wr || !p->conn_event)
		return;
	bufferevent_setcb(bev, NULL, NULL, on_connect_event, p);
}

struct http_target {
	struct probe_addr addr;
	char hostport[INET6_ADDRSTRLEN + 16]; /* the Host header */
	char *path;                           /* path[?query] */
};

static int parse_http_uri(const struct evhttp_uri *u, const char *url,
                          struct http_target *t, struct insomnia_error *err)
{
	const char *scheme = evhttp_uri_get_scheme(u);
	const char *host = evhttp_uri_get_host(u);
	const char *path = evhttp_uri_get_path(u);
	const char *query = evhttp_uri_get_query(u);
	int port = evhttp_uri_get_port(u);

	if (!scheme || strcasecmp(scheme, "http") != 0)
		return bad_target(err, "http", url, "only http:// is probed");
	if (!host || !*host)
		return bad_target(err, "http", url, "no host");
	if (port == 0 || port > 65535)
		return bad_target(err, "http", url, "bad port");
	if (port < 0)
		port = 80;
	if (!parse_host(host, (uint16_t)port, &t->addr))
		return bad_target(err, "http", url,
		                  "the host must be an IP address or localhost "
		                  "(no DNS on the pod's loop)");
	snprintf(t->hostport, sizeof t->hostport, "%s:%d", host, port);
	if (asprintf(&t->path, "%s%s%s", path && *path ? path : "/",
	             query ? "?" : "", query ? query : "") < 0) {
		t->path = NULL;
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "http probe %s", url);
	}
	return 0;
}

static int parse_http_target(const char *url, struct http_target *t,
                             struct insomnia_error *err)
{
	struct evhttp_uri *u = evhttp_uri_parse_with_flags(url, 0);
	int r;

	if (!u)
		return bad_target(err, "http", url, "not a URL");
	r = parse_http_uri(u, url, t, err);
	evhttp_uri_free(u);
	return r;
}

static int send_request(struct probe *p, const struct http_target *t)
{
	struct evhttp_request *req = evhttp_request_new(on_http_done, p);
	struct evkeyvalq *h;

	if (!req)
		return -1;
	evhttp_request_set_header_cb(req, on_http_headers);
	evhttp_request_set_error_cb(req, on_http_error);
	h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", t->hostport) < 0 ||
	    evhttp_add_header(h, "Connection", "close") < 0) {
		evhttp_request_free(req);
		return -1;
	}
	/* on failure the request is the connection's (freed with it) */
	if (evhttp_make_request(p->conn, req, EVHTTP_REQ_GET, t->path) < 0) {
		if (p->state == PROBE_RUNNING)
			settle(p, false, "cannot connect");
		return 0;
	}
	if (p->state == PROBE_RUNNING)
		watch_connect(p);
	return 0;
}

static int start_http(struct probe *p, const char *url,
                      struct insomnia_error *err)
{
	struct http_target t = {.path = NULL};
	struct timeval limit = {.tv_sec = p->timeout_ms / 1000,
	                        .tv_usec = (p->timeout_ms % 1000) * 1000};
	int r = -1;

	if (parse_http_target(url, &t, err) < 0)
		goto out;
	p->conn = evhttp_connection_base_new(p->ps->base, NULL, t.addr.host,
	                                     t.addr.port);
	if (!p->conn)
		goto oom;
	evhttp_connection_set_family(p->conn, t.addr.family);
	/* the status line and headers are all a try reads: a server sending
	 * endless headers must not grow the pod (the body is never read) */
	evhttp_connection_set_max_headers_size(p->conn, HTTP_HEADERS_MAX);
	evhttp_connection_set_max_body_size(p->conn, HTTP_HEADERS_MAX);
	/* its own default (45 s to connect) must not cut a longer limit */
	evhttp_connection_set_timeout_tv(p->conn, &limit);
	if (send_request(p, &t) < 0)
		goto oom;
	r = 0;
	goto out;
oom:
	insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
	                         "http probe %s", url);
out:
	free(t.path);
	return r;
}

/* ---- exec: a child in its own group, its exit through the reaper ---- */

/* Remember the token envp gives the command (proc.c: "<run token>/probe",
 * not the run's own, so the run's leftovers are not the probe's). */
static int take_token(struct probe *p, char *const *envp)
{
	size_t n = strlen(PROCTREE_TOKEN_VAR);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, PROCTREE_TOKEN_VAR, n) && (*envp)[n] == '=')
			return (p->token = strdup(*envp + n + 1)) ? 0 : -1;
	return 0;
}

/* The command is over: what it started (a daemon it forked, setsid or
 * not) carries its token, and goes too.  A try must leave nothing. */
static void kill_leftovers(struct probe *p)
{
	if (p->token)
		proctree_signal_marked(p->token, SIGKILL, NULL);
}

static int start_exec(struct probe *p, char *const *argv, char *const *envp,
                      const char *cwd, struct insomnia_error *err)
{
	struct childstart_spec cs = {
	    .path = argv ? argv[0] : NULL,
	    .argv = argv,
	    .envp = envp,
	    .cwd = cwd,
	    .group = CHILDSTART_NEW_GROUP,
	    .death_signal = SIGKILL,
	};
	struct insomnia_error cerr;

	if (!argv || !argv[0])
		return insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
		                          "exec probe: no command");
	if (take_token(p, envp) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "exec probe");
	if (childstart(&cs, &p->pid, NULL, NULL, &cerr) < 0) {
		p->pid = 0;
		settle(p, false, "%s", cerr.message);
	}
	return 0;
}

static void settle_status(struct probe *p, int status)
{
	const char *name;

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		settle(p, true, "exited with status 0");
	} else if (WIFEXITED(status)) {
		settle(p, false, "exited with status %d", WEXITSTATUS(status));
	} else {
		name = signame_from_number(WTERMSIG(status));
		if (name)
			settle(p, false, "killed by signal %s", name);
		else
			settle(p, false, "killed by signal %d",
			       WTERMSIG(status));
	}
}

static void on_exec_reaped(struct probe *p, int status)
{
	char limit[32];

	p->pid = 0;
	kill_leftovers(p);
	switch (p->state) {
	case PROBE_RUNNING:
		settle_status(p, status);
		break;
	case PROBE_KILLING:
		settle(p, false, "timed out after %s",
		       limit_text(p->timeout_ms, limit, sizeof limit));
		break;
	case PROBE_ORPHAN:
		destroy(p);
		break;
	case PROBE_SETTLED:
		break;
	}
}

bool probes_reaped(struct probes *ps, pid_t pid, int status)
{
	struct probe *p;

	if (!ps || pid <= 0)
		return false;
	for (p = ps->head; p; p = p->next) {
		if (p->kind == PROBE_EXEC && p->pid == pid) {
			on_exec_reaped(p, status);
			return true;
		}
	}
	return false;
}

/* ---- the API ---- */

static struct probe *new_probe(struct probes *ps, enum probe_kind kind,
                               int64_t timeout_ms, probe_done_fn done,
                               void *arg)
{
	struct probe *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	p->kind = kind;
	p->state = PROBE_RUNNING;
	p->done = done;
	p->arg = arg;
	p->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
	p->fd = -1;
	link_probe(ps, p);
	p->timer = evtimer_new(ps->base, on_timer, p);
	if (!p->timer) {
		destroy(p);
		return NULL;
	}
	return p;
}

static int start_kind(struct probe *p, enum probe_kind kind, const char *target,
                      char *const *argv, char *const *envp, const char *cwd,
                      struct insomnia_error *err)
{
	switch (kind) {
	case PROBE_TCP:
		return start_tcp(p, target ? target : "", err);
	case PROBE_HTTP:
		return start_http(p, target ? target : "", err);
	case PROBE_EXEC:
		return start_exec(p, argv, envp, cwd, err);
	default:
		return insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
		                          "not a polled probe kind (%d)",
		                          (int)kind);
	}
}

struct probe *probe_start(struct probes *ps, enum probe_kind kind,
                          const char *target, char *const *argv,
                          char *const *envp, const char *cwd,
                          int64_t timeout_ms, probe_done_fn done, void *arg,
                          struct insomnia_error *err)
{
	struct probe *p = new_probe(ps, kind, timeout_ms, done, arg);

	if (!p) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "cannot start a probe");
		return NULL;
	}
	if (start_kind(p, kind, target, argv, envp, cwd, err) < 0) {
		destroy(p);
		return NULL;
	}
	if (p->state == PROBE_RUNNING)
		arm(p, p->timeout_ms);
	return p;
}

void probe_cancel(struct probe *p)
{
	if (!p)
		return;
	if (p->pid > 0) {
		/* the group dies now; the probe waits for the reaper */
		kill_group(p);
		p->state = PROBE_ORPHAN;
		p->done = NULL;
		event_del(p->timer);
		release(p);
		return;
	}
	destroy(p);
}

/* Nothing reaps on the loop any more: reap the child here. */
static void reap_now(struct probe *p)
{
	kill_group(p);
	while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	p->pid = 0;
	kill_leftovers(p);
}

void probes_free(struct probes *ps)
{
	if (!ps)
		return;
	while (ps->head) {
		if (ps->head->pid > 0)
			reap_now(ps->head);
		destroy(ps->head);
	}
	free(ps);
}
