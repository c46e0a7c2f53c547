/* sessionreap.h: removing sessions whose creation never finished.
 *
 * A pod killed while it creates a session leaves a directory in
 * <data root>/sessions/ with no session.toml: empty, holding only `lock`,
 * a temporary .session.toml.tmp.*, or the logs/ of processes started
 * before the start failed (regular files only).  It is not a session (nothing
 * can resume it) and nobody else knows its id.  Such a directory is removed
 * only while the reaper holds its lock, so a pod still creating it (it
 * holds the lock from just after mkdir until session.toml is in place)
 * is never disturbed; a pod that finds its fresh directory reaped under
 * it starts over with a new id (pod/podsession.c). */
#ifndef INSOMNIA_SESSIONREAP_H
#define INSOMNIA_SESSIONREAP_H

#include "error.h"
#include <insomnia/reap.h>

/* Remove every such leftover.  fn (may be NULL) hears about each one
 * touched, as insomnia_reap reports pod dirs: name is "session <uuid>", note
 * says why one was kept (a file that is not ours, ...).  Real sessions,
 * damaged or not, and directories being created are left alone and not
 * reported.  No sessions dir: 0. */
int session_reap(void (*fn)(const struct insomnia_reap_report *r, void *arg),
                 void *arg, struct insomnia_error *err);

#endif
