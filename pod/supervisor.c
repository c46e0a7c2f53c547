/* supervisor.c: a pod's processes, driven towards their goals on the
 * loop (supervisor.h; the rules are in docs/supervision.md).
 *
 * Each process has a goal (want_up) and a state (proc.h).  Every change
 * of either ends in sup_reconcile(), which walks the processes in dependency
 * order and moves each one step towards its goal: stops in reverse order
 * (a process only once no dependent of it still runs), starts in order (a
 * process only once each dependency reached its condition).  Hooks and
 * the completion of operations are told from one deferred event, never
 * from inside a call of the caller's. */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "jsonstr.h"
#include "ports.h"
#include "proc.h"
#include "probe.h"
#include "proclog.h"
#include "procnotify.h"
#include "procrec.h"
#include "proctree.h"
#include "reaper.h"
#include "safedir.h"
#include "supervisor-int.h"

/* How long the leftovers of a run may take to die after SIGKILL before
 * the run's end is handled anyway (a bound, not a wait: their deaths come
 * back as SIGCHLD). */
#define DRAIN_MAX_MS 2000

/* A process without a ready probe is ready once it runs, and one that
 * dies at once would already count.  The pod tells it is ready only
 * after every such autostart process stayed ready this long, so it fails
 * the start (with its output) instead of a "ready" pod.  Processes with
 * a probe proved their readiness: no settle for them. */
#define SETTLE_MS 200

static void start_failure(struct supervisor *s, struct proc *p,
                          const char *what);
static void on_settle(evutil_socket_t fd, short what, void *arg);

/* ---- events ---------------------------------------------------------- */

static void publish(struct supervisor *s, struct proc *p, int64_t delay_ms)
{
	json_t *d;

	if (!s->ev)
		return;
	d = json_pack("{s:s, s:s, s:i}", "process", p->spec->name, "state",
	              proc_state_name(proc_shown_state(p)), "restarts",
	              p->restarts);
	if (d && p->pid)
		json_object_set_new(d, "pid", json_integer(p->pid));
	if (d && p->has_exit &&
	    (p->state == PROC_EXITED || p->state == PROC_BACKOFF ||
	     p->state == PROC_FAILED || p->state == PROC_STOPPED))
		json_object_set_new(d, "exit", proc_exit_json(p));
	if (d && delay_ms >= 0)
		json_object_set_new(d, "delay_ms", json_integer(delay_ms));
	if (d && p->reason[0])
		json_object_set_new(d, "reason", json_string(p->reason));
	events_publish(s->ev, EVENT_PROCESS, p->spec->name, d);
}

/* Every state change goes through here: journalled, evented, and
 * reconciled again. */
static void set_state(struct supervisor *s, struct proc *p, enum proc_state st,
                      const char *reason)
{
	p->state = st;
	snprintf(p->reason, sizeof p->reason, "%s", reason ? reason : "");
	s->again = true;
	publish(s, p, -1);
}

static void kick(struct supervisor *s)
{
	if (s->notify)
		event_active(s->notify, 0, 0);
}

/* ---- dependencies ---------------------------------------------------- */

enum dep_verdict { DEP_MET, DEP_WAIT, DEP_BLOCK };

static enum dep_verdict dep_check(const struct proc *d, enum dep_condition c,
                                  char *why, size_t size)
{
	const char *name = d->spec->name;
	char how[64];

	if (d->state == PROC_FAILED) {
		snprintf(why, size, "dependency %s failed", name);
		return DEP_BLOCK;
	}
	if (!d->want_up && !proc_state_live(d->state) &&
	    d->state != PROC_EXITED) {
		snprintf(why, size, "dependency %s is stopped", name);
		return DEP_BLOCK;
	}
	switch (c) {
	case DEP_STARTED:
		/* An exited dependency did start: it ran to its end. */
		return proc_state_up(d->state) || d->state == PROC_EXITED
		           ? DEP_MET
		           : DEP_WAIT;
	case DEP_READY:
		return d->state == PROC_READY || d->state == PROC_EXITED
		           ? DEP_MET
		           : DEP_WAIT;
	case DEP_EXITED:
		return d->state == PROC_EXITED ? DEP_MET : DEP_WAIT;
	case DEP_SUCCEEDED:
		if (d->state != PROC_EXITED)
			return DEP_WAIT;
		if (d->exit_code == 0)
			return DEP_MET;
		proc_exit_text(d, how, sizeof how);
		snprintf(why, size, "dependency %s %s", name, how);
		return DEP_BLOCK;
	}
	return DEP_WAIT;
}

