/* ready.h: the readiness handshake's shared constants and the ready line
 * `INSOMNIA-READY\t<name>\t<socket path>\n`. */
#ifndef INSOMNIA_READY_H
#define INSOMNIA_READY_H

#include <stddef.h>

#include "error.h"
#include <insomnia/dirs.h>

#define READY_PREFIX             "INSOMNIA-READY\t"
#define READY_DEFAULT_TIMEOUT_MS 20000
/* Longest ready line accepted, newline included. */
#define READY_LINE_MAX 4096

struct ready_line {
	char name[INSOMNIA_NAME_MAX + 1];
	char socket[READY_LINE_MAX];
};

/* Format the line, newline included, into buf.  Returns its length, or
 * -1 (err) when the name is invalid or the line would not fit. */
int ready_format(char *buf, size_t size, const char *name, const char *socket,
                 struct insomnia_error *err);

/* True when line (without its '\n') starts with the prefix: the caller
 * then must parse it strictly rather than treat it as progress. */
int ready_has_prefix(const char *line, size_t len);

/* Strict parse of one line given without its '\n'.  Refuses missing or
 * extra fields, a CR, an invalid name, a socket path that is empty, not
 * absolute or holds control characters, and lines over READY_LINE_MAX.
 * Errors are INSOMNIA_ERR_MALFORMED_READY. */
int ready_parse(const char *line, size_t len, struct ready_line *out,
                struct insomnia_error *err);

#endif
