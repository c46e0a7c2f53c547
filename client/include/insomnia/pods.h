/* insomnia/pods.h: the pods of the runtime root, as their dirs say.
 *
 * Liveness is decided by each dir's `lock` (held by a running pod), never
 * by a pid: pids are reused, a held lock is not faked.  Everything else
 * (pid, session, socket, started time) is read from the dir's files when
 * present. */
#ifndef INSOMNIA_PODS_H
#define INSOMNIA_PODS_H

#include <stdbool.h>
#include <sys/types.h>

#include <insomnia/api.h>
#include <insomnia/dirs.h>
#include <insomnia/error.h>

INSOMNIA_BEGIN_DECLS

/* A time as state.json gives it, "2024-05-01T12:00:00Z", with its NUL
 * and room. */
#define INSOMNIA_POD_TIME_MAX 32
/* A state's name with its NUL: "running", "failed", ... */
#define INSOMNIA_POD_STATE_MAX 32

/* Plain data, copied freely; every string NUL-terminated. */
struct insomnia_pod_info {
	char name[INSOMNIA_NAME_MAX + 1];
	bool alive;
	pid_t pid;                                /* 0 when unknown */
	pid_t pgid;                               /* 0 when unknown */
	char session_id[INSOMNIA_SESSION_ID_MAX]; /* "" when unknown */
	char socket[INSOMNIA_PATH_MAX];           /* <root>/<name>/sock */
	char started_at[INSOMNIA_POD_TIME_MAX];   /* "" when unknown */
	/* One of:
	 *  - alive: the pod's own state from state.json ("running",
	 *    "stopping"), else "running";
	 *  - "failed": its spawn failed (the pod exited before its ready
	 *    line, or was stopped by the spawner after a timeout, a bad
	 *    ready line, ...); exit_status or term_signal say how it
	 *    ended when known;
	 *  - "stale": it died without cleaning up (SIGKILL, a crash);
	 *  - "stopped": it cleaned up after itself (a clean stop), or left
	 *    nothing that tells (a cancelled spawn);
	 *  - "unusable": in insomnia_pods_each, its lock cannot be probed. */
	char state[INSOMNIA_POD_STATE_MAX];
	int exit_status; /* "failed": the pod's exit code; else -1 */
	int term_signal; /* "failed": the signal that ended it; else 0 */
};

/* Fill info for the pod `name` (its dir in the runtime root).  0, or
 * -1 and err: INSOMNIA_ERR_NOT_RUNNING when no dir of that name exists,
 * INSOMNIA_ERR_RUNTIME_DIR or INSOMNIA_ERR_IO when it cannot be read,
 * INSOMNIA_ERR_BAD_NAME.  err may be NULL. */
INSOMNIA_API int insomnia_pod_find(const char *name,
                                   struct insomnia_pod_info *info,
                                   struct insomnia_error *err);

/* Call fn for every pod dir of the runtime root, sorted by name, those
 * whose lock cannot be probed included (state "unusable", alive false;
 * insomnia_pod_find on its name says why).  info lives until fn
 * returns (copy it to keep it).  fn may call any function of the
 * library, spawn, stop and reap included: the names were read first,
 * and a dir gone meanwhile is skipped.  A non-zero return from fn stops
 * the walk and is returned.  A missing runtime root is an empty list;
 * -1 and err when the root cannot be read.  err may be NULL. */
INSOMNIA_API int
insomnia_pods_each(int (*fn)(const struct insomnia_pod_info *info, void *arg),
                   void *arg, struct insomnia_error *err);

INSOMNIA_END_DECLS

#endif