/* Met when every dependency is; blocked as soon as one is (why says
 * which). */
static enum dep_verdict deps_verdict(struct supervisor *s, struct proc *p,
                                     char *why, size_t size)
{
	enum dep_verdict v = DEP_MET;

	for (size_t i = 0; i < p->spec->ndeps; i++) {
		const struct proc_dep *dep = &p->spec->deps[i];
		enum dep_verdict dv =
		    dep_check(&s->procs[dep->index], dep->cond, why, size);
		if (dv == DEP_BLOCK)
			return DEP_BLOCK;
		if (dv == DEP_WAIT)
			v = DEP_WAIT;
	}
	return v;
}

static bool depends_on(const struct proc *q, size_t index)
{
	for (size_t i = 0; i < q->spec->ndeps; i++)
		if (q->spec->deps[i].index == index)
			return true;
	return false;
}

/* Is a dependent of p still running (so p must wait to stop)? */
static bool has_live_dependent(struct supervisor *s, const struct proc *p)
{
	for (size_t i = 0; i < s->n; i++)
		if (depends_on(&s->procs[i], p->index) &&
		    proc_state_live(s->procs[i].state))
			return true;
	return false;
}

/* ---- timers ---------------------------------------------------------- */

/* From now, not from the loop's cached time (taken when this turn of the
 * loop began, maybe long ago under load): a grace must never end early. */
static void arm_timer(struct proc *p, int64_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (ms % 1000) * 1000};

	event_base_update_cache_time(event_get_base(p->timer));
	evtimer_add(p->timer, &tv);
}

static void disarm_timer(struct proc *p)
{
	evtimer_del(p->timer);
}

/* ---- starting -------------------------------------------------------- */

/* The ports in reach of p: its own and its dependencies'.  *n set; NULL
 * on OOM. */
static struct placeholder_port *ports_in_reach(const struct supervisor *s,
                                               const struct proc *p, size_t *n)
{
	size_t total = p->spec->nports, k = 0;
	struct placeholder_port *v;

	for (size_t i = 0; i < p->spec->ndeps; i++)
		total += s->procs[p->spec->deps[i].index].spec->nports;
	v = calloc(total + 1, sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < p->spec->nports; i++)
		v[k++] =
		    (struct placeholder_port){p->spec->ports[i], p->ports[i]};
	for (size_t i = 0; i < p->spec->ndeps; i++) {
		const struct proc *d = &s->procs[p->spec->deps[i].index];
		for (size_t j = 0; j < d->spec->nports; j++)
			v[k++] = (struct placeholder_port){d->spec->ports[j],
			                                   d->ports[j]};
	}
	*n = k;
	return v;
}

static void start_run(struct supervisor *s, struct proc *p)
{
	struct proc_env env = {s->pod_name, s->pod_dir, s->session_dir,
	                       s->pod_dirfd};
	struct insomnia_error err;
	struct placeholder_port *ports;
	size_t nports = 0;
	int rc = -1;

	set_state(s, p, PROC_STARTING, NULL);
	ports = ports_in_reach(s, p, &nports);
	if (!ports)
		insomnia_error_set_errno(&err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "cannot start %s", p->spec->name);
	else
		rc = proc_spawn(p, &env, ports, nports, &err);
	free(ports);
	if (rc < 0) {
		proclog_note(p->log, err.message);
		set_state(s, p, PROC_FAILED, err.message);
		start_failure(s, p, err.message);
		return;
	}
	set_state(s, p, PROC_RUNNING, NULL);
	sw_run_started(s, p);
}

/* running -> ready: liveness begins; reloading -> ready. */
static void become_ready(struct supervisor *s, struct proc *p)
{
	bool first = p->state == PROC_RUNNING;

	set_state(s, p, PROC_READY, NULL);
	if (first)
		sw_now_ready(s, p);
}

static void up_step(struct supervisor *s, struct proc *p)
{
	char why[sizeof p->reason] = "";

	/* Without a ready probe, running is ready; on the walk's next pass,
	 * so independent processes all start before any is ready. */
	if (p->state == PROC_RUNNING && p->spec->ready.kind == PROBE_NONE) {
		become_ready(s, p);
		return;
	}
	if (p->state != PROC_STOPPED && p->state != PROC_WAITING &&
	    p->state != PROC_BLOCKED)
		return;
	switch (deps_verdict(s, p, why, sizeof why)) {
	case DEP_MET:
		start_run(s, p);
		break;
	case DEP_WAIT:
		if (p->state != PROC_WAITING)
			set_state(s, p, PROC_WAITING, NULL);
		break;
	case DEP_BLOCK:
		if (p->state != PROC_BLOCKED || strcmp(p->reason, why) != 0)
			set_state(s, p, PROC_BLOCKED, why);
		break;
	}
}

