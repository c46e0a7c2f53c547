/* procnotify.h: one process's NOTIFY_SOCKET (sd_notify(3)'s protocol,
 * written from its documentation; docs/manifest.md, "notify").
 *
 * A datagram socket of its own, bound in the pod's runtime dir
 * (notify/<process>, mode 0600, the dir 0700), with SO_PASSCRED so each
 * datagram carries its sender's pid.  A datagram is accepted only when
 * its sender is the run's pid, the MAINPID it announced, or one of their
 * descendants (its parent chain reaches them, or it carries the run's
 * INSOMNIA_PROCESS_TOKEN: a double-forked daemon's parent is the pod);
 * anything else is dropped and counted.  Messages are newline-separated
 * KEY=VALUE assignments; the ones known here are READY=1, STATUS=...,
 * MAINPID=N, STOPPING=1, RELOADING=1, WATCHDOG=1 (others are ignored,
 * as systemd does).  A datagram carrying file descriptors has them
 * closed at once.
 *
 * The socket lives as long as the process's entry in the supervisor
 * (across restarts); procnotify_run tells it whose datagrams to take. */
#ifndef INSOMNIA_POD_PROCNOTIFY_H
#define INSOMNIA_POD_PROCNOTIFY_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

struct procnotify;

/* Each called from the loop, in the order of the assignments in one
 * datagram; text lives only during the call. */
struct procnotify_hooks {
	void (*ready)(void *arg);                    /* READY=1 */
	void (*status)(void *arg, const char *text); /* STATUS=... */
	void (*mainpid)(void *arg, pid_t pid);       /* MAINPID=N, N > 0 */
	void (*stopping)(void *arg);                 /* STOPPING=1 */
	void (*reloading)(void *arg);                /* RELOADING=1 */
	void (*watchdog)(void *arg);                 /* WATCHDOG=1 */
	void *arg;
};

/* Bind <pod dir>/notify/<name> (the dir made 0700 if missing; a stale
 * socket of a dead pod replaced; a symlink or other file there refused)
 * and watch it on base.  NULL with err (INSOMNIA_ERR_IO, or a path too
 * long for sun_path, named).  Any hook may be NULL. */
struct procnotify *procnotify_new(struct event_base *base, int pod_dirfd,
                                  const char *pod_dir, const char *name,
                                  const struct procnotify_hooks *hooks,
                                  struct insomnia_error *err);

/* The value of NOTIFY_SOCKET for the process (an absolute path), valid
 * until procnotify_free. */
const char *procnotify_path(const struct procnotify *n);

/* A new run: take datagrams from pid and its descendants (token: the
 * run's INSOMNIA_PROCESS_TOKEN value).  pid 0: no run, drop everything
 * (datagrams queued from the previous run are discarded). */
void procnotify_run(struct procnotify *n, pid_t pid, const char *token);

/* Take every datagram queued now (the hooks called), without waiting
 * for the loop: the supervisor calls it when the run's pid is reaped,
 * since a wrapper's MAINPID=, sent just before it exited, must be seen
 * before its exit is taken for the run's end. */
void procnotify_drain(struct procnotify *n);

/* How many datagrams were dropped (a stranger's, too big, malformed). */
size_t procnotify_dropped(const struct procnotify *n);

/* Close and unlink the socket. */
void procnotify_free(struct procnotify *n);

#endif
