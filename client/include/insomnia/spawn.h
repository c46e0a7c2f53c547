/* insomnia/spawn.h: start a detached pod and wait until it is really ready.
 *
 * The handshake of DESIGN.md: refuse a live name without touching its
 * files, start the pod in its own session with stderr on
 * <rundir>/<name>/stderr.log, follow that file (inotify), the pod's exit
 * (a pidfd, in the launch monitor) and one deadline, check the ready line
 * and that the socket accepts, then let the pod go.  On any failure the
 * pod's whole process group is stopped (TERM, grace, KILL) and what it
 * published is removed; stderr.log stays (it explains the failure), and a
 * state.json records it as "failed" with the exit status or signal
 * (insomnia_pod_find reads it back; docs/runtime-dir.md).
 *
 * Two ways to call it: insomnia_spawn() blocks; insomnia_spawn_start() runs
 * inside the caller's libevent loop and reports through callbacks.  Neither
 * polls.  One wait still holds the caller's loop: starting the pod waits
 * for the launch monitor's first report (the pod's pid, or why there is
 * none), which a working directory or pod command on a hung filesystem
 * can delay beyond timeout_ms.
 *
 * The pod is started by an exec'd helper, pod-launch-monitor (see
 * launch.h): found through INSOMNIA_LAUNCH_MONITOR, else at its installed
 * path; a missing helper is a launch_failed error that names it.  Its
 * cost does not depend on the caller's size, and the caller's signal
 * dispositions and mask (SIGCHLD ignored, signals blocked) do not reach
 * the pod nor lose its exit status.  The caller needs no SIGCHLD handler
 * and collects no zombie. */
#ifndef INSOMNIA_SPAWN_H
#define INSOMNIA_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include <insomnia/api.h>
#include <insomnia/dirs.h>
#include <insomnia/error.h>

INSOMNIA_BEGIN_DECLS

struct event_base;

#define INSOMNIA_SPAWN_DEFAULT_GRACE_MS 2000

/* Zero-initialise it (designated initialisers) so fields added later
 * take their defaults.  insomnia_spawn_start copies it, strings
 * included: nothing in it needs to outlive the call. */
struct insomnia_spawn_options {
	/* The pod's name, checked before any file.  Added to the overlay
	 * as [pod] name when the overlay lacks it.  NULL: the overlay's,
	 * or with session_id the session's (docs/sessions.md, "Resuming
	 * with only the id"); given with session_id, it must be the run's
	 * name, else INSOMNIA_ERR_NAME_MISMATCH before any pod starts. */
	const char *name;
	const char *overlay; /* TOML text given as --overlay; NULL: "" */
	/* The pod's cwd; NULL: the session's with session_id, else the
	 * caller's. */
	const char *cwd;
	/* Resume this session (its full id); NULL: a new one.  A live one
	 * is INSOMNIA_ERR_SESSION_LIVE before any pod starts. */
	const char *session_id;
	int timeout_ms;          /* whole handshake; 0: the default (20 s) */
	int grace_ms;            /* TERM to KILL on failure; 0: default */
	const char *pod_command; /* NULL: INSOMNIA_POD_COMMAND, else PATH */
	bool reuse;              /* a live pod of that name is a success */
	const char *manifest;    /* the pod's --manifest PATH (its project
	                            manifest); NULL: it searches from cwd */
	/* Each stderr line the pod prints before its ready line. */
	void (*progress)(const char *line, void *arg);
	void *arg;
};

/* Plain data; every string NUL-terminated. */
struct insomnia_spawn_result {
	char name[INSOMNIA_NAME_MAX + 1];
	char socket[INSOMNIA_PATH_MAX];
	pid_t pid; /* 0 when unknown */
	/* "" when the pod wrote none (pods other than ours may not) */
	char session_id[INSOMNIA_SESSION_ID_MAX];
	bool reused; /* an already live pod (opts.reuse) */
};

