/* state.h: what the pod is, as state.json and the status method show it.
 *
 * state.json is for readers that do not speak the protocol (podctl ls, a
 * shell): it is rewritten atomically whenever the state changes, never
 * edited in place. */
#ifndef INSOMNIA_POD_STATE_H
#define INSOMNIA_POD_STATE_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"
#include "paths.h"
#include <insomnia/dirs.h>
#include "session.h"

/* "2024-05-01T12:00:00Z" plus room. */
#define STATE_TIME_MAX 32

struct pod_state {
	char name[INSOMNIA_NAME_MAX + 1];
	const char *description; /* owned by the config; may be NULL */
	pid_t pid, pgid;
	char session_id[SESSION_ID_LEN + 1];
	char socket[INSOMNIA_PATH_MAX]; /* absolute path */
	char started_at[STATE_TIME_MAX];
	struct timespec started_mono; /* for uptime, immune to clock steps */
	const char *state;            /* "running", "stopping" */
};

/* Fill pid, pgid and both start times from the running process. */
void state_stamp(struct pod_state *st);

/* The fields state.json holds: name, pid, pgid, session_id, socket,
 * started_at, state.  A new reference, or NULL when out of memory. */
json_t *state_to_json(const struct pod_state *st);

/* Milliseconds since state_stamp. */
int64_t state_uptime_ms(const struct pod_state *st);

/* Atomically (re)write state.json in the pod's dir. */
int state_write(int dirfd, const struct pod_state *st,
                struct insomnia_error *err);

#endif
