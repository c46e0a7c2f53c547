/* podkill.h: signalling a pod and its process group by the safest handle
 * the caller holds (DESIGN.md, "Signals go only where we own them").
 * The one group kill of the library: a failed spawn (podspawn), a stop
 * (podstop) and a reap (podreap) all signal through it.
 *
 * A pod leads its own session and group (the launch monitor starts it
 * with setsid), so its pid is its group's id.  In order:
 *  - while the launch monitor has not reported the pod's exit, the pod
 *    is the monitor's unreaped child, so the monitor signals its group
 *    (our own pidfd may have been opened after the monitor reaped it,
 *    on a pid since reused);
 *  - else, while the pod lives, our pidfd: its group only while it
 *    leads it (procsig_send);
 *  - once the pod is dead, what is left of its group, only while no
 *    process holds the group's id as its pid and only members of the
 *    session it led (procsig_kill_leaderless_group): Linux does not
 *    reuse a pid that is still a group's or session's id. */
#ifndef INSOMNIA_PODKILL_H
#define INSOMNIA_PODKILL_H

#include <stdbool.h>
#include <sys/types.h>

#include "launch.h"

struct podkill {
	pid_t pid;                    /* the pod's pid, = its pgid; > 1 */
	int pidfd;                    /* ours on the pod, or -1 */
	const struct launch *monitor; /* while it may signal, or NULL */
	bool exited;                  /* the pod is known to be dead */
};

/* Send sig as above.  0 when it was sent somewhere, -1 with errno
 * (EINVAL: no pid; ESRCH: nothing of the pod is left). */
int podkill_signal(const struct podkill *k, int sig);

#endif
