/* actions.c: what the keys do to pods.  Every operation in flight (a
 * spawn, a stop, a process call) is one record in ui->ops's list, freed
 * when its last callback ran or at exit; the pods they act on are found
 * again by name in each callback, since a pod may vanish at any time. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "model-util.h"
#include "ui.h"

/* A spawn's progress lines kept per pod (older ones go). */
#define SPAWN_LINES_MAX 500
#define SPAWN_LINE_MAX  1024

enum op_kind { OP_SPAWN, OP_STOP, OP_CALL };

/* One operation in flight (a pod's `spawn` points to its spawn's). */
struct ui_op {
	struct ui_op *next;
	struct ui *ui;
	enum op_kind kind;
	char pod[INSOMNIA_NAME_MAX + 1];
	char proc[INSOMNIA_NAME_MAX + 1]; /* OP_CALL */
	const char *done;                 /* OP_CALL: "restarted", ... */
	union {
		struct insomnia_spawn *spawn;
		struct insomnia_stop *stop;
		struct insomnia_control *call;
	} h;
};

struct ui_ops {
	struct ui_op *list;
};

/* ---- the records -------------------------------------------------------- */

static struct ui_op *op_new(struct ui *ui, enum op_kind kind, const char *pod)
{
	struct ui_op *op;

	if (!ui->ops && !(ui->ops = calloc(1, sizeof *ui->ops)))
		ui_fatal(ui, "out of memory");
	if (!(op = calloc(1, sizeof *op)))
		ui_fatal(ui, "out of memory");
	op->ui = ui;
	op->kind = kind;
	snprintf(op->pod, sizeof op->pod, "%s", pod);
	op->next = ui->ops->list;
	ui->ops->list = op;
	return op;
}

static void op_free(struct ui_op *op)
{
	struct ui_op **p = &op->ui->ops->list;

	while (*p && *p != op)
		p = &(*p)->next;
	if (*p)
		*p = op->next;
	free(op);
}

static struct ui_op *op_find(struct ui *ui, enum op_kind kind, const char *pod)
{
	for (struct ui_op *op = ui->ops ? ui->ops->list : NULL; op;
	     op = op->next)
		if (op->kind == kind && !strcmp(op->pod, pod))
			return op;
	return NULL;
}

/* ---- a spawn's lines ---------------------------------------------------- */

static void spawn_lines_clear(struct ui_pod *pod)
{
	for (size_t i = 0; i < pod->nspawn_lines; i++)
		free(pod->spawn_lines[i]);
	free(pod->spawn_lines);
	pod->spawn_lines = NULL;
	pod->nspawn_lines = 0;
}

/* Keep a clean line with the pod (the last SPAWN_LINES_MAX). */
static void spawn_line_keep(struct ui *ui, struct ui_pod *pod,
                            const char *clean)
{
	char *copy;

	if (!pod->spawn_lines &&
	    !(pod->spawn_lines =
	          calloc(SPAWN_LINES_MAX, sizeof *pod->spawn_lines)))
		ui_fatal(ui, "out of memory");
	if (!(copy = strdup(clean)))
		ui_fatal(ui, "out of memory");
	if (pod->nspawn_lines == SPAWN_LINES_MAX) {
		free(pod->spawn_lines[0]);
		memmove(pod->spawn_lines, pod->spawn_lines + 1,
		        (SPAWN_LINES_MAX - 1) * sizeof *pod->spawn_lines);
		pod->nspawn_lines--;
	}
	pod->spawn_lines[pod->nspawn_lines++] = copy;
}

/* Keep the line with its pod, if it is still listed, and show it. */
static void spawn_line(struct ui *ui, const char *name, const char *line)
{
	struct ui_pod *pod = ui_pod_find(ui, name);
	char clean[SPAWN_LINE_MAX];

	model_text_clean(clean, sizeof clean, line, strlen(line));
	if (pod)
		spawn_line_keep(ui, pod, clean);
	ui_log_add(ui, name, UI_LOG_SPAWN, clean);
}

