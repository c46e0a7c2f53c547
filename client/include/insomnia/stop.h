/* insomnia/stop.h: stopping a live pod, politely first.
 *
 * The pod is asked to shut down over its socket; if it is still there
 * after the grace, it gets SIGTERM, and after another grace SIGKILL.
 * Each wait is on a pidfd (the kernel's event for the pod's exit), never
 * a sleep loop, and the request's connection is served in the same loop
 * against the same timer, so it can neither shorten nor lengthen the
 * grace.
 *
 * Signals go only where we own them (procsig.h): to the pod's process
 * group when the live pod leads it, else to the pod alone through its
 * pidfd, never to a group number read from state.json, which for a pod
 * started without job control is its starter's group; a pod that exits
 * in the instant before a signal leaves it to what is left of the
 * session and group it led, and to nothing else (the library's one group
 * kill, as for a failed spawn and a reap).  And only to the
 * process that holds the pod's `lock` (checked through its pidfd before
 * anything is sent): a pid file naming anyone else is refused as
 * INSOMNIA_ERR_NOT_RUNNING. */
#ifndef INSOMNIA_STOP_H
#define INSOMNIA_STOP_H

#include <sys/types.h>

#include <insomnia/api.h>
#include <insomnia/dirs.h>
#include <insomnia/error.h>

INSOMNIA_BEGIN_DECLS

struct event_base;

/* Values fixed; new ones only appended. */
enum insomnia_stop_how {
	INSOMNIA_STOPPED_BY_REQUEST = 0,
	INSOMNIA_STOPPED_BY_TERM = 1,
	INSOMNIA_STOPPED_BY_KILL = 2,
};

/* The name of a way, for output: "request", "sigterm", "sigkill". */
INSOMNIA_API const char *insomnia_stop_how_name(enum insomnia_stop_how how);

/* How long stop waits for the kernel to end a pod after SIGKILL: only a
 * process stuck in the kernel (say, on a dead NFS server) takes longer. */
#define INSOMNIA_STOP_KILL_WAIT_MS 5000

/* Stop pod name, grace_ms > 0:
 *   1. ask it over its socket ("shutdown");
 *   2. grace_ms after the request, SIGTERM;
 *   3. grace_ms after SIGTERM, SIGKILL, then wait for its end.
 * A pod that cannot be asked or declines (no socket, connection refused,
 * accept queue full, the connection closed or reset before a reply, an
 * error reply) has answered: SIGTERM follows at once instead of after
 * the grace.  A pod that replied is given the rest of the grace to exit.
 * grace_ms == 0 means SIGKILL at once (reported as INSOMNIA_STOPPED_BY_KILL).
 * After SIGKILL the files the pod could not remove are removed.
 *
 * Two ways to call it, one implementation: insomnia_stop_start() runs in
 * the caller's libevent loop and reports through a callback;
 * insomnia_stop() blocks, running the same machine on a private loop.
 *
 * Failures (err->kind): INSOMNIA_ERR_NOT_RUNNING, INSOMNIA_ERR_BAD_NAME,
 * INSOMNIA_ERR_USAGE (a negative grace), INSOMNIA_ERR_TIMEOUT (it
 * outlived SIGKILL by INSOMNIA_STOP_KILL_WAIT_MS), INSOMNIA_ERR_INTERNAL
 * (no pidfd_open, out of memory), INSOMNIA_ERR_RUNTIME_DIR. */

/* What a finished stop reports. */
struct insomnia_stop_result {
	char name[INSOMNIA_NAME_MAX + 1];
	enum insomnia_stop_how how; /* which step ended it; on success only */
	pid_t pid;                  /* the pod's process, 0 when unknown */
};

/* Blocking stop.  0 once the pod's process has exited, or -1 and err.
 * Optional outputs: how and pid may be NULL; when given they are written
 * on success only (which step did it, which process it was).  err may be
 * NULL too. */
INSOMNIA_API int insomnia_stop(const char *name, int grace_ms,
                               enum insomnia_stop_how *how, pid_t *pid,
                               struct insomnia_error *err);

/* res always; err NULL when the pod was stopped, else why not. */
typedef void (*insomnia_stop_done_fn)(const struct insomnia_stop_result *res,
                                      const struct insomnia_error *err,
                                      void *arg);

struct insomnia_stop;

/* Start stopping pod name in base.  It never blocks base's loop: the
 * pod is looked up on the loop's first turn, its socket is connected
 * without blocking (a full accept queue is an answer, not a wait), and
 * each step waits on an event: the pod's pidfd, the socket, one timer
 * per step.  Several stops may run at once in one base.
 *
 * Returns NULL (err filled, no callback) only when the call itself is
 * refused: a bad name, a negative grace, no base or done, out of memory.
 * Everything about the pod itself (not running, ...) is reported through
 * done.
 *
 * done(res, err, arg) is called exactly once, from the loop (never from
 * inside insomnia_stop_start), unless the stop is cancelled first.  res
 * and err live until done returns (copy them to keep them).  By then
 * the stop holds no descriptor and no event, so done may start other
 * stops (the same name too), cancel other stops or spawns, free
 * anything else it owns that uses base, and call the blocking
 * insomnia_stop() (it runs a loop of its own).  insomnia_stop_cancel()
 * on this stop from inside done does nothing; after done returns the
 * handle is freed and must not be used again.  done may not free base
 * or run base's loop recursively. */
INSOMNIA_API struct insomnia_stop *
insomnia_stop_start(struct event_base *base, const char *name, int grace_ms,
                    insomnia_stop_done_fn done, void *arg,
                    struct insomnia_error *err);

/* Abandon a stop: its connection is closed, its events removed, s freed,
 * and done is not called.  What was already sent stays sent: a pod that
 * got the request or a signal may still exit (its dir then tells how);
 * after SIGKILL its files are left for reap.  From inside s's own done
 * it does nothing.  NULL is ignored. */
INSOMNIA_API void insomnia_stop_cancel(struct insomnia_stop *s);

INSOMNIA_END_DECLS

#endif
