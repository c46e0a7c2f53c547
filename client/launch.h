/* launch.h: starting the pod detached, without losing its exit status.
 *
 * The client forks a small monitor, the monitor posix_spawn()s the pod in
 * a new session (so the pod's pgid is its pid) with only fds 0-2, holds a
 * pidfd on it, and reports over a pipe: the pod's pid, whether exec
 * worked, and its wait status if it exits.  Once the client is done with
 * the handshake it releases the monitor, which exits; the pod is then
 * re-parented away from the client, so the client never collects a
 * zombie and needs no SIGCHLD handler.  Nothing here polls. */
#ifndef INSOMNIA_LAUNCH_H
#define INSOMNIA_LAUNCH_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"

enum launch_msg_type {
	LAUNCH_MSG_PID = 1,     /* value: the pod's pid (= its pgid) */
	LAUNCH_MSG_EXEC_FAILED, /* value: errno of the failed exec */
	LAUNCH_MSG_EXITED,      /* value: wait status of the pod */
};

struct launch_msg {
	int32_t type;
	int32_t value;
};

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
};

int launch_start(const struct launch_spec *spec, struct launch *out,
                 struct error *err);

/* 1 when a message was read, 0 at end of stream, -1 when none is ready
 * (EAGAIN) or on error. */
int launch_read_msg(const struct launch *l, struct launch_msg *msg);

/* Same, blocking until a message or end of stream. */
int launch_wait_msg(const struct launch *l, struct launch_msg *msg);

/* Let the monitor exit and reap it.  Safe to call twice. */
void launch_release(struct launch *l);

#endif
