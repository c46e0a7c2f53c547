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
 *   running  --no ready probe-->    ready     (on the walk's next pass)
 *   running  --probe says ready-->  ready     (READY=1, fd newline, log
 *                                              line, tcp/http/exec try)
 *   running  --not ready in time,
 *             fd closed-->          stopping  (a failing run, see below)
 *   ready    --RELOADING=1-->       reloading
 *   reloading --READY=1-->          ready
 *   ready|reloading --liveness
 *             failures-->           stopping  (a failing run)
 *   running|ready|reloading --exit--> exited  (policy says no restart)
 *   running|ready|reloading --exit--> backoff (delay_ms, then starting)
 *   running|ready|reloading --exit--> failed  (max restarts reached)
 *   backoff  --timer-->             starting
 *   any live --stop-->              stopping  (signal sent, grace timer)
 *   stopping --exit / grace+KILL--> stopped
 *   stopping (failing) --exit-->    exited|backoff|failed, as an exit
 *                                   with a failure status (the reason
 *                                   says why: "not ready within 30s")
 *   waiting|blocked|backoff --stop--> stopped
 *   exited|failed --start-->        waiting|starting (restart count reset)
 *
 * STOPPING=1 from the process is not a state of its own: the process
 * is shown "stopping" (ps, events) while its state stays where it was,
 * so its exit is handled as any exit, by policy (stop_told).
 *
 * reloading is live and not ready: a dependent waiting for the process
 * to be ready waits until READY=1 again (one already running keeps
 * running); the pod's ready hook waits too; liveness goes on. */
#ifndef INSOMNIA_POD_PROC_H
#define INSOMNIA_POD_PROC_H

#include <event2/event.h>
#include <jansson.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"
#include "manifest.h"
#include "placeholder.h"
#include "proctree.h"

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
	PROC_RELOADING,
};

/* "stopped", "waiting", ... */
const char *proc_state_name(enum proc_state st);

/* One process: its spec, where its state machine is, and its current run
 * (pid != 0 from a successful start until it is reaped). */
struct proc {
	const struct proc_spec *spec;
	void *owner;  /* the supervisor, for the timer's callback */
	size_t index; /* in the manifest */
	enum proc_state state;
	bool want_up; /* the goal: run (start, autostart) or not (stop) */
	bool boot;    /* needed for the pod's ready: failing fails the start */
	pid_t pid;    /* 0: no run to reap */
	pid_t pgid;
	int pidfd;     /* -1 when no run */
	int restarts;  /* within the window (backoff.h) */
	uint64_t runs; /* successful starts, ever */
	bool has_exit; /* the last run's end, for ps and events */
	int exit_code; /* >= 0, or -1: killed by exit_signal (0: unknown) */
	int exit_signal;
	struct timespec started_mono; /* for reset_after */
	struct timespec started_real; /* ps "started_at" */
	int *ports;                   /* spec->nports, for the pod's life */
	struct event *timer;          /* backoff delay, or stop grace */
	bool killed;                  /* the grace ran out: KILL sent */
	/* Reaped, its leftovers SIGKILLed but not all gone yet: the end of
	 * the run is handled once they are (their deaths come back to us,
	 * the subreaper, as SIGCHLD). */
	bool draining;
	/* The session of the run being drained (its pid): 0 once its end
	 * was handled, as the id may then be another's. */
	pid_t left_sid;
	uint64_t walk; /* the supervisor's last walk that reached it */
	int64_t drained_run_ms;
	struct proclog *log;
	char reason[INSOMNIA_ERROR_MESSAGE_MAX];
	char token[PROCTREE_TOKEN_MAX];
	/* Socket activation: spec->nports sockets (-1 where not listen),
	 * bound and listening for the pod's life (ports.h). */
	int *listen_fds;
	/* Readiness and liveness (supervisor-watch.c).  The objects live as
	 * long as the entry; each run arms what its state needs. */
	struct procnotify *notify; /* NULL unless proc_spec_wants_notify */
	regex_t ready_re;          /* PROBE_LOG (has_re) */
	bool has_re;
	int ready_fd;           /* PROBE_FD: read end while waiting, or -1 */
	struct event *ready_ev; /* ready_fd readable */
	/* pidfd readable after a MAINPID: the main pid died (its parent,
	 * not the pod, may reap it). */
	struct event *main_ev;
	struct event *ready_limit; /* the readiness deadline */
	struct event *tick;        /* the next polled try */
	struct event *watchdog;    /* WATCHDOG=1 expected before it fires */
	struct probe *probe;       /* the try in flight, or NULL */
	struct timespec try_mono;  /* when it began */
	char try_what[256];        /* its target or command, expanded */
	int alive_failures;        /* consecutive */
	char *status;              /* last STATUS=, or NULL */
	bool stop_told;            /* STOPPING=1: shown stopping */
	/* Non-empty: the run is being ended because it failed (readiness,
	 * liveness); its exit then counts as a failure with this reason. */
	char failing[INSOMNIA_ERROR_MESSAGE_MAX];
};

