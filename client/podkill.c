/* podkill.c: a pod's group, signalled by the safest handle held. */
#include "podkill.h"

#include <errno.h>

#include "procsig.h"

int podkill_signal(const struct podkill *k, int sig)
{
	if (k->pid <= 1) { /* never kill(0), kill(-1) or init's group */
		errno = EINVAL;
		return -1;
	}
	if (!k->exited && k->monitor && launch_signal(k->monitor, sig) == 0)
		return 0;
	if (!k->exited && k->pidfd >= 0 &&
	    procsig_send(k->pidfd, k->pid, sig, NULL) == 0)
		return 0;
	switch (procsig_kill_leaderless_group(k->pid, sig)) {
	case 0:
		return 0;
	case 1:
		errno = ESRCH;
		return -1;
	default:
		return -1;
	}
}
