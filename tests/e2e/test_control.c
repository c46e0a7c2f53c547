/* End-to-end: the control client (<insomnia/control.h>) against scripted
 * servers (a forked child that plays a pod line by line) and the real
 * pod.  Each test synchronises on what the peer reads or sends, never on
 * time, except where a timeout is the thing tested. */
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <insomnia/control.h>
#include <insomnia/spawn.h>
#include <insomnia/version.h>

#include "fdio.h"
#include "harness.h"
#include "podctl_run.h"
#include "proto.h"
#include "unixsock.h"

TestSuite(control, .init = e2e_setup, .fini = e2e_teardown, .timeout = 30);

/* --- The scripted server ------------------------------------------------ */

struct server {
	char path[1024];
	int lfd;
	pid_t pid;
};

/* A script runs in the child on the accepted connection; it returns
 * true to then read until the client hangs up (so the client sees no EOF
 * before it is done), false when it closed on purpose. */
typedef bool (*script_fn)(int fd);

static char *srv_line(int fd)
{
	struct insomnia_error err;
	char *line;
	size_t len;

	if (proto_read_line(fd, &line, &len, &err) < 0)
		_exit(3);
	return line;
}

static void srv_send(int fd, const char *text)
{
	if (fd_write_all(fd, text, strlen(text)) < 0)
		_exit(4);
}

/* For a peer that may have hung up on purpose. */
static void srv_send_maybe(int fd, const char *text)
{
	if (fd_write_all(fd, text, strlen(text)) < 0 && errno != EPIPE &&
	    errno != ECONNRESET)
		_exit(4);
}

static long long srv_id(const char *line)
{
	json_t *r = json_loads(line, 0, NULL);
	long long id = json_integer_value(json_object_get(r, "id"));

	json_decref(r);
	return id;
}

/* Bind dir/name (dir may be longer than sun_path), listen. */
static void server_listen(struct server *s, const char *dir, int backlog)
{
	struct insomnia_error err;
	int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	cr_assert_geq(dirfd, 0);
	snprintf(s->path, sizeof s->path, "%s/srv.sock", dir);
	s->lfd = unixsock_listen_at(dirfd, "srv.sock", s->path, backlog, &err);
	cr_assert_geq(s->lfd, 0, "%s", err.message);
	close(dirfd);
	s->pid = 0;
}

static void server_start_in(struct server *s, const char *dir, script_fn script)
{
	server_listen(s, dir, 8);
	s->pid = fork();
	cr_assert_geq(s->pid, 0);
	if (s->pid == 0) {
		int fd;
		char buf[4096];

		/* a client may hang up on purpose while we write */
		signal(SIGPIPE, SIG_IGN);
		fcntl(s->lfd, F_SETFL, 0);
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			_exit(5);
		if (script(fd))
			while (read(fd, buf, sizeof buf) > 0)
				;
		_exit(0);
	}
}

static void server_start(struct server *s, script_fn script)
{
	server_start_in(s, e2e_home, script);
}

/* The child's script must have run to its end. */
static void server_finish(struct server *s)
{
	int status;

	close(s->lfd);
	unlink(s->path);
	if (s->pid > 0) {
		cr_assert_eq(waitpid(s->pid, &status, 0), s->pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		          "the scripted server failed (status %#x)", status);
	}
}

/* --- What the callbacks saw ---------------------------------------------- */

#define MAX_SEEN 64

struct seen {
	int n;
	enum insomnia_control_status status[MAX_SEEN];
	char text[MAX_SEEN][512]; /* a whole status reply */
	enum insomnia_error_kind kind[MAX_SEEN];
	char message[MAX_SEEN][INSOMNIA_ERROR_MESSAGE_MAX];
	struct insomnia_control *close_on; /* close it at the first reply */
	struct event_base *base;
};

static void record(struct insomnia_control *c,
                   const struct insomnia_control_reply *r, void *arg)
{
	struct seen *s = arg;
	int i = s->n++;

	cr_assert_lt(i, MAX_SEEN);
	s->status[i] = r->status;
	snprintf(s->text[i], sizeof s->text[i], "%s", r->json ? r->json : "");
	s->kind[i] = r->err ? r->err->kind : INSOMNIA_ERR_NONE;
	snprintf(s->message[i], sizeof s->message[i], "%s",
	         r->err ? r->err->message : "");
	if (s->close_on == c) {
		insomnia_control_close(c);
		s->close_on = NULL;
	}
}

static struct insomnia_control *connect_to(struct event_base *base,
                                           const char *path)
{
	struct insomnia_error err;
	struct insomnia_control *c =
	    insomnia_control_connect_path(base, path, &err);

	cr_assert_not_null(c, "%s", err.message);
	return c;
}

static void call(struct insomnia_control *c, const char *method,
                 const char *params, struct seen *s)
{
	struct insomnia_error err;

	cr_assert_eq(insomnia_control_call(c, method, params, record, s, &err),
	             0, "%s", err.message);
}

/* --- Pipelining ------------------------------------------------------------
 */

#define PIPELINED 5

/* Read every request before answering any, then answer in reverse
 * order: only matching by id gets each reply to its call. */
