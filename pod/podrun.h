/* podrun.h: the pod's side of its runtime directory (DESIGN.md, "A pod's
 * runtime dir"): take the lock, clear a stale socket, listen, publish
 * pid and state.json, and undo all of it on the way out. */
#ifndef INSOMNIA_POD_PODRUN_H
#define INSOMNIA_POD_PODRUN_H

#include <stdbool.h>

#include "error.h"
#include "paths.h"
#include "state.h"

struct podrun {
	int rootfd;   /* the runtime root */
	int dirfd;    /* <root>/<name> */
	int lockfd;   /* holds `lock` (an OFD lock) for the pod's whole life */
	int listenfd; /* the control socket; the server only borrows it */
	char dir[INSOMNIA_PATH_MAX];
	char sock[INSOMNIA_PATH_MAX];
	bool bound;     /* sock is ours to remove */
	bool published; /* pid and state.json are ours to remove */
};

void podrun_init(struct podrun *r);

/* Open (creating) the runtime root and <root>/<name>, both safe dirs. */
int podrun_open(struct podrun *r, const char *name, struct insomnia_error *err);

/* Take `lock` (rundir_take_lock: starts over on a fresh dir when a
 * reap removed this one meanwhile).  Held by a live pod:
 * INSOMNIA_ERR_ALREADY_RUNNING naming its pid. */
int podrun_lock(struct podrun *r, const char *name, struct insomnia_error *err);

/* Remove a stale socket (only a socket; we hold the lock, so nobody
 * serves it), then bind and listen. */
int podrun_listen(struct podrun *r, struct insomnia_error *err);

/* Write pid and state.json atomically. */
int podrun_publish(struct podrun *r, const struct pod_state *st,
                   struct insomnia_error *err);

/* Stop listening, remove what this pod published, then release the lock
 * (last, so nobody sees a free lock beside our files).  The lock file
 * itself stays: only a holder may unlink it (livelock.h), and leaving it
 * costs nothing. */
void podrun_close(struct podrun *r);

#endif