/* ---- stopping -------------------------------------------------------- */

static void begin_stop(struct supervisor *s, struct proc *p, const char *reason)
{
	char sig[16], note[64];

	p->killed = false;
	sw_quiet(p);
	/* ESRCH: it is exiting on its own; its reaping ends the stop. */
	proc_signal(p, p->spec->stop.signal);
	set_state(s, p, PROC_STOPPING, reason);
	snprintf(note, sizeof note, "stopping: sent %s",
	         proc_signal_name(p->spec->stop.signal, sig, sizeof sig));
	proclog_note(p->log, note);
	/* In a hurry the grace is over at once (on the timer, so this walk
	 * is not re-entered). */
	arm_timer(p, s->hurry ? 0 : p->spec->stop.grace_ms);
}

static void grace_over(struct supervisor *s, struct proc *p)
{
	char why[128];

	p->killed = true;
	proc_signal(p, SIGKILL);
	if (s->hurry)
		snprintf(why, sizeof why, "the pod is in a hurry: sent KILL");
	else
		snprintf(why, sizeof why, "grace of %lld ms over: sent KILL",
		         (long long)p->spec->stop.grace_ms);
	proclog_note(p->log, why);
	/* Still stopping; told so nobody wonders why it took the grace. */
	snprintf(p->reason, sizeof p->reason, "%s", why);
	publish(s, p, -1);
}

static void down_step(struct supervisor *s, struct proc *p)
{
	switch (p->state) {
	case PROC_WAITING:
	case PROC_BLOCKED:
	case PROC_BACKOFF:
		disarm_timer(p);
		set_state(s, p, PROC_STOPPED, NULL);
		break;
	case PROC_STARTING:
	case PROC_RUNNING:
	case PROC_READY:
	case PROC_RELOADING:
		/* A draining run has ended already: its end sees the goal. */
		if (!p->draining && !has_live_dependent(s, p))
			begin_stop(s, p, NULL);
		break;
	default:
		break;
	}
}

/* ---- the walk -------------------------------------------------------- */

void sup_reconcile(struct supervisor *s)
{
	if (s->in_reconcile) {
		s->again = true;
		return;
	}
	s->in_reconcile = true;
	do {
		s->again = false;
		for (size_t k = s->n; k-- > 0;) {
			struct proc *p = &s->procs[s->m->order[k]];
			if (!p->want_up)
				down_step(s, p);
		}
		for (size_t k = 0; k < s->n; k++) {
			struct proc *p = &s->procs[s->m->order[k]];
			if (p->want_up)
				up_step(s, p);
		}
	} while (s->again);
	s->in_reconcile = false;
	kick(s);
}

/* ---- exits ----------------------------------------------------------- */

