/* insomnia/sessions.h: the durable sessions of the data root
 * (docs/sessions.md): list them, find one by id or id prefix, the last
 * one of a pod name, and remove ended ones.
 *
 * A session is <data root>/sessions/<uuid>/: what a pod was created with
 * (name, cwd, configuration) and a journal of its runs.  Liveness is its
 * lock (held by the pod serving it), never a pid.  Resuming one is a
 * spawn with insomnia_spawn_options.session_id (insomnia/spawn.h).
 *
 * Everything here reads files and returns: no callback outlives its call,
 * nothing is kept between calls, and every call may be made from any
 * thread (each opens its own descriptors). */
#ifndef INSOMNIA_SESSIONS_H
#define INSOMNIA_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <insomnia/api.h>
#include <insomnia/dirs.h>
#include <insomnia/error.h>

INSOMNIA_BEGIN_DECLS

/* Buffer sizes, NUL included.  A session id's is INSOMNIA_SESSION_ID_MAX
 * (insomnia/dirs.h). */
/* An RFC 3339 time as written, "2024-05-01T12:00:00.123Z", and room. */
#define INSOMNIA_SESSION_TIME_MAX 48
/* A journal event's name: "started", "stopped", ... */
#define INSOMNIA_SESSION_EVENT_MAX 64
#define INSOMNIA_SESSION_ERROR_MAX 1024

/* What the journal and the lock say about a session.  Values are fixed;
 * new ones are only appended. */
enum insomnia_session_state {
	INSOMNIA_SESSION_NEW = 0,        /* created, no run journalled yet */
	INSOMNIA_SESSION_LIVE = 1,       /* a pod holds its lock now */
	INSOMNIA_SESSION_STOPPED = 2,    /* last run ended with "stopped" */
	INSOMNIA_SESSION_FAILED = 3,     /* last run's "stopped" has an error */
	INSOMNIA_SESSION_CRASHED = 4,    /* not live, yet its last run never
	                                    journalled "stopped" (killed) */
	INSOMNIA_SESSION_UNREADABLE = 5, /* damaged or unsafe: only id and
	                                    error are set */
};

/* Strings are "" and numbers 0 when unknown. */
struct insomnia_session_info {
	char id[INSOMNIA_SESSION_ID_MAX];     /* lower-case UUID */
	char name[INSOMNIA_NAME_MAX + 1];     /* the name a resume uses */
	char run_name[INSOMNIA_NAME_MAX + 1]; /* the last run's (an overlay
	                                         may have renamed it) */
	char cwd[INSOMNIA_PATH_MAX];
	char created_at[INSOMNIA_SESSION_TIME_MAX]; /* RFC 3339, as written */
	int64_t created_ms;                         /* ms since the epoch */
	enum insomnia_session_state state;
	char last_event[INSOMNIA_SESSION_EVENT_MAX]; /* the journal's last
	                        record: "started", "resumed", "ready",
	                        "stopping", "stopped" */
	char last_event_at[INSOMNIA_SESSION_TIME_MAX];
	int64_t last_event_ms;
	/* STOPPED, FAILED: when it stopped (the "stopped" record). */
	int64_t ended_ms;
	/* FAILED: the error the pod journalled; UNREADABLE: why. */
	char error[INSOMNIA_SESSION_ERROR_MAX];
	/* UNREADABLE: the kind of that error (INSOMNIA_ERR_CONFIG for a
	 * damaged session.toml, INSOMNIA_ERR_RUNTIME_DIR for an unsafe dir,
	 * ...); else INSOMNIA_ERR_NONE. */
	enum insomnia_error_kind error_kind;
	bool live; /* its lock is held (state LIVE) */
	pid_t pid; /* the live pod's pid as journalled; 0 when not live or
	              not yet journalled */
};

/* The state's stable lower-case name ("new", "live", "stopped",
 * "failed", "crashed", "unreadable"); a static string. */
INSOMNIA_API const char *
insomnia_session_state_name(enum insomnia_session_state state);

/* Call fn for every session, oldest first (by created_at, then id),
 * unreadable ones included (state UNREADABLE, with the reason in
 * error).  Directories still being created are skipped.  info lives
 * until fn returns.  A non-zero return from fn stops the walk and is
 * returned.  No sessions directory: an empty list.  fn may call any
 * function of this header (the walk has already read everything); err
 * may be NULL. */
INSOMNIA_API int insomnia_sessions_each(
    int (*fn)(const struct insomnia_session_info *info, void *arg), void *arg,
    struct insomnia_error *err);

/* Find a session by its full id or a unique prefix of it (either case,
 * dashes where the UUID has them).  Errors: INSOMNIA_ERR_BAD_SESSION_ID
 * (empty, or not the start of a UUID), INSOMNIA_ERR_SESSION_UNKNOWN,
 * INSOMNIA_ERR_SESSION_AMBIGUOUS (the message names the candidates),
 * INSOMNIA_ERR_CONFIG / IO / RUNTIME_DIR (a damaged or unsafe session).
 * err may be NULL. */
INSOMNIA_API int insomnia_session_find(const char *id_or_prefix,
                                       struct insomnia_session_info *info,
                                       struct insomnia_error *err);

/* The most recent session of pod name: the one whose journal moved
 * last (its last record's time, else its creation), live or not.
 * INSOMNIA_ERR_SESSION_UNKNOWN when name has none, INSOMNIA_ERR_BAD_NAME.
 * err may be NULL. */
INSOMNIA_API int insomnia_session_last(const char *name,
                                       struct insomnia_session_info *info,
                                       struct insomnia_error *err);

struct insomnia_sessions_prune_options {
	/* Ended sessions whose last record (else creation) is at least this
	 * old; 0: any age. */
	int64_t older_than_ms;
	/* Only the sessions of this name (the session's name); NULL: all. */
	const char *name;
};

/* Remove ended sessions matching opts (both filters when both are
 * given; at least one is required, else INSOMNIA_ERR_USAGE).  A live
 * session is never touched: each is removed while holding its lock, so
 * a pod cannot start on it meanwhile.  removed (may be NULL) hears about
 * each removed one (info lives until it returns; it must not prune).
 * Returns the number removed, or -1 and err (a session that cannot be
 * removed, e.g. holding files that are not ours, stops the prune with
 * INSOMNIA_ERR_RUNTIME_DIR naming it; those removed before stay
 * removed).  err may be NULL. */
INSOMNIA_API int insomnia_sessions_prune(
    const struct insomnia_sessions_prune_options *opts,
    void (*removed)(const struct insomnia_session_info *info, void *arg),
    void *arg, struct insomnia_error *err);

INSOMNIA_END_DECLS

#endif
