/* podspawn.h: the spawn handshake's state machine, shared by its files
 * (internal to the library).
 *
 * Phases: wait for the spawn lock (the pod dir's flock, which serialises
 * concurrent spawns of one name) → launch → read stderr.log lines until
 * the ready line → confirm the socket → detach.  Failure from any phase
 * goes through spawn_fail(), which stops the pod's group before
 * reporting.  One file per concern:
 *   podspawn.c     entry points, options, the end (success or failure)
 *   spawnlock.c    the spawn lock and the pod dir; live pod or launch
 *   spawnlaunch.c  starting the pod (launch.c) and the monitor's reports
 *   spawnlog.c     following stderr.log and checking the ready line
 *   spawnfail.c    after a failure: TERM, grace, KILL (podkill.c), clean
 *   spawnblock.c   the blocking insomnia_spawn()
 *
 * Every function that ends a spawn (spawn_succeed, spawn_fail,
 * spawn_report_failure, ...) frees it: callers return right after
 * calling one. */
#ifndef INSOMNIA_CLIENT_PODSPAWN_H
#define INSOMNIA_CLIENT_PODSPAWN_H

#include <insomnia/spawn.h>

#include <event2/event.h>
#include <stdbool.h>
#include <unistd.h>

#include "launch.h"
#include "logtail.h"
#include "ready.h"

enum phase {
	PHASE_LOCK,     /* waiting for the spawn lock */
	PHASE_READY,    /* the pod runs; following its log */
	PHASE_STOPPING, /* failed: TERM sent, grace running */
	PHASE_KILLING,  /* failed: KILL sent, waiting (bounded) for the exit */
	PHASE_DONE,     /* torn down; in the ready or failed callback */
};

struct insomnia_spawn {
	struct event_base *base;
	struct insomnia_spawn_options opts; /* strings below are owned copies */
	char *name, *overlay, *cwd, *session_id, *manifest;
	char podcmd[INSOMNIA_PATH_MAX];
	insomnia_spawn_ready_fn on_ready;
	insomnia_spawn_failed_fn on_error;

	enum phase phase;
	char root_path[INSOMNIA_PATH_MAX];
	char dir_path[INSOMNIA_PATH_MAX];
	int root_fd, dir_fd; /* dir_fd's flock is the spawn lock */
	bool locked;
	int inotify_fd, log_fd, watch;

	struct launch launch;
	bool attempted; /* stderr.log made ready for a pod: a failure
	                   from then on is recorded in state.json */
	bool launched, exited;
	bool have_status; /* wait_status is the pod's, from the monitor */
	pid_t pod;
	int pidfd; /* the pod's, opened on the monitor's pid report */
	int wait_status;

	struct logtail tail;
	char ready_buf[READY_LINE_MAX + 1]; /* the ready line, once seen */
	size_t ready_len;
	bool have_ready, ready_cut;
	bool in_progress; /* inside the caller's progress callback */
	bool cancelled;   /* insomnia_spawn_cancel() from that callback */
	struct event *ev_kick, *ev_inotify, *ev_report, *ev_deadline, *ev_grace;
	struct event *ev_more;  /* stderr.log holds more than one chunk */
	struct event *ev_pidfd; /* PHASE_KILLING with the monitor gone */
	struct insomnia_spawn_result result;
	struct insomnia_error err;
};

/* ---- podspawn.c ---- */

/* The pod is ready at socket (or, reused, was already). */
void spawn_succeed(struct insomnia_spawn *s, const char *socket, bool reused);

/* Record the error, then stop the pod if there is one, and report. */
void spawn_fail(struct insomnia_spawn *s, enum insomnia_error_kind kind,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void spawn_fail_with(struct insomnia_spawn *s, const struct insomnia_error *e);

/* Record the error only; spawn_abort() acts on it. */
void spawn_set_error(struct insomnia_spawn *s, enum insomnia_error_kind kind,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void spawn_abort(struct insomnia_spawn *s);

/* Tear down and call the failed callback with s->err. */
void spawn_finish_error(struct insomnia_spawn *s);

/* Drop the spawn now (a cancel): stop a launched pod, free s. */
void spawn_cancel_now(struct insomnia_spawn *s);

/* ---- spawnlock.c ---- */

/* (Re)open the pod dir <root>/<name>, creating it. */
int spawn_open_dir(struct insomnia_spawn *s, struct insomnia_error *err);

/* The first attempt at the spawn lock (an evtimer callback). */
void spawn_lock_kick(evutil_socket_t fd, short what, void *arg);

/* Remove the watch left from waiting for the spawn lock. */
void spawn_drop_lock_watch(struct insomnia_spawn *s);

/* ---- spawnlaunch.c ---- */

/* Holding the spawn lock, with no live pod: start one. */
void spawn_launch(struct insomnia_spawn *s);

/* ---- spawnlog.c ---- */

/* Bytes of stderr.log read per event, so that a pod flooding it cannot
 * hold the caller's loop: the rest is read at the loop's next turn. */
#define SPAWN_LOG_CHUNK (256 * 1024)

/* Read what stderr.log holds beyond what was read, to its end; stops at
 * the ready line.  For a dead pod (its file no longer grows). */
void spawn_read_log(struct insomnia_spawn *s);

/* Same, up to SPAWN_LOG_CHUNK bytes: 1 when more may be left. */
int spawn_read_log_some(struct insomnia_spawn *s);

/* The log grew: read it, then act on a cancel or the ready line. */
void spawn_on_log_event(struct insomnia_spawn *s);

/* ---- spawnfail.c ---- */

/* TERM to the group, then KILL after the grace; then report. */
void spawn_stop_pod(struct insomnia_spawn *s);

/* The grace is over (or the pod exited meanwhile): KILL, then report
 * once the pod's exit is seen (PHASE_KILLING, events of the loop). */
void spawn_end_grace(struct insomnia_spawn *s);

/* In PHASE_KILLING: the monitor reported the pod's exit (s->exited). */
void spawn_kill_exited(struct insomnia_spawn *s);

/* In PHASE_KILLING: the monitor's reports ended; wait on our pidfd. */
void spawn_kill_monitor_gone(struct insomnia_spawn *s);

/* KILL the group and wait, blocking (bounded), for the pod's exit: for a
 * cancel, which frees the handle at once. */
void spawn_kill_and_reap(struct insomnia_spawn *s);

/* Report s->err with the log's tail, after cleaning the dir and, for a
 * pod that was launched (or tried), recording its failure there. */
void spawn_report_failure(struct insomnia_spawn *s);

/* ---- small helpers ---- */

static inline void spawn_free_event(struct event **ev)
{
	if (*ev) {
		event_free(*ev);
		*ev = NULL;
	}
}

static inline void spawn_close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

#endif
