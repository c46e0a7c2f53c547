/* supervisor-ops.c: what is asked of the supervisor from outside: the
 * start, stop and restart operations with their deferred answers, and
 * ps (supervisor.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor-int.h"

/* ---- ps -------------------------------------------------------------- */

/* {"processes":[...]} for idx (in manifest order as given). */
static json_t *ps_of(const struct supervisor *s, const size_t *idx, size_t n)
{
	json_t *list = json_array();

	for (size_t k = 0; list && k < n; k++) {
		json_t *one = proc_ps_json(&s->procs[idx[k]]);
		if (!one || json_array_append_new(list, one) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list ? json_pack("{s:o}", "processes", list) : NULL;
}

/* Indexes of names (all when NULL), in manifest order, duplicates
 * dropped.  NULL with err. */
static size_t *pick(const struct supervisor *s, const char *const *names,
                    size_t n, size_t *count, struct insomnia_error *err)
{
	bool *want = calloc(s->n + 1, sizeof *want);
	size_t *idx = calloc(s->n + 1, sizeof *idx);
	size_t k = 0;

	if (!want || !idx) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n && names; i++) {
		size_t j = 0;
		while (j < s->n && strcmp(s->procs[j].spec->name, names[i]))
			j++;
		if (j == s->n) {
			insomnia_error_set(err, INSOMNIA_ERR_UNKNOWN_PROCESS,
			                   "no process \"%s\" in this pod",
			                   names[i]);
			goto fail;
		}
		want[j] = true;
	}
	for (size_t j = 0; j < s->n; j++)
		if (!names || want[j])
			idx[k++] = j;
	free(want);
	*count = k;
	return idx;
fail:
	free(want);
	free(idx);
	return NULL;
}

json_t *supervisor_ps(const struct supervisor *s, const char *const *names,
                      size_t n, struct insomnia_error *err)
{
	size_t count = 0;
	size_t *idx = pick(s, names, n, &count, err);
	json_t *r;

	if (!idx)
		return NULL;
	r = ps_of(s, idx, count);
	free(idx);
	if (!r)
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "out of memory");
	return r;
}

void supervisor_counts(const struct supervisor *s, size_t *ready, size_t *total)
{
	size_t r = 0;

	for (size_t i = 0; i < s->n; i++)
		r += proc_shown_state(&s->procs[i]) == PROC_READY;
	*ready = r;
	*total = s->n;
}

int supervisor_logs_dirfd(const struct supervisor *s)
{
	return s->logs_dirfd;
}

bool supervisor_has(const struct supervisor *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->procs[i].spec->name, name) == 0)
			return true;
	return false;
}

static bool is_ready(const struct proc *p)
{
	return !p->draining &&
	       (p->state == PROC_READY || p->state == PROC_RELOADING);
}

/* The run started for the operation ended before it was ready. */
static bool run_failed(const struct supervisor_op *op, size_t k,
                       const struct proc *p)
{
	return p->runs > op->runs0[k] &&
	       (p->state == PROC_BACKOFF || p->state == PROC_EXITED);
}

/* A process with a readiness probe: a start or restart is done once it
 * is ready (a start: even by an older run; a restart: a new one), and
 * failed when the run started for it ends first. */
static int probed_target(struct supervisor_op *op, size_t k,
                         struct insomnia_error *err)
{
	struct proc *p = &op->s->procs[op->idx[k]];
	char how[64];

	if (is_ready(p))
		return op->verb == SUPERVISOR_START || p->runs > op->runs0[k];
	if (!run_failed(op, k, p))
		return 0;
	if (!p->reason[0])
		proc_exit_text(p, how, sizeof how);
	return insomnia_error_set(err, INSOMNIA_ERR_PROCESS_FAILED,
	                          "process %s %s: %s", p->spec->name,
	                          proc_state_name(p->state),
	                          p->reason[0] ? p->reason : how);
}

/* Is target k of op over?  0 not yet, 1 done, -1 failed (err says). */
static int op_target(struct supervisor_op *op, size_t k,
                     struct insomnia_error *err)
{
	struct supervisor *s = op->s;
	struct proc *p = &s->procs[op->idx[k]];
	const char *name = p->spec->name;

	/* Another request may turn the goal around meanwhile: the process
	 * will never get where this one asked, so it is answered now. */
	if (op->verb == SUPERVISOR_STOP && p->want_up)
		return insomnia_error_set(err, INSOMNIA_ERR_PROCESS_STATE,
		                          "process %s was started again by "
		                          "another request",
		                          name);
	if (op->verb == SUPERVISOR_STOP)
		return !p->pid && !proc_state_live(p->state);
	if (!p->want_up && s->phase == SUP_STOPPING)
		return insomnia_error_set(err, INSOMNIA_ERR_PROCESS_STATE,
		                          "the pod is stopping");
	if (!p->want_up)
		return insomnia_error_set(err, INSOMNIA_ERR_PROCESS_STATE,
		                          "process %s was stopped by another "
		                          "request",
		                          name);
	if (p->state == PROC_FAILED || p->state == PROC_BLOCKED)
		return insomnia_error_set(err, INSOMNIA_ERR_PROCESS_FAILED,
		                          "process %s %s: %s", name,
		                          proc_state_name(p->state), p->reason);
	if (p->spec->ready.kind != PROBE_NONE)
		return probed_target(op, k, err);
	/* A start is done once the process runs, even by an older run (a
	 * stop not begun yet was turned around); a restart needs a new one. */
	if (op->verb == SUPERVISOR_START && !p->draining &&
	    proc_state_up(p->state))
		return 1;
	return p->runs > op->runs0[k] && p->state != PROC_STARTING;
}

