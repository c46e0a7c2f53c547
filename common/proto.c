/* proto.c: framing, building and parsing control-protocol lines. */
#include "proto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdio.h"
#include "jsonstr.h"

/* Replies are short; the buffer only grows for the rare long one. */
#define READ_CHUNK 4096

char *proto_encode_line(const json_t *obj, size_t *len)
{
	size_t n = json_dumpb(obj, NULL, 0, JSON_COMPACT);
	char *buf;

	if (n == 0 || n > PROTO_LINE_MAX)
		return NULL;
	buf = malloc(n + 2);
	if (!buf)
		return NULL;
	if (json_dumpb(obj, buf, n, JSON_COMPACT) != n) {
		free(buf);
		return NULL;
	}
	buf[n] = '\n';
	buf[n + 1] = '\0';
	*len = n + 1;
	return buf;
}

/* Encode and drop obj: the builders below all end this way. */
static char *encode_and_free(json_t *obj, size_t *len)
{
	char *line = obj ? proto_encode_line(obj, len) : NULL;

	json_decref(obj);
	return line;
}

char *proto_request_line(int64_t id, const char *method, json_t *params,
                         size_t *len)
{
	json_t *obj = json_object();

	if (!obj || json_object_set_new(obj, "id", json_integer(id)) < 0 ||
	    json_object_set_new(obj, "method", json_string(method)) < 0 ||
	    json_object_set_new(obj, "params",
	                        params ? json_incref(params) : json_object()) <
	        0) {
		json_decref(obj);
		return NULL;
	}
	return encode_and_free(obj, len);
}

char *proto_result_line(json_t *id, json_t *result, size_t *len)
{
	json_t *obj = json_object();

	if (!obj || json_object_set(obj, "id", id ? id : json_null()) < 0 ||
	    json_object_set(obj, "result", result) < 0) {
		json_decref(obj);
		return NULL;
	}
	return encode_and_free(obj, len);
}

char *proto_error_line(json_t *id, const char *code, const char *message,
                       size_t *len)
{
	json_t *obj = json_object();
	/* A message may quote bytes from the peer or a path. */
	json_t *e = json_pack("{s:o, s:o}", "code", jsonstr_new(code),
	                      "message", jsonstr_new(message));

	if (!obj || !e ||
	    json_object_set(obj, "id", id ? id : json_null()) < 0 ||
	    json_object_set_new(obj, "error", e) < 0) {
		json_decref(obj);
		return NULL;
	}
	return encode_and_free(obj, len);
}

static bool id_type_ok(const json_t *id)
{
	return json_is_integer(id) || json_is_string(id) || json_is_null(id);
}

/* Checks the parts after the id, which is already in req. */
static int check_request_body(struct proto_request *req,
                              struct insomnia_error *err)
{
	json_t *method = json_object_get(req->root, "method");
	json_t *params = json_object_get(req->root, "params");

	if (!method)
		return insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
		                          "request has no method");
	if (!json_is_string(method))
		return insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
		                          "method must be a string");
	if (params && !json_is_object(params))
		return insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
		                          "params must be an object");
	if (!params) {
		if (json_object_set_new(req->root, "params", json_object()) < 0)
			return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
			                          "out of memory");
		params = json_object_get(req->root, "params");
	}
	req->method = json_string_value(method);
	req->params = params;
	return 0;
}

int proto_parse_request(const char *line, size_t len, struct proto_request *req,
                        struct insomnia_error *err)
{
	json_error_t jerr;
	json_t *id;

	memset(req, 0, sizeof *req);
	req->id = json_null();
	req->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req->root)
		return insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
		                          "malformed JSON at column %d: %s",
		                          jerr.column, jerr.text);
	if (!json_is_object(req->root))
		return insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
		                          "request is not a JSON object");
	id = json_object_get(req->root, "id");
	if (id && !id_type_ok(id))
		return insomnia_error_set(
		    err, INSOMNIA_ERR_PROTOCOL,
		    "id must be an integer, a string or null");
	if (id)
		req->id = id;
	return check_request_body(req, err);
}

void proto_request_free(struct proto_request *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof *req);
}