static void start_failure(struct supervisor *s, struct proc *p,
                          const char *what)
{
	const char *lines[PROCLOG_TAIL_LINES];
	size_t n, off = 0;
	struct insomnia_error *e = &s->fail_err;

	if (s->phase != SUP_STARTING || !p->boot)
		return;
	insomnia_error_set(e, INSOMNIA_ERR_PROCESS_FAILED,
	                   "process %s failed before the pod was ready: %s",
	                   p->spec->name, what);
	n = proclog_tail(p->log, lines, PROCLOG_TAIL_LINES);
	for (size_t i = 0; i < n && off < sizeof e->detail; i++) {
		int w = snprintf(e->detail + off, sizeof e->detail - off,
		                 "%s\n", lines[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	s->fail_pending = true;
	supervisor_stop_all(s);
}

/* A run ended that nobody asked to stop (or one ended because it
 * failed: failing says why, and it counts as a failure).  code is the
 * exit status the policy sees, how what is told. */
static void end_by_policy(struct supervisor *s, struct proc *p, int64_t run_ms,
                          int code, const char *how, bool failing)
{
	const struct restart_conf *rc = &p->spec->restart;
	char why[sizeof p->reason];
	int64_t delay = 0;

	if (!p->want_up) {
		set_state(s, p, PROC_STOPPED, NULL);
	} else if (s->phase == SUP_STARTING && p->boot &&
	           (code != 0 || rc->policy == RESTART_ALWAYS)) {
		set_state(s, p, PROC_FAILED, how);
		start_failure(s, p, how);
	} else if (!backoff_wants_restart(rc->policy, code)) {
		set_state(s, p, PROC_EXITED, failing ? how : NULL);
	} else if (backoff_on_exit(rc, &p->restarts, run_ms,
	                           backoff_random(&s->rng),
	                           &delay) == BACKOFF_GIVE_UP) {
		snprintf(why, sizeof why, "%s after %d restarts", how,
		         p->restarts);
		set_state(s, p, PROC_FAILED, why);
	} else {
		p->state = PROC_BACKOFF;
		snprintf(p->reason, sizeof p->reason, "%s", failing ? how : "");
		s->again = true;
		publish(s, p, delay);
		arm_timer(p, delay);
	}
}

static void exited_alone(struct supervisor *s, struct proc *p, int64_t run_ms)
{
	char how[64];

	proc_exit_text(p, how, sizeof how);
	end_by_policy(s, p, run_ms, p->exit_code, how, false);
}

static struct proc *find_pid(struct supervisor *s, pid_t pid)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

/* The run and what it left are gone: stopped, or what its exit means. */
static void run_ended(struct supervisor *s, struct proc *p)
{
	p->draining = false;
	p->left_sid = 0;
	disarm_timer(p);
	if (p->state == PROC_STOPPING && p->failing[0])
		/* Whatever its status (a clean exit on SIGTERM too). */
		end_by_policy(s, p, p->drained_run_ms, 1, p->failing, true);
	else if (p->state == PROC_STOPPING)
		set_state(s, p, PROC_STOPPED, NULL);
	else
		exited_alone(s, p, p->drained_run_ms);
	p->failing[0] = '\0';
	sup_reconcile(s);
}

/* Could a process that just ended have left anything alive?  Whatever it
 * started that outlived it came to us (the subreaper) as a child when it
 * died, or lives under such a child: so when every child of ours is a
 * process of the manifest, nothing was left, and the search of /proc
 * (a read of every process's environment) is not needed.  The children
 * come from /proc/self/task/<tid>/children (the pod's one thread starts
 * them all); when it cannot be read, search. */
static bool has_strays(const struct supervisor *s)
{
	char path[64], buf[4096], *at, *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/self/task/%d/children",
	         (int)gettid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	do
		n = read(fd, buf, sizeof buf - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0 || n == (ssize_t)sizeof buf - 1)
		return true; /* unreadable, or more than one read holds */
	buf[n] = '\0';
	for (at = buf;; at = end) {
		long pid = strtol(at, &end, 10);
		if (end == at)
			return false;
		if (!find_pid((struct supervisor *)s, (pid_t)pid))
			return true;
	}
}

/* An orphan died: the leftovers of a process may all be gone now. */
static void recheck_draining(struct supervisor *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct proc *p = &s->procs[i];
		if (p->draining && proc_kill_marked(p) == 0)
			run_ended(s, p);
	}
}

/* p's run is over: status is its wait status, NULL when unknown (its
 * main pid was reaped by another).  Its leftovers are killed, then the
 * end handled once they are gone. */
static void end_run(struct supervisor *s, struct proc *p, const int *status)
{
	char how[64];
	bool strays = has_strays(s);
	size_t left;

	p->drained_run_ms = proc_run_ms(p);
	disarm_timer(p);
	sw_run_over(p);
	left = status ? proc_reaped(p, *status, s->pod_dirfd, strays)
	              : proc_lost(p, s->pod_dirfd, strays);
	if (left > 0) {
		/* Killed leftovers are descendants of ours (subreaper): each
		 * death comes back as SIGCHLD; the timer is a bound only. */
		p->draining = true;
		arm_timer(p, DRAIN_MAX_MS);
	}
	/* Its last words first: they explain the exit. */
	proclog_drain(p->log);
	proc_exit_text(p, how, sizeof how);
	proclog_note(p->log, how);
	if (!p->draining)
		run_ended(s, p);
}

static void on_reaped(void *arg, pid_t pid, int status)
{
	struct supervisor *s = arg;
	struct proc *p;

	if (s->probes && probes_reaped(s->probes, pid, status))
		return; /* an exec probe's child */
	p = find_pid(s, pid);
	/* A MAINPID sent just before this exit makes it not the run's. */
	if (p && p->notify) {
		procnotify_drain(p->notify);
		p = find_pid(s, pid);
	}
	if (!p) {
		/* An orphan of one of ours, come back to us. */
		recheck_draining(s);
		return;
	}
	end_run(s, p, &status);
}

/* The one timer of a process: the grace of a stop, or the delay of a
 * backoff. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	struct supervisor *s = p->owner;

	if (p->draining) {
		proclog_note(p->log, "what it left was still there after "
		                     "SIGKILL; carrying on");
		run_ended(s, p);
	} else if (p->state == PROC_STOPPING) {
		grace_over(s, p);
	} else if (p->state == PROC_BACKOFF) {
		/* Back through the dependency check: waiting or starting. */
		p->state = PROC_STOPPED;
		sup_reconcile(s);
	}
}

