/* proc.h: one process of the pod and its state machine (owned by
 * pod/proc.c; the supervisor drives it and reacts to its changes).
 *
 * States ("name" as ps, events and the journal show it) and transitions:
 *
 *   stopped  --start-->             starting  (deps all met)
 *   stopped  --start-->             waiting   (deps not met yet)
 *   waiting  --deps met-->          starting
 *   waiting  --a dep failed-->      blocked   (reason names the dep)
 *   blocked  --dep restarted-->     waiting
 *   starting --exec ok-->           running
 *   starting --exec failed-->       failed    (reason: the exec error)
 *   running  --(no probes yet)-->   ready
 *   running|ready --exit-->         exited    (policy says no restart)
 *   running|ready --exit-->         backoff   (delay_ms, then starting)
 *   running|ready --exit-->         failed    (max restarts reached)
 *   backoff  --timer-->             starting
 *   any live --stop-->              stopping  (signal sent, grace timer)
 *   stopping --exit / grace+KILL--> stopped
 *   waiting|blocked|backoff --stop--> stopped
 *   exited|failed --start-->        waiting|starting (restart count reset)
 */
#ifndef INSOMNIA_POD_PROC_H
#define INSOMNIA_POD_PROC_H

enum proc_state {
	PROC_STOPPED,
	PROC_WAITING,
	PROC_BLOCKED,
	PROC_STARTING,
	PROC_RUNNING,
	PROC_READY,
	PROC_STOPPING,
	PROC_EXITED,
	PROC_BACKOFF,
	PROC_FAILED,
};

/* "stopped", "waiting", ... */
const char *proc_state_name(enum proc_state st);

#endif
