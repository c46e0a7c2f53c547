/* insomnia/stop.h: stopping a live pod, politely first.
 *
 * The pod is asked to shut down over its socket; if it is still there
 * after the grace, it gets SIGTERM, and after another grace SIGKILL.
 * Each wait is on a pidfd (the kernel's event for the pod's exit), never
 * a sleep loop, and the request's connection is served in the same poll
 * loop against the same deadline, so it can neither shorten nor lengthen
 * the grace.
 *
 * Signals go only where we own them (procsig.h): to the pod's process
 * group when the live pod leads it, else to the pod alone through its
 * pidfd, never to a group number read from state.json, which for a pod
 * started without job control is its starter's group. */
#ifndef INSOMNIA_STOP_H
#define INSOMNIA_STOP_H

#include <sys/types.h>

#include <insomnia/api.h>
#include <insomnia/dirs.h>
#include <insomnia/error.h>

INSOMNIA_BEGIN_DECLS

enum insomnia_stop_how {
	INSOMNIA_STOPPED_BY_REQUEST,
	INSOMNIA_STOPPED_BY_TERM,
	INSOMNIA_STOPPED_BY_KILL,
};

/* The name of a way, for output: "request", "sigterm", "sigkill". */
INSOMNIA_API const char *insomnia_stop_how_name(enum insomnia_stop_how how);

/* How long stop waits for the kernel to end a pod after SIGKILL: only a
 * process stuck in the kernel (say, on a dead NFS server) takes longer. */
#define INSOMNIA_STOP_KILL_WAIT_MS 5000

/* Stop pod name, grace_ms > 0:
 *   1. ask it over its socket ("shutdown");
 *   2. grace_ms after the request, SIGTERM;
 *   3. grace_ms after SIGTERM, SIGKILL, then wait for its end.
 * A pod that cannot be asked or declines (no socket, connection refused,
 * accept queue full, the connection closed or reset before a reply, an
 * error reply) has answered: SIGTERM follows at once instead of after
 * the grace.  A pod that replied is given the rest of the grace to exit.
 * grace_ms == 0 means SIGKILL at once (reported as INSOMNIA_STOPPED_BY_KILL).
 *
 * Returns 0 once the pod's process has exited (*how says which step did
 * it, *pid which process it was; after SIGKILL the files the pod could
 * not remove are removed), or -1: INSOMNIA_ERR_NOT_RUNNING, INSOMNIA_ERR_USAGE
 * (a negative grace), INSOMNIA_ERR_TIMEOUT (it outlived SIGKILL by
 * INSOMNIA_STOP_KILL_WAIT_MS), INSOMNIA_ERR_INTERNAL (no pidfd_open),
 * INSOMNIA_ERR_RUNTIME_DIR. */
INSOMNIA_API int insomnia_stop(const char *name, int grace_ms,
                               enum insomnia_stop_how *how, pid_t *pid,
                               struct insomnia_error *err);

INSOMNIA_END_DECLS

#endif