static bool reverse_script(int fd)
{
	char *lines[PIPELINED], buf[256];

	for (int i = 0; i < PIPELINED; i++)
		lines[i] = srv_line(fd);
	for (int i = PIPELINED - 1; i >= 0; i--) {
		json_t *r = json_loads(lines[i], 0, NULL);
		snprintf(buf, sizeof buf,
		         "{\"id\":%lld,\"result\":{\"method\":\"%s\"}}\n",
		         srv_id(lines[i]),
		         json_string_value(json_object_get(r, "method")));
		srv_send(fd, buf);
		json_decref(r);
		free(lines[i]);
	}
	return true;
}

Test(control, pipelined_replies_go_to_their_own_calls)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_control *c;
	struct server srv;
	struct seen s = {0};
	char method[PIPELINED][16], want[64];

	server_start(&srv, reverse_script);
	c = connect_to(base, srv.path);
	for (int i = 0; i < PIPELINED; i++) {
		snprintf(method[i], sizeof method[i], "m%d", i);
		call(c, method[i], NULL, &s);
	}
	s.close_on = NULL;
	while (s.n < PIPELINED)
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	/* replies came last first, each to the call that asked */
	for (int i = 0; i < PIPELINED; i++) {
		cr_assert_eq(s.status[i], INSOMNIA_CONTROL_RESULT);
		snprintf(want, sizeof want, "{\"method\":\"m%d\"}",
		         PIPELINED - 1 - i);
		cr_assert_str_eq(s.text[i], want);
	}
	insomnia_control_close(c);
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

/* --- Subscriptions ----------------------------------------------------- */

struct stream_seen {
	bool started, ended;
	struct insomnia_error end_err;
	bool end_clean;
	int events;
	char names[16][32];
	char data[16][64];
	int close_at; /* close the client at this event (1-based), 0: never */
};

static void st_started(struct insomnia_control *c,
                       const struct insomnia_control_reply *r, void *arg)
{
	struct stream_seen *s = arg;

	(void)c;
	cr_assert_eq(r->status, INSOMNIA_CONTROL_RESULT);
	cr_assert_eq(s->events, 0, "events before the reply here");
	s->started = true;
}

static void st_event(struct insomnia_control *c, const char *name,
                     const char *data, size_t len, void *arg)
{
	struct stream_seen *s = arg;

	cr_assert_eq(strlen(data), len);
	cr_assert_lt(s->events, 16);
	snprintf(s->names[s->events], 32, "%s", name);
	snprintf(s->data[s->events], 64, "%s", data);
	if (++s->events == s->close_at)
		insomnia_control_close(c);
}

static void st_ended(struct insomnia_control *c,
                     const struct insomnia_error *err, void *arg)
{
	struct stream_seen *s = arg;

	(void)c;
	cr_assert(!s->ended, "ended twice");
	s->ended = true;
	s->end_clean = err == NULL;
	if (err)
		s->end_err = *err;
}

static struct insomnia_control_stream stream_of(struct stream_seen *s)
{
	return (struct insomnia_control_stream){st_started, st_event, st_ended,
	                                        s};
}

static bool events_script(int fd)
{
	char *line = srv_line(fd);
	char buf[256];

	if (!strstr(line, "\"method\":\"subscribe\"") ||
	    !strstr(line, "\"params\":{\"what\":\"all\"}"))
		_exit(6);
	snprintf(buf, sizeof buf, "{\"id\":%lld,\"result\":{}}\n",
	         srv_id(line));
	free(line);
	srv_send(fd, buf);
	/* several events in one write, then one per write, then EOF; a
	 * client that stopped listening may have hung up meanwhile */
	srv_send(fd, "{\"event\":\"a\",\"data\":{\"n\":1}}\n"
	             "{\"event\":\"b\",\"data\":{\"n\":2}}\n");
	srv_send_maybe(fd, "{\"event\":\"c\"}\n");
	srv_send_maybe(fd, "{\"event\":\"d\",\"data\":[4]}\n");
	close(fd);
	return false;
}

