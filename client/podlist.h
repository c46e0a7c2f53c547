/* podlist.h: the pods of the runtime root, as their dirs say.
 *
 * Liveness is decided by each dir's `lock` (held by a running pod), never
 * by a pid: pids are reused, a held lock is not faked.  Everything else
 * (pid, session, socket, started time) is read from the dir's files when
 * present. */
#ifndef INSOMNIA_PODLIST_H
#define INSOMNIA_PODLIST_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "paths.h"
#include "podname.h"

struct pod_info {
	char name[PODNAME_MAX + 1];
	bool alive;
	pid_t pid;  /* 0 when unknown */
	pid_t pgid; /* 0 when unknown */
	char session_id[40];
	char socket[PATHS_MAX];
	char started_at[40];
	char state[32]; /* alive: from state.json, else "running";
	                   dead: "stale" (state.json left: it crashed) or
	                   "stopped" (it cleaned up); "unusable" in
	                   podlist_each when its lock cannot be probed */
};

/* Fill info for the pod dir `name` inside the runtime root rootfd.
 * Returns 0, or -1 when the dir does not exist or cannot be read. */
int podlist_read(int rootfd, const char *root_path, const char *name,
                 struct pod_info *info, struct error *err);

/* Call fn for every pod dir of the runtime root, sorted by name, those
 * whose lock cannot be probed included (state "unusable", alive false;
 * podlist_read says why).  A non-zero return from fn stops the walk and
 * is returned.  A missing runtime root is an empty list, err may be
 * NULL. */
int podlist_each(int (*fn)(const struct pod_info *info, void *arg), void *arg,
                 struct error *err);

#endif
