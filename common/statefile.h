/* statefile.h: state.json, a pod's runtime dir's file for readers that do
 * not speak the protocol (podctl ls, a shell).  Its one owner: the pod
 * writes it through statefile_write, clients read it through
 * statefile_read, and no other file names its keys.
 *
 * The file is one JSON object:
 *   {"name": ..., "pid": N, "pgid": N, "session_id": ..., "socket": ...,
 *    "started_at": "2024-05-01T12:00:00Z", "state": "ready",
 *    "exit_status": null, "signal": null}
 * rewritten atomically (temp + rename), never edited in place.  Pods
 * other than ours may write it with fewer keys, or none at all: every
 * field is optional to a reader, and `known` says which were there.
 *
 * Two writers, never at once: the pod while it holds `lock`, and a
 * spawner whose pod failed to start, which writes state "failed" with
 * the pod's exit_status or signal (null when unknown) while it holds
 * the spawn lock and the dead pod's `lock` (docs/runtime-dir.md). */
#ifndef INSOMNIA_STATEFILE_H
#define INSOMNIA_STATEFILE_H

#include <jansson.h>
#include <sys/types.h>

#include "error.h"
#include <insomnia/dirs.h>
#include <insomnia/pods.h>

/* More than any state.json we write (a few hundred bytes, a socket path
 * at most INSOMNIA_PATH_MAX): a bigger file is not a pod's state. */
#define STATEFILE_MAX (1024 * 1024)

/* "2024-05-01T12:00:00Z" plus room (insomnia/pods.h). */
#define STATEFILE_TIME_MAX INSOMNIA_POD_TIME_MAX
/* "starting", "ready", "stopping", "failed", or what another pod says. */
#define STATEFILE_STATE_MAX INSOMNIA_POD_STATE_MAX

/* A live pod's states (pod/state.h has its state machine). */
#define STATEFILE_STARTING "starting"
#define STATEFILE_READY    "ready"
#define STATEFILE_STOPPING "stopping"

/* The state a spawner writes for a pod that failed to start. */
#define STATEFILE_FAILED "failed"

/* One bit per field, in statefile.known. */
enum statefile_field {
	STATEFILE_NAME = 1 << 0,
	STATEFILE_PID = 1 << 1,
	STATEFILE_PGID = 1 << 2,
	STATEFILE_SESSION_ID = 1 << 3,
	STATEFILE_SOCKET = 1 << 4,
	STATEFILE_STARTED_AT = 1 << 5,
	STATEFILE_STATE = 1 << 6,
	STATEFILE_EXIT_STATUS = 1 << 7, /* a failed start's exit code */
	STATEFILE_SIGNAL = 1 << 8,      /* ... or the signal that killed it */
	/* what a running pod knows (it has no exit yet) */
	STATEFILE_RUNNING = (1 << 7) - 1,
	STATEFILE_ALL = (1 << 9) - 1,
};

/* A field whose bit is clear in known is unknown: absent, JSON null, of
 * the wrong type, out of range (a pid <= 0), or too long for its buffer.
 * Its value is then 0 or "", never a guess. */
struct statefile {
	unsigned known; /* enum statefile_field bits */
	char name[INSOMNIA_NAME_MAX + 1];
	pid_t pid, pgid;
	char session_id[INSOMNIA_SESSION_ID_MAX];
	char socket[INSOMNIA_PATH_MAX]; /* bytes; written as jsonstr.h says */
	char started_at[STATEFILE_TIME_MAX];
	char state[STATEFILE_STATE_MAX];
	int exit_status; /* 0..255 */
	int signal;      /* > 0 */
};

/* The object state.json holds (unknown fields as null): a new reference,
 * or NULL when out of memory.  The pod's status reply starts from it. */
json_t *statefile_to_json(const struct statefile *sf);

/* The same without the exit's keys: a live pod has no exit, and its
 * status reply says nothing of one. */
json_t *statefile_live_json(const struct statefile *sf);

/* Decode such an object into *sf (cleared first); anything but an object
 * leaves every field unknown. */
void statefile_from_json(const json_t *obj, struct statefile *sf);

/* Atomically (re)write dirfd's state.json, 0600, without fsync (the
 * runtime dir is rebuilt at every start).  0, or -1 with err. */
int statefile_write(int dirfd, const struct statefile *sf,
                    struct insomnia_error *err);

/* Read dirfd's state.json into *sf.  Never follows a symlink nor waits
 * on a FIFO.  0 when it held a JSON object (sf->known says what it
 * had), else -1 with errno (ENOENT absent, FD_ENOTREG not a regular
 * file, EFBIG beyond STATEFILE_MAX, EBADMSG not a JSON object) and
 * every field unknown. */
int statefile_read(int dirfd, struct statefile *sf);

#endif