Test(control, subscription_delivers_events_in_order_then_ends_cleanly)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct stream_seen s = {0};
	struct insomnia_control_stream st = stream_of(&s);
	struct insomnia_error err;
	struct insomnia_control *c;
	struct server srv;

	server_start(&srv, events_script);
	c = connect_to(base, srv.path);
	cr_assert_eq(insomnia_control_subscribe(
	                 c, "subscribe", "{\"what\":\"all\"}", &st, &err),
	             0);
	/* one stream per connection */
	cr_assert_eq(
	    insomnia_control_subscribe(c, "subscribe", NULL, &st, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_USAGE);
	while (!s.ended)
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	cr_assert(s.started);
	cr_assert(s.end_clean, "%s", s.end_err.message);
	cr_assert_eq(s.events, 4);
	cr_assert_str_eq(s.names[0], "a");
	cr_assert_str_eq(s.data[0], "{\"n\":1}");
	cr_assert_str_eq(s.names[1], "b");
	cr_assert_str_eq(s.names[2], "c");
	cr_assert_str_eq(s.data[2], "null");
	cr_assert_str_eq(s.names[3], "d");
	cr_assert_str_eq(s.data[3], "[4]");
	/* the connection is over: calls are refused at once */
	cr_assert_eq(insomnia_control_call(c, "ping", NULL, record, NULL, &err),
	             -1);
	insomnia_control_close(c);
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

Test(control, closing_from_an_event_callback_stops_everything)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct stream_seen s = {.close_at = 2};
	struct insomnia_control_stream st = stream_of(&s);
	struct insomnia_error err;
	struct server srv;

	server_start(&srv, events_script);
	cr_assert_eq(
	    insomnia_control_subscribe(connect_to(base, srv.path), "subscribe",
	                               "{\"what\":\"all\"}", &st, &err),
	    0);
	/* the loop ends once the closed client has no event left */
	event_base_dispatch(base);
	cr_assert_eq(s.events, 2, "an event after close");
	cr_assert(!s.ended, "ended called after close");
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

static int stop_after_two(const char *name, const char *data, size_t len,
                          void *arg)
{
	int *n = arg;

	(void)name;
	(void)data;
	(void)len;
	return ++*n == 2;
}

Test(control, blocking_follow_stops_when_told_and_the_connection_lives_on)
{
	struct insomnia_error err;
	struct insomnia_control *c;
	struct server srv;
	int n = 0;

	server_start(&srv, events_script);
	c = insomnia_control_open_path(srv.path, &err);
	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(insomnia_control_follow(c, "subscribe",
	                                     "{\"what\":\"all\"}",
	                                     stop_after_two, &n, 5000, &err),
	             0, "%s", err.message);
	cr_assert_eq(n, 2);
	/* the pod goes on with the dropped stream: a second one on this
	 * connection could not tell its events from the old ones */
	cr_assert_eq(insomnia_control_follow(c, "subscribe",
	                                     "{\"what\":\"all\"}",
	                                     stop_after_two, &n, 5000, &err),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_USAGE, "%s", err.message);
	cr_assert_eq(n, 2, "an event of the dropped stream was delivered");
	insomnia_control_close(c);
	server_finish(&srv);
}

static int count_events(const char *name, const char *data, size_t len,
                        void *arg)
{
	(void)name;
	(void)data;
	(void)len;
	++*(int *)arg;
	return 0;
}

Test(control, blocking_follow_to_the_end)
{
	struct insomnia_error err;
	struct insomnia_control *c;
	struct server srv;
	int n = 0;

	server_start(&srv, events_script);
	c = insomnia_control_open_path(srv.path, &err);
	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(insomnia_control_follow(c, "subscribe",
	                                     "{\"what\":\"all\"}", count_events,
	                                     &n, 5000, &err),
	             0, "%s", err.message);
	cr_assert_eq(n, 4);
	insomnia_control_close(c);
	server_finish(&srv);
}

/* --- Broken peers ------------------------------------------------------- */

/* Answers the first request with what reply_text says, then keeps the
 * connection open (or closes it for a cut line). */
static const char *reply_text;
static bool close_after;

static bool bad_reply_script(int fd)
{
	/* both requests read: closing with unread input would reset */
	free(srv_line(fd));
	free(srv_line(fd));
	srv_send(fd, reply_text);
	if (close_after) {
		close(fd);
		return false;
	}
	return true;
}

/* Two calls outstanding; both must get a protocol error saying what. */
static void expect_protocol_error(const char *text, bool close_it,
                                  const char *what)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_control *c;
	struct server srv;
	struct seen s = {0};

	reply_text = text;
	close_after = close_it;
	server_start(&srv, bad_reply_script);
	c = connect_to(base, srv.path);
	call(c, "ping", NULL, &s);
	call(c, "status", NULL, &s);
	while (s.n < 2)
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(s.status[i], INSOMNIA_CONTROL_FAILED);
		cr_assert_eq(s.kind[i], INSOMNIA_ERR_PROTOCOL, "%s",
		             s.message[i]);
		cr_assert(strstr(s.message[i], what), "%s", s.message[i]);
	}
	insomnia_control_close(c);
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

Test(control, garbage_is_a_protocol_error_for_every_call)
{
	expect_protocol_error("hello there\n", false, "malformed JSON");
	expect_protocol_error("[1,2]\n", false, "not a JSON object");
	expect_protocol_error("{\"id\":1}\n", false, "neither a result");
}

Test(control, a_reply_to_no_request_is_a_protocol_error)
{
	expect_protocol_error("{\"id\":99,\"result\":{}}\n", false,
	                      "never sent (id 99)");
}

Test(control, closing_mid_line_is_a_protocol_error)
{
	expect_protocol_error("{\"id\":1,\"resu", true, "middle of a line");
}

Test(control, closing_between_lines_fails_the_waiting_calls)
{
	expect_protocol_error("", true,
	                      "closed the connection before replying");
}

static bool endless_line_script(int fd)
{
	static char chunk[65536];

	free(srv_line(fd));
	memset(chunk, 'x', sizeof chunk);
	srv_send(fd, "{\"id\":1,\"result\":\"");
	/* more than a line may hold; the client stops reading at the
	 * limit and hangs up, so this ends with EPIPE */
	for (int i = 0; i < PROTO_LINE_MAX / (int)sizeof chunk + 2; i++)
		if (fd_write_all(fd, chunk, sizeof chunk) < 0)
			return false;
	return true;
}

Test(control, a_line_over_the_limit_is_a_protocol_error)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_control *c;
	struct server srv;
	struct seen s = {0};

	signal(SIGPIPE, SIG_IGN); /* the server child writes into a hang-up */
	server_start(&srv, endless_line_script);
	c = connect_to(base, srv.path);
	call(c, "ping", NULL, &s);
	while (s.n < 1)
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	cr_assert_eq(s.status[0], INSOMNIA_CONTROL_FAILED);
	cr_assert_eq(s.kind[0], INSOMNIA_ERR_PROTOCOL);
	cr_assert(strstr(s.message[0], "longer than 1048576"), "%s",
	          s.message[0]);
	insomnia_control_close(c);
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

