/* error.h: the one error value both the pod and the client fill in.
 *
 * Functions return 0 or -1 and fill a caller-owned struct error.  The kind
 * is stable (its name is part of the JSON output and the docs), and each
 * kind maps to a distinct process exit code, so scripts can branch on
 * either without parsing prose. */
#ifndef INSOMNIA_ERROR_H
#define INSOMNIA_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* Order and values are a public contract: docs/errors.md lists them. */
enum error_kind {
	ERR_NONE = 0,
	ERR_INTERNAL,        /* a bug or an unexpected system failure */
	ERR_CONFIG,          /* bad configuration (TOML or schema) */
	ERR_ALREADY_RUNNING, /* a live pod holds the name */
	ERR_RUNTIME_DIR,     /* runtime or data dir unavailable or unsafe */
	ERR_BAD_NAME,        /* pod name refused */
	ERR_LAUNCH_FAILED,   /* the pod command could not be started */
	ERR_EXITED_EARLY,    /* the pod exited before its ready line */
	ERR_MALFORMED_READY, /* a ready line that does not parse */
	ERR_NAME_MISMATCH,   /* ready line names another pod */
	ERR_SOCKET_REFUSED,  /* the announced socket does not accept */
	ERR_TIMEOUT,         /* no ready line before the deadline */
	ERR_USAGE,           /* bad command-line usage */
	ERR_IO,              /* reading or writing a file failed */
	ERR_NOT_RUNNING,     /* no live pod of that name */
	ERR_PROTOCOL,        /* the pod answered something unexpected */
	ERR_SESSION_UNKNOWN, /* no such session */
	ERR_SESSION_LIVE,    /* the session is served by a live pod */
	ERR_BAD_SESSION_ID,  /* not a UUID */
	ERR_KIND_COUNT
};

#define ERROR_MESSAGE_MAX 1024
#define ERROR_DETAIL_MAX  4096

struct error {
	enum error_kind kind;
	int errnum;                      /* errno, or 0 */
	int exit_status;                 /* pod's exit code, or -1 */
	int term_signal;                 /* signal that killed the pod, or 0 */
	char message[ERROR_MESSAGE_MAX]; /* what a person can act on */
	char detail[ERROR_DETAIL_MAX];   /* optional, e.g. a stderr tail */
};

void error_clear(struct error *err);

/* Set kind and message (printf-style); returns -1 so callers can
 * `return error_set(...)`.  A NULL err is allowed and ignored. */
int error_set(struct error *err, enum error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, with errno: appends ": strerror(errnum)" to the message. */
int error_set_errno(struct error *err, enum error_kind kind, int errnum,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Put "context: " in front of the existing message. */
void error_prefix(struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Stable lower-case name of a kind, e.g. "already_running". */
const char *error_kind_name(enum error_kind kind);

/* Parse a name back; returns ERR_KIND_COUNT when unknown. */
enum error_kind error_kind_from_name(const char *name);

/* Distinct process exit code of a kind; 0 for ERR_NONE. */
int error_exit_code(enum error_kind kind);

#endif