/* What ps and events show: a draining run or one that sent STOPPING=1
 * is "stopping". */
enum proc_state proc_shown_state(const struct proc *p);

/* Is the run up (running, ready or reloading)? */
bool proc_state_up(enum proc_state st);

/* What every run of every process shares. */
struct proc_env {
	const char *pod_name;
	const char *pod_dir;
	const char *session_dir;
	int pod_dirfd; /* procrec */
};

/* Does the state mean a run is on (a pid to reap)? */
bool proc_state_live(enum proc_state st);

/* Start one run: placeholders expanded (ports: own and dependencies'),
 * environment and cwd built, stdout and stderr piped to p->log, the
 * record written.  With listen ports the sockets go at fds 3.. with
 * LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (the child's own pid); with
 * p->notify NOTIFY_SOCKET (and WATCHDOG_USEC for a watchdog); with
 * ready.fd a pipe's write end at that fd, its read end left in
 * p->ready_fd (non-blocking, close-on-exec).  0 with p->pid set; -1 with err
 * (the exec error "cannot execute x: ..." as childstart words it). */
int proc_spawn(struct proc *p, const struct proc_env *env,
               const struct placeholder_port *ports, size_t nports,
               struct insomnia_error *err);

/* The run's main pid is now pid (MAINPID=), followed by pidfd (taken):
 * the record is rewritten with it (its start time; the group is kept),
 * so a reaper after a SIGKILLed pod aims at it. */
void proc_main_pid(struct proc *p, pid_t pid, int pidfd, int pod_dirfd);

/* A polled probe's try, expanded for the current run as its argv is. */
struct proc_probe_cmd {
	char *target; /* tcp, http */
	char **argv;  /* exec */
	char **envp;  /* exec: the process's environment (no LISTEN_*) */
	char *cwd;    /* exec: the process's, or NULL */
};

int proc_probe_prepare(const struct proc *p, const struct probe_conf *c,
                       const struct proc_env *env,
                       const struct placeholder_port *ports, size_t nports,
                       struct proc_probe_cmd *cmd, struct insomnia_error *err);
void proc_probe_cmd_free(struct proc_probe_cmd *cmd);

/* sig to the process's group while it leads it, else to it alone
 * (procsig_send).  0, or -1 with errno. */
int proc_signal(struct proc *p, int sig);

/* The run was reaped with wait status: remember how it ended, close the
 * pidfd, remove the record, and SIGKILL what it left (everything that
 * carries its token or lives in its session, and its group if members
 * remain) so a double-forked daemon does not outlive it.  Returns how
 * many were signalled.  strays false says the caller knows nothing can
 * be left (supervisor.c, has_strays): the search of /proc is skipped. */
size_t proc_reaped(struct proc *p, int status, int pod_dirfd, bool strays);

/* The run's main pid (a MAINPID, not our child) died and was reaped by
 * its own parent: the run is over as for proc_reaped, its status unknown
 * (proc_exit_unknown; ps's exit is null, the policy sees a failure). */
size_t proc_lost(struct proc *p, int pod_dirfd, bool strays);

/* Did the last run end with an unknown status (proc_lost)? */
bool proc_exit_unknown(const struct proc *p);

/* SIGKILL again whatever still carries p's token (a zombie does not:
 * its environment is gone) or lives in the session of its last run
 * (left_sid); how many.  0 means the leftovers are gone. */
size_t proc_kill_marked(struct proc *p);

/* Kill what is left of p (its run, if any, then its leftovers).  For
 * supervisor_free. */
void proc_kill_all(struct proc *p);

/* Milliseconds the run that just ended lasted. */
int64_t proc_run_ms(const struct proc *p);

/* {"code":N} | {"signal":"TERM"} | null (json_null when none). */
json_t *proc_exit_json(const struct proc *p);

/* One entry of ps (docs/protocol.md): name, state, pid, pgid, restarts,
 * exit, started_at, ready, ports, reason, autostart, status. */
json_t *proc_ps_json(const struct proc *p);

/* "exited with status 3" / "killed by signal KILL". */
void proc_exit_text(const struct proc *p, char *buf, size_t size);

/* "KILL" for SIGKILL; "SIG<n>" for an unnamed one (buf holds it). */
const char *proc_signal_name(int sig, char *buf, size_t size);

#endif
