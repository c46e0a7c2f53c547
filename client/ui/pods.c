/* pods.c: the model of pods.  The watch says which pods exist and how
 * their lives go; each live pod gets one control connection that asks
 * `status` and `ps` and then subscribes to its pod and process events
 * (pipelined: the pod reads nothing after `subscribe` as a request).
 * Callbacks find their pod by its connection, so a pod removed (and its
 * connection closed) is never reached through a stale pointer. */
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "model-util.h"
#include "ui.h"

/* Bounds what one pod's `ps` can make us hold. */
#define PODS_PROCS_MAX 1024
/* A connect refused as busy is tried again after 100 ms, 200 ms, ...,
 * at most this many times; then the link is LOST. */
#define PODS_BUSY_TRIES 5
#define PODS_BUSY_MS    100
/* Resyncs in a row with no event heard in between before giving up
 * (LOST): a pod that ends every stream at once is not asked forever. */
#define PODS_RESYNC_MAX 3

/* What pods.c keeps of a pod beyond what the view reads: each pod is
 * allocated as one of these (pods.c alone makes and frees pods). */
struct pod_rec {
	struct ui_pod pod; /* first: a struct ui_pod * is a struct pod_rec * */
	struct ui *ui;
	struct event *retry; /* the next busy try, only while one is due */
	int busy_tries;      /* connects refused as busy in a row */
	int quiet_resyncs;   /* resyncs since the last event heard */
};

static struct pod_rec *rec_of(struct ui_pod *pod)
{
	return (struct pod_rec *)pod;
}

static const char *const state_names[] = {
    [UI_POD_STARTING] = "starting", [UI_POD_READY] = "ready",
    [UI_POD_STOPPING] = "stopping", [UI_POD_STOPPED] = "stopped",
    [UI_POD_FAILED] = "failed",     [UI_POD_CRASHED] = "crashed",
};

const char *ui_pod_state_name(enum ui_pod_state s)
{
	if ((size_t)s >= sizeof state_names / sizeof state_names[0])
		return "?";
	return state_names[s];
}

bool model_pod_alive(const struct ui_pod *pod)
{
	return pod->state == UI_POD_STARTING || pod->state == UI_POD_READY ||
	       pod->state == UI_POD_STOPPING;
}

/* ---- the list --------------------------------------------------------- */