/* ---- deferred: hooks and operations ---------------------------------- */

static bool all_down(const struct supervisor *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->procs[i].pid || proc_state_live(s->procs[i].state))
			return false;
	return true;
}

static bool completed(const struct proc *p)
{
	return p->state == PROC_EXITED && p->has_exit && p->exit_code == 0;
}

static bool pod_ready(const struct supervisor *s)
{
	if (s->phase != SUP_STARTING)
		return false;
	for (size_t i = 0; i < s->n; i++) {
		const struct proc *p = &s->procs[i];
		if (p->spec->autostart && p->state != PROC_READY &&
		    !completed(p))
			return false;
	}
	return true;
}

/* Is an autostart process ready only because it runs (no ready probe)?
 * Then the settle proves it stays up; probes proved the others. */
static bool needs_settle(const struct supervisor *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->procs[i].spec->autostart &&
		    s->procs[i].spec->ready.kind == PROBE_NONE &&
		    !completed(&s->procs[i]))
			return true;
	return false;
}

/* Everything the start needs is up: wait the settle, unless a process
 * falls back meanwhile. */
static void watch_settle(struct supervisor *s)
{
	int64_t ms = needs_settle(s) ? s->settle_ms : 0;
	struct timeval tv = {.tv_sec = ms / 1000,
	                     .tv_usec = (ms % 1000) * 1000};

	if (pod_ready(s) && !s->settle_armed && ms == 0) {
		/* Nothing to wait for (probes proved it): now, from the
		 * loop's deferred event, not a turn of the loop later. */
		on_settle(-1, 0, s);
	} else if (pod_ready(s) && !s->settle_armed) {
		s->settle_armed = true;
		evtimer_add(s->settle, &tv);
	} else if (!pod_ready(s) && s->settle_armed) {
		s->settle_armed = false;
		evtimer_del(s->settle);
	}
}

static void on_settle(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *s = arg;

	s->settle_armed = false;
	if (!pod_ready(s))
		return;
	s->phase = SUP_READY;
	s->ready_sent = true;
	if (s->hooks.ready)
		s->hooks.ready(s->hooks.arg);
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *s = arg;

	if (s->fail_pending && !s->fail_sent) {
		s->fail_sent = true;
		if (s->hooks.start_failed)
			s->hooks.start_failed(s->hooks.arg, &s->fail_err);
	}
	watch_settle(s);
	sup_settle_ops(s);
	/* Last: the caller may free the supervisor from stopped. */
	if (s->phase == SUP_STOPPING && !s->stopped_sent && all_down(s)) {
		s->stopped_sent = true;
		if (s->hooks.stopped)
			s->hooks.stopped(s->hooks.arg);
	}
}

/* ---- goals ----------------------------------------------------------- */

/* Forget a finished or waiting run so the walk starts it afresh, with a
 * new restart count. */
static void rearm(struct supervisor *s, struct proc *p)
{
	p->restarts = 0;
	/* Asked to run afresh: a failing run's end is no failure then. */
	p->failing[0] = '\0';
	switch (p->state) {
	case PROC_BACKOFF:
		disarm_timer(p);
		/* fall through */
	case PROC_EXITED:
	case PROC_FAILED:
		p->state = PROC_STOPPED;
		break;
	default:
		break;
	}
}

/* Each process once per walk: a process reached by several paths (a
 * ladder of dependencies) would otherwise be walked once per path. */
static void mark_up(struct supervisor *s, struct proc *p, bool target)
{
	if (p->walk == s->walk)
		return;
	p->walk = s->walk;
	p->want_up = true;
	if (target || p->state == PROC_FAILED)
		rearm(s, p);
	for (size_t i = 0; i < p->spec->ndeps; i++)
		mark_up(s, &s->procs[p->spec->deps[i].index], false);
}