/* Turn an error object of a reply into err. */
static int reply_error(const json_t *e, struct insomnia_error *err)
{
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *message = json_string_value(json_object_get(e, "message"));

	if (!code || !message)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_PROTOCOL,
		    "error reply without a code and a message");
	insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL, "%s", message);
	if (err)
		snprintf(err->detail, sizeof err->detail, "%s", code);
	return -1;
}

int proto_parse_response(const char *line, size_t len, json_t **id,
                         json_t **result, struct insomnia_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	json_t *r, *e;
	int rc = -1;

	if (id)
		*id = NULL;
	if (!json_is_object(root)) {
		insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
		                   "reply is not a JSON object");
		goto out;
	}
	if (id)
		*id = json_incref(json_object_get(root, "id"));
	r = json_object_get(root, "result");
	e = json_object_get(root, "error");
	if (r && !e) {
		*result = json_incref(r);
		rc = 0;
	} else if (json_is_object(e) && !r) {
		reply_error(e, err);
	} else {
		insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
		                   "reply has neither a result nor an error");
	}
out:
	json_decref(root);
	return rc;
}

/* send() rather than write() so a peer that hung up gives EPIPE, not a
 * SIGPIPE the caller may not have asked to ignore. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			return fd_write_all(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_error(int errnum, struct insomnia_error *err)
{
	if (errnum == EAGAIN || errnum == EWOULDBLOCK)
		return insomnia_error_set(err, INSOMNIA_ERR_TIMEOUT,
		                          "no reply from the pod in time");
	return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errnum,
	                                "cannot read from the pod's socket");
}

/* Look at what is queued without taking it, so nothing past the line is
 * consumed.  Not a socket (a pipe in a test): one byte at a time. */
static ssize_t peek_some(int fd, char *buf, size_t len, bool *is_sock)
{
	ssize_t n;

	if (*is_sock) {
		do
			n = recv(fd, buf, len, MSG_PEEK);
		while (n < 0 && errno == EINTR);
		if (n >= 0 || errno != ENOTSOCK)
			return n;
		*is_sock = false;
	}
	return fd_read_some(fd, buf, 1);
}

/* Take n peeked bytes out of the socket for good. */
static int consume(int fd, char *buf, size_t n)
{
	while (n > 0) {
		ssize_t got = fd_read_some(fd, buf, n);
		if (got <= 0)
			return -1;
		buf += got;
		n -= (size_t)got;
	}
	return 0;
}

static int grow(char **buf, size_t *cap, size_t used,
                struct insomnia_error *err)
{
	size_t want = *cap * 2;
	char *bigger;

	if (used < *cap)
		return 0;
	if (want > PROTO_LINE_MAX + 2)
		want = PROTO_LINE_MAX + 2;
	if (want <= *cap)
		return insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
		                          "reply line longer than %d bytes",
		                          PROTO_LINE_MAX);
	bigger = realloc(*buf, want);
	if (!bigger)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	*buf = bigger;
	*cap = want;
	return 0;
}

/* One step: peek, then consume up to the newline.  1 when the line is
 * complete, 0 to go on, -1 on error. */
static int read_step(int fd, char **buf, size_t *cap, size_t *used,
                     bool *is_sock, struct insomnia_error *err)
{
	ssize_t n;
	char *nl;
	size_t take;

	if (grow(buf, cap, *used + 1, err) < 0)
		return -1;
	n = peek_some(fd, *buf + *used, *cap - *used - 1, is_sock);
	if (n < 0)
		return read_error(errno, err);
	if (n == 0)
		return insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
		                          "connection closed before a reply");
	nl = memchr(*buf + *used, '\n', (size_t)n);
	take = nl ? (size_t)(nl - (*buf + *used)) + 1 : (size_t)n;
	if (*is_sock && consume(fd, *buf + *used, take) < 0)
		return read_error(errno, err);
	*used += take;
	return nl ? 1 : 0;
}

int proto_read_line(int fd, char **line, size_t *len,
                    struct insomnia_error *err)
{
	size_t cap = READ_CHUNK, used = 0;
	char *buf = malloc(cap);
	bool is_sock = true;
	int rc;

