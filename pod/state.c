/* state.c: the pod's state, and its state.json (common/statefile). */
#include "state.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void stamp(struct pod_state *st)
{
	struct statefile *f = &st->file;
	time_t now = time(NULL);
	struct tm tm;

	f->pid = getpid();
	f->pgid = getpgrp();
	clock_gettime(CLOCK_MONOTONIC, &st->started_mono);
	if (!gmtime_r(&now, &tm) ||
	    !strftime(f->started_at, sizeof f->started_at, "%Y-%m-%dT%H:%M:%SZ",
	              &tm))
		snprintf(f->started_at, sizeof f->started_at,
		         "1970-01-01T00:00:00Z");
}

void state_init(struct pod_state *st, const char *name, const char *session_id,
                const char *socket, const char *description)
{
	struct statefile *f = &st->file;

	memset(st, 0, sizeof *st);
	snprintf(f->name, sizeof f->name, "%s", name);
	snprintf(f->session_id, sizeof f->session_id, "%s", session_id);
	snprintf(f->socket, sizeof f->socket, "%s", socket);
	st->phase = POD_STARTING;
	snprintf(f->state, sizeof f->state, "%s", STATEFILE_STARTING);
	st->description = description;
	stamp(st);
	f->known = STATEFILE_RUNNING;
}

const char *state_phase_name(enum pod_phase phase)
{
	switch (phase) {
	case POD_STARTING:
		return STATEFILE_STARTING;
	case POD_READY:
		return STATEFILE_READY;
	case POD_STOPPING:
		return STATEFILE_STOPPING;
	}
	return "unknown";
}

static bool allowed(enum pod_phase from, enum pod_phase to)
{
	return (from == POD_STARTING && to == POD_READY) ||
	       (from != POD_STOPPING && to == POD_STOPPING);
}

bool state_enter(struct pod_state *st, enum pod_phase phase)
{
	if (!allowed(st->phase, phase))
		return false;
	st->phase = phase;
	snprintf(st->file.state, sizeof st->file.state, "%s",
	         state_phase_name(phase));
	return true;
}

json_t *state_to_json(const struct pod_state *st)
{
	return statefile_live_json(&st->file);
}

int64_t state_uptime_ms(const struct pod_state *st)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - st->started_mono.tv_sec) * 1000 +
	       (now.tv_nsec - st->started_mono.tv_nsec) / 1000000;
}

int state_write(int dirfd, const struct pod_state *st,
                struct insomnia_error *err)
{
	return statefile_write(dirfd, &st->file, err);
}
