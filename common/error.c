/* error.c: filling and naming error values. */
#include "error.h"

#include <stdio.h>
#include <string.h>

#include "fdio.h"
#include "utf8seq.h"

struct kind_entry {
	const char *name;
	int exit_code;
};

/* Exit codes: 2 and 3 are fixed by DESIGN.md for the pod; the rest follow.
 * 1 is reserved for internal errors, 64 for usage as in sysexits.h. */
static const struct kind_entry kinds[INSOMNIA_ERR_KIND_COUNT] = {
    [INSOMNIA_ERR_NONE] = {"none", 0},
    [INSOMNIA_ERR_INTERNAL] = {"internal", 1},
    [INSOMNIA_ERR_CONFIG] = {"config", 2},
    [INSOMNIA_ERR_ALREADY_RUNNING] = {"already_running", 3},
    [INSOMNIA_ERR_RUNTIME_DIR] = {"runtime_dir", 4},
    [INSOMNIA_ERR_BAD_NAME] = {"bad_name", 5},
    [INSOMNIA_ERR_LAUNCH_FAILED] = {"launch_failed", 6},
    [INSOMNIA_ERR_EXITED_EARLY] = {"exited_early", 7},
    [INSOMNIA_ERR_MALFORMED_READY] = {"malformed_ready", 8},
    [INSOMNIA_ERR_NAME_MISMATCH] = {"name_mismatch", 9},
    [INSOMNIA_ERR_SOCKET_REFUSED] = {"socket_refused", 10},
    [INSOMNIA_ERR_TIMEOUT] = {"timeout", 11},
    [INSOMNIA_ERR_USAGE] = {"usage", 64},
    [INSOMNIA_ERR_IO] = {"io", 12},
    [INSOMNIA_ERR_NOT_RUNNING] = {"not_running", 13},
    [INSOMNIA_ERR_PROTOCOL] = {"protocol", 14},
    [INSOMNIA_ERR_SESSION_UNKNOWN] = {"session_unknown", 15},
    [INSOMNIA_ERR_SESSION_LIVE] = {"session_live", 16},
    [INSOMNIA_ERR_BAD_SESSION_ID] = {"bad_session_id", 17},
    [INSOMNIA_ERR_SESSION_AMBIGUOUS] = {"session_ambiguous", 18},
    [INSOMNIA_ERR_INTERRUPTED] = {"interrupted", 130},
    [INSOMNIA_ERR_PROCESS_FAILED] = {"process_failed", 19},
    [INSOMNIA_ERR_UNKNOWN_PROCESS] = {"unknown_process", 20},
    [INSOMNIA_ERR_PROCESS_STATE] = {"process_state", 21},
};

/* The kinds a pod reports itself, by exiting with their code. */
static const enum insomnia_error_kind pod_kinds[] = {
    INSOMNIA_ERR_CONFIG,          INSOMNIA_ERR_ALREADY_RUNNING,
    INSOMNIA_ERR_RUNTIME_DIR,     INSOMNIA_ERR_BAD_NAME,
    INSOMNIA_ERR_SESSION_UNKNOWN, INSOMNIA_ERR_SESSION_LIVE,
    INSOMNIA_ERR_BAD_SESSION_ID,  INSOMNIA_ERR_SESSION_AMBIGUOUS,
    INSOMNIA_ERR_PROCESS_FAILED,
};

enum insomnia_error_kind error_kind_of_pod_exit(int exit_status)
{
	for (size_t i = 0; i < sizeof pod_kinds / sizeof pod_kinds[0]; i++)
		if (kinds[pod_kinds[i]].exit_code == exit_status)
			return pod_kinds[i];
	return INSOMNIA_ERR_EXITED_EARLY;
}

void insomnia_error_clear(struct insomnia_error *err)
{
	if (!err)
		return;
	err->kind = INSOMNIA_ERR_NONE;
	err->errnum = 0;
	err->exit_status = -1;
	err->term_signal = 0;
	err->message[0] = '\0';
	err->detail[0] = '\0';
}

/* A message too long for its buffer is cut on a character boundary, so
 * a quoted name or path never ends in half a character. */
static void set_message(struct insomnia_error *err,
                        enum insomnia_error_kind kind, const char *fmt,
                        va_list ap)
{
	char longer[INSOMNIA_ERROR_MESSAGE_MAX + 4];
	int n;

	insomnia_error_clear(err);
	err->kind = kind;
	n = vsnprintf(longer, sizeof longer, fmt, ap);
	if (n < 0)
		n = 0;
	n = (int)utf8_cut(longer, strnlen(longer, sizeof longer),
	                  sizeof err->message - 1);
	memcpy(err->message, longer, (size_t)n);
	err->message[n] = '\0';
}

int insomnia_error_set(struct insomnia_error *err,
                       enum insomnia_error_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	set_message(err, kind, fmt, ap);
	va_end(ap);
	return -1;
}

int insomnia_error_set_errno(struct insomnia_error *err,
                             enum insomnia_error_kind kind, int errnum,
                             const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (!err)
		return -1;
	va_start(ap, fmt);
	set_message(err, kind, fmt, ap);
	va_end(ap);
	err->errnum = errnum;
	used = strlen(err->message);
	snprintf(err->message + used, sizeof err->message - used, ": %s",
	         fd_strerror(errnum));
	return -1;
}

void insomnia_error_prefix(struct insomnia_error *err, const char *fmt, ...)
{
	char old[INSOMNIA_ERROR_MESSAGE_MAX];
	size_t used;
	va_list ap;

	if (!err)
		return;
	memcpy(old, err->message, sizeof old);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	used = strlen(err->message);
	if (used + 2 < sizeof err->message) {
		size_t room = sizeof err->message - used - 3;
		size_t n = utf8_cut(old, strlen(old), room);
		memcpy(err->message + used, ": ", 2);
		memcpy(err->message + used + 2, old, n);
		err->message[used + 2 + n] = '\0';
	}
}

const char *insomnia_error_kind_name(enum insomnia_error_kind kind)
{
	if ((unsigned)kind >= INSOMNIA_ERR_KIND_COUNT)
		return "internal";
	return kinds[kind].name;
}

enum insomnia_error_kind insomnia_error_kind_from_name(const char *name)
{
	for (int k = 0; k < INSOMNIA_ERR_KIND_COUNT; k++)
		if (strcmp(kinds[k].name, name) == 0)
			return (enum insomnia_error_kind)k;
	return INSOMNIA_ERR_KIND_COUNT;
}

int insomnia_error_exit_code(enum insomnia_error_kind kind)
{
	if ((unsigned)kind >= INSOMNIA_ERR_KIND_COUNT)
		return 1;
	return kinds[kind].exit_code;
}
