/* state.h: what the pod is, as state.json and the status method show it.
 *
 * state.json's format is common/statefile.h's; this adds what only the
 * live pod knows (its description, a monotonic start for uptime) and the
 * pod's state machine:
 *
 *   starting --every autostart process ready-->  ready
 *   starting --a process failed / stop asked-->  stopping
 *   ready    --shutdown, SIGTERM, SIGINT-->      stopping
 *   stopping --every process stopped-->          (the pod exits)
 *
 * No transition goes back: a pod that stops is gone, and a new one
 * (resuming the session) starts again from starting. */
#ifndef INSOMNIA_POD_STATE_H
#define INSOMNIA_POD_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "error.h"
#include "statefile.h"

enum pod_phase {
	POD_STARTING, /* serving, its processes not all ready yet */
	POD_READY,    /* the ready line is out */
	POD_STOPPING, /* its processes stop; it exits once they have */
};

struct pod_state {
	enum pod_phase phase;
	struct statefile file;   /* every field known once state_init ran */
	const char *description; /* owned by the config; may be NULL */
	struct timespec started_mono; /* for uptime, immune to clock steps */
};

/* "starting", "ready", "stopping" (statefile.h's names). */
const char *state_phase_name(enum pod_phase phase);

/* Fill every field: the given ones, starting, and pid, pgid and both
 * start times from the running process.  socket is an absolute path. */
void state_init(struct pod_state *st, const char *name, const char *session_id,
                const char *socket, const char *description);

/* Move to phase along the diagram above; false (and no change) for any
 * other move, which callers treat as "already there or past it". */
bool state_enter(struct pod_state *st, enum pod_phase phase);

/* state.json's object (statefile_to_json): a new reference, or NULL when
 * out of memory. */
json_t *state_to_json(const struct pod_state *st);

/* Milliseconds since state_init. */
int64_t state_uptime_ms(const struct pod_state *st);

/* Atomically (re)write state.json in the pod's dir. */
int state_write(int dirfd, const struct pod_state *st,
                struct insomnia_error *err);

#endif
