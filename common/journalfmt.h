/* journalfmt.h: the one owner of a session journal's record format
 * (journal.jsonl, docs/sessions.md): encoding a record for the pod
 * (pod/journal.c appends it) and decoding one for readers
 * (common/sessioninfo.c).  Key strings and event names live here only.
 *
 * One JSON object per line, compact, UTF-8:
 *   {"ts":"2024-05-01T12:00:00.123Z","event":"started","pid":42,"name":"web"}
 * Every record has string "ts" and "event"; the rest depends on the
 * event.  Readers ignore unknown events and fields. */
#ifndef INSOMNIA_JOURNALFMT_H
#define INSOMNIA_JOURNALFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <insomnia/dirs.h>
#include <insomnia/error.h>
#include <insomnia/sessions.h>

/* Journal events (the "event" field of a record). */
#define SESSION_EV_STARTED  "started"  /* a new session's first pod */
#define SESSION_EV_RESUMED  "resumed"  /* a later pod of the same session */
#define SESSION_EV_READY    "ready"    /* just before the ready line */
#define SESSION_EV_STOPPING "stopping" /* asked to stop; has "reason" */
#define SESSION_EV_STOPPED  "stopped"  /* released its name; may have "error" */
/* A process of the pod changed state (pod/proc.h): "process", "state",
 * and as they apply "pid", "exit_code" or "signal" (how it ended),
 * "delay_ms" (backoff), "reason" (failed, blocked), "restarts". */
#define SESSION_EV_PROCESS "process"

/* Process state names fit in this, "stopping" and room. */
#define JOURNAL_STATE_MAX  16
#define JOURNAL_SIGNAL_MAX 16

/* "2024-05-01T12:00:00.123Z" and room to spare; also holds created_at as
 * written (any TOML offset date-time). */
#define SESSION_TIME_MAX  INSOMNIA_SESSION_TIME_MAX
#define SESSION_EVENT_MAX INSOMNIA_SESSION_EVENT_MAX

/* What a record says.  Encoding: NULL / 0 / false fields are left out. */
struct journal_entry {
	const char *event;
	pid_t pid;          /* started, resumed, process */
	const char *name;   /* started, resumed */
	const char *reason; /* stopping, process (optional) */
	const char *detail; /* stopping, optional */
	const char *error;  /* stopped, optional */
	/* process */
	const char *process;
	const char *state;  /* "backoff", ... (pod/proc.h) */
	bool exited;        /* exit_code is set */
	int exit_code;      /* 0..255 */
	const char *signal; /* "TERM": what ended it */
	bool delayed;       /* delay_ms is set */
	int64_t delay_ms;   /* backoff */
	int restarts;       /* written when > 0 */
};

/* One record as a reader sees it; strings "" when absent (or too long
 * to be ours), pid 0, exit_code and delay_ms -1 when absent. */
struct journal_record {
	char ts[SESSION_TIME_MAX];
	char event[SESSION_EVENT_MAX];
	pid_t pid;
	char name[INSOMNIA_NAME_MAX + 1];
	char error[INSOMNIA_ERROR_MESSAGE_MAX];
	char process[INSOMNIA_NAME_MAX + 1];
	char state[JOURNAL_STATE_MAX];
	int exit_code;
	char signal[JOURNAL_SIGNAL_MAX];
	int64_t delay_ms;
	int restarts;
};

/* The current time as a journal timestamp, RFC 3339 UTC with
 * milliseconds: "2024-05-01T12:00:00.123Z".  buf holds SESSION_TIME_MAX. */
void session_timestamp(char *buf);

/* e stamped now, as one malloc'd line ending in '\n', with a leading
 * '\n' when torn (the file ends mid-line).  NULL when out of memory. */
char *journalfmt_encode(const struct journal_entry *e, bool torn, size_t *len);

/* Decode one line (without its '\n').  false when it is not a record: a
 * torn write, garbage, an object without string ts and event. */
bool journalfmt_decode(const char *line, size_t len,
                       struct journal_record *out);

/* Is it a run's first record (started or resumed)? */
bool journalfmt_is_start(const struct journal_record *r);

#endif
