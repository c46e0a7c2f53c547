/* podremains.h: what a dead pod's processes left, killed by whoever
 * cleans its runtime dir while holding its `lock` (reap, a stop that
 * had to SIGKILL the pod, a spawn finding a dead pod's dir): each
 * recorded group while its leader is the recorded process (same pid and
 * start time), and everything carrying a token of the pod's session
 * (procrec.h, proctree.h; docs/runtime-dir.md "Process records").
 * Never a stranger: a reused pid has another start time and no token. */
#ifndef INSOMNIA_PODREMAINS_H
#define INSOMNIA_PODREMAINS_H

#include <stdbool.h>

/* Kill the remains of the dead pod whose runtime dir is dirfd, reading
 * its state.json and procs/ records, and remove the records.  Only
 * with the pod's `lock` held by the caller: else a new pod's. */
void podremains_kill(int dirfd);

/* Did a pod with this state.json started_at start before this boot?
 * Its pids and start times then name others' processes. */
bool podremains_started_before_boot(const char *started_at);

#endif