/* --- Calling from callbacks ----------------------------------------------- */

/* Answers every request with its own id, until the client hangs up. */
static bool echo_script(int fd)
{
	struct insomnia_error err;
	char *line, buf[128];
	size_t len;

	while (proto_read_line(fd, &line, &len, &err) == 0) {
		snprintf(buf, sizeof buf, "{\"id\":%lld,\"result\":%lld}\n",
		         srv_id(line), srv_id(line));
		free(line);
		srv_send(fd, buf);
	}
	return false;
}

struct chain {
	int depth;
	struct insomnia_control *c;
	char got[8][32];
};

static void chain_reply(struct insomnia_control *c,
                        const struct insomnia_control_reply *r, void *arg)
{
	struct chain *ch = arg;
	struct insomnia_error err;

	cr_assert_eq(r->status, INSOMNIA_CONTROL_RESULT);
	snprintf(ch->got[ch->depth], 32, "%s", r->json);
	if (++ch->depth < 4)
		cr_assert_eq(insomnia_control_call(c, "next", NULL, chain_reply,
		                                   ch, &err),
		             0);
	else
		insomnia_control_close(c);
}

Test(control, a_reply_callback_may_call_again_then_close)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct server srv;
	struct chain ch = {0};
	struct insomnia_error err;

	server_start(&srv, echo_script);
	cr_assert_eq(insomnia_control_call(connect_to(base, srv.path), "first",
	                                   NULL, chain_reply, &ch, &err),
	             0);
	event_base_dispatch(base);
	cr_assert_eq(ch.depth, 4);
	for (int i = 0; i < 4; i++) {
		char want[8];
		snprintf(want, sizeof want, "%d", i + 1);
		cr_assert_str_eq(ch.got[i], want);
	}
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

/* All three replies arrive in one read; the first callback closes. */
static bool three_at_once_script(int fd)
{
	for (int i = 0; i < 3; i++)
		free(srv_line(fd));
	srv_send(fd, "{\"id\":1,\"result\":1}\n{\"id\":2,\"result\":2}\n"
	             "{\"id\":3,\"result\":3}\n");
	return true;
}

Test(control, closing_from_a_reply_callback_drops_the_other_calls)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_control *c;
	struct server srv;
	struct seen s = {0};

	server_start(&srv, three_at_once_script);
	c = connect_to(base, srv.path);
	for (int i = 0; i < 3; i++)
		call(c, "m", NULL, &s);
	s.close_on = c;
	event_base_dispatch(base);
	cr_assert_eq(s.n, 1, "a callback after close");
	cr_assert_str_eq(s.text[0], "1");
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

/* --- Connecting and never blocking -----------------------------------------
 */

/* The fd of a connection closed from its own callback is free at once,
 * and the callback may reuse its number: a pipe made there and added
 * read-only must fire (libevent must not think the number watched). */
struct reuse {
	int pipe[2];
	struct event *ev;
	bool fired;
};

static void reuse_fired(evutil_socket_t fd, short what, void *arg)
{
	struct reuse *r = arg;

	r->fired = true;
	event_del(r->ev);
}

static void close_then_reuse(struct insomnia_control *c,
                             const struct insomnia_control_reply *reply,
                             void *arg)
{
	struct reuse *r = arg;

	insomnia_control_close(c);
	cr_assert_eq(pipe2(r->pipe, O_CLOEXEC), 0);
	r->ev = event_new(event_get_base(r->ev), r->pipe[0], EV_READ,
	                  reuse_fired, r);
	cr_assert_not_null(r->ev);
	cr_assert_eq(event_add(r->ev, NULL), 0);
	cr_assert_eq(write(r->pipe[1], "x", 1), 1);
}

Test(control, a_descriptor_reused_from_a_closing_callback_still_fires)
{
	struct event_base *base = event_base_new();
	struct reuse r = {{-1, -1}, NULL, false};
	struct insomnia_error err;
	struct server srv;
	struct event *first;

	server_start(&srv, echo_script);
	/* a placeholder event only to hand the base to the callback */
	first = event_new(base, -1, 0, reuse_fired, &r);
	r.ev = first;
	cr_assert_eq(insomnia_control_call(connect_to(base, srv.path), "m",
	                                   NULL, close_then_reuse, &r, &err),
	             0, "%s", err.message);
	event_base_dispatch(base);
	cr_assert(r.fired, "the pipe's read event never fired");
	event_free(r.ev);
	event_free(first);
	close(r.pipe[0]);
	close(r.pipe[1]);
	server_finish(&srv);
	event_base_free(base);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	insomnia_control_close(arg);
}

Test(control, a_socket_that_never_accepts_does_not_block_the_loop)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_control *c;
	struct server srv;
	struct seen s = {0};
	struct event *tick;
	struct timeval now = {0, 0};

	server_listen(&srv, e2e_home, 8); /* nobody accepts */
	c = connect_to(base, srv.path);
	call(c, "ping", NULL, &s);
	/* another event of the loop runs while the call waits */
	tick = evtimer_new(base, on_tick, c);
	evtimer_add(tick, &now);
	event_base_dispatch(base);
	cr_assert_eq(s.n, 0, "a reply callback after close");
	event_free(tick);
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

