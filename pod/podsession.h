/* podsession.h: the pod's session (DESIGN.md, "Sessions";
 * docs/sessions.md): choose or check the id, create or resume
 * <data root>/sessions/<uuid>/, hold its lock while the pod serves it,
 * hand the recorded config to podconfig as a layer, and journal the
 * pod's life.
 *
 * (Not "session.h": that name is common/session.h, the layout contract
 * the client reads by.) */
#ifndef INSOMNIA_POD_PODSESSION_H
#define INSOMNIA_POD_PODSESSION_H

#include <stdbool.h>

#include "error.h"
#include "journal.h"
#include "paths.h"
#include "session.h"
#include "toml.h"

struct podsession {
	char id[SESSION_ID_LEN + 1];  /* lower case */
	bool resumed;                 /* given with --session */
	char root[INSOMNIA_PATH_MAX]; /* <data root>/sessions, for messages */
	char dir[INSOMNIA_PATH_MAX];  /* <data root>/sessions/<id>, for messages
	                               */
	int rootfd, dirfd, lockfd;
	struct journal journal;
	/* Resumed: session.toml and its [config] table, the layer. */
	struct toml_value *recorded;
	const struct toml_value *layer;
	bool created; /* made by this pod: removed if it never gets ready */
	bool began;   /* the started/resumed record is written */
	bool ready;   /* the ready record is written */
};

void podsession_init(struct podsession *s);

/* requested (--session, may be NULL) normalised to lower case, or a new
 * random id.  Not a UUID: INSOMNIA_ERR_BAD_SESSION_ID.  Touches no file. */
int podsession_choose(struct podsession *s, const char *requested,
                      struct insomnia_error *err);

/* For a requested id: open the session dir, take its lock, read
 * session.toml (the layer) and open the journal.  No dir:
 * INSOMNIA_ERR_SESSION_UNKNOWN; lock held: INSOMNIA_ERR_SESSION_LIVE naming the
 * pod and pid the journal records.  Writes nothing. */
int podsession_resume(struct podsession *s, struct insomnia_error *err);

/* For a new id: create the data root, sessions/ and the session dir
 * (0700), take the lock, write session.toml atomically with config (the
 * merged tree the schema accepted) and create the journal. */
int podsession_create(struct podsession *s, const char *name, const char *cwd,
                      const struct toml_value *config,
                      struct insomnia_error *err);

/* Journal "started" (new) or "resumed" with pid and name (synced by
 * podsession_settle). */
int podsession_begin(struct podsession *s, const char *name,
                     struct insomnia_error *err);

/* Journal "ready"; call just before the ready line. */
int podsession_ready(struct podsession *s, struct insomnia_error *err);

/* Just after the ready line: fsync the journal and, for a new session,
 * its directory and sessions/, in one batch.  A failure is the caller's
 * to log: the pod is already announced. */
int podsession_settle(struct podsession *s, struct insomnia_error *err);

/* Journal "stopping" with reason ("signal SIGTERM", "shutdown request")
 * and detail (may be NULL).  A failure is logged, not returned: the pod
 * stops all the same. */
void podsession_stopping(struct podsession *s, const char *reason,
                         const char *detail);

/* Last, after the runtime dir is cleaned: journal "stopped" (with the
 * message of failure when not NULL) and fsync, then release the lock.
 * A session this pod created but never got ready is removed instead.
 * Safe after any partial start. */
void podsession_close(struct podsession *s,
                      const struct insomnia_error *failure);

#endif
