/* common/proto.c: the framing both sides use. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "proto.h"

TestSuite(proto);

static json_t *parse(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	cr_assert_not_null(v, "not JSON: %s", text);
	return v;
}

static void assert_json_eq(const char *line, size_t len, const char *want)
{
	json_t *got, *exp = parse(want);

	cr_assert_gt(len, 0);
	cr_assert_eq(line[len - 1], '\n', "no trailing newline");
	cr_assert_null(memchr(line, '\n', len - 1), "newline inside");
	got = json_loadb(line, len, 0, NULL);
	cr_assert(json_equal(got, exp), "got %s, want %s", line, want);
	json_decref(got);
	json_decref(exp);
}

Test(proto, request_line_is_one_compact_object_ending_in_newline)
{
	size_t len;
	char *line = proto_request_line(5, "status", NULL, &len);

	cr_assert_str_eq(line,
	                 "{\"id\":5,\"method\":\"status\",\"params\":{}}\n");
	cr_assert_eq(len, strlen(line));
	free(line);
}

Test(proto, request_line_carries_params_without_stealing_them)
{
	json_t *params = parse("{\"text\":\"two\\nlines\"}");
	size_t len;
	char *line = proto_request_line(1, "echo", params, &len);

	assert_json_eq(line, len,
	               "{\"id\":1,\"method\":\"echo\",\"params\":{\"text\":"
	               "\"two\\nlines\"}}");
	cr_assert_eq(params->refcount, 1);
	json_decref(params);
	free(line);
}

Test(proto, result_and_error_lines_echo_the_id)
{
	json_t *id = json_integer(9), *result = parse("{\"pong\":true}");
	size_t len;
	char *line = proto_result_line(id, result, &len);

	assert_json_eq(line, len, "{\"id\":9,\"result\":{\"pong\":true}}");
	free(line);
	line = proto_error_line(NULL, "bad_request", "no method", &len);
	assert_json_eq(line, len,
	               "{\"id\":null,\"error\":{\"code\":\"bad_request\","
	               "\"message\":\"no method\"}}");
	free(line);
	json_decref(id);
	json_decref(result);
}

Test(proto, encode_refuses_a_line_over_the_limit)
{
	char *big = malloc(PROTO_LINE_MAX + 1);
	json_t *obj;
	size_t len;

	memset(big, 'a', PROTO_LINE_MAX);
	big[PROTO_LINE_MAX] = '\0';
	obj = json_pack("{s:s}", "s", big);
	cr_assert_null(proto_encode_line(obj, &len));
	json_decref(obj);
	free(big);
}

Test(proto, parse_request_fills_method_params_and_id)
{
	const char *text = "{\"id\":\"a\",\"method\":\"ping\"}";
	struct proto_request req;
	struct insomnia_error err;

	cr_assert_eq(proto_parse_request(text, strlen(text), &req, &err), 0,
	             "%s", err.message);
	cr_assert_str_eq(req.method, "ping");
	cr_assert_str_eq(json_string_value(req.id), "a");
	cr_assert(json_is_object(req.params));
	cr_assert_eq(json_object_size(req.params), 0);
	proto_request_free(&req);
}

/* Parse must fail; returns the id it recovered (-1 for null). */
static json_int_t refused(const char *text, const char *reason)
{
	struct proto_request req;
	struct insomnia_error err;
	json_int_t id;

	cr_assert_eq(proto_parse_request(text, strlen(text), &req, &err), -1,
	             "accepted %s", text);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL);
	cr_assert(strstr(err.message, reason), "\"%s\" lacks \"%s\"",
	          err.message, reason);
	cr_assert_not_null(req.id);
	id = json_is_null(req.id) ? -1 : json_integer_value(req.id);
	proto_request_free(&req);
	return id;
}

Test(proto, parse_request_refuses_what_is_not_a_request)
{
	cr_assert_eq(refused("{\"id\":1,", "malformed JSON"), -1);
	cr_assert_eq(refused("[1]", "not a JSON object"), -1);
	cr_assert_eq(refused("{\"id\":2}", "no method"), 2);
	cr_assert_eq(refused("{\"id\":3,\"method\":4}", "must be a string"), 3);
	cr_assert_eq(refused("{\"id\":4,\"method\":\"m\",\"params\":1}",
	                     "params must be an object"),
	             4);
	cr_assert_eq(refused("{\"id\":[],\"method\":\"m\"}", "id must be"), -1);
	cr_assert_eq(
	    refused("{\"id\":1,\"id\":2,\"method\":\"m\"}", "malformed JSON"),
	    -1);
	cr_assert_eq(refused("{\"method\":\"a\\u0000b\"}", "malformed JSON"),
	             -1);
}

