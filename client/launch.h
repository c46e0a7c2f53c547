/* launch.h: starting the pod detached, without losing its exit status.
 *
 * The client starts a small exec'd helper, pod-launch-monitor
 * (client/launch-monitor.c; contract in common/launchmsg.h), with
 * childstart (common/childstart.h).  Its cost does not depend on the
 * client's size (no page tables are copied), and it
 * starts with default signals whatever the client did with its own.  The
 * monitor starts the pod in a new session (so the pod's pgid is its pid)
 * with only fds 0-2, holds a pidfd on it, and reports over a pipe: the
 * pod's pid or why it could not start, "stderr.log grew", and its wait
 * status if it exits; until then it also signals the pod for the client
 * on request.  Once the client is done with the handshake it
 * releases the monitor, which exits at once; the pod is then re-parented
 * away from the client, so the client never collects a zombie and needs
 * no SIGCHLD handler.  Nothing here polls.
 *
 * The monitor is found through INSOMNIA_LAUNCH_MONITOR (a path), else
 * beside the running program, else at its installed path
 * (libexecdir/insomnia/pod-launch-monitor). */
#ifndef INSOMNIA_LAUNCH_H
#define INSOMNIA_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "launchmsg.h"

struct launch {
	pid_t monitor;  /* the client's child; reaped by launch_release */
	pid_t pod;      /* known as soon as launch_start returns */
	int report_fd;  /* read end of the monitor's reports, non-blocking */
	int release_fd; /* closing it lets the monitor exit */
};

struct launch_spec {
	const char *path;  /* executable */
	char *const *argv; /* NULL-terminated */
	int stderr_fd;     /* becomes the pod's fd 2 */
	const char *cwd;   /* may be NULL */
	/* "NAME=value" entries (NULL-terminated; may be NULL) set in the
	 * pod's environment over the caller's, which is left untouched:
	 * the monitor gets a copy (childstart's envp) and hands it on. */
	char *const *env;
};

/* The monitor's path: INSOMNIA_LAUNCH_MONITOR, else beside the running
 * program (a build tree's podctl), else the installed one; buf may be
 * used to hold it. */
const char *launch_monitor_path(char *buf, size_t size);

/* Start the monitor and wait for its first report: 0 with out->pod set,
 * or -1 with err (launch_failed; the monitor is reaped). */
int launch_start(const struct launch_spec *spec, struct launch *out,
                 struct insomnia_error *err);

/* 1 when a message was read, 0 at end of stream, -1 when none is ready
 * (EAGAIN) or on error. */
int launch_read_msg(const struct launch *l, struct launch_msg *msg);

/* Same, waiting until a message, end of stream or timeout_ms (-1:
 * forever; -1 with ETIMEDOUT when it passed). */
int launch_wait_msg(const struct launch *l, struct launch_msg *msg,
                    int timeout_ms);

/* Have the monitor send sig to the pod's group.  For a client without a
 * pidfd of its own: the pod is the monitor's unreaped child until its
 * exit is reported, so only the monitor can name it safely.  Queued (it
 * lands shortly after); 0, or -1 with errno (EPIPE: the monitor is gone,
 * and the pod with it or reaped). */
int launch_signal(const struct launch *l, int sig);

/* The message for a LAUNCH_MSG_FAILED report, into err. */
int launch_failed(const struct launch_spec *spec, const struct launch_msg *msg,
                  struct insomnia_error *err);

/* Let the monitor exit and reap it.  Safe to call twice. */
void launch_release(struct launch *l);

#endif