/* p and what it depends on should run; a failed dependency tries again
 * (an exited one has done its part). */
void sup_mark_up(struct supervisor *s, struct proc *p, bool target)
{
	s->walk++;
	mark_up(s, p, target);
}

/* p and everything depending on it should not run. */
void sup_mark_down(struct supervisor *s, struct proc *p)
{
	p->want_up = false;
	for (size_t i = 0; i < s->n; i++)
		if (s->procs[i].want_up && depends_on(&s->procs[i], p->index))
			sup_mark_down(s, &s->procs[i]);
}

void sup_restart_one(struct supervisor *s, struct proc *p)
{
	sup_mark_up(s, p, false);
	p->restarts = 0;
	p->failing[0] = '\0'; /* its end is the restart's, not a failure */
	if (p->draining)
		p->state = PROC_STOPPING; /* ended: start it afresh */
	else if (proc_state_up(p->state) || p->state == PROC_STARTING)
		/* Reaped while wanted up: started again. */
		begin_stop(s, p, NULL);
	else if (p->state != PROC_STOPPING)
		rearm(s, p);
}

/* ---- life ------------------------------------------------------------ */

static int copy_env(struct supervisor *s, const struct supervisor_env *env)
{
	s->pod_name = strdup(env->pod_name ? env->pod_name : "");
	s->pod_dir = strdup(env->pod_dir ? env->pod_dir : "");
	s->session_id = strdup(env->session_id ? env->session_id : "");
	s->session_dir = strdup(env->session_dir ? env->session_dir : "");
	s->pod_dirfd = env->pod_dirfd;
	return s->pod_name && s->pod_dir && s->session_id && s->session_dir
	           ? 0
	           : -1;
}

static int open_logs(struct supervisor *s, const struct supervisor_env *env,
                     struct insomnia_error *err)
{
	char path[INSOMNIA_PATH_MAX];

	if (s->n == 0)
		return 0; /* nothing will log: no logs dir in the session */
	snprintf(path, sizeof path, "%s/logs", s->session_dir);
	s->logs_dirfd =
	    safedir_openat(env->session_dirfd, "logs", path, true, err);
	return s->logs_dirfd < 0 ? -1 : 0;
}

void sup_publish_status(struct supervisor *s, struct proc *p)
{
	const char *name = p->spec->name;
	json_t *d;

	if (!s->ev || !events_wanted(s->ev, EVENT_STATUS, name))
		return;
	d = json_pack("{s:s, s:o}", "process", name, "status",
	              p->status ? jsonstr_new(p->status) : json_null());
	events_publish(s->ev, EVENT_STATUS, name, d);
}

/* A line of a process's output, for subscribers of log events. */
static void on_log_line(void *arg, const struct logline *line)
{
	struct proc *p = arg;
	struct supervisor *s = p->owner;
	const char *name = p->spec->name;
	json_t *d;

	sw_log_line(s, p, line);
	if (!s->ev || !events_wanted(s->ev, EVENT_LOG, name))
		return;
	d = json_pack("{s:s, s:s, s:s, s:o}", "process", name, "time",
	              line->time, "stream",
	              line->stream == LOGLINE_ERR ? "err" : "out", "text",
	              jsonstr_newn(line->text, line->len));
	if (d && line->continued)
		json_object_set_new(d, "continued", json_true());
	events_publish(s->ev, EVENT_LOG, name, d);
}

static int init_proc(struct supervisor *s, size_t i, struct insomnia_error *err)
{
	struct proc *p = &s->procs[i];
	struct proclog_hooks lh = {on_log_line, NULL, p};
	char instance[PROCTREE_INSTANCE_MAX];

	p->spec = &s->m->procs[i];
	p->owner = s;
	p->index = i;
	p->pidfd = -1;
	p->ready_fd = -1;
	proctree_self_instance(instance, sizeof instance);
	proctree_token(p->token, sizeof p->token, s->session_id, instance,
	               p->spec->name);
	p->ports = calloc(p->spec->nports + 1, sizeof *p->ports);
	p->listen_fds = malloc((p->spec->nports + 1) * sizeof *p->listen_fds);
	for (size_t j = 0; p->listen_fds && j < p->spec->nports; j++)
		p->listen_fds[j] = -1;
	p->timer = evtimer_new(s->base, on_timer, p);
	if (!p->ports || !p->listen_fds || !p->timer)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "out of memory");
	p->log = proclog_new(s->base, s->logs_dirfd, p->spec->name,
	                     &p->spec->logs, &lh, err);
	if (!p->log)
		return -1;
	return sw_init(s, p, err);
}

