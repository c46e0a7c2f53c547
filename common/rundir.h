/* rundir.h: a pod's runtime directory <runtime root>/<name>/ (DESIGN.md).
 * The directory is the source of truth; `lock` is the liveness test. */
#ifndef INSOMNIA_RUNDIR_H
#define INSOMNIA_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

#define RUNDIR_LOCK   "lock"
#define RUNDIR_SOCK   "sock"
#define RUNDIR_PID    "pid"
#define RUNDIR_STATE  "state.json"
#define RUNDIR_STDERR "stderr.log"

/* Resolve the runtime root and open it as a safe directory (created when
 * create is true).  path gets its absolute path.  Returns the dir fd. */
int rundir_open_root(bool create, char *path, size_t size, struct error *err);

/* Is the pod whose dir is dirfd alive?  1 when some process holds
 * `lock`, 0 when the lock is free or absent, -1 on error.  The probe takes
 * a shared lock for an instant, so it never blocks. */
int rundir_is_live(int dirfd, struct error *err);

/* Read the decimal `pid` file; 0 when present and valid, else -1. */
int rundir_read_pid(int dirfd, pid_t *pid);

/* Remove dirfd/name when it is what a pod makes under that name: `sock`
 * only when it is a socket, anything else only when it is a regular file
 * (lstat, never followed).  0 when removed or absent; else -1 with errno,
 * ENOTSOCK or FD_ENOTREG when something else stands there (it is kept). */
int rundir_remove_entry(int dirfd, const char *name);

/* Remove a dead pod's published state: sock, pid, state.json, each only
 * as rundir_remove_entry allows. */
void rundir_remove_state(int dirfd);

/* Remove what a dead pod left (its state and lock), keeping stderr.log.
 * Only call while the pod is known dead. */
void rundir_remove_leftovers(int dirfd);

#endif
