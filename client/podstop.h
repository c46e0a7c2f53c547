/* podstop.h: stopping a live pod, politely first.
 *
 * The pod is asked to shut down over its socket; if it is still there
 * after the grace, its process group gets SIGTERM, then SIGKILL.  Each
 * wait is on a pidfd (the kernel's event for the pod's exit), never a
 * sleep loop, and the result is judged by the pod's `lock`. */
#ifndef INSOMNIA_PODSTOP_H
#define INSOMNIA_PODSTOP_H

#include <sys/types.h>

#include "error.h"

enum pod_stop_how {
	POD_STOPPED_BY_REQUEST,
	POD_STOPPED_BY_TERM,
	POD_STOPPED_BY_KILL,
};

/* The name of a way, for output: "request", "sigterm", "sigkill". */
const char *pod_stop_how_name(enum pod_stop_how how);

/* Stop pod name; grace_ms bounds each of the three waits.  Returns 0
 * once the pod's lock is free (*how says which step did it, *pid which
 * process it was), or -1: ERR_NOT_RUNNING, ERR_TIMEOUT, ... */
int pod_stop(const char *name, int grace_ms, enum pod_stop_how *how, pid_t *pid,
             struct error *err);

#endif
