/* insomnia/error.h: the one error value every call of the library fills.
 *
 * Functions return 0 (or a handle) on success, or -1 (or NULL) and fill
 * a caller-owned struct insomnia_error; a NULL err is allowed wherever
 * the header says so.  The error is plain data: no allocation, nothing
 * to free, copy it freely.
 *
 * The kinds, their names and their exit codes are one table, a public
 * contract (docs/errors.md): the numeric values below are fixed and new
 * kinds are only ever added at the end, so a program may store them.
 * The name (insomnia_error_kind_name) is what JSON output carries; the
 * exit code (insomnia_error_exit_code) is what podctl and the pod exit
 * with, the same whichever layer caught the failure. */
#ifndef INSOMNIA_ERROR_H
#define INSOMNIA_ERROR_H

#include <insomnia/api.h>

INSOMNIA_BEGIN_DECLS

/*                                    value  name (exit code) */
enum insomnia_error_kind {
	INSOMNIA_ERR_NONE = 0,            /* "none" (0) */
	INSOMNIA_ERR_INTERNAL = 1,        /* "internal" (1): a bug or an
	                                     unexpected system failure */
	INSOMNIA_ERR_CONFIG = 2,          /* "config" (2): bad TOML or schema */
	INSOMNIA_ERR_ALREADY_RUNNING = 3, /* "already_running" (3) */
	INSOMNIA_ERR_RUNTIME_DIR = 4,     /* "runtime_dir" (4): unavailable
	                                     or unsafe runtime or data dir */
	INSOMNIA_ERR_BAD_NAME = 5,        /* "bad_name" (5) */
	INSOMNIA_ERR_LAUNCH_FAILED = 6,   /* "launch_failed" (6) */
	INSOMNIA_ERR_EXITED_EARLY = 7,    /* "exited_early" (7) */
	INSOMNIA_ERR_MALFORMED_READY = 8, /* "malformed_ready" (8) */
	INSOMNIA_ERR_NAME_MISMATCH = 9,   /* "name_mismatch" (9) */
	INSOMNIA_ERR_SOCKET_REFUSED = 10, /* "socket_refused" (10) */
	INSOMNIA_ERR_TIMEOUT = 11,        /* "timeout" (11) */
	INSOMNIA_ERR_USAGE = 12,          /* "usage" (64, as sysexits.h) */
	INSOMNIA_ERR_IO = 13,             /* "io" (12) */
	INSOMNIA_ERR_NOT_RUNNING = 14,    /* "not_running" (13) */
	INSOMNIA_ERR_PROTOCOL = 15,       /* "protocol" (14) */
	INSOMNIA_ERR_SESSION_UNKNOWN = 16,   /* "session_unknown" (15) */
	INSOMNIA_ERR_SESSION_LIVE = 17,      /* "session_live" (16) */
	INSOMNIA_ERR_BAD_SESSION_ID = 18,    /* "bad_session_id" (17) */
	INSOMNIA_ERR_SESSION_AMBIGUOUS = 19, /* "session_ambiguous" (18): an
	                                        id prefix of several sessions */
	INSOMNIA_ERR_INTERRUPTED = 20,       /* "interrupted" (130): cancelled
	                                        by a signal or the caller */
	INSOMNIA_ERR_PROCESS_FAILED = 21,    /* "process_failed" (19): a
	                                        process of the pod failed */
	INSOMNIA_ERR_UNKNOWN_PROCESS = 22,   /* "unknown_process" (20) */
	INSOMNIA_ERR_PROCESS_STATE = 23,     /* "process_state" (21): already
	                                        in the asked state, or the
	                                        pod is stopping */
	INSOMNIA_ERR_KIND_COUNT
};

#define INSOMNIA_ERROR_MESSAGE_MAX 1024
#define INSOMNIA_ERROR_DETAIL_MAX  4096

struct insomnia_error {
	enum insomnia_error_kind kind;
	int errnum;      /* errno, or 0 */
	int exit_status; /* the pod's exit code, or -1 */
	int term_signal; /* the signal that killed the pod, or 0 */
	/* What a person can act on, one line, valid UTF-8. */
	char message[INSOMNIA_ERROR_MESSAGE_MAX];
	/* Optional, several lines: e.g. the last lines of the pod's stderr. */
	char detail[INSOMNIA_ERROR_DETAIL_MAX];
};

/* Reset err to INSOMNIA_ERR_NONE with empty texts.  NULL is ignored. */
INSOMNIA_API void insomnia_error_clear(struct insomnia_error *err);

/* Fill err: kind and a printf-style message, cut on a UTF-8 character
 * boundary to fit (so a quoted name never ends in half a character);
 * errnum 0, no exit status or signal, no detail.  Returns -1, so a
 * function can `return insomnia_error_set(...)`.  A NULL err is
 * ignored.  For an application's own failures, so that it reports every
 * error one way. */
INSOMNIA_API int insomnia_error_set(struct insomnia_error *err,
                                    enum insomnia_error_kind kind,
                                    const char *fmt, ...) INSOMNIA_PRINTF(3, 4);

/* The same, with ": <strerror(errnum)>" after the message and errnum
 * kept. */
INSOMNIA_API int insomnia_error_set_errno(struct insomnia_error *err,
                                          enum insomnia_error_kind kind,
                                          int errnum, const char *fmt, ...)
    INSOMNIA_PRINTF(4, 5);

/* Put "<context>: " before err's message (cut to fit); the kind and the
 * rest stay.  A NULL err is ignored. */
INSOMNIA_API void insomnia_error_prefix(struct insomnia_error *err,
                                        const char *fmt, ...)
    INSOMNIA_PRINTF(2, 3);

/* The stable lower-case name of a kind, e.g. "already_running"; a
 * static string.  An out-of-range kind gives "internal". */
INSOMNIA_API const char *
insomnia_error_kind_name(enum insomnia_error_kind kind);

/* A name back to its kind; INSOMNIA_ERR_KIND_COUNT when unknown. */
INSOMNIA_API enum insomnia_error_kind
insomnia_error_kind_from_name(const char *name);

/* The distinct process exit code of a kind; 0 for INSOMNIA_ERR_NONE. */
INSOMNIA_API int insomnia_error_exit_code(enum insomnia_error_kind kind);

INSOMNIA_END_DECLS

#endif
