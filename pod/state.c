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
	snprintf(f->state, sizeof f->state, "running");
	st->description = description;
	stamp(st);
	f->known = STATEFILE_RUNNING;
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
