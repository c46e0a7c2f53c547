/* podctl_run.h: running podctl from an end-to-end test, with its stdout
 * and stderr captured (or stdout sent to a given file, e.g. /dev/full)
 * and its stdin fed from a string. */
#ifndef E2E_PODCTL_RUN_H
#define E2E_PODCTL_RUN_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct podctl_run {
	const char *stdout_path; /* NULL: captured into out */
	const char *stdin_text;  /* NULL: /dev/null */
	size_t stdin_len;        /* 0: strlen(stdin_text) */
	bool stdin_pipe;         /* stdin_text through a pipe, not a file */
	const char *cwd;         /* NULL: the test's */
	bool set_umask;          /* run it under umask, not the test's */
	mode_t umask;
	int code;        /* exit code (podctl must not die) */
	char *out, *err; /* malloc'd, NUL-terminated */
};

/* Run podctl with the NULL-terminated arguments; asserts it exited. */
void podctl_run(struct podctl_run *r, ...) __attribute__((sentinel));
void podctl_runv(struct podctl_run *r, va_list ap);

void podctl_run_free(struct podctl_run *r);

/* r->out as JSON; asserts it is exactly one valid JSON object. */
json_t *podctl_json(const struct podctl_run *r);

#endif
