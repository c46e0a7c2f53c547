/* proto.h: the pod's control protocol, as both sides frame it
 * (docs/protocol.md).
 *
 * Newline-delimited JSON over a Unix stream socket, one object per line:
 *   request  {"id":1,"method":"status","params":{}}
 *   result   {"id":1,"result":{...}}
 *   error    {"id":1,"error":{"code":"...","message":"..."}}
 *   event    {"event":"...","data":{...}}  (only after subscribing)
 *
 * Ownership follows jansson's "borrowed" convention unless a comment says
 * otherwise: functions that take a json_t * never steal the reference. */
#ifndef INSOMNIA_PROTO_H
#define INSOMNIA_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <insomnia/version.h>

#include "error.h"

/* INSOMNIA_PROTOCOL_VERSION (<insomnia/version.h>) is bumped when a
 * change would break an existing peer; "hello" reports it. */

/* Longest line either side accepts, newline not counted.  A longer
 * request gets a line_too_long error and its connection is closed. */
#define PROTO_LINE_MAX (1024 * 1024)

/* Error codes a pod may put in an error reply. */
#define PROTO_ERR_BAD_REQUEST    "bad_request"
#define PROTO_ERR_UNKNOWN_METHOD "unknown_method"
#define PROTO_ERR_LINE_TOO_LONG  "line_too_long"
#define PROTO_ERR_INTERNAL       "internal"

/* A parsed request.  root owns the rest; id is JSON null when the line
 * had none (or it could not be read), params an object (empty when the
 * request had none). */
struct proto_request {
	json_t *root;
	json_t *id;
	const char *method;
	json_t *params;
};

/* Serialise obj compactly (UTF-8, no embedded newline) followed by '\n'.
 * Returns a malloc'd buffer and its length in *len, or NULL when obj
 * cannot be encoded or the line would exceed PROTO_LINE_MAX. */
char *proto_encode_line(const json_t *obj, size_t *len);

/* The three kinds of line a peer writes, as malloc'd buffers (see
 * proto_encode_line).  params may be NULL for an empty object; id may be
 * NULL for JSON null. */
char *proto_request_line(int64_t id, const char *method, json_t *params,
                         size_t *len);
char *proto_result_line(json_t *id, json_t *result, size_t *len);
char *proto_error_line(json_t *id, const char *code, const char *message,
                       size_t *len);

/* Parse one request line given without its '\n'.  On success fills req
 * (free it with proto_request_free) and returns 0.  On a malformed line
 * returns -1 with err (INSOMNIA_ERR_PROTOCOL, a message fit to send back) and
 * still fills req->id with the request's id when that much parsed, so
 * the caller can answer it; req must be freed in both cases. */
int proto_parse_request(const char *line, size_t len, struct proto_request *req,
                        struct insomnia_error *err);
void proto_request_free(struct proto_request *req);

/* Parse one response line (without its '\n').  Returns 0 and a new
 * reference in *result for a result reply; -1 with err for an error
 * reply (see proto_call) or a line that is not a reply (INSOMNIA_ERR_PROTOCOL).
 * *id gets a new reference to the reply's id in both cases when not
 * NULL (NULL on a line that did not parse). */
int proto_parse_response(const char *line, size_t len, json_t **id,
                         json_t **result, struct insomnia_error *err);

/* Blocking call on a connected stream socket: write the request, then
 * read exactly one reply line (never more, so later lines stay in the
 * socket for the caller), skipping event lines.  On success *result
 * holds a new reference.  Errors:
 *   - an error reply: kind INSOMNIA_ERR_PROTOCOL, message is the pod's message,
 *     detail is the pod's code (e.g. "unknown_method");
 *   - a reply that does not parse, has another id, or is too long:
 *     INSOMNIA_ERR_PROTOCOL;
 *   - EOF before a reply: INSOMNIA_ERR_PROTOCOL ("connection closed");
 *   - a receive timeout set by the caller (SO_RCVTIMEO): INSOMNIA_ERR_TIMEOUT;
 *   - other I/O errors: INSOMNIA_ERR_IO with errno.
 * params may be NULL for an empty object. */
int proto_call(int fd, int64_t id, const char *method, json_t *params,
               json_t **result, struct insomnia_error *err);

/* The reading half of proto_call: one full line (without its '\n') into
 * a malloc'd NUL-terminated buffer.  Reads nothing past the newline.
 * Returns 0, or -1 with err (EOF is INSOMNIA_ERR_PROTOCOL, errno 0). */
int proto_read_line(int fd, char **line, size_t *len,
                    struct insomnia_error *err);

/* --- Client side: every line a pod may send ------------------------- */

enum proto_incoming_kind {
	PROTO_IN_BLANK,  /* only spaces or tabs: ignored, like the pod does */
	PROTO_IN_RESULT, /* {"id":..,"result":..} */
	PROTO_IN_ERROR,  /* {"id":..,"error":{"code":..,"message":..}} */
	PROTO_IN_EVENT,  /* {"event":"..","data":..}, no id */
};

/* One parsed line.  root owns the rest (borrowed pointers). */
struct proto_incoming {
	json_t *root;
	enum proto_incoming_kind kind;
	json_t *id;        /* RESULT, ERROR: the id, NULL when absent */
	json_t *value;     /* RESULT: the result; ERROR: the error object;
	                      EVENT: data (NULL when absent) */
	const char *event; /* EVENT: its name */
	struct insomnia_error error; /* ERROR: as proto_call reports it */
};

/* Classify one line from a pod (without its '\n').  0 and in filled
 * (free with proto_incoming_free), or -1 and err (INSOMNIA_ERR_PROTOCOL:
 * not JSON, not an object, or neither a reply nor an event); in needs
 * no freeing then. */
int proto_parse_incoming(const char *line, size_t len,
                         struct proto_incoming *in, struct insomnia_error *err);
void proto_incoming_free(struct proto_incoming *in);

#endif
