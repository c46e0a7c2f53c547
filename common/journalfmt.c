/* journalfmt.c: a journal record to and from its line (journalfmt.h). */
#include "journalfmt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonstr.h"

void session_timestamp(char *buf)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) ||
	    !strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(sec, sizeof sec, "1970-01-01T00:00:00");
	snprintf(buf, SESSION_TIME_MAX, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
}

/* Set key to a string built from bytes (never failing on invalid
 * UTF-8: jsonstr); false when out of memory. */
static bool put(json_t *rec, const char *key, const char *value)
{
	return !value || json_object_set_new(rec, key, jsonstr_new(value)) == 0;
}

static bool put_int(json_t *rec, const char *key, bool set, json_int_t v)
{
	return !set || json_object_set_new(rec, key, json_integer(v)) == 0;
}

/* A process record's own fields, in their documented order. */
static bool put_process(json_t *rec, const struct journal_entry *e)
{
	return put(rec, "process", e->process) && put(rec, "state", e->state) &&
	       put_int(rec, "exit_code", e->exited, e->exit_code) &&
	       put(rec, "signal", e->signal) &&
	       put_int(rec, "delay_ms", e->delayed, e->delay_ms) &&
	       put_int(rec, "restarts", e->restarts > 0, e->restarts);
}

static json_t *build(const struct journal_entry *e)
{
	char ts[SESSION_TIME_MAX];
	json_t *rec;

	session_timestamp(ts);
	rec = json_pack("{s:s, s:s}", "ts", ts, "event", e->event);
	if (rec && e->pid > 0 &&
	    json_object_set_new(rec, "pid", json_integer(e->pid)) < 0)
		goto fail;
	if (rec &&
	    (!put(rec, "name", e->name) || !put_process(rec, e) ||
	     !put(rec, "reason", e->reason) || !put(rec, "detail", e->detail) ||
	     !put(rec, "error", e->error)))
		goto fail;
	return rec;
fail:
	json_decref(rec);
	return NULL;
}

char *journalfmt_encode(const struct journal_entry *e, bool torn, size_t *len)
{
	json_t *rec = build(e);
	char *json = rec ? json_dumps(rec, JSON_COMPACT) : NULL, *line = NULL;

	json_decref(rec);
	if (json && asprintf(&line, "%s%s\n", torn ? "\n" : "", json) < 0)
		line = NULL;
	free(json);
	if (line)
		*len = strlen(line);
	return line;
}

static void copy(char *out, size_t size, const char *s)
{
	if (s && strlen(s) < size)
		strcpy(out, s);
}

/* An integer in [min, max], else dflt. */
static json_int_t get_int(const json_t *rec, const char *key, json_int_t min,
                          json_int_t max, json_int_t dflt)
{
	const json_t *v = json_object_get(rec, key);
	json_int_t i = json_integer_value(v);

	return json_is_integer(v) && i >= min && i <= max ? i : dflt;
}

static void decode_process(const json_t *rec, struct journal_record *out)
{
	copy(out->process, sizeof out->process,
	     json_string_value(json_object_get(rec, "process")));
	copy(out->state, sizeof out->state,
	     json_string_value(json_object_get(rec, "state")));
	copy(out->signal, sizeof out->signal,
	     json_string_value(json_object_get(rec, "signal")));
	out->exit_code = (int)get_int(rec, "exit_code", 0, 255, -1);
	out->delay_ms = get_int(rec, "delay_ms", 0, INT64_MAX, -1);
	out->restarts = (int)get_int(rec, "restarts", 0, INT32_MAX, 0);
}

bool journalfmt_decode(const char *line, size_t len, struct journal_record *out)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	const char *ts = json_string_value(json_object_get(rec, "ts"));
	const char *ev = json_string_value(json_object_get(rec, "event"));
	json_int_t pid = json_integer_value(json_object_get(rec, "pid"));

	memset(out, 0, sizeof *out);
	if (ts && ev) {
		copy(out->ts, sizeof out->ts, ts);
		copy(out->event, sizeof out->event, ev);
		out->pid = pid > 0 && pid == (pid_t)pid ? (pid_t)pid : 0;
		copy(out->name, sizeof out->name,
		     json_string_value(json_object_get(rec, "name")));
		copy(out->error, sizeof out->error,
		     json_string_value(json_object_get(rec, "error")));
		decode_process(rec, out);
	} else {
		out->exit_code = -1;
		out->delay_ms = -1;
	}
	json_decref(rec);
	return ts && ev;
}

bool journalfmt_is_start(const struct journal_record *r)
{
	return strcmp(r->event, SESSION_EV_STARTED) == 0 ||
	       strcmp(r->event, SESSION_EV_RESUMED) == 0;
}