/* "spawn failed: <kind>: <message>", then the stderr tail. */
static void spawn_failure_lines(struct ui *ui, const char *name,
                                const struct insomnia_error *err)
{
	char line[SPAWN_LINE_MAX];
	const char *p = err->detail;

	snprintf(line, sizeof line, "spawn failed: %s: %.900s",
	         insomnia_error_kind_name(err->kind), err->message);
	spawn_line(ui, name, line);
	while (*p) {
		size_t n = strcspn(p, "\n");

		snprintf(line, sizeof line, "%.*s",
		         (int)(n < sizeof line - 1 ? n : sizeof line - 1), p);
		spawn_line(ui, name, line);
		p += n + (p[n] == '\n');
	}
}

/* ---- spawning ----------------------------------------------------------- */

static void on_progress(const char *line, void *arg)
{
	struct ui_op *op = arg;

	spawn_line(op->ui, op->pod, line);
}

static void on_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct ui_op *op = arg;
	struct ui *ui = op->ui;
	struct ui_pod *pod = ui_pod_find(ui, op->pod);
	char line[128 + INSOMNIA_SESSION_ID_MAX];

	snprintf(line, sizeof line, "ready: pid %ld, session %s",
	         (long)res->pid, res->session_id);
	spawn_line(ui, op->pod, line);
	ui_message(ui, false, "%s: ready", op->pod);
	op_free(op);
	if (!pod)
		return;
	/* the pod's own logs take over; the line that says the spawn
	 * ended well stays on top of them */
	model_log_note(ui, pod->name, line);
	pod->spawn = NULL;
	spawn_lines_clear(pod);
	pod->state = UI_POD_READY;
	pod->pid = res->pid;
	snprintf(pod->session_id, sizeof pod->session_id, "%s",
	         res->session_id);
	model_pod_connect(ui, pod);
	ui_log_select(ui);
	model_dirty(ui);
}

/* Our spawn failed: the row says so, unless the dir says a pod of that
 * name runs (someone else's). */
static void on_failed(const struct insomnia_error *err, void *arg)
{
	struct ui_op *op = arg;
	struct ui *ui = op->ui;
	struct ui_pod *pod = ui_pod_find(ui, op->pod);

	spawn_failure_lines(ui, op->pod, err);
	ui_message(ui, true, "%s: spawn failed: %s", op->pod, err->message);
	op_free(op);
	if (!pod)
		return;
	pod->spawn = NULL;
	model_pod_reread(ui, pod, UI_POD_FAILED);
	if (!model_pod_alive(pod)) {
		if (pod->state != UI_POD_FAILED) {
			pod->exit_status = err->exit_status;
			pod->term_signal = err->term_signal;
		}
		pod->state = UI_POD_FAILED;
	}
	ui_log_select(ui);
	model_dirty(ui);
}

/* Whether a spawn of name may start; else why not, in the message. */
static bool spawn_allowed(struct ui *ui, const char *name)
{
	struct insomnia_error err;
	struct ui_pod *pod;

	if (insomnia_name_check(name, &err) < 0) {
		ui_message(ui, true, "spawn: %s", err.message);
		return false;
	}
	pod = ui_pod_find(ui, name);
	if (pod && pod->spawn) {
		ui_message(ui, true, "%s: already spawning", name);
		return false;
	}
	if (pod && model_pod_alive(pod) && pod->has_dir) {
		ui_message(ui, true, "%s: already running", name);
		return false;
	}
	return true;
}

