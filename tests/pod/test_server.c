/* pod/server.c on its own: deferred replies, cancellation, subscribers
 * and their bound.  The server runs its loop in a thread, with a fake
 * methods table whose methods let the test drive it over the socket, as
 * a client would; the test thread is the client (blocking sockets with a
 * receive timeout, so a missing line fails rather than hangs). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "events.h"
#include "methods.h"
#include "proto.h"
#include "server.h"

/* ---- the fake pod (server thread only, but for the pipe) ---------- */

static struct event_base *base;
static struct server *server;
static struct podctx pod;
static pthread_t loop_thread;
static int listenfd = -1;
static struct sockaddr_un addr;
static socklen_t addrlen;
static struct reply *pending; /* the one deferred reply */
static int cancels;           /* its cancel calls */
static int cancel_pipe[2];    /* a byte per cancel, for the test thread */

static void fake_stop(struct podctx *p, const char *a, const char *b,
                      const char *c)
{
}

static void on_cancel(void *arg)
{
	char b = 'c';

	cr_assert_eq(arg, &pending);
	pending = NULL; /* freed by the server: forget it */
	cancels++;
	cr_assert_eq(write(cancel_pipe[1], &b, 1), 1);
}

static json_t *later_run(struct method_env *env, json_t *params,
                         struct method_fail *fail)
{
	pending = method_defer(env);
	if (!pending)
		return NULL;
	reply_on_cancel(pending, on_cancel, &pending);
	return METHOD_LATER;
}

/* Completes the deferred reply, if any is still pending. */
static json_t *answer_run(struct method_env *env, json_t *params,
                          struct method_fail *fail)
{
	bool had = pending != NULL;

	if (had)
		reply_result(pending, json_pack("{s:b}", "answered", 1));
	pending = NULL;
	return json_pack("{s:b, s:i}", "had", had, "cancels", cancels);
}

static json_t *ping_run(struct method_env *env, json_t *params,
                        struct method_fail *fail)
{
	return json_pack("{s:b}", "pong", 1);
}

/* params {"kinds":bits,"names":[...]} */
static json_t *subscribe_run(struct method_env *env, json_t *params,
                             struct method_fail *fail)
{
	const char *names[8];
	json_t *list = json_object_get(params, "names"), *v;
	size_t i, n = 0;

	json_array_foreach(list, i, v) names[n++] = json_string_value(v);
	if (method_subscribe(
	        env,
	        (unsigned)json_integer_value(json_object_get(params, "kinds")),
	        names, n) < 0)
		return NULL;
	return json_pack("{s:b}", "subscribed", 1);
}

static struct reply *waiter; /* await_subscriber's, until there is one */

static void wake_waiter(evutil_socket_t fd, short what, void *arg)
{
	if (waiter && server_has_subscriber(server, EVENT_LOG, NULL)) {
		reply_result(waiter, json_pack("{s:b}", "subscribed", 1));
		waiter = NULL;
	}
}

/* Answers once some connection subscribed to logs (a deferred reply
 * itself): orders a request on one connection after another's. */
static json_t *await_subscriber_run(struct method_env *env, json_t *params,
                                    struct method_fail *fail)
{
	if (server_has_subscriber(server, EVENT_LOG, NULL))
		return json_pack("{s:b}", "subscribed", 1);
	waiter = method_defer(env);
	return waiter ? METHOD_LATER : NULL;
}

/* A subscribe whose reply is big (a logs history): params {"size":N}. */
static json_t *subscribe_big_run(struct method_env *env, json_t *params,
                                 struct method_fail *fail)
{
	size_t size =
	    (size_t)json_integer_value(json_object_get(params, "size"));
	char *history = malloc(size + 1);
	json_t *r;

	cr_assert_not_null(history);
	memset(history, 'h', size);
	history[size] = '\0';
	cr_assert_eq(method_subscribe(env, EVENT_LOG, NULL, 0), 0);
	r = json_pack("{s:s}", "history", history);
	free(history);
	/* subscribed once this run's reply is queued: tell the waiter then */
	event_base_once(base, -1, EV_TIMEOUT, wake_waiter, NULL,
	                &(struct timeval){0, 0});
	return r;
}

static void broadcast_event(unsigned kind, const char *process, const char *tag,
                            size_t pad)
{
	char *line = NULL;
	int len = asprintf(&line,
	                   "{\"event\":\"x\",\"data\":{\"tag\":\"%s\","
	                   "\"pad\":\"%*s\"}}\n",
	                   tag, (int)pad, "");

	cr_assert_geq(len, 0);
	server_broadcast(server, kind, process, line, (size_t)len);
	free(line);
}

