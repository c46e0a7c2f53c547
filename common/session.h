/* session.h: the session directory <data root>/sessions/<uuid>/ as both
 * sides see it (DESIGN.md, "Sessions"; docs/sessions.md).
 *
 * The pod writes a session (pod/podsession.c); clients only read it,
 * through session_read_info() and session_list().  The layout the two
 * sides agree on -- file names, the id's spelling, the liveness test -- is
 * defined here once; each file's format has its own owner:
 * sessionfile.h (session.toml) and journalfmt.h (journal.jsonl).
 * Implemented in sessionid.c, sessiondir.c and sessioninfo.c. */
#ifndef INSOMNIA_SESSION_H
#define INSOMNIA_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "journalfmt.h"
#include "paths.h"
#include <insomnia/dirs.h>

/* <data root>/SESSION_ROOT/<uuid>/ */
#define SESSION_ROOT    "sessions"
#define SESSION_TOML    "session.toml"
#define SESSION_JOURNAL "journal.jsonl"
#define SESSION_LOCK    "lock"
#define SESSION_LOGS    "logs" /* a dir: the processes' (pod/proclog.h) */

/* A UUID in its canonical text form, without the NUL: the public size
 * less its NUL, one size under one name. */
#define SESSION_ID_LEN (INSOMNIA_SESSION_ID_MAX - 1)

/* What a client shows about one session.  Strings are "" when unknown. */
struct session_info {
	char id[SESSION_ID_LEN + 1];
	/* [session].name: the name a resume without overlay uses. */
	char name[INSOMNIA_NAME_MAX + 1];
	/* The name in the last started/resumed record: the pod that pid
	 * is (or was).  Differs from name when an overlay renamed a run. */
	char run_name[INSOMNIA_NAME_MAX + 1];
	char cwd[INSOMNIA_PATH_MAX];
	char created_at[SESSION_TIME_MAX];    /* as written in session.toml */
	char last_event[SESSION_EVENT_MAX];   /* last valid journal record */
	char last_event_at[SESSION_TIME_MAX]; /* its "ts" */
	/* The "error" of the last record when it is "stopped" (a run that
	 * failed after it journalled its start); "" otherwise. */
	char last_error[INSOMNIA_ERROR_MESSAGE_MAX];
	bool live; /* some process holds `lock` */
	pid_t pid; /* of the last started/resumed record; 0 when none */
};

/* 0 when id is a UUID in the canonical 8-4-4-4-12 hex form (either
 * case; exactly what libuuid's uuid_parse accepts, checked by hand so the
 * client need not link libuuid), else -1 with INSOMNIA_ERR_BAD_SESSION_ID. */
int session_id_check(const char *id, struct insomnia_error *err);

/* session_id_check, then the lower-case spelling (the directory name)
 * into out, which holds SESSION_ID_LEN + 1 bytes. */
int session_id_normalize(const char *id, char *out, struct insomnia_error *err);

/* Is name a session directory's name: a UUID in lower case?  An
 * upper-case twin is someone else's file. */
bool session_id_is_canonical(const char *name);

/* Open <data root>/sessions as a safe directory, creating it and the data
 * root (0700) when create is true.  path (may be NULL) gets its absolute
 * path, even on failure.  When create is false and it does not exist: -1 with
 * err->errnum ENOENT (kind INSOMNIA_ERR_RUNTIME_DIR), so a caller can treat it
 * as "no sessions". */
int session_open_root(bool create, char *path, size_t size,
                      struct insomnia_error *err);

/* Open the directory of session id (any case) in sessions_dirfd as a
 * safe directory.  Missing: INSOMNIA_ERR_SESSION_UNKNOWN. */
int session_open_dir(int sessions_dirfd, const char *id,
                     struct insomnia_error *err);

/* 1 when some process holds the session's lock, 0 when it is free or
 * absent, -1 on error (INSOMNIA_ERR_RUNTIME_DIR).  An OFD-lock probe
 * (livelock.h) that takes nothing, never a pid. */
int session_is_live(int session_dirfd, struct insomnia_error *err);

/* Take the session's lock the way a pod does (exclusive, never
 * waiting), creating the file when missing, on a descriptor of its own:
 * for a reaper that must hold what it removes.  1 taken (*fd holds it;
 * close it to release), 0 held by someone else, -1 on error (a lock
 * that is not a regular file, ...). */
int session_lock_try(int session_dirfd, int *fd, struct insomnia_error *err);

/* Remove the session's logs dir and the regular files in it, for a
 * caller that holds the session's lock.  Nothing is followed: the dir is
 * opened O_NOFOLLOW, each file unlinked relative to it, and anything but
 * a regular file is left, with the dir (-1, err naming it).  No logs
 * dir: 0.  Errors: INSOMNIA_ERR_RUNTIME_DIR. */
int session_remove_logs(int session_dirfd, struct insomnia_error *err);

/* Fill out for session id: session.toml's [session] table, the journal's
 * last valid record and last started/resumed record (read from the end
 * of the file: only its tail is read), and liveness.  A torn or invalid
 * journal line is skipped.  Errors: INSOMNIA_ERR_BAD_SESSION_ID,
 * INSOMNIA_ERR_SESSION_UNKNOWN (no such dir, or no session.toml: a session
 * still being created), INSOMNIA_ERR_CONFIG (session.toml does not parse),
 * INSOMNIA_ERR_IO, INSOMNIA_ERR_RUNTIME_DIR. */
int session_read_info(int sessions_dirfd, const char *id,
                      struct session_info *out, struct insomnia_error *err);

struct session_list_fns {
	/* Called for every session; 0 to go on, anything else to stop. */
	int (*fn)(const struct session_info *info, void *arg);
	/* Called (when not NULL) for a session that cannot be read: a
	 * damaged session.toml, a foreign owner, a file that is not a
	 * directory, ...; err says why.  0 to go on.  NULL: such an error
	 * stops the listing. */
	int (*bad)(const char *id, const struct insomnia_error *err, void *arg);
};

/* Call fns->fn for every session in sessions_dirfd, in no particular
 * order.  Entries whose names are not lower-case UUIDs are skipped, and
 * so are sessions that vanish or are still being created while listing
 * (no session.toml).  When fn or bad returns non-zero the listing stops
 * and session_list returns that value.  A session that cannot be read
 * goes to fns->bad; without one, it stops the listing and session_list
 * returns -1 with err naming that session. */
int session_list(int sessions_dirfd, const struct session_list_fns *fns,
                 void *arg, struct insomnia_error *err);

#endif