Test(control, a_full_accept_queue_is_busy_at_once)
{
	int before = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_error err;
	struct server srv;
	int fds[64], n = 0;

	server_listen(&srv, e2e_home, 0);
	/* fill the queue: non-blocking connects until one is refused */
	for (; n < 64; n++) {
		if (unixsock_connect_nonblock(srv.path, &fds[n], &err) < 0)
			break;
	}
	cr_assert(unixsock_is_busy(&err), "queue never filled: %s",
	          err.message);
	cr_assert_null(insomnia_control_connect_path(base, srv.path, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_SOCKET_REFUSED);
	cr_assert_eq(err.errnum, EAGAIN);
	cr_assert_null(insomnia_control_open_path(srv.path, &err));
	cr_assert_eq(err.errnum, EAGAIN);
	while (n-- > 0)
		close(fds[n]);
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), before, "a descriptor leaked");
}

Test(control, nothing_listening_is_refused)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_error err;
	char path[512];

	snprintf(path, sizeof path, "%s/none.sock", e2e_home);
	cr_assert_null(insomnia_control_connect_path(base, path, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_SOCKET_REFUSED);
	cr_assert_eq(err.errnum, ENOENT);
	cr_assert_null(insomnia_control_connect(base, "../x", &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_NAME);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

Test(control, a_socket_path_longer_than_sun_path_works)
{
	char dir[1024];
	struct insomnia_error err;
	struct insomnia_control *c;
	struct server srv;
	char *result;

	snprintf(dir, sizeof dir, "%s", e2e_home);
	while (strlen(dir) < 200) {
		strcat(dir, "/a-rather-long-directory-name");
		cr_assert_eq(mkdir(dir, 0700), 0);
	}
	server_start_in(&srv, dir, echo_script);
	cr_assert_gt(strlen(srv.path), 108);
	c = insomnia_control_open_path(srv.path, &err);
	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(insomnia_control_call_wait(c, "ping", NULL, 5000, &result,
	                                        NULL, &err),
	             0, "%s", err.message);
	cr_assert_str_eq(result, "1");
	free(result);
	insomnia_control_close(c);
	server_finish(&srv);
}

/* --- Blocking calls ---------------------------------------------------------
 */

/* Holds the reply to the first request until the second one comes. */
static bool late_script(int fd)
{
	char *first = srv_line(fd), *second = srv_line(fd), buf[128];

	snprintf(buf, sizeof buf,
	         "{\"id\":%lld,\"result\":\"late\"}\n"
	         "{\"id\":%lld,\"result\":\"second\"}\n",
	         srv_id(first), srv_id(second));
	free(first);
	free(second);
	srv_send(fd, buf);
	return true;
}

Test(control, a_blocking_call_times_out_and_its_late_reply_is_dropped)
{
	struct insomnia_error err;
	struct insomnia_control *c;
	struct server srv;
	char *result;
	size_t len;

	server_start(&srv, late_script);
	c = insomnia_control_open_path(srv.path, &err);
	cr_assert_not_null(c, "%s", err.message);
	/* the server answers nothing until a second request: a timeout */
	cr_assert_eq(insomnia_control_call_wait(c, "slow", NULL, 100, &result,
	                                        &len, &err),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_TIMEOUT, "%s", err.message);
	cr_assert_null(result);
	cr_assert_eq(insomnia_control_call_wait(c, "fast", NULL, 5000, &result,
	                                        &len, &err),
	             0, "%s", err.message);
	cr_assert_str_eq(result, "\"second\"");
	cr_assert_eq(len, 8);
	free(result);
	insomnia_control_close(c);
	server_finish(&srv);
}

Test(control, blocking_calls_are_refused_on_an_async_connection)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_error err;
	struct insomnia_control *c;
	struct server srv;
	char *result;

	server_listen(&srv, e2e_home, 8);
	c = connect_to(base, srv.path);
	cr_assert_eq(insomnia_control_call_wait(c, "ping", NULL, 100, &result,
	                                        NULL, &err),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_USAGE);
	cr_assert_eq(
	    insomnia_control_call(c, "ping", "[1]", record, NULL, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_USAGE, "params not an object");
	insomnia_control_close(c);
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

/* --- The real pod ----------------------------------------------------------
 */

static void use_real_pod(void)
{
	e2e_setup();
	cr_assert_not_null(getenv("INSOMNIA_TEST_POD"));
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

TestSuite(control_pod, .init = use_real_pod, .fini = e2e_teardown,
          .timeout = 30);

static pid_t spawn_pod(const char *name)
{
	struct insomnia_spawn_options o = e2e_options(name, NULL);
	struct insomnia_spawn_result res;
	struct insomnia_error err;

	cr_assert_eq(insomnia_spawn(&o, &res, &err), 0, "%s", err.message);
	return res.pid;
}

Test(control_pod, pipelined_hello_status_ping_and_an_unknown_method)
{
	pid_t pid = spawn_pod("web");
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_control *c;
	struct insomnia_error err;
	struct seen s = {0};
	json_t *v;

	c = insomnia_control_connect(base, "web", &err);
	cr_assert_not_null(c, "%s", err.message);
	call(c, "hello", NULL, &s);
	call(c, "status", "{}", &s);
	for (int i = 0; i < 20; i++)
		call(c, "ping", NULL, &s);
	call(c, "stats", NULL, &s);
	while (s.n < 23)
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	v = json_loads(s.text[0], 0, NULL);
	cr_assert_eq(json_integer_value(json_object_get(v, "pid")), pid);
	json_decref(v);
	v = json_loads(s.text[1], 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(v, "state")),
	                 "ready");
	json_decref(v);
	for (int i = 2; i < 22; i++)
		cr_assert_str_eq(s.text[i], "{\"pong\":true}");
	cr_assert_eq(s.status[22], INSOMNIA_CONTROL_ERROR);
	cr_assert_eq(s.kind[22], INSOMNIA_ERR_PROTOCOL);
	cr_assert(strstr(s.text[22], "\"code\":\"unknown_method\""), "%s",
	          s.text[22]);
	insomnia_control_close(c);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
	e2e_stop(pid);
}

Test(control_pod, blocking_calls_and_a_subscription_the_pod_refuses)
{
	struct insomnia_control *c;
	struct insomnia_error err;
	pid_t pid = spawn_pod("web");
	char *result;
	int n = 0;

	c = insomnia_control_open("web", &err);
	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(insomnia_control_call_wait(c, "ping", NULL, 5000, &result,
	                                        NULL, &err),
	             0, "%s", err.message);
	cr_assert_str_eq(result, "{\"pong\":true}");
	free(result);
	cr_assert_eq(insomnia_control_call_wait(c, "nope", NULL, 5000, &result,
	                                        NULL, &err),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL);
	cr_assert_str_eq(err.detail, "unknown_method");
	/* a stream the pod does not have ends with its error */
	cr_assert_eq(insomnia_control_follow(c, "nosuchstream", NULL,
	                                     count_events, &n, 5000, &err),
	             -1);
	cr_assert_str_eq(err.detail, "unknown_method");
	cr_assert_eq(n, 0);
	cr_assert_eq(insomnia_control_call_wait(c, "shutdown", NULL, 5000,
	                                        &result, NULL, &err),
	             0, "%s", err.message);
	free(result);
	insomnia_control_close(c);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
}

Test(control_pod, podctl_status_of_a_pod_that_is_gone)
{
	struct insomnia_control *c;
	struct insomnia_error err;

	cr_assert_null(c = insomnia_control_open("ghost", &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_SOCKET_REFUSED);
	cr_assert_eq(err.errnum, ENOENT);
}

/* --- podctl status, now a user of the control client ---------------------- */

Test(control_pod, podctl_status_prints_the_pods_answers)
{
	struct podctl_run r = {0};
	pid_t pid = spawn_pod("web");
	char want[64];

	podctl_run(&r, "status", "web", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(strncmp(r.out, "web: ready\n", 11) == 0, "%s", r.out);
	snprintf(want, sizeof want, "\n  pid          %d\n", (int)pid);
	cr_assert(strstr(r.out, want), "%s", r.out);
	snprintf(want, sizeof want, "\n  protocol     %d\n",
	         INSOMNIA_PROTOCOL_VERSION);
	cr_assert(strstr(r.out, want), "%s", r.out);
	cr_assert(strstr(r.out, "\n  pod_version  "), "%s", r.out);
	podctl_run_free(&r);
	e2e_stop(pid);
}

Test(control_pod, podctl_status_of_a_missing_or_stopped_pod)
{
	struct podctl_run r = {0};
	json_t *v;
	pid_t pid;

	podctl_run(&r, "status", "web", "--json", NULL);
	cr_assert_eq(r.code,
	             insomnia_error_exit_code(INSOMNIA_ERR_NOT_RUNNING));
	v = podctl_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(v, "error"), "kind")),
	                 "not_running");
	json_decref(v);
	podctl_run_free(&r);
	pid = spawn_pod("web");
	e2e_stop(pid);
	memset(&r, 0, sizeof r);
	podctl_run(&r, "status", "web", NULL);
	cr_assert_eq(r.code,
	             insomnia_error_exit_code(INSOMNIA_ERR_NOT_RUNNING));
	cr_assert(strstr(r.err, "pod web is not running (stopped)"), "%s",
	          r.err);
	podctl_run_free(&r);
	memset(&r, 0, sizeof r);
	podctl_run(&r, "status", "../x", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_BAD_NAME));
	podctl_run_free(&r);
}

Test(control_pod, podctl_call_prints_the_result_and_maps_errors)
{
	struct podctl_run r = {0};
	pid_t pid = spawn_pod("web");
	json_t *v;

	podctl_run(&r, "call", "web", "ping", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "{\"pong\":true}\n");
	podctl_run_free(&r);
	memset(&r, 0, sizeof r);
	podctl_run(&r, "call", "web", "status", "{\"x\":1}", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	v = json_loads(r.out, 0, NULL);
	cr_assert_eq(json_integer_value(json_object_get(v, "pid")), pid);
	json_decref(v);
	podctl_run_free(&r);
	memset(&r, 0, sizeof r);
	podctl_run(&r, "call", "web", "nope", "--json", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_PROTOCOL));
	cr_assert(strstr(r.out, "unknown method"), "%s", r.out);
	/* the pod's code is its code, not a line of its stderr */
	cr_assert(strstr(r.out, "\"code\":\"unknown_method\",\"tail\":[]"),
	          "%s", r.out);
	podctl_run_free(&r);
	memset(&r, 0, sizeof r);
	podctl_run(&r, "call", "web", "nope", NULL);
	cr_assert(strstr(r.err, "(code unknown_method)"), "%s", r.err);
	cr_assert_null(strstr(r.err, "stderr"), "%s", r.err);
	podctl_run_free(&r);
	memset(&r, 0, sizeof r);
	podctl_run(&r, "call", "web", "ping", "[1]", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_USAGE));
	podctl_run_free(&r);
	e2e_stop(pid);
	memset(&r, 0, sizeof r);
	podctl_run(&r, "call", "web", "ping", NULL);
	cr_assert_eq(r.code,
	             insomnia_error_exit_code(INSOMNIA_ERR_NOT_RUNNING));
	podctl_run_free(&r);
}

