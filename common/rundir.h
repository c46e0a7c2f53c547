/* rundir.h: a pod's runtime directory <runtime root>/<name>/ (DESIGN.md).
 * The directory is the source of truth; `lock` is the liveness test.
 *
 * Two locks, two kinds (docs/runtime-dir.md):
 * - the liveness lock, `lock`: an OFD write lock (livelock.h) the pod
 *   holds for its whole life; probes take nothing;
 * - the spawn lock: an exclusive flock(2) on the pod dir itself, held by
 *   a spawner for its handshake and by anyone who removes files, so that
 *   removing never overlaps a handshake. */
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
/* The processes' NOTIFY_SOCKETs (pod/procnotify.h): notify/<process>. */
#define RUNDIR_NOTIFY "notify"

/* Resolve the runtime root and open it as a safe directory (created when
 * create is true).  path gets its absolute path.  Returns the dir fd. */
int rundir_open_root(bool create, char *path, size_t size,
                     struct insomnia_error *err);

/* Open <root>/<name> as a safe dir (created when create), trying again
 * when a reap removes it between the mkdir and the open.  path names it
 * in messages.  The dir fd, or -1 with err. */
int rundir_open_dir(int rootfd, const char *name, const char *path, bool create,
                    struct insomnia_error *err);

/* Is the pod whose dir is dirfd alive?  1 when some process holds
 * `lock`, 0 when the lock is free or absent, -1 on error (kind
 * INSOMNIA_ERR_RUNTIME_DIR).  Takes nothing, so it never makes a pod's own take
 * fail. */
int rundir_is_live(int dirfd, struct insomnia_error *err);

/* The pod's side: open (creating) <root>/<name> and take its `lock` for
 * life.  *dirfd may hold the dir already opened (or -1); it is replaced
 * when the dir turns out reaped.  After taking the lock, checks that the
 * lock file is still linked in the dir and the dir still linked under
 * its name, and starts over on a fresh dir when not (a reaper removed
 * them under us), so a pod never runs unseen.  0 when taken (*dirfd and
 * *lockfd set; close *lockfd to let go), 1 when a live pod holds it
 * (*dirfd set), -1 with err (INSOMNIA_ERR_RUNTIME_DIR). */
int rundir_take_lock(int rootfd, const char *name, const char *path, int *dirfd,
                     int *lockfd, struct insomnia_error *err);

/* The spawn lock on dirfd's open file description: 0 taken, 1 held by
 * someone else, -1 with errno.  Released by rundir_spawn_unlock or by
 * closing every descriptor of that description. */
int rundir_spawn_lock_try(int dirfd);
void rundir_spawn_unlock(int dirfd);

/* Read the decimal `pid` file; 0 when present and valid, else -1. */
int rundir_read_pid(int dirfd, pid_t *pid);

/* Remove dirfd/name when it is what a pod makes under that name: `sock`
 * only when it is a socket, anything else only when it is a regular file
 * (lstat, never followed); `procs` (procrec.h) when it is a directory,
 * with the regular files in it.  0 when removed or absent; else -1 with
 * errno, ENOTSOCK, FD_ENOTREG or ENOTEMPTY when something else stands
 * there (it is kept). */
int rundir_remove_entry(int dirfd, const char *name);

/* Take a dead pod's `lock` (created when absent) so its files can be
 * removed: nobody can start on that lock while it is held.  The caller
 * holds the spawn lock.  The lock fd, or -1 with errno (EAGAIN: a live
 * pod holds it; FD_ENOTREG: `lock` is not a regular file). */
int rundir_hold_dead(int dirfd);

/* What rundir_remove_held removes. */
enum rundir_remove_what {
	/* sock, pid, state.json: before a launch (the new pod takes
	 * `lock`; stderr.log is truncated for it) */
	RUNDIR_REMOVE_STATE,
	/* and `lock`: after a failed spawn or a kill (stderr.log stays,
	 * it explains the death) */
	RUNDIR_REMOVE_STATE_LOCK,
	/* every file, `lock` last, then the dir itself (reap); anything
	 * kept keeps `lock` and the dir */
	RUNDIR_REMOVE_ALL,
};

struct rundir_removal {
	enum rundir_remove_what what;
	int rootfd;       /* RUNDIR_REMOVE_ALL: the dir's parent... */
	const char *name; /* ...and its name there */
	/* Each thing kept and why ("kept sock: not a socket", "cannot
	 * remove the dir: ..."); may be NULL. */
	void (*note)(const char *msg, void *arg);
	void *arg;
};

/* The one way to remove what a dead pod left: each file only as
 * rundir_remove_entry allows.  The caller holds the spawn lock and the
 * pod's `lock` (rundir_hold_dead).  1 when the dir itself was removed,
 * else 0. */
int rundir_remove_held(int dirfd, const struct rundir_removal *how);

/* Remove a dead pod's published state (sock, pid, state.json) and, unless
 * keep_lock, `lock` itself, holding `lock` meanwhile (rundir_hold_dead).
 * The caller holds the spawn lock.  1 removed, 0 left alone (a live pod
 * holds the lock), -1 with errno. */
int rundir_remove_leftovers_locked(int dirfd, bool keep_lock);

/* The same for a caller that does not hold the spawn lock (podstop after
 * a SIGKILL): takes it for the moment on a descriptor of its own; a spawn
 * in progress is left alone (0), it cleans up for itself. */
int rundir_remove_leftovers(int dirfd);

#endif
