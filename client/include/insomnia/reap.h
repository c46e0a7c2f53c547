/* insomnia/reap.h: removing what dead pods left in the runtime root.
 *
 * A dir is reaped only when its lock is free (the pod is dead) and no
 * spawn is in progress on it (the dir's own flock, the spawn lock).  A
 * process group the dead pod recorded is killed only while its leader is
 * gone, so a recycled pid is never hit: Linux does not hand out a pid
 * that is still some group's id. */
#ifndef INSOMNIA_REAP_H
#define INSOMNIA_REAP_H

#include <stdbool.h>
#include <sys/types.h>

#include <insomnia/api.h>
#include <insomnia/dirs.h>
#include <insomnia/error.h>

INSOMNIA_BEGIN_DECLS

struct insomnia_reap_report {
	char name[INSOMNIA_NAME_MAX + 1];
	pid_t killed_group; /* a stale group that still ran, or 0 */
	bool removed;       /* the dir is gone */
	char note[128];     /* why it was kept, when it was */
};

/* Reap every stale dir; fn (may be NULL) hears about each one touched.
 * Live pods and dirs being spawned are left alone and not reported. */
INSOMNIA_API int insomnia_reap(void (*fn)(const struct insomnia_reap_report *r,
                                          void *arg),
                               void *arg, struct insomnia_error *err);

INSOMNIA_END_DECLS

#endif