/* --- The end of a connection ------------------------------------------------
 */

struct end_seen {
	int calls;
	bool clean;
	char message[INSOMNIA_ERROR_MESSAGE_MAX];
};

static void on_end(struct insomnia_control *c, const struct insomnia_error *err,
                   void *arg)
{
	struct end_seen *e = arg;

	e->calls++;
	e->clean = err == NULL;
	snprintf(e->message, sizeof e->message, "%s", err ? err->message : "");
	insomnia_control_close(c); /* allowed here too */
}

static bool hang_up_script(int fd)
{
	close(fd);
	return false;
}

static bool garbage_script(int fd)
{
	srv_send(fd, "}{\n");
	return true;
}

static void expect_end(script_fn script, bool clean, const char *what)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct end_seen e = {0};
	struct server srv;

	server_start(&srv, script);
	insomnia_control_on_end(connect_to(base, srv.path), on_end, &e);
	event_base_dispatch(base);
	cr_assert_eq(e.calls, 1);
	cr_assert_eq(e.clean, clean, "%s", e.message);
	cr_assert(strstr(e.message, what), "%s", e.message);
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

Test(control, the_owner_is_told_how_the_connection_ended)
{
	expect_end(hang_up_script, true, "");
	expect_end(garbage_script, false, "malformed JSON");
}