struct supervisor *
supervisor_new(struct event_base *base, const struct manifest *m,
               const struct supervisor_env *env, struct events *ev,
               const struct supervisor_hooks *hooks, struct insomnia_error *err)
{
	struct supervisor *s = calloc(1, sizeof *s);

	if (!s) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "out of memory");
		return NULL;
	}
	s->base = base;
	s->m = m;
	s->ev = ev;
	s->logs_dirfd = -1;
	s->pod_dirfd = -1;
	s->n = m->nprocs;
	if (hooks)
		s->hooks = *hooks;
	backoff_seed(&s->rng);
	s->procs = calloc(s->n + 1, sizeof *s->procs);
	s->notify = event_new(base, -1, 0, on_notify, s);
	s->settle = evtimer_new(base, on_settle, s);
	s->settle_ms = SETTLE_MS;
	s->probes = probes_new(base);
	if (!s->procs || !s->notify || !s->settle || !s->probes ||
	    copy_env(s, env) < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "out of memory");
		goto fail;
	}
	if (open_logs(s, env, err) < 0)
		goto fail;
	for (size_t i = 0; i < s->n; i++)
		if (init_proc(s, i, err) < 0)
			goto fail;
	return s;
fail:
	supervisor_free(s);
	return NULL;
}

/* Every process's ports in one list, and which ones listen. */
static size_t port_count(const struct supervisor *s)
{
	size_t total = 0;

	for (size_t i = 0; i < s->n; i++)
		total += s->procs[i].spec->nports;
	return total;
}

static void hand_out_ports(struct supervisor *s, const int *all, const int *fds)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct proc *p = &s->procs[i];
		for (size_t j = 0; j < p->spec->nports; j++, k++) {
			p->ports[j] = all[k];
			p->listen_fds[j] = fds[k];
		}
	}
}

/* All of the pod's ports in one call: every socket is held until the
 * last port is found, so no two processes get the same one; the listen
 * ones stay held, listening, for the pod's life. */
static int alloc_ports(struct supervisor *s, struct insomnia_error *err)
{
	size_t total = port_count(s), k = 0;
	int *all = calloc(total + 1, sizeof *all);
	int *fds = calloc(total + 1, sizeof *fds);
	bool *listen = calloc(total + 1, sizeof *listen);
	int rc = -1;

	if (!all || !fds || !listen) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "cannot allocate ports");
		goto out;
	}
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = 0; j < s->procs[i].spec->nports; j++)
			listen[k++] = s->procs[i].spec->listen &&
			              s->procs[i].spec->listen[j];
	rc = ports_alloc(all, listen, fds, total, err);
	if (rc == 0)
		hand_out_ports(s, all, fds);
out:
	free(all);
	free(fds);
	free(listen);
	return rc;
}

int supervisor_start(struct supervisor *s, struct insomnia_error *err)
{
	if (s->phase != SUP_IDLE)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "the supervisor was started already");
	s->reaper = reaper_new(s->base, on_reaped, s, err);
	if (!s->reaper || alloc_ports(s, err) < 0)
		return -1;
	s->phase = SUP_STARTING;
	for (size_t i = 0; i < s->n; i++)
		if (s->procs[i].spec->autostart)
			sup_mark_up(s, &s->procs[i], false);
	for (size_t i = 0; i < s->n; i++)
		s->procs[i].boot = s->procs[i].want_up;
	sup_reconcile(s);
	return 0;
}

void supervisor_stop_all(struct supervisor *s)
{
	if (s->phase == SUP_STOPPING)
		return;
	s->phase = SUP_STOPPING;
	for (size_t i = 0; i < s->n; i++)
		s->procs[i].want_up = false;
	sup_reconcile(s);
}

void supervisor_hurry(struct supervisor *s)
{
	if (s->phase != SUP_STOPPING || s->hurry)
		return;
	s->hurry = true;
	for (size_t i = 0; i < s->n; i++) {
		struct proc *p = &s->procs[i];
		if (p->state == PROC_STOPPING && p->pid && !p->killed) {
			disarm_timer(p);
			grace_over(s, p);
		}
	}
}

/* SIGKILL a run and wait for it: it cannot ignore that, so the wait is
 * the kernel's, not the process's. */
