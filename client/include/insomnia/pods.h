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

struct insomnia_pod_info {
	char name[INSOMNIA_NAME_MAX + 1];
	bool alive;
	pid_t pid;  /* 0 when unknown */
	pid_t pgid; /* 0 when unknown */
	char session_id[40];
	char socket[INSOMNIA_PATH_MAX];
	char started_at[40];
	char state[32]; /* alive: from state.json, else "running";
	                   dead: "stale" (state.json left: it crashed) or
	                   "stopped" (it cleaned up); "unusable" in
	                   insomnia_pods_each when its lock cannot be probed */
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
 * podlist_read says why).  A non-zero return from fn stops the walk and
 * is returned.  A missing runtime root is an empty list, err may be
 * NULL. */
INSOMNIA_API int
insomnia_pods_each(int (*fn)(const struct insomnia_pod_info *info, void *arg),
                   void *arg, struct insomnia_error *err);

INSOMNIA_END_DECLS

#endif