/* The index of name, or where it would go (*found false). */
static size_t pod_index(const struct ui *ui, const char *name, bool *found)
{
	size_t lo = 0, hi = ui->npods;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ui->pods[mid]->name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

struct ui_pod *ui_pod_find(struct ui *ui, const char *name)
{
	bool found;
	size_t i = pod_index(ui, name, &found);

	return found ? ui->pods[i] : NULL;
}

struct ui_pod *ui_pod_get(struct ui *ui, const char *name)
{
	bool found;
	size_t i = pod_index(ui, name, &found);
	struct ui_pod **v, *pod;
	struct pod_rec *rec;

	if (found)
		return ui->pods[i];
	if (strlen(name) > INSOMNIA_NAME_MAX)
		return NULL;
	v = realloc(ui->pods, (ui->npods + 1) * sizeof *v);
	if (!v)
		return NULL;
	ui->pods = v;
	if (!(rec = calloc(1, sizeof *rec)))
		return NULL;
	rec->ui = ui;
	pod = &rec->pod;
	strcpy(pod->name, name);
	pod->state = UI_POD_STARTING;
	pod->exit_status = -1;
	memmove(&v[i + 1], &v[i], (ui->npods - i) * sizeof *v);
	v[i] = pod;
	ui->npods++;
	model_dirty(ui);
	return pod;
}

static void procs_free(struct ui_pod *pod)
{
	free(pod->procs);
	pod->procs = NULL;
	pod->nprocs = 0;
	pod->nready = 0;
}

/* No busy try due any more. */
static void retry_stop(struct pod_rec *rec)
{
	if (rec->retry)
		event_free(rec->retry);
	rec->retry = NULL;
	rec->busy_tries = 0;
}

/* Close the connection (and forget a busy try due); the link says
 * `link` afterwards. */
static void link_drop(struct ui_pod *pod, enum ui_link link, const char *why)
{
	retry_stop(rec_of(pod));
	insomnia_control_close(pod->events);
	pod->events = NULL;
	pod->link = link;
	model_text_clean(pod->link_error, sizeof pod->link_error, why,
	                 strlen(why));
	if (link != UI_LINK_UP)
		procs_free(pod);
}

static void pod_free(struct ui_pod *pod)
{
	link_drop(pod, UI_LINK_NONE, "");
	for (size_t i = 0; i < pod->nspawn_lines; i++)
		free(pod->spawn_lines[i]);
	free(pod->spawn_lines);
	free(rec_of(pod));
}

static void pod_remove(struct ui *ui, struct ui_pod *pod)
{
	bool found;
	size_t i = pod_index(ui, pod->name, &found);
	bool selected = !strcmp(ui->sel_pod, pod->name);

	if (!found)
		return;
	memmove(&ui->pods[i], &ui->pods[i + 1],
	        (ui->npods - i - 1) * sizeof *ui->pods);
	ui->npods--;
	pod_free(pod);
	if (selected) {
		/* the view selects another one when it draws */
		ui->sel_pod[0] = '\0';
		ui->sel_proc[0] = '\0';
		ui_log_select(ui);
	}
	model_dirty(ui);
}

void ui_pod_forget(struct ui *ui, const char *name)
{
	struct ui_pod *pod = ui_pod_find(ui, name);

	if (pod && !pod->has_dir && !pod->spawn)
		pod_remove(ui, pod);
}

bool ui_pod_shown(const struct ui *ui, const struct ui_pod *pod)
{
	return !ui->filter[0] || strstr(pod->name, ui->filter);
}

void model_dirty(struct ui *ui)
{
	if (ui->mode == UI_MODE_MAIN)
		ui_dirty(ui);
}

/* Call after a change to the pod: redraw, and when it is the selected
 * one and its state or link moved, the log pane may change source. */
static void pod_changed(struct ui *ui, const struct ui_pod *pod,
                        enum ui_pod_state old_state, enum ui_link old_link,
                        size_t old_nprocs)
{
	model_dirty(ui);
	if (strcmp(ui->sel_pod, pod->name))
		return;
	if (pod->state != old_state || pod->link != old_link ||
	    (pod->nprocs == 0) != (old_nprocs == 0))
		ui_log_select(ui);
}

/* ---- a pod's dir, as the watch or insomnia_pod_find reads it ----------- */

static enum ui_pod_state alive_state(const char *state,
                                     enum ui_pod_state otherwise)
{
	if (!strcmp(state, "stopping"))
		return UI_POD_STOPPING;
	if (!strcmp(state, "starting"))
		return UI_POD_STARTING;
	if (!strcmp(state, "ready"))
		return UI_POD_READY;
	return otherwise; /* "running": a pod that writes no state */
}

static enum ui_pod_state dead_state(const char *state,
                                    enum ui_pod_state otherwise)
{
	if (!strcmp(state, "failed"))
		return UI_POD_FAILED;
	if (!strcmp(state, "stale"))
		return UI_POD_CRASHED;
	if (!strcmp(state, "stopped"))
		return UI_POD_STOPPED;
	return otherwise;
}

/* Take what info says; `otherwise` is the state when its word does not
 * decide (the event's own meaning). */
static void pod_take_info(struct ui_pod *pod,
                          const struct insomnia_pod_info *info,
                          enum ui_pod_state otherwise)
{
	int64_t ms = info->started_at[0] ? model_time_ms(info->started_at) : 0;

	pod->pid = info->pid;
	snprintf(pod->session_id, sizeof pod->session_id, "%s",
	         info->session_id);
	pod->started_ms = ms > 0 ? ms : 0;
	pod->state = info->alive ? alive_state(info->state, otherwise)
	                         : dead_state(info->state, otherwise);
	/* our spawn holds the dir before its pod does */
	if (pod->spawn && !info->alive)
		pod->state = UI_POD_STARTING;
	pod->exit_status = pod->state == UI_POD_FAILED ? info->exit_status : -1;
	pod->term_signal = pod->state == UI_POD_FAILED ? info->term_signal : 0;
}

/* The pod is no longer alive: no connection, no processes. */
static void pod_ended(struct ui_pod *pod)
{
	if (!model_pod_alive(pod))
		link_drop(pod, UI_LINK_NONE, "");
}

void model_pod_reread(struct ui *ui, struct ui_pod *pod,
                      enum ui_pod_state gone_state)
{
	enum ui_pod_state old_state = pod->state;
	enum ui_link old_link = pod->link;
	size_t old_nprocs = pod->nprocs;
	struct insomnia_pod_info info;

	if (insomnia_pod_find(pod->name, &info, NULL) == 0) {
		pod_take_info(pod, &info, gone_state);
	} else {
		pod->state = gone_state;
		pod->has_dir = false;
	}
	pod_ended(pod);
	pod_changed(ui, pod, old_state, old_link, old_nprocs);
}

/* ---- the processes ------------------------------------------------------ */

static void copy_str(char *dst, size_t size, json_t *v)
{
	const char *s = json_string_value(v);

	model_text_clean(dst, size, s ? s : "", s ? json_string_length(v) : 0);
}

/* {"code":N} -> "N", {"signal":"TERM"} -> "TERM", else "". */
static void copy_exit(char *dst, size_t size, json_t *v)
{
	json_t *code = json_object_get(v, "code");

	if (json_is_integer(code))
		snprintf(dst, size, "%lld",
		         (long long)json_integer_value(code));
	else
		copy_str(dst, size, json_object_get(v, "signal"));
}

/* One process's fields from a `ps` entry or a `process` event; an
 * event carries no exit unless the run ended, so a missing exit keeps
 * the last one, and status only when the event has it. */
static void proc_take(struct ui_proc *p, json_t *o)
{
	json_t *v;

	copy_str(p->state, sizeof p->state, json_object_get(o, "state"));
	p->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	p->restarts = (int)json_integer_value(json_object_get(o, "restarts"));
	if ((v = json_object_get(o, "exit")))
		copy_exit(p->exit, sizeof p->exit, v);
	p->ready = !strcmp(p->state, "ready");
	copy_str(p->reason, sizeof p->reason, json_object_get(o, "reason"));
	if ((v = json_object_get(o, "status")))
		copy_str(p->status, sizeof p->status, v);
}

static void count_ready(struct ui_pod *pod)
{
	pod->nready = 0;
	for (size_t i = 0; i < pod->nprocs; i++)
		pod->nready += pod->procs[i].ready;
}

/* The `ps` result's processes; -1 when out of memory. */
static int procs_load(struct ui_pod *pod, json_t *result)
{
	json_t *list = json_object_get(result, "processes"), *o;
	size_t n = json_array_size(list), i;
	struct ui_proc *v;

	if (n > PODS_PROCS_MAX)
		n = PODS_PROCS_MAX;
	v = calloc(n ? n : 1, sizeof *v);
	if (!v)
		return -1;
	procs_free(pod);
	json_array_foreach(list, i, o)
	{
		if (i >= n)
			break;
		copy_str(v[i].name, sizeof v[i].name,
		         json_object_get(o, "name"));
		proc_take(&v[i], o);
	}
	pod->procs = v;
	pod->nprocs = n;
	count_ready(pod);
	return 0;
}

/* ---- the connection ----------------------------------------------------- */

static struct ui_pod *pod_of(struct ui *ui, struct insomnia_control *c)
{
	for (size_t i = 0; i < ui->npods; i++)
		if (ui->pods[i]->events == c)
			return ui->pods[i];
	return NULL;
}

/* The connection failed (closed from inside its callback: allowed).
 * mute: the pod cannot speak the protocol (the mock pod), so it never
 * gives its own word: connected on the watch's READY, it is ready by
 * that word alone.  A transient failure leaves the state as it was. */
static void link_lost(struct ui *ui, struct ui_pod *pod, const char *why,
                      bool mute)
{
	enum ui_link old_link = pod->link;
	size_t old_nprocs = pod->nprocs;
	enum ui_pod_state old_state = pod->state;

	link_drop(pod, UI_LINK_LOST, why);
	if (mute && model_pod_alive(pod) && pod->state == UI_POD_STARTING)
		pod->state = UI_POD_READY;
	pod_changed(ui, pod, old_state, old_link, old_nprocs);
}

/* Whether a failed `status` or `ps` says the pod cannot speak the
 * protocol: it has no such method, or it closed (or garbled) the
 * connection before replying (a protocol failure, not a socket error:
 * the mock pod accepts and closes). */
static bool reply_mute(const struct insomnia_control_reply *r)
{
	if (r->status == INSOMNIA_CONTROL_ERROR)
		return r->code && !strcmp(r->code, "unknown_method");
	return r->err->kind == INSOMNIA_ERR_PROTOCOL;
}

/* What the watch may have read before the pod wrote it. */
static void status_take(struct ui_pod *pod, json_t *v)
{
	const char *started =
	    json_string_value(json_object_get(v, "started_at"));
	const char *session =
	    json_string_value(json_object_get(v, "session_id"));
	json_int_t pid = json_integer_value(json_object_get(v, "pid"));
	int64_t ms = started ? model_time_ms(started) : -1;

	if (ms > 0)
		pod->started_ms = ms;
	if (session)
		model_text_clean(pod->session_id, sizeof pod->session_id,
		                 session, strlen(session));
	if (pid > 0)
		pod->pid = (pid_t)pid;
}

static void on_status(struct insomnia_control *c,
                      const struct insomnia_control_reply *r, void *arg)
{
	struct ui *ui = arg;
	struct ui_pod *pod = pod_of(ui, c);
	enum ui_pod_state old_state;
	json_t *v, *state;

	if (!pod)
		return;
	if (r->status != INSOMNIA_CONTROL_RESULT) {
		link_lost(ui, pod, r->err->message, reply_mute(r));
		return;
	}
	/* the watch may have read state.json before the pod became ready */
	if (!(v = json_loadb(r->json, r->len, JSON_ALLOW_NUL, NULL))) {
		link_lost(ui, pod, "the status reply does not parse", true);
		return;
	}
	state = json_object_get(v, "state");
	old_state = pod->state;
	if (json_is_string(state) && model_pod_alive(pod))
		pod->state = alive_state(json_string_value(state), pod->state);
	status_take(pod, v);
	json_decref(v);
	pod_changed(ui, pod, old_state, pod->link, pod->nprocs);
}

static void on_ps(struct insomnia_control *c,
                  const struct insomnia_control_reply *r, void *arg)
{
	struct ui *ui = arg;
	struct ui_pod *pod = pod_of(ui, c);
	enum ui_link old_link;
	size_t old_nprocs;
	json_t *v;

	if (!pod)
		return;
	if (r->status != INSOMNIA_CONTROL_RESULT) {
		link_lost(ui, pod, r->err->message, reply_mute(r));
		return;
	}
	old_link = pod->link;
	old_nprocs = pod->nprocs;
	v = json_loadb(r->json, r->len, JSON_ALLOW_NUL, NULL);
	if (!v || procs_load(pod, v) < 0) {
		json_decref(v);
		link_lost(ui, pod, "the ps reply does not parse", true);
		return;
	}
	json_decref(v);
	pod->link = UI_LINK_UP;
	pod->link_error[0] = '\0';
	pod_changed(ui, pod, pod->state, old_link, old_nprocs);
}

static void on_process_event(struct ui_pod *pod, json_t *data)
{
	const char *name = json_string_value(json_object_get(data, "process"));

	for (size_t i = 0; name && i < pod->nprocs; i++) {
		if (strcmp(pod->procs[i].name, name))
			continue;
		proc_take(&pod->procs[i], data);
		count_ready(pod);
		return;
	}
}

/* A `status` event: the process's STATUS= changed (null: a new run
 * cleared it). */
static void on_status_event(struct ui_pod *pod, json_t *data)
{
	const char *name = json_string_value(json_object_get(data, "process"));

	for (size_t i = 0; name && i < pod->nprocs; i++)
		if (!strcmp(pod->procs[i].name, name))
			copy_str(pod->procs[i].status,
			         sizeof pod->procs[i].status,
			         json_object_get(data, "status"));
}

static void on_pod_event(struct ui_pod *pod, json_t *data)
{
	const char *state = json_string_value(json_object_get(data, "state"));

	if (state && model_pod_alive(pod))
		pod->state = alive_state(state, pod->state);
}

/* Ask again on a new connection: the pod ended the stream (it
 * overflowed: events were lost) while the watch says it lives.  The
 * rows stay until the new `ps` answers.  Bounded: after
 * PODS_RESYNC_MAX resyncs without an event heard, the link is LOST
 * (selecting the pod tries again). */
static void link_resync(struct ui *ui, struct ui_pod *pod, const char *why)
{
	struct pod_rec *rec = rec_of(pod);

	if (rec->quiet_resyncs >= PODS_RESYNC_MAX) {
		link_lost(ui, pod, why, false);
		return;
	}
	rec->quiet_resyncs++;
	insomnia_control_close(pod->events); /* from its callback: allowed */
	pod->events = NULL;
	model_pod_connect(ui, pod);
}

static void on_event(struct insomnia_control *c, const char *name,
                     const char *data, size_t len, void *arg)
{
	struct ui *ui = arg;
	struct ui_pod *pod = pod_of(ui, c);
	enum ui_pod_state old_state;
	json_t *v;

	if (!pod)
		return;
	/* the pod closes the stream after this: events were lost */
	if (!strcmp(name, "overflow")) {
		link_resync(ui, pod, "the pod's event stream overflowed");
		return;
	}
	if (!(v = json_loadb(data, len, JSON_ALLOW_NUL, NULL)))
		return;
	rec_of(pod)->quiet_resyncs = 0;
	old_state = pod->state;
	if (!strcmp(name, "process"))
		on_process_event(pod, v);
	else if (!strcmp(name, "status"))
		on_status_event(pod, v);
	else if (!strcmp(name, "pod"))
		on_pod_event(pod, v);
	json_decref(v);
	pod_changed(ui, pod, old_state, pod->link, pod->nprocs);
}

/* The stream ended: cleanly when the pod exits (the watch says so next:
 * keep the last rows meanwhile), else the connection failed.  A clean
 * end from a pod not stopping: ask again. */
static void on_ended(struct insomnia_control *c,
                     const struct insomnia_error *err, void *arg)
{
	struct ui *ui = arg;
	struct ui_pod *pod = pod_of(ui, c);

	if (!pod)
		return;
	if (err) {
		link_lost(ui, pod, err->message, false);
	} else if (pod->state == UI_POD_STOPPING && pod->link == UI_LINK_UP) {
		insomnia_control_close(c);
		pod->events = NULL;
	} else if (model_pod_alive(pod) && pod->link == UI_LINK_UP) {
		link_resync(ui, pod, "the pod closed the connection");
	} else {
		link_lost(ui, pod, "the pod closed the connection", false);
	}
}

/* Ask the three on one connection; -1 and err when one is refused. */
static int link_ask(struct ui *ui, struct insomnia_control *c,
                    struct insomnia_error *err)
{
	static const char kinds[] =
	    "{\"kinds\":[\"pod\",\"process\",\"status\"]}";
	struct insomnia_control_stream s = {
	    .event = on_event, .ended = on_ended, .arg = ui};

	insomnia_control_on_end(c, on_ended, ui);
	if (insomnia_control_call(c, "status", NULL, on_status, ui, err) < 0 ||
	    insomnia_control_call(c, "ps", NULL, on_ps, ui, err) < 0)
		return -1;
	return insomnia_control_subscribe(c, "subscribe", kinds, &s, err);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct pod_rec *rec = arg;

	(void)fd;
	(void)what;
	event_free(rec->retry); /* one-shot: no longer pending */
	rec->retry = NULL;
	model_pod_connect(rec->ui, &rec->pod);
}

/* The pod's accept queue is full ("busy": it lives, try again later):
 * 0 with the next try due, or -1 when the tries are spent. */
static int retry_later(struct ui *ui, struct pod_rec *rec)
{
	int ms = PODS_BUSY_MS << rec->busy_tries;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (rec->busy_tries >= PODS_BUSY_TRIES)
		return -1;
	if (!(rec->retry = evtimer_new(ui->base, on_retry, rec)) ||
	    evtimer_add(rec->retry, &tv) < 0)
		ui_fatal(ui, "out of memory");
	rec->busy_tries++;
	return 0;
}

static bool connect_busy(const struct insomnia_error *err)
{
	return err->kind == INSOMNIA_ERR_SOCKET_REFUSED &&
	       err->errnum == EAGAIN;
}

/* A resync keeps the link UP (and the rows) until `ps` answers. */
void model_pod_connect(struct ui *ui, struct ui_pod *pod)
{
	enum ui_link old_link = pod->link;
	struct pod_rec *rec = rec_of(pod);
	struct insomnia_error err;
	struct insomnia_control *c;

	if (pod->events || rec->retry || !model_pod_alive(pod))
		return;
	insomnia_error_clear(&err);
	if (pod->link != UI_LINK_UP)
		pod->link = UI_LINK_CONNECTING;
	if (!(c = insomnia_control_connect(ui->base, pod->name, &err))) {
		if (!connect_busy(&err) || retry_later(ui, rec) < 0)
			link_drop(pod, UI_LINK_LOST, err.message);
	} else {
		rec->busy_tries = 0;
		pod->events = c;
		if (link_ask(ui, c, &err) < 0)
			link_drop(pod, UI_LINK_LOST, err.message);
	}
	pod_changed(ui, pod, pod->state, old_link, pod->nprocs);
}

void ui_pod_retry(struct ui *ui, const char *name)
{
	struct ui_pod *pod = ui_pod_find(ui, name);

	if (pod)
		model_pod_relink(ui, pod);
}

void model_pod_relink(struct ui *ui, struct ui_pod *pod)
{
	if (pod->link != UI_LINK_LOST || pod->events || rec_of(pod)->retry)
		return;
	rec_of(pod)->quiet_resyncs = 0;
	model_pod_connect(ui, pod);
}

/* ---- the watch ---------------------------------------------------------- */

static void on_appeared(struct ui *ui, const struct insomnia_watch_event *ev,
                        enum ui_pod_state otherwise)
{
	struct ui_pod *pod = ui_pod_get(ui, ev->name);
	enum ui_pod_state old_state;
	enum ui_link old_link;

	if (!pod)
		ui_fatal(ui, "out of memory");
	old_state = pod->state;
	old_link = pod->link;
	/* APPEARED is a new life: a connection to the last one is stale */
	if (otherwise == UI_POD_STARTING)
		link_drop(pod, UI_LINK_NONE, "");
	pod->has_dir = true;
	/* a live pod's unknown word ("running": no state.json yet) is
	 * starting until the pod says (status, its pod events) */
	pod_take_info(pod, ev->info, UI_POD_STARTING);
	pod_ended(pod);
	/* The watch's READY (lock, sock, pid) comes before the pod's own
	 * ready: `status` on the connection gives the pod's word.  Only a
	 * pod that cannot answer (the mock never writes state.json) is
	 * READY by the watch's word alone: see link_lost. */
	if (otherwise == UI_POD_READY)
		model_pod_connect(ui, pod);
	pod_changed(ui, pod, old_state, old_link, pod->nprocs);
}

/* Read the dir again after an end; whether a new life runs there. */
static bool end_reread(struct ui_pod *pod, enum ui_pod_state otherwise)
{
	struct insomnia_pod_info info;

	if (insomnia_pod_find(pod->name, &info, NULL) < 0)
		return false;
	pod_take_info(pod, &info, info.alive ? UI_POD_STARTING : otherwise);
	return info.alive;
}

/* The pod's life ended.  A failed spawn's record may be written just
 * after the event: read the dir again. */
static void on_end(struct ui *ui, const struct insomnia_watch_event *ev,
                   enum ui_pod_state otherwise)
{
	struct ui_pod *pod = ui_pod_get(ui, ev->name);
	enum ui_pod_state old_state;
	enum ui_link old_link;
	size_t old_nprocs;
	bool relived = false;

	if (!pod)
		ui_fatal(ui, "out of memory");
	old_state = pod->state;
	old_link = pod->link;
	old_nprocs = pod->nprocs;
	pod->has_dir = true;
	pod_take_info(pod, ev->info, otherwise);
	if (pod->state != UI_POD_FAILED)
		relived = end_reread(pod, otherwise);
	/* The event is newer than the dir's word, but not than our spawn
	 * (its callbacks say how it ends) nor a new life the reread found. */
	if (model_pod_alive(pod) && !pod->spawn && !relived)
		pod->state = otherwise;
	pod_ended(pod);
	pod_changed(ui, pod, old_state, old_link, old_nprocs);
}

static void on_gone(struct ui *ui, const char *name)
{
	struct ui_pod *pod = ui_pod_find(ui, name);

	if (!pod)
		return;
	if (!pod->spawn) {
		pod_remove(ui, pod);
		return;
	}
	pod->has_dir = false; /* our spawn makes it again */
	model_dirty(ui);
}

static void on_watch(const struct insomnia_watch_event *ev, void *arg)
{
	struct ui *ui = arg;

	switch (ev->kind) {
	case INSOMNIA_WATCH_APPEARED:
		on_appeared(ui, ev, UI_POD_STARTING);
		break;
	case INSOMNIA_WATCH_READY:
		on_appeared(ui, ev, UI_POD_READY);
		break;
	case INSOMNIA_WATCH_STOPPED:
		on_end(ui, ev, UI_POD_STOPPED);
		break;
	case INSOMNIA_WATCH_DIED:
		on_end(ui, ev, UI_POD_CRASHED);
		break;
	case INSOMNIA_WATCH_SPAWN_FAILED: /* whoever spawned it */
		on_end(ui, ev, UI_POD_FAILED);
		break;
	case INSOMNIA_WATCH_GONE:
		on_gone(ui, ev->name);
		break;
	case INSOMNIA_WATCH_SYNCED:
		ui->synced = true;
		model_dirty(ui);
		break;
	case INSOMNIA_WATCH_FAILED:
		ui_fail(ui, "watch: %s", ev->err->message);
		break;
	default: /* RESYNC: the events that follow say what changed */
		break;
	}
}

int ui_pods_start(struct ui *ui, struct insomnia_error *err)
{
	ui->watch = insomnia_watch_start(ui->base, on_watch, ui, err);
	return ui->watch ? 0 : -1;
}

void ui_pods_free(struct ui *ui)
{
	insomnia_watch_free(ui->watch);
	ui->watch = NULL;
	for (size_t i = 0; i < ui->npods; i++)
		pod_free(ui->pods[i]);
	free(ui->pods);
	ui->pods = NULL;
	ui->npods = 0;
}
