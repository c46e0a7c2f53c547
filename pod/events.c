/* events.c: one event, told to the journal and to the subscribers
 * (events.h). */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journalfmt.h"
#include "podlog.h"
#include "podsession.h"
#include "server.h"

struct events {
	struct podsession *session;
	struct server *server;
	bool progress;
	void (*on_process)(void *arg); /* events_on_process */
	void *on_process_arg;
};

struct events *events_new(struct podsession *session)
{
	struct events *ev = calloc(1, sizeof *ev);

	if (ev)
		ev->session = session;
	return ev;
}

void events_set_server(struct events *ev, struct server *server)
{
	ev->server = server;
}

void events_set_progress(struct events *ev, bool on)
{
	ev->progress = on;
}

bool events_wanted(const struct events *ev, enum event_kind kind,
                   const char *process)
{
	if (kind == EVENT_PROCESS)
		return true; /* journalled */
	return ev->server && server_has_subscriber(ev->server, kind, process);
}

static const char *kind_name(enum event_kind kind)
{
	switch (kind) {
	case EVENT_POD:
		return "pod";
	case EVENT_PROCESS:
		return "process";
	case EVENT_LOG:
		return "log";
	case EVENT_STATUS:
		return "status";
	}
	return "unknown";
}

static const char *get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* data's fields (events.h, "process") as a journal record. */
static void process_entry(const json_t *data, struct journal_entry *e)
{
	const json_t *exit = json_object_get(data, "exit");
	const json_t *code = json_object_get(exit, "code");
	const json_t *delay = json_object_get(data, "delay_ms");

	memset(e, 0, sizeof *e);
	e->event = SESSION_EV_PROCESS;
	e->process = get_str(data, "process");
	e->state = get_str(data, "state");
	e->pid = (pid_t)json_integer_value(json_object_get(data, "pid"));
	e->exited = json_is_integer(code);
	e->exit_code = (int)json_integer_value(code);
	e->signal = get_str(exit, "signal");
	e->delayed = json_is_integer(delay);
	e->delay_ms = json_integer_value(delay);
	e->reason = get_str(data, "reason");
	e->restarts =
	    (int)json_integer_value(json_object_get(data, "restarts"));
}

/* A journal that cannot be written loses a record, not the pod. */
static void journal_process(struct events *ev, const json_t *data)
{
	struct journal_entry e;
	struct insomnia_error err;

	if (!ev->session || ev->session->journal.fd < 0)
		return;
	process_entry(data, &e);
	if (journal_append(&ev->session->journal, &e, &err) < 0)
		podlog("session %s: %s", ev->session->id, err.message);
}

/* "process db: exited (exit 3)", "process web: running (pid 42)". */
static void progress_line(const json_t *data)
{
	const json_t *exit = json_object_get(data, "exit");
	const json_t *code = json_object_get(exit, "code");
	const char *sig = get_str(exit, "signal"),
	           *reason = get_str(data, "reason");
	json_int_t pid = json_integer_value(json_object_get(data, "pid"));
	char what[96] = "";

	if (json_is_integer(code))
		snprintf(what, sizeof what, " (exit %lld)",
		         (long long)json_integer_value(code));
	else if (sig)
		snprintf(what, sizeof what, " (signal %s)", sig);
	else if (pid > 0)
		snprintf(what, sizeof what, " (pid %lld)", (long long)pid);
	podlog("process %s: %s%s%s%s", get_str(data, "process"),
	       get_str(data, "state"), what, reason ? ": " : "",
	       reason ? reason : "");
}

static void broadcast(struct events *ev, enum event_kind kind,
                      const char *process, json_t *data)
{
	json_t *obj;
	char *json, *line;
	size_t len;

	if (!ev->server || !server_has_subscriber(ev->server, kind, process))
		return;
	obj = json_pack("{s:s, s:O}", "event", kind_name(kind), "data", data);
	json = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!json)
		return;
	len = strlen(json);
	line = realloc(json, len + 2);
	if (!line) {
		free(json);
		return;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	server_broadcast(ev->server, kind, process, line, len + 1);
	free(line);
}

void events_publish(struct events *ev, enum event_kind kind,
                    const char *process, json_t *data)
{
	if (!data)
		return;
	if (kind == EVENT_PROCESS)
		journal_process(ev, data);
	if (kind == EVENT_PROCESS && ev->progress)
		progress_line(data);
	broadcast(ev, kind, process, data);
	json_decref(data);
	if (kind == EVENT_PROCESS && ev->on_process)
		ev->on_process(ev->on_process_arg);
}

void events_on_process(struct events *ev, void (*fn)(void *arg), void *arg)
{
	ev->on_process = fn;
	ev->on_process_arg = arg;
}

void events_free(struct events *ev)
{
	free(ev);
}