/* Starts the stream, sends no event, then answers one more request. */
static bool quiet_stream_script(int fd)
{
	char *line = srv_line(fd), buf[128];

	snprintf(buf, sizeof buf, "{\"id\":%lld,\"result\":{}}\n",
	         srv_id(line));
	free(line);
	srv_send(fd, buf);
	line = srv_line(fd);
	snprintf(buf, sizeof buf, "{\"id\":%lld,\"result\":\"pong\"}\n",
	         srv_id(line));
	free(line);
	srv_send(fd, buf);
	return true;
}

Test(control, a_quiet_stream_times_out_and_the_connection_lives_on)
{
	struct insomnia_error err;
	struct insomnia_control *c;
	struct server srv;
	char *result;
	int n = 0;

	server_start(&srv, quiet_stream_script);
	c = insomnia_control_open_path(srv.path, &err);
	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(insomnia_control_follow(c, "subscribe", NULL, count_events,
	                                     &n, 100, &err),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_TIMEOUT, "%s", err.message);
	cr_assert_eq(insomnia_control_call_wait(c, "ping", NULL, 5000, &result,
	                                        NULL, &err),
	             0, "%s", err.message);
	cr_assert_str_eq(result, "\"pong\"");
	free(result);
	insomnia_control_close(c);
	server_finish(&srv);
}

/* Answers one request and hangs up: the next request is written to a
 * closed peer.  SIGPIPE keeps its default action here (it would kill
 * the test): the client must write with MSG_NOSIGNAL. */
static bool one_then_hang_up_script(int fd)
{
	char *line = srv_line(fd), buf[128];

	snprintf(buf, sizeof buf, "{\"id\":%lld,\"result\":1}\n", srv_id(line));
	free(line);
	srv_send(fd, buf);
	shutdown(fd, SHUT_RDWR);
	close(fd);
	return false;
}

Test(control, writing_to_a_pod_that_hung_up_raises_no_sigpipe)
{
	struct insomnia_error err;
	struct insomnia_control *c;
	struct server srv;
	char *result;

	signal(SIGPIPE, SIG_DFL);
	server_start(&srv, one_then_hang_up_script);
	c = insomnia_control_open_path(srv.path, &err);
	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(
	    insomnia_control_call_wait(c, "a", NULL, 5000, &result, NULL, &err),
	    0, "%s", err.message);
	free(result);
	server_finish(&srv); /* the peer is gone for sure */
	cr_assert_eq(
	    insomnia_control_call_wait(c, "b", NULL, 5000, &result, NULL, &err),
	    -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL, "%s", err.message);
	insomnia_control_close(c);
}

/* Answers the first request only once the second one is queued, then
 * closes with that one unread: the kernel resets the connection. */
static bool reset_script(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char *line = srv_line(fd), buf[128];

	if (poll(&p, 1, -1) != 1)
		_exit(7);
	snprintf(buf, sizeof buf, "{\"id\":%lld,\"result\":1}\n", srv_id(line));
	free(line);
	srv_send(fd, buf);
	close(fd);
	return false;
}

Test(control, a_reset_after_the_last_reply_is_an_end_not_an_io_error)
{
	struct event_base *base = event_base_new();
	struct insomnia_control *c;
	struct server srv;
	struct seen s = {0};

	server_start(&srv, reset_script);
	c = connect_to(base, srv.path);
	call(c, "shutdown", NULL, &s);
	call(c, "ping", NULL, &s);
	while (s.n < 2)
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	cr_assert_eq(s.status[0], INSOMNIA_CONTROL_RESULT);
	cr_assert_eq(s.status[1], INSOMNIA_CONTROL_FAILED);
	cr_assert_eq(s.kind[1], INSOMNIA_ERR_PROTOCOL, "%s", s.message[1]);
	cr_assert(strstr(s.message[1], "closed the connection before"), "%s",
	          s.message[1]);
	insomnia_control_close(c);
	server_finish(&srv);
	event_base_free(base);
}