Test(proto, parse_response_maps_an_error_reply_to_code_and_message)
{
	const char *text = "{\"id\":1,\"error\":{\"code\":\"unknown_method\","
	                   "\"message\":\"no such method\"}}";
	struct insomnia_error err;
	json_t *id, *result = NULL;

	cr_assert_eq(
	    proto_parse_response(text, strlen(text), &id, &result, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL);
	cr_assert_str_eq(err.message, "no such method");
	cr_assert_str_eq(err.detail, "unknown_method");
	cr_assert_eq(json_integer_value(id), 1);
	cr_assert_null(result);
	json_decref(id);
}

Test(proto, parse_response_refuses_a_reply_without_result_or_error)
{
	const char *text = "{\"id\":1}";
	struct insomnia_error err;
	json_t *result = NULL;

	cr_assert_eq(
	    proto_parse_response(text, strlen(text), NULL, &result, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL);
	cr_assert_str_eq(err.detail, "");
}

/* ---- proto_call against a scripted peer ------------------------------ */

struct pair {
	int client, peer;
};

static struct pair make_pair(void)
{
	int fds[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds),
	             0);
	return (struct pair){fds[0], fds[1]};
}

static void put(int fd, const char *text)
{
	cr_assert_eq(fd_write_all(fd, text, strlen(text)), 0);
}

/* The request proto_call wrote, as the pod would read it. */
static void assert_request(int peer, const char *want)
{
	char *line;
	size_t len;
	struct insomnia_error err;

	cr_assert_eq(proto_read_line(peer, &line, &len, &err), 0, "%s",
	             err.message);
	cr_assert_str_eq(line, want);
	free(line);
}

Test(proto, call_returns_the_result_and_reads_nothing_past_its_line)
{
	struct pair p = make_pair();
	struct insomnia_error err;
	json_t *result;
	char rest[64];
	ssize_t n;

	put(p.peer, "{\"event\":\"tick\",\"data\":{}}\n"
	            "{\"id\":4,\"result\":{\"pong\":true}}\n"
	            "{\"event\":\"after\"}\n");
	cr_assert_eq(proto_call(p.client, 4, "ping", NULL, &result, &err), 0,
	             "%s", err.message);
	cr_assert(json_is_true(json_object_get(result, "pong")));
	json_decref(result);
	assert_request(p.peer, "{\"id\":4,\"method\":\"ping\",\"params\":{}}");
	n = recv(p.client, rest, sizeof rest, MSG_DONTWAIT);
	cr_assert_eq(n, (ssize_t)strlen("{\"event\":\"after\"}\n"));
	close(p.client);
	close(p.peer);
}

Test(proto, call_maps_an_error_reply_with_a_null_id)
{
	struct pair p = make_pair();
	struct insomnia_error err;
	json_t *result;

	put(p.peer, "{\"id\":null,\"error\":{\"code\":\"bad_request\","
	            "\"message\":\"malformed JSON\"}}\n");
	cr_assert_eq(proto_call(p.client, 1, "ping", NULL, &result, &err), -1);
	cr_assert_null(result);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL);
	cr_assert_str_eq(err.detail, "bad_request");
	cr_assert_str_eq(err.message, "malformed JSON");
	close(p.client);
	close(p.peer);
}

/* proto_call against a peer that wrote text and hung up. */
static struct insomnia_error call_expecting_failure(const char *reply)
{
	struct pair p = make_pair();
	struct insomnia_error err;
	json_t *result;

	put(p.peer, reply);
	shutdown(p.peer, SHUT_WR);
	cr_assert_eq(proto_call(p.client, 2, "ping", NULL, &result, &err), -1);
	cr_assert_null(result);
	close(p.client);
	close(p.peer);
	return err;
}

Test(proto, call_refuses_bad_replies_as_protocol_errors)
{
	const char *bad[] = {
	    "{\"id\":3,\"result\":{}}\n", /* another request's */
	    "{\"id\":2,\"result\":{}",    /* cut short */
	    "not json\n",
	    "{\"id\":2,\"result\":1,\"error\":{}}\n",
	    "{\"id\":2,\"error\":\"x\"}\n",
	    "",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct insomnia_error err = call_expecting_failure(bad[i]);
		cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL, "%s: %s", bad[i],
		             err.message);
	}
}

Test(proto, call_reports_a_receive_timeout)
{
	struct pair p = make_pair();
	struct timeval tv = {0, 20000};
	struct insomnia_error err;
	json_t *result;

	setsockopt(p.client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	cr_assert_eq(proto_call(p.client, 1, "ping", NULL, &result, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_TIMEOUT, "%s", err.message);
	close(p.client);
	close(p.peer);
}

Test(proto, call_reports_a_peer_that_hung_up_without_a_signal)
{
	struct pair p = make_pair();
	struct insomnia_error err;
	json_t *result;

	close(p.peer);
	cr_assert_eq(proto_call(p.client, 1, "ping", NULL, &result, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_IO, "%s", err.message);
	cr_assert_eq(err.errnum, EPIPE);
	close(p.client);
}

Test(proto, call_refuses_a_reply_over_the_line_limit)
{
	struct pair p = make_pair();
	struct insomnia_error err;
	json_t *result;
	pid_t writer = fork();

	cr_assert_geq(writer, 0);
	if (writer == 0) {
		static char chunk[65536];
		signal(SIGPIPE, SIG_IGN);
		close(p.client);
		memset(chunk, 'x', sizeof chunk);
		for (int i = 0; i < 20; i++)
			if (fd_write_all(p.peer, chunk, sizeof chunk) < 0)
				break;
		_exit(0);
	}
	close(p.peer);
	cr_assert_eq(proto_call(p.client, 1, "ping", NULL, &result, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL);
	cr_assert(strstr(err.message, "longer than"), "%s", err.message);
	close(p.client);
	waitpid(writer, NULL, 0);
}

Test(proto, read_line_works_on_a_pipe_too)
{
	int fds[2];
	struct insomnia_error err;
	char *line;
	size_t len;

	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	put(fds[1], "first\nsecond\n");
	cr_assert_eq(proto_read_line(fds[0], &line, &len, &err), 0);
	cr_assert_str_eq(line, "first");
	free(line);
	cr_assert_eq(proto_read_line(fds[0], &line, &len, &err), 0);
	cr_assert_str_eq(line, "second");
	cr_assert_eq(len, 6);
	free(line);
	close(fds[0]);
	close(fds[1]);
}
