/* state.c: the pod's state as JSON, and state.json. */
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomic_file.h"
#include "jsonstr.h"
#include "rundir.h"

void state_stamp(struct pod_state *st)
{
	time_t now = time(NULL);
	struct tm tm;

	st->pid = getpid();
	st->pgid = getpgrp();
	clock_gettime(CLOCK_MONOTONIC, &st->started_mono);
	if (!gmtime_r(&now, &tm) ||
	    !strftime(st->started_at, sizeof st->started_at,
	              "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(st->started_at, sizeof st->started_at,
		         "1970-01-01T00:00:00Z");
}

json_t *state_to_json(const struct pod_state *st)
{
	/* The socket path is bytes (the runtime root may hold any). */
	return json_pack(
	    "{s:o, s:I, s:I, s:o, s:o, s:o, s:o}", "name",
	    jsonstr_new(st->name), "pid", (json_int_t)st->pid, "pgid",
	    (json_int_t)st->pgid, "session_id", jsonstr_new(st->session_id),
	    "socket", jsonstr_new(st->socket), "started_at",
	    jsonstr_new(st->started_at), "state", jsonstr_new(st->state));
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
	json_t *obj = state_to_json(st);
	char *json = obj ? json_dumps(obj, JSON_INDENT(2)) : NULL;
	char *text = NULL;
	int len, rc = -1;

	/* A trailing newline keeps `cat state.json` tidy in a shell. */
	if (!json || (len = asprintf(&text, "%s\n", json)) < 0) {
		text = NULL;
		error_set(err, INSOMNIA_ERR_INTERNAL, "cannot encode %s",
		          RUNDIR_STATE);
		goto out;
	}
	/* no fsync: the runtime dir is rebuilt at every start */
	rc = atomic_write_sync_at(dirfd, RUNDIR_STATE, text, (size_t)len, 0600,
	                          ATOMIC_SYNC_NONE, err);
out:
	free(text);
	free(json);
	json_decref(obj);
	return rc;
}
