/* toml-decode: the toml-test decoder interface.  Reads one TOML document
 * on stdin; prints its tagged JSON on stdout and exits 0, or prints the
 * parse error on stderr and exits 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tagged_json.h"
#include "toml.h"

/* Reads all of fd into a malloc'd buffer. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t r;

		if (n == cap) {
			char *b = realloc(buf, cap *= 2);

			if (!b)
				break;
			buf = b;
		}
		r = read(fd, buf + n, cap - n);
		if (r == 0) {
			*len = n;
			return buf;
		}
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0)
			n += (size_t)r;
	}
	free(buf);
	return NULL;
}

int main(void)
{
	struct insomnia_error err;
	struct toml_value *root;
	json_t *json;
	size_t len;
	char *buf = read_all(STDIN_FILENO, &len);
	int status = 1;

	if (!buf) {
		fprintf(stderr, "toml-decode: reading stdin: %s\n",
		        strerror(errno));
		return 1;
	}
	root = toml_parse(buf, len, "stdin", NULL, &err);
	free(buf);
	if (!root) {
		fprintf(stderr, "%s\n", err.message);
		return 1;
	}
	json = toml_to_tagged_json(root);
	if (json && json_dumpf(json, stdout, JSON_COMPACT) == 0 &&
	    fputc('\n', stdout) != EOF && fflush(stdout) == 0)
		status = 0;
	else
		fprintf(stderr, "toml-decode: writing JSON failed\n");
	json_decref(json);
	toml_free(root);
	return status;
}
