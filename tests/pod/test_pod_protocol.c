/* The control protocol as a client sees it over the socket. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "proto.h"
#include "unixsock.h"

TestSuite(pod_protocol, .init = th_setup, .fini = th_teardown);

static void send_str(int fd, const char *text)
{
	th_send(fd, text, strlen(text));
}

/* Assert obj is an error reply with this code and id (-1: null). */
static void assert_error_reply(json_t *obj, const char *code, int id)
{
	json_t *e = json_object_get(obj, "error");
	json_t *jid = json_object_get(obj, "id");

	cr_assert_not_null(obj, "no reply");
	cr_assert_str_eq(json_string_value(json_object_get(e, "code")), code);
	cr_assert(json_is_string(json_object_get(e, "message")));
	if (id < 0)
		cr_assert(json_is_null(jid), "id is not null");
	else
		cr_assert_eq(json_integer_value(jid), id);
	json_decref(obj);
}

static void assert_pong(int fd)
{
	json_t *r = th_call(fd, "ping");

	cr_assert(json_is_true(json_object_get(r, "pong")));
	json_decref(r);
}

/* The stop that also proves no error was logged on the way. */
static void stop_quietly(struct th_pod *p, const char *name)
{
	th_stop(p);
	th_assert_err_lacks(p, "connection");
	th_assert_dir_holds(name, "lock");
	th_pod_free(p);
}

Test(pod_protocol, malformed_json_gets_bad_request_and_connection_stays_usable)
{
	struct th_pod p;
	int fd;

	th_start_named(&p, "proto");
	fd = th_connect(p.sock);
	send_str(fd, "{\"id\": 1, \"method\": \n");
	assert_error_reply(th_read_json_line(fd), PROTO_ERR_BAD_REQUEST, -1);
	assert_pong(fd);
	close(fd);
	stop_quietly(&p, "proto");
}

Test(pod_protocol, request_without_method_gets_bad_request_with_its_id)
{
	struct th_pod p;
	int fd;

	th_start_named(&p, "proto");
	fd = th_connect(p.sock);
	send_str(fd, "{\"id\":7}\n");
	assert_error_reply(th_read_json_line(fd), PROTO_ERR_BAD_REQUEST, 7);
	send_str(fd, "{\"id\":8,\"method\":\"ping\",\"params\":[]}\n");
	assert_error_reply(th_read_json_line(fd), PROTO_ERR_BAD_REQUEST, 8);
	send_str(fd, "[1,2,3]\n");
	assert_error_reply(th_read_json_line(fd), PROTO_ERR_BAD_REQUEST, -1);
	assert_pong(fd);
	close(fd);
	stop_quietly(&p, "proto");
}