/* params {"count":N,"pad":K}: N log events of the same length. */
static json_t *flood_run(struct method_env *env, json_t *params,
                         struct method_fail *fail)
{
	json_int_t n = json_integer_value(json_object_get(params, "count"));
	size_t pad = (size_t)json_integer_value(json_object_get(params, "pad"));

	for (json_int_t i = 0; i < n; i++)
		broadcast_event(EVENT_LOG, "db", "flood", pad);
	return json_pack("{s:I}", "buffered",
	                 (json_int_t)server_buffered(server));
}

/* Events of every kind about db and api, then markers each filter of
 * the tests takes; and who would get what. */
static json_t *emit_run(struct method_env *env, json_t *params,
                        struct method_fail *fail)
{
	json_t *r = json_pack(
	    "{s:b, s:b, s:b}", "process_api",
	    server_has_subscriber(server, EVENT_PROCESS, "api"), "process_db",
	    server_has_subscriber(server, EVENT_PROCESS, "db"), "pod",
	    server_has_subscriber(server, EVENT_POD, NULL));

	broadcast_event(EVENT_PROCESS, "api", "process-api", 0);
	broadcast_event(EVENT_LOG, "api", "log-api", 0);
	broadcast_event(EVENT_POD, NULL, "pod", 0);
	broadcast_event(EVENT_PROCESS, "db", "process-db", 0);
	broadcast_event(EVENT_LOG, "db", "log-db", 0);
	return r;
}

static json_t *quit_run(struct method_env *env, json_t *params,
                        struct method_fail *fail)
{
	event_base_loopexit(base, NULL);
	return json_pack("{s:b}", "bye", 1);
}

static const struct method fake_methods[] = {
    {"later", later_run},
    {"answer", answer_run},
    {"ping", ping_run},
    {"subscribe", subscribe_run},
    {"flood", flood_run},
    {"emit", emit_run},
    {"quit", quit_run},
    {"subscribe_big", subscribe_big_run},
    {"await_subscriber", await_subscriber_run},
};

const struct method *methods_find(const char *name)
{
	for (size_t i = 0; i < sizeof fake_methods / sizeof *fake_methods; i++)
		if (strcmp(fake_methods[i].name, name) == 0)
			return &fake_methods[i];
	return NULL;
}

static void *loop_main(void *arg)
{
	event_base_dispatch(base);
	return NULL;
}

/* An abstract socket: nothing on disk to clean up. */
static void setup(void)
{
	struct insomnia_error err;

	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1,
	         "insomnia-test-server-%ld", (long)getpid());
	addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	                      strlen(addr.sun_path + 1));
	listenfd =
	    socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	cr_assert_geq(listenfd, 0);
	cr_assert_eq(bind(listenfd, (struct sockaddr *)&addr, addrlen), 0, "%s",
	             strerror(errno));
	cr_assert_eq(listen(listenfd, 16), 0);
	cr_assert_eq(pipe2(cancel_pipe, O_CLOEXEC), 0);
	/* As the pod's main() does (server.h): the server thread writes to
	 * clients the test may have closed already (a subscriber's unread
	 * events), and that is EPIPE, not the death of the process. */
	signal(SIGPIPE, SIG_IGN);
	pod.request_stop = fake_stop;
	base = event_base_new();
	cr_assert_not_null(base);
	server = server_new(base, listenfd, &pod, &err);
	cr_assert_not_null(server, "%s", err.message);
	cr_assert_eq(pthread_create(&loop_thread, NULL, loop_main, NULL), 0);
}

static int client(void)
{
	struct timeval tv = {20, 0};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&addr, addrlen), 0);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv),
	             0);
	return fd;
}