static void spawn_begin(struct ui *ui, const char *name, const char *cwd,
                        const char *manifest, const char *session_id)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_error err;
	struct ui_op *op;
	struct ui_pod *pod;

	if (!spawn_allowed(ui, name))
		return;
	if (!(pod = ui_pod_get(ui, name)))
		ui_fatal(ui, "out of memory");
	spawn_lines_clear(pod);
	op = op_new(ui, OP_SPAWN, name);
	o.name = name;
	o.cwd = cwd && cwd[0] ? cwd : NULL;
	o.manifest = manifest && manifest[0] ? manifest : NULL;
	o.session_id = session_id;
	o.progress = on_progress;
	o.arg = op;
	insomnia_error_clear(&err);
	if (!(op->h.spawn = insomnia_spawn_start(ui->base, &o, on_ready,
	                                         on_failed, &err))) {
		on_failed(&err, op);
		return;
	}
	pod->spawn = op;
	pod->state = UI_POD_STARTING;
	pod->exit_status = -1;
	pod->term_signal = 0;
	snprintf(ui->sel_pod, sizeof ui->sel_pod, "%s", name);
	ui->sel_proc[0] = '\0';
	ui_log_select(ui);
	ui_message(ui, false, "%s: spawning", name);
	model_dirty(ui);
}

void ui_spawn(struct ui *ui, const char *name, const char *cwd,
              const char *manifest)
{
	spawn_begin(ui, name, cwd, manifest, NULL);
}

void ui_resume(struct ui *ui, const char *session_id)
{
	struct insomnia_session_info info;
	struct insomnia_error err;

	insomnia_error_clear(&err);
	if (insomnia_session_find(session_id, &info, &err) < 0) {
		ui_message(ui, true, "resume: %s", err.message);
		return;
	}
	if (info.live) {
		ui_message(ui, true, "resume: session %.8s is live (pod %s)",
		           info.id, info.name);
		return;
	}
	spawn_begin(ui, info.name, NULL, NULL, info.id);
}

void ui_spawn_cancel(struct ui *ui, const char *name)
{
	struct ui_pod *pod = ui_pod_find(ui, name);

	if (!pod || !pod->spawn) {
		ui_message(ui, true, "%s: no spawn in progress", name);
		return;
	}
	/* synchronous: the pod is stopped and no callback follows */
	insomnia_spawn_cancel(pod->spawn->h.spawn);
	op_free(pod->spawn);
	pod->spawn = NULL;
	spawn_lines_clear(pod);
	ui_message(ui, false, "%s: spawn cancelled", name);
	/* a dir whose pod never published its pid gets no watch event */
	model_pod_reread(ui, pod, UI_POD_STOPPED);
	if (!pod->has_dir) {
		ui_pod_forget(ui, name);
		return;
	}
	ui_log_select(ui);
}

/* ---- stopping ----------------------------------------------------------- */

static void on_stopped(const struct insomnia_stop_result *res,
                       const struct insomnia_error *err, void *arg)
{
	struct ui_op *op = arg;

	if (err)
		ui_message(op->ui, true, "%s: stop failed: %s", op->pod,
		           err->message);
	else
		ui_message(op->ui, false, "%s: stopped (%s)", op->pod,
		           insomnia_stop_how_name(res->how));
	op_free(op);
}

void ui_pod_stop(struct ui *ui, const char *name)
{
	struct ui_pod *pod = ui_pod_find(ui, name);
	struct insomnia_error err;
	struct ui_op *op;

	if (pod && pod->spawn) {
		ui_spawn_cancel(ui, name);
		return;
	}
	if (op_find(ui, OP_STOP, name)) {
		ui_message(ui, false, "%s: already stopping", name);
		return;
	}
	op = op_new(ui, OP_STOP, name);
	insomnia_error_clear(&err);
	op->h.stop =
	    insomnia_stop_start(ui->base, name, INSOMNIA_SPAWN_DEFAULT_GRACE_MS,
	                        on_stopped, op, &err);
	if (!op->h.stop) {
		op_free(op);
		ui_message(ui, true, "%s: stop failed: %s", name, err.message);
		return;
	}
	ui_message(ui, false, "%s: stopping", name);
}

/* ---- a process's start, stop, restart ----------------------------------- */