void sup_op_free(struct supervisor_op *op)
{
	free(op->idx);
	free(op->runs0);
	free(op);
}

/* Call done for op if it is over; true when it was (and is freed). */
static bool op_settle(struct supervisor_op *op)
{
	struct insomnia_error err;
	bool failed = false;
	json_t *result;

	insomnia_error_clear(&err);
	for (size_t k = 0; k < op->n; k++) {
		int r = op_target(op, k, failed ? NULL : &err);
		if (r == 0)
			return false;
		failed |= r < 0;
	}
	if (!op->cancelled) {
		result = ps_of(op->s, op->idx, op->n);
		op->done(op->arg, result, failed ? &err : NULL);
		json_decref(result);
	}
	sup_op_free(op);
	return true;
}

void sup_settle_ops(struct supervisor *s)
{
	struct supervisor_op **pp = &s->ops;

	while (*pp) {
		struct supervisor_op *op = *pp;
		/* Unlink first: done may start another operation. */
		*pp = op->next;
		if (!op_settle(op)) {
			op->next = *pp;
			*pp = op;
			pp = &op->next;
		}
	}
}

/* ---- operations ------------------------------------------------------ */

static int check_verb(const struct supervisor *s, enum supervisor_verb verb,
                      const struct proc *p, struct insomnia_error *err)
{
	const char *name = p->spec->name;
	enum proc_state st = p->state;

	if (verb == SUPERVISOR_START && p->want_up &&
	    (proc_state_up(st) || st == PROC_STARTING || st == PROC_WAITING))
		return insomnia_error_set(err, INSOMNIA_ERR_PROCESS_STATE,
		                          "process %s is already %s", name,
		                          proc_state_name(st));
	if (verb == SUPERVISOR_STOP &&
	    (st == PROC_STOPPED || st == PROC_EXITED || st == PROC_FAILED ||
	     (st == PROC_STOPPING && !p->want_up)))
		return insomnia_error_set(err, INSOMNIA_ERR_PROCESS_STATE,
		                          "process %s is already %s", name,
		                          proc_state_name(st));
	return 0;
}

static struct supervisor_op *op_new(struct supervisor *s,
                                    enum supervisor_verb verb, size_t *idx,
                                    size_t n, supervisor_done_fn done,
                                    void *arg)
{
	struct supervisor_op *op = calloc(1, sizeof *op);

	if (!op || !(op->runs0 = calloc(n + 1, sizeof *op->runs0))) {
		free(op);
		return NULL;
	}
	*op = (struct supervisor_op){s,    verb, idx,   op->runs0, n,
	                             done, arg,  false, NULL};
	for (size_t k = 0; k < n; k++)
		op->runs0[k] = s->procs[idx[k]].runs;
	return op;
}

static void apply(struct supervisor *s, enum supervisor_verb verb,
                  struct proc *p)
{
	switch (verb) {
	case SUPERVISOR_START:
		sup_mark_up(s, p, true);
		break;
	case SUPERVISOR_STOP:
		sup_mark_down(s, p);
		break;
	case SUPERVISOR_RESTART:
		sup_restart_one(s, p);
		break;
	}
}

struct supervisor_op *supervisor_act(struct supervisor *s,
                                     enum supervisor_verb verb,
                                     const char *const *names, size_t n,
                                     supervisor_done_fn done, void *arg,
                                     struct insomnia_error *err)
{
	struct supervisor_op *op;
	size_t count = 0, *idx;

	if (s->phase == SUP_STOPPING || s->phase == SUP_IDLE) {
		insomnia_error_set(
		    err, INSOMNIA_ERR_PROCESS_STATE, "the pod is %s",
		    s->phase == SUP_IDLE ? "not started" : "stopping");
		return NULL;
	}
	/* A stop now would leave the start waiting for ready forever. */
	if (s->phase == SUP_STARTING && verb != SUPERVISOR_START) {
		insomnia_error_set(err, INSOMNIA_ERR_PROCESS_STATE,
		                   "the pod is still starting");
		return NULL;
	}
	if (!names || n == 0 || !done) {
		insomnia_error_set(err, INSOMNIA_ERR_USAGE, "no process named");
		return NULL;
	}
	idx = pick(s, names, n, &count, err);
	if (!idx)
		return NULL;
	for (size_t k = 0; k < count; k++)
		if (check_verb(s, verb, &s->procs[idx[k]], err) < 0)
			goto fail;
	op = op_new(s, verb, idx, count, done, arg);
	if (!op) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "out of memory");
		goto fail;
	}
	for (size_t k = 0; k < count; k++)
		apply(s, verb, &s->procs[idx[k]]);
	op->next = s->ops;
	s->ops = op;
	sup_reconcile(s);
	return op;
fail:
	free(idx);
	return NULL;
}

void supervisor_op_cancel(struct supervisor_op *op)
{
	if (op)
		op->cancelled = true;
}