Test(pod_protocol, unknown_method_gets_unknown_method_error)
{
	struct th_pod p;
	struct insomnia_error err;
	json_t *r = NULL;
	int fd;

	th_start_named(&p, "proto");
	fd = th_connect(p.sock);
	cr_assert_eq(proto_call(fd, 3, "frobnicate", NULL, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL);
	cr_assert_str_eq(err.detail, PROTO_ERR_UNKNOWN_METHOD);
	cr_assert(strstr(err.message, "frobnicate"), "%s", err.message);
	assert_pong(fd);
	close(fd);
	stop_quietly(&p, "proto");
}

/* The reply quotes the name cut on a character boundary: a cut inside
 * "é" would be invalid UTF-8, which jansson cannot encode, and the pod
 * used to drop the connection instead of answering. */
Test(pod_protocol, unknown_long_multibyte_method_gets_a_reply_and_keeps_going)
{
	char method[5 * 200 + 1] = "";
	struct th_pod p;
	struct insomnia_error err;
	json_t *r = NULL;
	int fd;

	for (int i = 0; i < 400; i++)
		strcat(method, i % 2 ? "\xc3\xa9" : "\xe2\x82\xac");
	th_start_named(&p, "proto");
	fd = th_connect(p.sock);
	cr_assert_eq(proto_call(fd, 4, method, NULL, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL, "%s", err.message);
	cr_assert_str_eq(err.detail, PROTO_ERR_UNKNOWN_METHOD);
	cr_assert(strstr(err.message, "unknown method \"\xe2\x82\xac\xc3\xa9"),
	          "%s", err.message);
	cr_assert_null(strstr(err.message, "\xef\xbf\xbd"),
	               "a character was cut: %s", err.message);
	assert_pong(fd);
	close(fd);
	stop_quietly(&p, "proto");
}

Test(pod_protocol, pipelined_requests_get_replies_in_order)
{
	struct th_pod p;
	json_t *r;
	int fd;

	th_start_named(&p, "proto");
	fd = th_connect(p.sock);
	send_str(fd,
	         "{\"id\":1,\"method\":\"ping\"}\n"
	         "{\"id\":2,\"method\":\"hello\"}\n"
	         "\n"
	         "{\"id\":\"three\",\"method\":\"status\",\"params\":{}}\n");
	for (int i = 1; i <= 3; i++) {
		r = th_read_json_line(fd);
		cr_assert_not_null(json_object_get(r, "result"));
		if (i < 3)
			cr_assert_eq(
			    json_integer_value(json_object_get(r, "id")), i);
		else
			cr_assert_str_eq(
			    json_string_value(json_object_get(r, "id")),
			    "three");
		json_decref(r);
	}
	close(fd);
	stop_quietly(&p, "proto");
}

Test(pod_protocol, half_closed_client_still_gets_its_reply)
{
	struct th_pod p;
	json_t *r;
	int fd;

	th_start_named(&p, "proto");
	fd = th_connect(p.sock);
	send_str(fd, "{\"id\":1,\"method\":\"ping\"}\n");
	shutdown(fd, SHUT_WR);
	r = th_read_json_line(fd);
	cr_assert(json_is_true(
	    json_object_get(json_object_get(r, "result"), "pong")));
	json_decref(r);
	cr_assert_null(th_read_json_line(fd));
	close(fd);
	stop_quietly(&p, "proto");
}

/* A request of exactly PROTO_LINE_MAX bytes, newline not counted. */
static char *line_of_max_length(void)
{
	const char *head =
	    "{\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"";
	const char *tail = "\"}}";
	char *line = malloc(PROTO_LINE_MAX + 2);
	size_t pad = PROTO_LINE_MAX - strlen(head) - strlen(tail);

	cr_assert_not_null(line);
	strcpy(line, head);
	memset(line + strlen(head), 'a', pad);
	strcpy(line + strlen(head) + pad, tail);
	strcat(line, "\n");
	return line;
}

Test(pod_protocol, line_of_exactly_the_limit_is_served)
{
	struct th_pod p;
	char *line = line_of_max_length();
	json_t *r;
	int fd;

	th_start_named(&p, "proto");
	fd = th_connect(p.sock);
	th_send(fd, line, strlen(line));
	r = th_read_json_line(fd);
	cr_assert_not_null(json_object_get(r, "result"));
	json_decref(r);
	free(line);
	close(fd);
	stop_quietly(&p, "proto");
}

Test(pod_protocol, over_long_line_gets_line_too_long_and_pod_serves_others)
{
	struct th_pod p;
	size_t len = PROTO_LINE_MAX + 100;
	char *junk = malloc(len + 1), byte;
	int fd, other;
	ssize_t n;

	cr_assert_not_null(junk);
	memset(junk, 'x', len);
	junk[len] = '\n';
	th_start_named(&p, "proto");
	fd = th_connect(p.sock);
	other = th_connect(p.sock);
	th_send(fd, junk, len + 1);
	assert_error_reply(th_read_json_line(fd), PROTO_ERR_LINE_TOO_LONG, -1);
	/* Then the pod hangs up: EOF, or a reset for the bytes it never
	 * read. */
	n = read(fd, &byte, 1);
	cr_assert(n == 0 || (n < 0 && errno == ECONNRESET), "n=%zd", n);
	assert_pong(other);
	close(other);
	close(fd);
	free(junk);
	stop_quietly(&p, "proto");
}

Test(pod_protocol, connect_and_hangup_probes_leave_no_error_line)
{
	struct th_pod p;
	int fd;

	th_start_named(&p, "probed");
	for (int i = 0; i < 20; i++)
		close(th_connect(p.sock));
	/* A probe that sent half a line, and one that reset. */
	fd = th_connect(p.sock);
	send_str(fd, "{\"id\":1,");
	close(fd);
	fd = th_connect(p.sock);
	send_str(fd, "{\"id\":1,\"method\":\"ping\"}\n");
	close(fd); /* before reading: the reply meets a closed peer */
	fd = th_connect(p.sock);
	assert_pong(fd);
	close(fd);
	th_stop(&p);
	/* Progress, the shutdown line and "stopped": nothing else. */
	th_assert_err_lacks(&p, "connection");
	th_assert_err_lacks(&p, "error");
	th_assert_err_lacks(&p, "refused");
	th_pod_free(&p);
}

/* In a child as uid 65534: connect, ask, and report what came back. */
static int probe_as_nobody(const char *sock)
{
	const char *req = "{\"id\":1,\"method\":\"ping\"}\n";
	struct insomnia_error err;
	char buf[256];
	ssize_t n;
	int fd;

	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		return 10;
	if (unixsock_connect(sock, &fd, &err) < 0)
		return 11;
	th_send(fd, req, strlen(req));
	n = read(fd, buf, sizeof buf);
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return 0; /* refused: closed without a word */
	return 12;
}

Test(pod_protocol, peer_with_another_uid_is_refused)
{
	struct th_pod p;
	pid_t child;
	int status, fd;

	if (geteuid() != 0)
		cr_skip_test("needs root to connect as another uid");
	th_start_named(&p, "private");
	/* Loosen the walls on purpose: only SO_PEERCRED stands. */
	chmod(th.root, 0711);
	chmod(th.home, 0711);
	chmod(th.run, 0711);
	chmod(th_rundir_file("private", ""), 0711);
	chmod(p.sock, 0666);
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(probe_as_nobody(p.sock));
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "the other uid got %d", WEXITSTATUS(status));
	fd = th_connect(p.sock);
	assert_pong(fd);
	close(fd);
	th_stop(&p);
	th_assert_err_has(&p, "pod: refused a connection from uid 65534");
	th_pod_free(&p);
}

static long rss_kib(pid_t pid)
{
	char path[64], *text, *at;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	text = th_read_file(path);
	at = strstr(text, "VmRSS:");
	cr_assert_not_null(at);
	return strtol(at + 6, NULL, 10);
}

Test(pod_protocol, slow_reader_does_not_grow_the_pods_memory)
{
	const char *req = "{\"id\":1,\"method\":\"status\"}\n";
	struct th_pod p;
	long before, after;
	size_t sent = 0, len = strlen(req);
	int fd, other;

	th_start_named(&p, "flooded");
	fd = th_connect(p.sock);
	other = th_connect(p.sock);
	assert_pong(other);
	before = rss_kib(p.pid);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* Never read.  Sends block once the pod stops reading us; each
	 * round lets the pod run (the ping) and pushes again. */
	for (int pass = 0; pass < 8; pass++) {
		for (;;) {
			ssize_t n = send(fd, req, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EAGAIN)
				break;
			cr_assert_eq(n, (ssize_t)len, "send: %s",
			             strerror(errno));
			sent += len;
			cr_assert_lt(sent, (size_t)256 << 20,
			             "the pod never pushed back");
		}
		assert_pong(other);
	}
	after = rss_kib(p.pid);
	cr_assert_lt(after - before, 32 * 1024, "RSS grew from %ld to %ld KiB",
	             before, after);
	close(fd);
	close(other);
	stop_quietly(&p, "flooded");
}

Test(pod_protocol,
     subscribe_refuses_an_unknown_kind_or_process_and_stays_usable)
{
	struct th_pod p;
	json_t *r;
	int fd;

	th_start_named(&p, "subs");
	fd = th_connect(p.sock);
	send_str(fd, "{\"id\":1,\"method\":\"subscribe\","
	             "\"params\":{\"kinds\":[\"pod\",\"weather\"]}}\n");
	assert_error_reply(th_read_json_line(fd), PROTO_ERR_BAD_REQUEST, 1);
	send_str(fd, "{\"id\":2,\"method\":\"subscribe\","
	             "\"params\":{\"names\":[\"nope\"]}}\n");
	assert_error_reply(th_read_json_line(fd), "unknown_process", 2);
	/* a refused subscribe leaves an ordinary connection */
	send_str(fd, "{\"id\":3,\"method\":\"ping\"}\n");
	r = th_read_json_line(fd);
	cr_assert_eq(json_integer_value(json_object_get(r, "id")), 3);
	json_decref(r);
	close(fd);
	th_stop(&p);
	th_pod_free(&p);
}