	if (!buf)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	while ((rc = read_step(fd, &buf, &cap, &used, &is_sock, err)) == 0)
		;
	if (rc < 0) {
		free(buf);
		return -1;
	}
	buf[used - 1] = '\0'; /* the newline */
	*line = buf;
	*len = used - 1;
	return 0;
}

/* Event lines carry "event" and no "id"; a call does not want them. */
static bool is_event_line(const char *line, size_t len)
{
	json_t *root = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	bool event = json_is_object(root) && json_object_get(root, "event") &&
	             !json_object_get(root, "id");

	json_decref(root);
	return event;
}

static int read_reply(int fd, int64_t want_id, json_t **result,
                      struct insomnia_error *err)
{
	char *line = NULL;
	size_t len;
	json_t *id = NULL;
	int rc = -1;

	do {
		free(line);
		if (proto_read_line(fd, &line, &len, err) < 0)
			return -1;
	} while (is_event_line(line, len));
	rc = proto_parse_response(line, len, &id, result, err);
	/* An error reply may carry a null id: the pod could not read ours. */
	if (id && !(json_is_integer(id) && json_integer_value(id) == want_id) &&
	    !(rc < 0 && json_is_null(id))) {
		if (rc == 0) {
			json_decref(*result);
			*result = NULL;
		}
		rc = insomnia_error_set(
		    err, INSOMNIA_ERR_PROTOCOL,
		    "reply for another request (id mismatch)");
	}
	json_decref(id);
	free(line);
	return rc;
}

int proto_call(int fd, int64_t id, const char *method, json_t *params,
               json_t **result, struct insomnia_error *err)
{
	size_t len;
	char *line = proto_request_line(id, method, params, &len);
	int rc = -1;

	*result = NULL;
	if (!line)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "cannot encode the %s request",
		                          method);
	if (send_all(fd, line, len) < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                         "cannot send the %s request", method);
		goto out;
	}
	rc = read_reply(fd, id, result, err);
out:
	free(line);
	return rc;
}

static bool is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

/* An event: a string "event" and no "id" (see docs/protocol.md). */
static int incoming_event(struct proto_incoming *in, struct insomnia_error *err)
{
	in->event = json_string_value(json_object_get(in->root, "event"));
	if (!in->event)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_PROTOCOL,
		    "event line whose event is not a string");
	in->kind = PROTO_IN_EVENT;
	in->value = json_object_get(in->root, "data");
	return 0;
}

static int incoming_reply(struct proto_incoming *in, struct insomnia_error *err)
{
	json_t *r = json_object_get(in->root, "result");
	json_t *e = json_object_get(in->root, "error");

	in->id = json_object_get(in->root, "id");
	if (r && !e) {
		in->kind = PROTO_IN_RESULT;
		in->value = r;
		return 0;
	}
	if (!json_is_object(e) || r)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_PROTOCOL,
		    "reply has neither a result nor an error");
	in->kind = PROTO_IN_ERROR;
	in->value = e;
	if (!json_is_string(json_object_get(e, "code")) ||
	    !json_is_string(json_object_get(e, "message")))
		return insomnia_error_set(
		    err, INSOMNIA_ERR_PROTOCOL,
		    "error reply without a code and a message");
	reply_error(e, &in->error);
	return 0;
}

int proto_parse_incoming(const char *line, size_t len,
                         struct proto_incoming *in, struct insomnia_error *err)
{
	json_error_t jerr;
	int rc;

	memset(in, 0, sizeof *in);
	if (is_blank(line, len)) {
		in->kind = PROTO_IN_BLANK;
		return 0;
	}
	in->root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	if (!in->root)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_PROTOCOL,
		    "malformed JSON from the pod at column %d: %s", jerr.column,
		    jerr.text);
	if (!json_is_object(in->root))
		rc = insomnia_error_set(
		    err, INSOMNIA_ERR_PROTOCOL,
		    "line from the pod is not a JSON object");
	else if (json_object_get(in->root, "event") &&
	         !json_object_get(in->root, "id"))
		rc = incoming_event(in, err);
	else
		rc = incoming_reply(in, err);
	if (rc < 0)
		proto_incoming_free(in);
	return rc;
}

void proto_incoming_free(struct proto_incoming *in)
{
	json_decref(in->root);
	in->root = NULL;
}
