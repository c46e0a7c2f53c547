/* livelock.h: the liveness lock, `lock` in a pod's runtime dir and in a
 * session's dir (docs/runtime-dir.md, "The liveness lock").
 *
 * The owner holds an open-file-description (OFD) write lock on the whole
 * file for its whole life.  Probers ask with F_OFD_GETLK, which tests
 * without taking anything, so a probe can never make the owner's take
 * fail (a shared flock for an instant could).  flock(2) and fcntl(2)
 * locks do not see each other, so every user of a `lock` file goes
 * through this module: one lock kind, one owner.
 *
 * Rule for removing: `lock` is unlinked only by a process that holds it
 * (livelock_try succeeded on that very file).  An owner that checks,
 * after taking it, that the file is still linked under its name
 * (fd_linked_at, fdio.h) therefore knows nobody can unlink it until it
 * lets go. */
#ifndef INSOMNIA_LIVELOCK_H
#define INSOMNIA_LIVELOCK_H

#include <stdbool.h>

#include "error.h"

enum livelock_state {
	LIVELOCK_FREE = 0, /* nobody holds it (or the file is absent) */
	LIVELOCK_HELD = 1, /* another open file description holds it */
};

/* Open dirfd/name for taking (read-write; created 0600 when create).
 * Never follows a symlink, never blocks on a FIFO, and refuses anything
 * that is not a regular file (errno FD_ENOTREG).  The fd, or -1 with
 * errno. */
int livelock_open(int dirfd, const char *name, bool create);

/* Take the write lock without waiting.  0 taken, 1 (LIVELOCK_HELD) when
 * someone else holds it, -1 with errno. */
int livelock_try(int fd);

/* Does anyone other than this open file description hold it?  0 free,
 * 1 held, -1 with errno.  Takes nothing. */
int livelock_probe(int fd);

/* Probe dirfd/name (opened read-only, never blocking): 0 free or absent,
 * 1 held, -1 with err (INSOMNIA_ERR_RUNTIME_DIR).  what names the file in
 * messages ("/run/x/lock", "the pod's lock file"). */
int livelock_probe_at(int dirfd, const char *name, const char *what,
                      struct insomnia_error *err);

/* Open dirfd/name (created 0600 when absent) and take it: 0 taken, *fd
 * set (close it to let go); 1 (LIVELOCK_HELD) when someone else holds
 * it; -1 with errno and err ("cannot open WHAT: ...", "cannot lock WHAT:
 * ...", INSOMNIA_ERR_RUNTIME_DIR).  *fd is -1 unless taken.  err may be
 * NULL.  The one way to take a pod's or a session's `lock`. */
int livelock_take_at(int dirfd, const char *name, const char *what, int *fd,
                     struct insomnia_error *err);

/* Fill err for a failed open, take or probe of a lock file: one kind
 * (INSOMNIA_ERR_RUNTIME_DIR, the dir is unusable) wherever it happens, e.g.
 * "cannot open /run/x/lock: not a regular file".  Returns -1. */
int livelock_error(struct insomnia_error *err, int errnum, const char *verb,
                   const char *what);

#endif