static void kill_run(struct proc *p)
{
	pid_t pid = p->pid;

	proc_kill_all(p);
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void free_proc(struct proc *p)
{
	if (p->pid)
		kill_run(p);
	sw_free(p); /* before the pidfd it may watch is closed */
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->timer)
		event_free(p->timer);
	proclog_free(p->log);
	for (size_t j = 0; p->listen_fds && j < p->spec->nports; j++)
		if (p->listen_fds[j] >= 0)
			close(p->listen_fds[j]);
	free(p->listen_fds);
	free(p->ports);
}

/* SIGKILL and reap each child listed in /proc/self/task/<tid>/children
 * (as much of the list as one read holds); how many there were.  A child
 * is ours until reaped, so its pid cannot name a stranger. */
static size_t kill_children_once(void)
{
	char path[64], buf[4096], *at, *end;
	size_t n = 0;
	ssize_t len;
	int fd;

	snprintf(path, sizeof path, "/proc/self/task/%d/children",
	         (int)gettid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	do
		len = read(fd, buf, sizeof buf - 1);
	while (len < 0 && errno == EINTR);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	if (len == (ssize_t)sizeof buf - 1 && (at = strrchr(buf, ' ')))
		*at = '\0'; /* the last number may be cut: the next pass */
	for (at = buf;; at = end, n++) {
		pid_t pid = (pid_t)strtol(at, &end, 10);
		if (end == at)
			break;
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	return n;
}

/* Nothing the processes started outlives the pod: whatever escaped the
 * kills by token, session and group (env -i then setsid, say) came to
 * us, the subreaper, as a child, or lives under one that will when it
 * is killed.  Pass after pass, a bounded number of times. */
#define FREE_PASSES 64

static void kill_children(void)
{
	for (int i = 0; i < FREE_PASSES && kill_children_once() > 0; i++)
		;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

void supervisor_free(struct supervisor *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->procs && i < s->n; i++)
		free_proc(&s->procs[i]);
	probes_free(s->probes);
	if (s->reaper)
		kill_children();
	while (s->ops) {
		struct supervisor_op *op = s->ops;
		s->ops = op->next;
		sup_op_free(op);
	}
	if (s->pod_dirfd >= 0 && s->procs)
		procrec_remove_all(s->pod_dirfd);
	reaper_free(s->reaper);
	if (s->notify)
		event_free(s->notify);
	if (s->settle)
		event_free(s->settle);
	if (s->logs_dirfd >= 0)
		close(s->logs_dirfd);
	free(s->procs);
	free(s->pod_name);
	free(s->pod_dir);
	free(s->session_id);
	free(s->session_dir);
	free(s);
}

/* ---- for supervisor-watch.c ------------------------------------------ */

void sup_ready(struct supervisor *s, struct proc *p)
{
	if (p->state != PROC_RUNNING && p->state != PROC_RELOADING)
		return;
	become_ready(s, p);
	sup_reconcile(s);
}

void sup_fail_run(struct supervisor *s, struct proc *p, const char *why)
{
	if (!proc_state_up(p->state) || p->draining)
		return;
	snprintf(p->failing, sizeof p->failing, "%s", why);
	proclog_note(p->log, why);
	begin_stop(s, p, why);
	sup_reconcile(s);
}

void sup_main_gone(struct supervisor *s, struct proc *p, pid_t pid)
{
	/* A child of ours (an orphan come back) is reaped with its status:
	 * the reaper may not have seen its SIGCHLD yet. */
	reaper_reap(s->reaper);
	if (p->pid == pid)
		end_run(s, p, NULL);
}

void sup_change(struct supervisor *s, struct proc *p, enum proc_state st)
{
	set_state(s, p, st, NULL);
	sup_reconcile(s);
}

void sup_publish(struct supervisor *s, struct proc *p)
{
	publish(s, p, -1);
}

int sup_probe_cmd(struct supervisor *s, const struct proc *p,
                  const struct probe_conf *c, struct proc_probe_cmd *cmd,
                  struct insomnia_error *err)
{
	struct proc_env env = {s->pod_name, s->pod_dir, s->session_dir,
	                       s->pod_dirfd};
	size_t nports = 0;
	struct placeholder_port *ports = ports_in_reach(s, p, &nports);
	int rc;

	if (!ports)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "out of memory");
	rc = proc_probe_prepare(p, c, &env, ports, nports, cmd, err);
	free(ports);
	return rc;
}

void supervisor_set_settle(struct supervisor *s, int64_t ms)
{
	s->settle_ms = ms < 0 ? 0 : ms;
}
