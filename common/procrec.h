/* procrec.h: the one owner of the process records in a pod's runtime
 * dir (docs/runtime-dir.md): <rundir>/procs/<process name>, one compact
 * JSON object, written atomically by the pod when a process starts and
 * removed when it is reaped:
 *   {"pid":42,"pgid":42,"start_time":123456,"token":"<session>/<name>"}
 * so that a reaper, after the pod was SIGKILLed, can kill what is left
 * (the group while its leader is the recorded process: same pid and same
 * start time; and everything carrying the token) and never a stranger
 * that reused a pid. */
#ifndef INSOMNIA_PROCREC_H
#define INSOMNIA_PROCREC_H

#include <stdint.h>
#include <sys/types.h>

#include <insomnia/dirs.h>

#include "error.h"
#include "proctree.h"

#define PROCREC_DIR "procs"

struct procrec {
	char name[INSOMNIA_NAME_MAX + 1];
	pid_t pid;
	pid_t pgid;
	uint64_t start_time; /* proctree_start_time */
	char token[PROCTREE_TOKEN_MAX];
};

/* Create <rundir>/procs (0700, checked) if needed and write r
 * atomically as procs/<r->name>. */
int procrec_write(int rundirfd, const struct procrec *r,
                  struct insomnia_error *err);

/* Remove procs/<name>; a missing one is fine. */
void procrec_remove(int rundirfd, const char *name);

/* Call fn for each readable record (unreadable ones are skipped);
 * stops early when fn returns non-zero and returns that.  0 when there
 * is no procs dir. */
int procrec_each(int rundirfd, int (*fn)(const struct procrec *r, void *arg),
                 void *arg);

/* For a reaper, after the pod died: kill (SIGKILL) what is left of r:
 * its group while the leader is r's process (pid and start time), the
 * members of a leaderless group only when they carry r's token, and
 * everything carrying the token.  Then remove the record. */
void procrec_kill_remains(int rundirfd, const struct procrec *r);

/* Remove the procs dir itself (empty or not: only records live there). */
void procrec_remove_all(int rundirfd);

#endif
