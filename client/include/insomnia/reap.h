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

/* A reap note's buffer, NUL included (a longer note is cut). */
#define INSOMNIA_REAP_NOTE_MAX 128

/* Plain data; every string NUL-terminated. */
struct insomnia_reap_report {
	char name[INSOMNIA_NAME_MAX + 1]; /* the pod, or "session <id>" */
	pid_t killed_group; /* a stale group that still ran, or 0 */
	bool removed;       /* the dir is gone */
	char note[INSOMNIA_REAP_NOTE_MAX]; /* why it was kept, when it was */
};

/* Reap every stale dir (stopped, failed or crashed pods: insomnia/pods.h),
 * then the session dirs a crash cut short; fn (may be NULL) hears about
 * each one touched.  Live pods and dirs being spawned are left alone and
 * not reported.  r lives until fn returns (copy it to keep it); fn may
 * call any function of the library but insomnia_reap itself.  Returns 0,
 * or -1 and err (INSOMNIA_ERR_RUNTIME_DIR when a root cannot be read;
 * err may be NULL); a missing runtime root is nothing to reap. */
INSOMNIA_API int insomnia_reap(void (*fn)(const struct insomnia_reap_report *r,
                                          void *arg),
                               void *arg, struct insomnia_error *err);

INSOMNIA_END_DECLS

#endif
