/* supervisor.h: the processes of a pod (docs/supervision.md):
 * start in dependency order (independent branches at once), readiness
 * and liveness (supervisor-watch.c), restart by policy with backoff,
 * stop in reverse order, all on the pod's loop with no polling but the
 * probes the manifest asks to poll.  Exits come from SIGCHLD on the loop (the
 * pod is a child subreaper, so orphans of its processes are reaped here too);
 * each process's state machine is in proc.h.
 *
 * Rules chosen (documented in docs/supervision.md):
 *  - Dependents of a process that restarts keep running.
 *  - A dependency that ends `failed` leaves its waiting dependents
 *    `blocked` (reason names it); they wait again if it is restarted.
 *  - Before the pod is ready, an autostart process (or a dependency of
 *    one) that exits (other than status 0 with policy no or on-failure)
 *    or cannot be started fails the pod's start.
 *  - The ready hook waits until every autostart process stayed ready
 *    for a settle (200 ms), so one that dies at once fails the start;
 *    no settle when every autostart process has a ready probe (it
 *    proved its readiness).
 *  - A run that fails readiness (timeout, fd closed) or liveness is
 *    stopped (signal, grace, KILL) and counts as a failed run.
 *  - A run ends once what it left (killed by token and group) is gone. */
#ifndef INSOMNIA_POD_SUPERVISOR_H
#define INSOMNIA_POD_SUPERVISOR_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "events.h"
#include "manifest.h"

struct supervisor;
struct supervisor_op;

/* Where the processes live. */
struct supervisor_env {
	const char *pod_name;
	const char *pod_dir; /* runtime dir (${pod.dir}) */
	int pod_dirfd;       /* its fd, for procrec (borrowed) */
	const char *session_id;
	const char *session_dir; /* ${session.dir}; logs/ is made inside */
	int session_dirfd;       /* borrowed */
};

struct supervisor_hooks {
	/* Every autostart process reached ready (or completed): once, from
	 * the loop.  With no autostart process, soon after start. */
	void (*ready)(void *arg);
	/* Before ready: a process failed.  why says which and how, its
	 * detail holds the process's last output lines.  The supervisor
	 * has already begun stopping the others; stopped follows. */
	void (*start_failed)(void *arg, const struct insomnia_error *why);
	/* After supervisor_stop_all (or a start failure): nothing runs. */
	void (*stopped)(void *arg);
	void *arg;
};

/* m is borrowed and must outlive the supervisor. */
struct supervisor *supervisor_new(struct event_base *base,
                                  const struct manifest *m,
                                  const struct supervisor_env *env,
                                  struct events *ev,
                                  const struct supervisor_hooks *hooks,
                                  struct insomnia_error *err);

/* How long every autostart process must stay ready before the ready hook
 * (default 200 ms; docs/supervision.md, "Ready").  Before
 * supervisor_start. */
void supervisor_set_settle(struct supervisor *s, int64_t ms);

/* Become a child subreaper, allocate ports (and bind the listen ones),
 * start autostart processes. */
int supervisor_start(struct supervisor *s, struct insomnia_error *err);

/* Stop everything in reverse dependency order; hooks.stopped when done.
 * Safe to call twice and during start. */
void supervisor_stop_all(struct supervisor *s);

/* During the stop: cut every grace short.  Each process still stopping
 * gets SIGKILL now, and each one whose stop has not begun yet (its
 * dependents still run) gets it right after its stop signal.
 * hooks.stopped follows as usual.  Nothing before supervisor_stop_all. */
void supervisor_hurry(struct supervisor *s);

/* After stopped (or to give up): SIGKILL whatever is left (marked
 * descendants too), remove process records, free. */
void supervisor_free(struct supervisor *s);

/* Processes ready / total, for status. */
void supervisor_counts(const struct supervisor *s, size_t *ready,
                       size_t *total);

/* {"processes":[...]} (docs/protocol.md, "ps") for names (NULL: all).
 * NULL with err (INSOMNIA_ERR_UNKNOWN_PROCESS naming it) or on OOM. */
json_t *supervisor_ps(const struct supervisor *s, const char *const *names,
                      size_t n, struct insomnia_error *err);

/* Called once when an operation is over: err NULL when every process got
 * where it was asked, else why not (process_failed, ...).  result is
 * {"processes":[...]} of the names asked (borrowed for the call). */
typedef void (*supervisor_done_fn)(void *arg, json_t *result,
                                   const struct insomnia_error *err);

enum supervisor_verb { SUPERVISOR_START, SUPERVISOR_STOP, SUPERVISOR_RESTART };

/* Start (with the dependencies they need), stop (with their running
 * dependents first) or restart (resets the restart count) the named
 * processes.  Checked at once: an unknown name (unknown_process), a
 * process already in the asked state, a stopping pod, or a stop or
 * restart before the ready hook (process_state)
 * fail with NULL and nothing done.  Else done is called later, from the
 * loop, when each reached running/ready (start, restart) or stopped; the
 * op is freed after done returns.  supervisor_op_cancel forgets done
 * (the caller went away); the processes carry on. */
struct supervisor_op *supervisor_act(struct supervisor *s,
                                     enum supervisor_verb verb,
                                     const char *const *names, size_t n,
                                     supervisor_done_fn done, void *arg,
                                     struct insomnia_error *err);
void supervisor_op_cancel(struct supervisor_op *op);

/* The logs dir (<session dir>/logs), for the logs method; -1 when the
 * pod has no process (no logs dir is made then). */
int supervisor_logs_dirfd(const struct supervisor *s);

/* Is name a process of this pod? */
bool supervisor_has(const struct supervisor *s, const char *name);

#endif
