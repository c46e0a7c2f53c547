/* insomnia/watch.h: being told, in a libevent loop, when pods come and
 * go, with no polling and no timer.
 *
 * The runtime root and every pod dir in it are watched with inotify; a
 * pod's end is the kernel's own event: when a process exits, its
 * descriptors are closed, and the close of the `lock` it held (open for
 * writing) is reported on the pod's dir.  The pod's pidfd, when its pid
 * is known, backs that up.  Each event is checked against the dir
 * itself (the lock probed, the files read) before it is reported, so a
 * report is what the dir says at that moment, never a guess from the
 * event alone.
 *
 * The watcher never creates or removes anything (like any reader, it
 * tightens a root readable by others to 0700, DESIGN.md): a runtime
 * root that does not exist yet is waited for (its nearest existing
 * parent is watched until the missing dirs appear, no SYNCED waits for
 * them), and one removed later (its pods GONE) is waited for again.
 *
 * A pod's life, as reported (each at most once per life):
 *   APPEARED  its dir was created, or found at start; or a pod started
 *             again in a dir that was there (a new life);
 *   READY     its pod holds `lock`, has made `sock`, and the pid it
 *             published (state.json, else the pid file) is the process
 *             holding `lock`; a pod that writes its pid file before
 *             state.json (the real pod does) may be READY before its
 *             session id is there to read;
 *   STOPPED   its pod let go of `lock` after removing what it published
 *             (sock, pid, state.json): a clean shutdown;
 *   DIED      its pod let go of `lock` with some of them still there: it
 *             crashed or was killed (also by insomnia_stop's SIGKILL);
 *   GONE      its dir was removed (insomnia_reap).
 * A life begins once the process holding `lock` is the one whose pid
 * the dir publishes: a spawner or a reaper holding it for a moment (to
 * clean a dead pod's files) is no pod.  A dir whose pod never got that
 * far (a spawn that failed early) appears, is SPAWN_FAILED once its
 * spawner recorded the failure (state "failed", insomnia/pods.h) and,
 * when reaped, goes.  A pod whose spawn failed after it published its
 * pid ends as STOPPED or DIED by the rule above (the spawner's SIGTERM
 * or SIGKILL is a kill like any other); its info->state reads "failed"
 * only once the spawner has written its record, which may be just
 * after: SPAWN_FAILED then says so (docs/runtime-dir.md, "A failed
 * start").  A life too short to be seen between two looks (started and
 * ended before the watcher read the events) is
 * not reported; its dir's state is. */
#ifndef INSOMNIA_WATCH_H
#define INSOMNIA_WATCH_H

#include <insomnia/api.h>
#include <insomnia/error.h>
#include <insomnia/pods.h>

INSOMNIA_BEGIN_DECLS

struct event_base;

/* Values fixed; new ones only appended (a switch should have a
 * default). */
enum insomnia_watch_kind {
	INSOMNIA_WATCH_APPEARED = 0,
	INSOMNIA_WATCH_READY = 1,
	INSOMNIA_WATCH_STOPPED = 2,
	INSOMNIA_WATCH_DIED = 3,
	INSOMNIA_WATCH_GONE = 4,
	/* The listing is complete: every pod dir there was has been
	 * reported (APPEARED, and READY when it was).  Once after start,
	 * and after each RESYNC. */
	INSOMNIA_WATCH_SYNCED = 5,
	/* Events were lost (the kernel's queue overflowed): the root is
	 * listed again, what changed is reported as usual, then SYNCED. */
	INSOMNIA_WATCH_RESYNC = 6,
	/* The watch cannot go on (err says why: an unsafe runtime root
	 * appeared, the inotify watch limit was reached, ...).  No event
	 * follows; the watch must still be freed. */
	INSOMNIA_WATCH_FAILED = 7,
	/* A dead pod's spawner recorded that its start failed: info->state
	 * is "failed", with exit_status or term_signal when known.  It comes
	 * after the pod's STOPPED or DIED (or after APPEARED alone, for a
	 * pod that failed before its life began), once per record; a
	 * failure already recorded when the watch first reads the dir is in
	 * its APPEARED's info instead. */
	INSOMNIA_WATCH_SPAWN_FAILED = 8,
};

/* "appeared", "ready", "stopped", "died", "gone", "synced", "resync",
 * "failed", "spawn-failed". */
INSOMNIA_API const char *insomnia_watch_kind_name(enum insomnia_watch_kind k);

struct insomnia_watch_event {
	enum insomnia_watch_kind kind;
	/* The pod's name; NULL for SYNCED, RESYNC and FAILED. */
	const char *name;
	/* The pod as its dir said when the event was handled (podlist's
	 * reading, as insomnia_pod_find gives); for GONE the last reading,
	 * with alive false.  NULL for SYNCED, RESYNC and FAILED. */
	const struct insomnia_pod_info *info;
	/* FAILED only, else NULL. */
	const struct insomnia_error *err;
};

/* The event and everything it points to live until fn returns: copy
 * what you keep.  fn may start and stop pods (the blocking calls too:
 * they run loops of their own), start or free other watches, and free
 * this one with insomnia_watch_free(): then no further event is
 * delivered and the watch is gone once fn returns.  It may not free base
 * or run base's loop recursively. */
typedef void (*insomnia_watch_fn)(const struct insomnia_watch_event *ev,
                                  void *arg);

struct insomnia_watch;

/* Start watching the runtime root in base.  Everything is reported from
 * the loop, never from inside this call: first every pod dir found (as
 * APPEARED, then READY for those that are), then SYNCED, then changes as
 * they happen.  Returns NULL with err when it cannot watch: no runtime
 * root can be resolved, an existing one is unsafe (INSOMNIA_ERR_RUNTIME_DIR),
 * no inotify instance (INSOMNIA_ERR_INTERNAL).  A missing root is no
 * error (see above). */
INSOMNIA_API struct insomnia_watch *
insomnia_watch_start(struct event_base *base, insomnia_watch_fn fn, void *arg,
                     struct insomnia_error *err);

/* Stop watching: every descriptor (the inotify instance, pidfds) and
 * event is released.  From inside fn, once fn returns.  NULL is
 * ignored. */
INSOMNIA_API void insomnia_watch_free(struct insomnia_watch *w);

INSOMNIA_END_DECLS

#endif
