/* state.h: what the pod is, as state.json and the status method show it.
 *
 * state.json's format is common/statefile.h's; this adds what only the
 * live pod knows (its description, a monotonic start for uptime). */
#ifndef INSOMNIA_POD_STATE_H
#define INSOMNIA_POD_STATE_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "error.h"
#include "statefile.h"

struct pod_state {
	struct statefile file;   /* every field known once state_init ran */
	const char *description; /* owned by the config; may be NULL */
	struct timespec started_mono; /* for uptime, immune to clock steps */
};

/* Fill every field: the given ones, "running", and pid, pgid and both
 * start times from the running process.  socket is an absolute path. */
void state_init(struct pod_state *st, const char *name, const char *session_id,
                const char *socket, const char *description);

/* state.json's object (statefile_to_json): a new reference, or NULL when
 * out of memory. */
json_t *state_to_json(const struct pod_state *st);

/* Milliseconds since state_init. */
int64_t state_uptime_ms(const struct pod_state *st);

/* Atomically (re)write state.json in the pod's dir. */
int state_write(int dirfd, const struct pod_state *st,
                struct insomnia_error *err);

#endif