/* Blocking spawn.  0 and res filled, or -1 and err (kind, message, exit
 * status or signal, and the last stderr lines in err->detail).
 *
 * A pod that exits before its ready line is INSOMNIA_ERR_EXITED_EARLY
 * with err->exit_status, unless that status is the exit code of a kind a
 * pod reports itself (config 2, already_running 3, runtime_dir 4,
 * bad_name 5, session_unknown 15, session_live 16, bad_session_id 17,
 * session_ambiguous 18: docs/errors.md): then err->kind is that kind,
 * with the same message, tail and exit_status.  The rule holds for any
 * pod command (a mock exiting 2 is a config error too), so one failure
 * gives one kind, and one exit code, whichever layer catches it.  A pod
 * killed by a signal is INSOMNIA_ERR_EXITED_EARLY with err->term_signal.
 *
 * A spawn that fails after the pod was launched (or its launch was
 * tried) leaves stderr.log and a state.json of state "failed" with the
 * exit status or signal when known (insomnia/pods.h); a cancelled spawn
 * leaves only stderr.log. */
INSOMNIA_API int insomnia_spawn(const struct insomnia_spawn_options *opts,
                                struct insomnia_spawn_result *res,
                                struct insomnia_error *err);

typedef void (*insomnia_spawn_ready_fn)(const struct insomnia_spawn_result *res,
                                        void *arg);
typedef void (*insomnia_spawn_failed_fn)(const struct insomnia_error *err,
                                         void *arg);

struct insomnia_spawn;

/* Start a spawn in base.  Exactly one of ready or failed is called later
 * from the loop (never from inside insomnia_spawn_start), unless the spawn is
 * cancelled first.  Returns NULL (err filled, no callback) when the
 * options are refused at once (a NULL base, opts, ready or failed is
 * INSOMNIA_ERR_USAGE).  opts is copied, strings included;
 * opts->progress and opts->arg are used for all callbacks.
 *
 * The callbacks, and what they may do:
 *  - progress(line, arg), zero or more times before ready or failed.
 *    line lives until progress returns (copy it to keep it).  It may
 *    call insomnia_spawn_cancel() on this spawn: no further progress line is
 *    delivered, and once progress returns the pod is stopped and its dir
 *    cleaned as for a cancel; neither ready nor failed is called.
 *  - ready(res, arg) or failed(err, arg), exactly once, as the last call.
 *    res and err live until the callback returns.  By then the spawn
 *    holds no descriptor, no event and no lock (the pod is detached, or
 *    stopped and cleaned), so these may start new spawns, even of the
 *    same name, or free everything else they own.  insomnia_spawn_cancel() on
 *    this spawn from inside them does nothing; after they return the
 *    handle is freed and must not be used again.
 *  - Any callback may start or cancel other spawns (in this base or
 *    another), and may call insomnia_spawn() for another name (it runs a
 *    loop of its own).  None may run base's loop recursively, free
 *    base, or block waiting for this spawn to finish. */
INSOMNIA_API struct insomnia_spawn *insomnia_spawn_start(
    struct event_base *base, const struct insomnia_spawn_options *opts,
    insomnia_spawn_ready_fn ready, insomnia_spawn_failed_fn failed,
    struct insomnia_error *err);

/* Abandon a spawn in progress: its pod is stopped (its group killed) and
 * its dir cleaned as on failure, no callback is made, and s is freed;
 * from inside its own progress callback, this happens once the callback
 * returns; from inside its ready or failed callback, it does nothing.
 * The cancel is synchronous, so base may be freed right after it: it
 * waits for the killed pod's exit, at once in practice and never more
 * than 5 s (a process stuck in the kernel, which may then be left).  A
 * failing spawn's own stop (TERM, grace, KILL and that wait) runs as
 * events of the loop instead, never holding it.
 * NULL is ignored. */
INSOMNIA_API void insomnia_spawn_cancel(struct insomnia_spawn *s);

INSOMNIA_END_DECLS

#endif