static void on_call_reply(struct insomnia_control *c,
                          const struct insomnia_control_reply *r, void *arg)
{
	struct ui_op *op = arg;

	if (r->status == INSOMNIA_CONTROL_RESULT)
		ui_message(op->ui, false, "%s/%s: %s", op->pod, op->proc,
		           op->done);
	else
		ui_message(op->ui, true, "%s/%s: %s", op->pod, op->proc,
		           r->err->message);
	insomnia_control_close(c);
	op_free(op);
}

static const char *past_tense(const char *method)
{
	if (!strcmp(method, "start"))
		return "started";
	if (!strcmp(method, "stop"))
		return "stopped";
	if (!strcmp(method, "restart"))
		return "restarted";
	return NULL;
}

/* Connect and ask; -1 and err when that cannot even start. */
static int call_send(struct ui *ui, struct ui_op *op, const char *method,
                     struct insomnia_error *err)
{
	json_t *p = json_pack("{s:[s]}", "names", op->proc);
	char *params = p ? json_dumps(p, JSON_COMPACT) : NULL;
	int rc = -1;

	json_decref(p);
	if (!params)
		ui_fatal(ui, "out of memory");
	if ((op->h.call = insomnia_control_connect(ui->base, op->pod, err)))
		rc = insomnia_control_call(op->h.call, method, params,
		                           on_call_reply, op, err);
	free(params);
	return rc;
}

void ui_proc_action(struct ui *ui, const char *pod, const char *proc,
                    const char *method)
{
	const char *done = past_tense(method);
	struct insomnia_error err;
	struct ui_op *op;

	if (!done || insomnia_name_check(proc, NULL) < 0 ||
	    insomnia_name_check(pod, NULL) < 0) {
		ui_message(ui, true, "%s/%s: cannot %s", pod, proc, method);
		return;
	}
	op = op_new(ui, OP_CALL, pod);
	snprintf(op->proc, sizeof op->proc, "%s", proc);
	op->done = done;
	insomnia_error_clear(&err);
	if (call_send(ui, op, method, &err) < 0) {
		insomnia_control_close(op->h.call);
		op_free(op);
		ui_message(ui, true, "%s/%s: %s", pod, proc, err.message);
		return;
	}
	ui_message(ui, false, "%s/%s: %s sent", pod, proc, method);
}

/* ---- reaping ------------------------------------------------------------ */

struct reap_count {
	int removed, kept;
};

static void on_reaped(const struct insomnia_reap_report *r, void *arg)
{
	struct reap_count *n = arg;

	if (r->removed)
		n->removed++;
	else
		n->kept++;
}

/* Rows of failed spawns that never made a dir go too. */
static void forget_dirless(struct ui *ui)
{
	for (size_t i = ui->npods; i-- > 0;) {
		struct ui_pod *pod = ui->pods[i];

		if (!pod->has_dir && !pod->spawn && !model_pod_alive(pod))
			ui_pod_forget(ui, pod->name);
	}
}

void ui_reap(struct ui *ui)
{
	struct reap_count n = {0, 0};
	struct insomnia_error err;

	insomnia_error_clear(&err);
	if (insomnia_reap(on_reaped, &n, &err) < 0) {
		ui_message(ui, true, "reap: %s", err.message);
		return;
	}
	forget_dirless(ui);
	if (n.kept)
		ui_message(ui, false, "reap: %d removed, %d kept", n.removed,
		           n.kept);
	else
		ui_message(ui, false, "reap: %d removed", n.removed);
}

void ui_actions_free(struct ui *ui)
{
	struct ui_op *op, *next;
	struct ui_pod *pod;

	for (op = ui->ops ? ui->ops->list : NULL; op; op = next) {
		next = op->next;
		if (op->kind == OP_SPAWN) {
			insomnia_spawn_cancel(op->h.spawn);
			if ((pod = ui_pod_find(ui, op->pod)))
				pod->spawn = NULL;
		} else if (op->kind == OP_STOP) {
			insomnia_stop_cancel(op->h.stop);
		} else {
			insomnia_control_close(op->h.call);
		}
		free(op);
	}
	free(ui->ops);
	ui->ops = NULL;
}