/* --- A stream and plain calls sharing one connection ------------------------
 */

static bool mixed_script(int fd)
{
	char *sub = srv_line(fd), *ping = srv_line(fd), buf[256];

	snprintf(buf, sizeof buf,
	         "{\"event\":\"early\"}\n"
	         "{\"id\":%lld,\"result\":{}}\n"
	         "{\"event\":\"one\",\"data\":1}\n"
	         "{\"id\":%lld,\"result\":\"pong\"}\n"
	         "{\"event\":\"two\",\"data\":2}\n",
	         srv_id(sub), srv_id(ping));
	free(sub);
	free(ping);
	srv_send(fd, buf);
	close(fd);
	return false;
}

struct mixed {
	struct seen replies;
	struct stream_seen stream;
	int replies_at_event[16];
};

static void mixed_event(struct insomnia_control *c, const char *name,
                        const char *data, size_t len, void *arg)
{
	struct mixed *m = arg;

	m->replies_at_event[m->stream.events] = m->replies.n;
	st_event(c, name, data, len, &m->stream);
}

static void mixed_started(struct insomnia_control *c,
                          const struct insomnia_control_reply *r, void *arg)
{
	struct mixed *m = arg;

	(void)c;
	cr_assert_eq(r->status, INSOMNIA_CONTROL_RESULT);
	m->stream.started = true;
}

static void mixed_ended(struct insomnia_control *c,
                        const struct insomnia_error *err, void *arg)
{
	struct mixed *m = arg;

	st_ended(c, err, &m->stream);
}

Test(control, events_and_replies_interleave_on_one_connection)
{
	int fds = e2e_fd_count();
	struct event_base *base = event_base_new();
	struct insomnia_control_stream st;
	struct insomnia_error err;
	struct insomnia_control *c;
	struct server srv;
	struct mixed m = {0};

	st = (struct insomnia_control_stream){mixed_started, mixed_event,
	                                      mixed_ended, &m};
	server_start(&srv, mixed_script);
	c = connect_to(base, srv.path);
	cr_assert_eq(
	    insomnia_control_subscribe(c, "subscribe", NULL, &st, &err), 0);
	call(c, "ping", NULL, &m.replies);
	event_base_dispatch(base);
	cr_assert(m.stream.started);
	cr_assert(m.stream.ended && m.stream.end_clean);
	cr_assert_eq(m.stream.events, 3);
	cr_assert_str_eq(m.stream.names[0], "early");
	cr_assert_str_eq(m.stream.names[2], "two");
	cr_assert_eq(m.replies.n, 1);
	cr_assert_str_eq(m.replies.text[0], "\"pong\"");
	/* in the order of the lines: pong between "one" and "two" */
	cr_assert_eq(m.replies_at_event[1], 0);
	cr_assert_eq(m.replies_at_event[2], 1);
	insomnia_control_close(c);
	server_finish(&srv);
	event_base_free(base);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

/* --- A blocking wait inside a blocking wait ------------------------------- */

struct nested {
	struct insomnia_control *c;
	struct insomnia_error err;
	int rc;
};

static void nested_reply(struct insomnia_control *c,
                         const struct insomnia_control_reply *r, void *arg)
{
	struct nested *n = arg;
	char *result = NULL;

	(void)r;
	n->rc = insomnia_control_call_wait(c, "inner", NULL, 1000, &result,
	                                   NULL, &n->err);
	free(result);
}

Test(control, a_blocking_call_inside_a_wait_on_the_same_connection_is_refused)
{
	struct insomnia_error err;
	struct nested n = {0};
	struct server srv;
	char *result;

	server_start(&srv, echo_script);
	n.c = insomnia_control_open_path(srv.path, &err);
	cr_assert_not_null(n.c, "%s", err.message);
	cr_assert_eq(
	    insomnia_control_call(n.c, "async", NULL, nested_reply, &n, &err),
	    0);
	cr_assert_eq(insomnia_control_call_wait(n.c, "outer", NULL, 5000,
	                                        &result, NULL, &err),
	             0, "%s", err.message);
	cr_assert_str_eq(result, "2");
	free(result);
	cr_assert_eq(n.rc, -1);
	cr_assert_eq(n.err.kind, INSOMNIA_ERR_USAGE, "%s", n.err.message);
	insomnia_control_close(n.c);
	server_finish(&srv);
}

/* By name, the socket is looked up in a root checked like every other
 * reader checks it: a root another user could write to is refused
 * before any connect, so a planted socket is never talked to. */
Test(control_pod, a_name_in_an_unsafe_runtime_root_is_refused)
{
	struct event_base *base = event_base_new();
	struct insomnia_control *c;
	struct insomnia_error err;
	char root[600];
	pid_t pid = spawn_pod("web");

	snprintf(root, sizeof root, "%s/run", e2e_home);
	cr_assert_eq(chmod(root, 0777), 0);
	c = insomnia_control_connect(base, "web", &err);
	cr_assert_null(c, "connected through a world-writable root");
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR, "%s", err.message);
	cr_assert_null(insomnia_control_open("web", &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR, "%s", err.message);
	cr_assert_eq(chmod(root, 0700), 0);
	c = insomnia_control_open("web", &err);
	cr_assert_not_null(c, "%s", err.message);
	insomnia_control_close(c);
	event_base_free(base);
	e2e_stop(pid);
}