static void send_str(int fd, const char *text)
{
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* One line, without '\n', malloc'd; NULL at EOF.  Byte by byte: the
 * rest stays in the socket for the next read. */
static char *read_line(int fd)
{
	size_t len = 0, size = 256;
	char *line = malloc(size);
	ssize_t n;

	cr_assert_not_null(line);
	for (;;) {
		n = read(fd, line + len, 1);
		cr_assert_geq(n, 0, "read: %s", strerror(errno));
		if (n == 0) {
			cr_assert_eq(len, 0, "torn line at EOF");
			free(line);
			return NULL;
		}
		if (line[len] == '\n')
			break;
		if (++len == size)
			cr_assert_not_null(line = realloc(line, size *= 2));
	}
	line[len] = '\0';
	return line;
}

static json_t *read_json(int fd)
{
	char *line = read_line(fd);
	json_t *v;

	cr_assert_not_null(line, "EOF instead of a line");
	v = json_loads(line, 0, NULL);
	cr_assert_not_null(v, "not JSON: %s", line);
	free(line);
	return v;
}

static json_t *call(int fd, const char *request)
{
	json_t *r, *result;

	send_str(fd, request);
	r = read_json(fd);
	result = json_incref(json_object_get(r, "result"));
	cr_assert_not_null(result, "no result");
	json_decref(r);
	return result;
}

static json_int_t num(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static const char *str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void teardown(void)
{
	int fd = client();

	/* The loop ends before the reply goes out: no reply to wait for. */
	send_str(fd, "{\"id\":99,\"method\":\"quit\"}\n");
	cr_assert_eq(pthread_join(loop_thread, NULL), 0);
	server_free(server);
	event_base_free(base);
	close(fd);
	close(listenfd);
	close(cancel_pipe[0]);
	close(cancel_pipe[1]);
}

TestSuite(server, .init = setup, .fini = teardown);

Test(server, a_deferred_reply_lets_a_pipelined_ping_answer_first)
{
	int a = client(), b = client();
	json_t *r;

	send_str(a, "{\"id\":1,\"method\":\"later\"}\n"
	            "{\"id\":2,\"method\":\"ping\"}\n");
	r = read_json(a);
	cr_assert_eq(num(r, "id"), 2, "the ping waited for the deferred call");
	json_decref(r);
	r = call(b, "{\"id\":7,\"method\":\"answer\"}\n");
	cr_assert(json_is_true(json_object_get(r, "had")));
	json_decref(r);
	r = read_json(a);
	cr_assert_eq(num(r, "id"), 1);
	cr_assert(json_is_true(
	    json_object_get(json_object_get(r, "result"), "answered")));
	json_decref(r);
	/* Still a normal connection after it. */
	json_decref(call(a, "{\"id\":3,\"method\":\"ping\"}\n"));
	close(a);
	close(b);
}

Test(server, a_closed_connection_cancels_its_deferred_reply_once)
{
	int a = client(), b = client();
	json_t *r;
	char c;

	send_str(a, "{\"id\":1,\"method\":\"later\"}\n"
	            "{\"id\":2,\"method\":\"ping\"}\n");
	r = read_json(a); /* the ping: so the later call is deferred now */
	cr_assert_eq(num(r, "id"), 2);
	json_decref(r);
	cr_assert_eq(shutdown(a, SHUT_WR), 0);
	/* cancel ran (or the test fails after a while, rather than hang) */
	cr_assert_eq(
	    poll(&(struct pollfd){cancel_pipe[0], POLLIN, 0}, 1, 20000), 1);
	cr_assert_eq(read(cancel_pipe[0], &c, 1), 1);
	/* Nothing more comes on a: EOF, not the deferred reply. */
	cr_assert_null(read_line(a));
	r = call(b, "{\"id\":1,\"method\":\"answer\"}\n");
	cr_assert(json_is_false(json_object_get(r, "had")));
	cr_assert_eq(num(r, "cancels"), 1);
	json_decref(r);
	close(a);
	close(b);
}

/* Lines of the flood: {"event":"x","data":{"tag":"flood","pad":"..."}} */
#define FLOOD_PAD   1000
#define FLOOD_COUNT 1000

Test(server, a_subscriber_that_never_reads_gets_the_overflow_count)
{
	int s = client(), b = client();
	size_t line_len = strlen("{\"event\":\"x\",\"data\":{\"tag\":\"flood\","
	                         "\"pad\":\"\"}}\n") +
	                  FLOOD_PAD;
	size_t fit = SERVER_SUBSCRIBER_MAX / line_len, got = 0;
	json_t *r;
	char *line, request[128];

	r = call(s, "{\"id\":1,\"method\":\"subscribe\","
	            "\"params\":{\"kinds\":4}}\n");
	cr_assert(json_is_true(json_object_get(r, "subscribed")));
	json_decref(r);
	snprintf(request, sizeof request,
	         "{\"id\":2,\"method\":\"flood\",\"params\":{\"count\":%d,"
	         "\"pad\":%d}}\n",
	         FLOOD_COUNT, FLOOD_PAD);
	r = call(b, request);
	/* All queued at once, unread: the pod holds at most the bound. */
	cr_assert_leq(num(r, "buffered"), SERVER_SUBSCRIBER_MAX);
	cr_assert_geq(num(r, "buffered"), (json_int_t)(fit * line_len));
	json_decref(r);
	while ((line = read_line(s)) && strstr(line, "\"flood\"")) {
		cr_assert_eq(strlen(line) + 1, line_len);
		got++;
		free(line);
	}
	cr_assert_not_null(line, "closed without an overflow event");
	cr_assert_eq(got, fit);
	r = json_loads(line, 0, NULL);
	free(line);
	cr_assert_str_eq(str(r, "event"), "overflow");
	cr_assert_eq(num(json_object_get(r, "data"), "lost"),
	             (json_int_t)(FLOOD_COUNT - fit));
	json_decref(r);
	cr_assert_null(read_line(s), "not closed after the overflow");
	close(s);
	close(b);
}

/* The next event line's tag. */
static char *next_tag(int fd)
{
	json_t *v = read_json(fd);
	char *tag;

	cr_assert_not_null(str(json_object_get(v, "data"), "tag"));
	tag = strdup(str(json_object_get(v, "data"), "tag"));
	json_decref(v);
	return tag;
}

Test(server, events_reach_only_the_subscribers_whose_filter_takes_them)
{
	int db = client(), logs = client(), b = client();
	json_t *r;
	char *tag;

	json_decref(call(db, "{\"id\":1,\"method\":\"subscribe\",\"params\":"
	                     "{\"kinds\":2,\"names\":[\"db\"]}}\n"));
	json_decref(call(logs, "{\"id\":1,\"method\":\"subscribe\","
	                       "\"params\":{\"kinds\":5}}\n"));
	r = call(b, "{\"id\":1,\"method\":\"emit\"}\n");
	cr_assert(json_is_false(json_object_get(r, "process_api")));
	cr_assert(json_is_true(json_object_get(r, "process_db")));
	cr_assert(json_is_true(json_object_get(r, "pod")));
	json_decref(r);
	/* process events about db only */
	tag = next_tag(db);
	cr_assert_str_eq(tag, "process-db");
	free(tag);
	/* logs of every process and pod events, in order */
	const char *want[] = {"log-api", "pod", "log-db"};
	for (size_t i = 0; i < 3; i++) {
		tag = next_tag(logs);
		cr_assert_str_eq(tag, want[i]);
		free(tag);
	}
	/* A subscriber's own requests are not answered; the stream goes on. */
	send_str(db, "{\"id\":2,\"method\":\"ping\"}\n");
	json_decref(call(b, "{\"id\":2,\"method\":\"emit\"}\n"));
	tag = next_tag(db);
	cr_assert_str_eq(tag, "process-db");
	free(tag);
	close(db);
	close(logs);
	close(b);
}

/* The reply that began the subscription does not count against the
 * bound: events still fit while a big history drains. */
Test(server, a_big_subscribe_reply_does_not_eat_the_event_bound)
{
	int s = client(), b = client();
	size_t line_len = strlen("{\"event\":\"x\",\"data\":{\"tag\":\"flood\","
	                         "\"pad\":\"\"}}\n") +
	                  FLOOD_PAD;
	size_t fit = SERVER_SUBSCRIBER_MAX / line_len, got = 0;
	json_int_t lost = 0;
	json_t *r;
	char *line, request[128];

	send_str(s, "{\"id\":1,\"method\":\"subscribe_big\","
	            "\"params\":{\"size\":600000}}\n");
	snprintf(request, sizeof request,
	         "{\"id\":2,\"method\":\"flood\",\"params\":{\"count\":%d,"
	         "\"pad\":%d}}\n",
	         FLOOD_COUNT, FLOOD_PAD);
	json_decref(call(b, "{\"id\":1,\"method\":\"await_subscriber\"}\n"));
	/* s has not read its reply yet: most of it is still queued */
	r = call(b, request);
	cr_assert_leq(num(r, "buffered"), 600000 + 64 + SERVER_SUBSCRIBER_MAX);
	json_decref(r);
	r = read_json(s);
	cr_assert_eq(strlen(str(json_object_get(r, "result"), "history")),
	             600000);
	json_decref(r);
	while ((line = read_line(s)) && strstr(line, "\"flood\"")) {
		got++;
		free(line);
	}
	if (line) {
		r = json_loads(line, 0, NULL);
		free(line);
		cr_assert_str_eq(str(r, "event"), "overflow");
		lost = num(json_object_get(r, "data"), "lost");
		json_decref(r);
	}
	cr_assert_geq(got, fit, "events lost to the history's bytes");
	cr_assert_eq((json_int_t)got + lost, FLOOD_COUNT);
	close(s);
	close(b);
}
