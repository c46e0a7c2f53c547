/* supervisor-int.h: what supervisor.c (the walk, exits, life) and
 * supervisor-ops.c (operations, ps) share.  Not for anyone else. */
#ifndef INSOMNIA_POD_SUPERVISOR_INT_H
#define INSOMNIA_POD_SUPERVISOR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "logline.h"
#include "probe.h"
#include "proc.h"
#include "reaper.h"
#include "supervisor.h"

enum sup_phase {
	SUP_IDLE,     /* made, not started */
	SUP_STARTING, /* autostart processes on their way */
	SUP_READY,    /* the ready hook was called */
	SUP_STOPPING, /* everything on its way down */
};

struct supervisor_op {
	struct supervisor *s;
	enum supervisor_verb verb;
	size_t *idx;
	uint64_t *runs0; /* each target's runs when asked */
	size_t n;
	supervisor_done_fn done;
	void *arg;
	bool cancelled;
	struct supervisor_op *next;
};

struct supervisor {
	struct event_base *base;
	const struct manifest *m;
	char *pod_name, *pod_dir, *session_id, *session_dir;
	int pod_dirfd;
	int logs_dirfd;
	struct events *ev;
	struct supervisor_hooks hooks;
	struct proc *procs;
	size_t n;
	struct reaper *reaper;
	struct probes *probes; /* every polled try of every process */
	struct event *notify;
	struct event *settle; /* before the ready hook (SETTLE_MS) */
	int64_t settle_ms;
	bool settle_armed;
	uint64_t rng;
	enum sup_phase phase;
	bool in_reconcile, again;
	bool hurry; /* supervisor_hurry: no grace any more */
	bool ready_sent, fail_pending, fail_sent, stopped_sent;
	struct insomnia_error fail_err;
	struct supervisor_op *ops;
	uint64_t walk; /* sup_mark_up's walks, to visit each process once */
};

/* supervisor.c: walk the processes towards their goals (then the
 * deferred event tells hooks and operations). */
void sup_reconcile(struct supervisor *s);
/* p (and what it depends on) should run; target: p was named, so a
 * finished run of it is started afresh. */
void sup_mark_up(struct supervisor *s, struct proc *p, bool target);
/* p and everything depending on it should not run. */
void sup_mark_down(struct supervisor *s, struct proc *p);
/* Stop p's run and start it again (its dependents keep running). */
void sup_restart_one(struct supervisor *s, struct proc *p);

/* supervisor.c, for supervisor-watch.c: p is ready (running: the probe
 * said so; reloading: READY=1 again). */
void sup_ready(struct supervisor *s, struct proc *p);
/* End p's run as a failed one (stop signal, grace, KILL; then the
 * restart policy, as for an exit with a failure status); why is the
 * reason told.  Nothing when the run is not up. */
void sup_fail_run(struct supervisor *s, struct proc *p, const char *why);
/* p's main pid (a MAINPID) died: unless the pod reaps it now (its
 * child), its parent did, and the run ends with an unknown status. */
void sup_main_gone(struct supervisor *s, struct proc *p, pid_t pid);
/* A state change from outside the walk (reloading), then the walk. */
void sup_change(struct supervisor *s, struct proc *p, enum proc_state st);
/* Tell p's state again (its pid or shown state changed). */
void sup_publish(struct supervisor *s, struct proc *p);
/* Tell subscribers p's STATUS= text (or null: cleared).  Not
 * journalled: ps has the last one. */
void sup_publish_status(struct supervisor *s, struct proc *p);
/* A polled probe's try for p's current run, expanded as its argv. */
int sup_probe_cmd(struct supervisor *s, const struct proc *p,
                  const struct probe_conf *c, struct proc_probe_cmd *cmd,
                  struct insomnia_error *err);

/* supervisor-watch.c: readiness and liveness of each run. */
int sw_init(struct supervisor *s, struct proc *p, struct insomnia_error *err);
/* The run was started: procnotify told, the readiness wait armed. */
void sw_run_started(struct supervisor *s, struct proc *p);
/* running -> ready: the wait ends, liveness begins. */
void sw_now_ready(struct supervisor *s, struct proc *p);
/* The run is being stopped: no probe, no timer any more. */
void sw_quiet(struct proc *p);
/* The run was reaped: quiet, and its datagrams no longer taken. */
void sw_run_over(struct proc *p);
/* A line of p's output (log readiness). */
void sw_log_line(struct supervisor *s, struct proc *p,
                 const struct logline *line);
void sw_free(struct proc *p);

/* supervisor-ops.c: call done for every operation that is over. */
void sup_settle_ops(struct supervisor *s);
void sup_op_free(struct supervisor_op *op);

#endif
