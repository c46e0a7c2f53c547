/* ready.c: formatting and strictly parsing the ready line. */
#include "ready.h"

#include <stdio.h>
#include <string.h>

#define PREFIX_LEN (sizeof READY_PREFIX - 1)

int ready_has_prefix(const char *line, size_t len)
{
	return len >= PREFIX_LEN && memcmp(line, READY_PREFIX, PREFIX_LEN) == 0;
}

static int socket_path_ok(const char *p, size_t len, struct insomnia_error *err)
{
	if (len == 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_MALFORMED_READY,
		    "ready line has an empty socket path");
	if (p[0] != '/')
		return insomnia_error_set(
		    err, INSOMNIA_ERR_MALFORMED_READY,
		    "ready line socket path is not absolute");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f)
			return insomnia_error_set(
			    err, INSOMNIA_ERR_MALFORMED_READY,
			    "ready line socket path holds a "
			    "control character (0x%02x)%s",
			    c,
			    c == '\t'   ? ": too many fields"
			    : c == '\r' ? ": CR before LF"
			                : "");
	}
	return 0;
}

int ready_parse(const char *line, size_t len, struct ready_line *out,
                struct insomnia_error *err)
{
	const char *name, *tab, *sock;
	size_t name_len, sock_len;
	struct insomnia_error name_err;

	if (len + 1 > READY_LINE_MAX)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_MALFORMED_READY,
		    "ready line is %zu bytes; at most %d allowed", len + 1,
		    READY_LINE_MAX);
	if (!ready_has_prefix(line, len))
		return insomnia_error_set(err, INSOMNIA_ERR_MALFORMED_READY,
		                          "ready line does not start with "
		                          "\"INSOMNIA-READY\\t\"");
	name = line + PREFIX_LEN;
	tab = memchr(name, '\t', len - PREFIX_LEN);
	if (!tab)
		return insomnia_error_set(err, INSOMNIA_ERR_MALFORMED_READY,
		                          "ready line has no socket field");
	name_len = (size_t)(tab - name);
	if (name_len > INSOMNIA_NAME_MAX)
		return insomnia_error_set(err, INSOMNIA_ERR_MALFORMED_READY,
		                          "ready line name is too long");
	memcpy(out->name, name, name_len);
	out->name[name_len] = '\0';
	if (memchr(name, '\0', name_len))
		return insomnia_error_set(
		    err, INSOMNIA_ERR_MALFORMED_READY,
		    "ready line has a NUL byte in the name");
	if (insomnia_name_check(out->name, &name_err) < 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_MALFORMED_READY,
		    "ready line has an invalid pod name: %s", name_err.message);
	sock = tab + 1;
	sock_len = len - (size_t)(sock - line);
	if (socket_path_ok(sock, sock_len, err) < 0)
		return -1;
	memcpy(out->socket, sock, sock_len);
	out->socket[sock_len] = '\0';
	return 0;
}

int ready_format(char *buf, size_t size, const char *name, const char *socket,
                 struct insomnia_error *err)
{
	int n;

	if (insomnia_name_check(name, err) < 0)
		return -1;
	n = snprintf(buf, size, "%s%s\t%s\n", READY_PREFIX, name, socket);
	if (n < 0 || (size_t)n >= size || n > READY_LINE_MAX)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_INTERNAL,
		    "ready line for socket %s is too long", socket);
	return n;
}
