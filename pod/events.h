/* events.h: what happened in the pod, told once: to the session journal
 * (common/journalfmt.h owns the record) and to every control connection
 * that subscribed (docs/protocol.md, "Events").
 *
 * An event line is {"event":"<kind>","data":{...}} with kinds:
 *   "pod"     {"state":"ready"|"stopping"|..., "reason"?}
 *   "process" {"process":"db","state":"backoff","pid"?,"exit"?,
 *              "delay_ms"?,"reason"?,"restarts"}
 *   "log"     {"process":"db","time":"...","stream":"out","text":"..."}
 *   "status"  {"process":"db","status":"text"|null}  (its STATUS=, or
 *             null when a new run clears it)
 *   "overflow" {"lost":N}  (the last one a slow subscriber gets)
 * process events are journalled here (journalfmt.h, SESSION_EV_PROCESS);
 * pod events are journalled by podsession (its ready and stopping
 * records, which readers of the session already know), so
 * events_publish only sends them; log events are not journalled (the log
 * files hold them), nor are status events (ps shows the last one). */
#ifndef INSOMNIA_POD_EVENTS_H
#define INSOMNIA_POD_EVENTS_H

#include <jansson.h>
#include <stdbool.h>

enum event_kind {
	EVENT_POD = 1 << 0,
	EVENT_PROCESS = 1 << 1,
	EVENT_LOG = 1 << 2,
	EVENT_STATUS = 1 << 3,
};

struct events;
struct podsession;
struct server;

/* journal: the pod's session (borrowed, outlives events). */
struct events *events_new(struct podsession *session);

/* The server whose subscribers get the events (set once it exists;
 * NULL before: events are then only journalled). */
void events_set_server(struct events *ev, struct server *server);

/* While on (the pod's start and stop), each process event is also a
 * line on the pod's stderr, "process db: running (pid 42)", so a
 * spawner's progress callback shows what the start is waiting for.  Off
 * while the pod is ready: a crash loop must not grow stderr.log. */
void events_set_progress(struct events *ev, bool on);

/* Would anyone receive an event of kind about process (NULL: pod-wide)?
 * Cheap: lets the log path skip building JSON nobody reads. */
bool events_wanted(const struct events *ev, enum event_kind kind,
                   const char *process);

/* Journal (pod and process kinds) and send to every subscriber whose
 * filter takes it.  data is stolen (may be NULL on out-of-memory: then
 * nothing is sent). */
void events_publish(struct events *ev, enum event_kind kind,
                    const char *process, json_t *data);

/* fn(arg) after each process event is told (the pod's summary for its
 * own supervisor follows the processes); NULL for none. */
void events_on_process(struct events *ev, void (*fn)(void *arg), void *arg);

void events_free(struct events *ev);

#endif
