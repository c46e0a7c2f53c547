/* podspawn.c: the spawn handshake's entry points and its end.
 *
 * The state machine and its files are described in podspawn.h.  The
 * client itself holds no inotify instance while it follows the log:
 * the launch monitor watches stderr.log and says "it grew" on its report
 * pipe (closing an inotify instance may wait for the kernel, and a
 * one-spawn process such as podctl would pay that at exit).  Only a spawn
 * that must wait for another client's spawn lock watches the dir, with an
 * instance from inotify_cache. */
#include "podspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "inotify_cache.h"
#include "paths.h"
#include "podcmd.h"
#include "rundir.h"
#include "spawnopts.h"
#include "statefile.h"

/* ---- small helpers ------------------------------------------------ */

static char *dup_or_null(const char *str, bool *oom)
{
	char *copy;

	if (!str)
		return NULL;
	copy = strdup(str);
	if (!copy)
		*oom = true;
	return copy;
}

/* Everything but the struct itself: events first (a descriptor number
 * freed here may be reused at once by a spawn started from a callback),
 * then the monitor, the descriptors and the spawn lock. */
static void spawn_teardown(struct insomnia_spawn *s)
{
	spawn_free_event(&s->ev_kick);
	spawn_free_event(&s->ev_inotify);
	spawn_free_event(&s->ev_report);
	spawn_free_event(&s->ev_deadline);
	spawn_free_event(&s->ev_grace);
	spawn_free_event(&s->ev_more);
	spawn_free_event(&s->ev_pidfd);
	if (s->launched)
		launch_release(&s->launch);
	if (s->inotify_fd >= 0 && s->watch >= 0)
		inotify_rm_watch(s->inotify_fd, s->watch);
	inotify_cache_put(s->inotify_fd);
	s->inotify_fd = -1;
	spawn_close_fd(&s->log_fd);
	spawn_close_fd(&s->pidfd);
	spawn_close_fd(&s->dir_fd);
	if (s->locked) /* wake waiting spawners after the unlock (close) */
		utimensat(s->root_fd, s->name, NULL, AT_SYMLINK_NOFOLLOW);
	spawn_close_fd(&s->root_fd);
	free(s->name);
	free(s->overlay);
	free(s->manifest);
	free(s->cwd);
	free(s->session_id);
	s->name = s->overlay = s->cwd = s->session_id = s->manifest = NULL;
}

static void spawn_free(struct insomnia_spawn *s)
{
	spawn_teardown(s);
	free(s);
}

/* ---- the end: success or failure ---------------------------------- */

/* The spawn is torn down completely before the caller hears of it, so a
 * callback may start anything, even a spawn of the same name.  Only the
 * struct lives on until the callback returns, so that insomnia_spawn_cancel()
 * from inside the callback finds PHASE_DONE and does nothing. */
static void finish_ready(struct insomnia_spawn *s)
{
	struct insomnia_spawn_result result = s->result;

	spawn_teardown(s); /* detaches: the monitor exits, the pod stays */
	s->phase = PHASE_DONE;
	s->on_ready(&result, s->opts.arg);
	free(s);
}

void spawn_finish_error(struct insomnia_spawn *s)
{
	struct insomnia_error err = s->err;

	spawn_teardown(s);
	s->phase = PHASE_DONE;
	s->on_error(&err, s->opts.arg);
	free(s);
}

static void read_session_id(struct insomnia_spawn *s)
{
	struct statefile sf;

	if (statefile_read(s->dir_fd, &sf) == 0 &&
	    (sf.known & STATEFILE_SESSION_ID))
		memcpy(s->result.session_id, sf.session_id,
		       sizeof sf.session_id);
}

/* The socket is the contract; pid and session come from the dir's files
 * when the pod wrote them (pods that do not are still fine). */
void spawn_succeed(struct insomnia_spawn *s, const char *socket, bool reused)
{
	struct insomnia_spawn_result *r = &s->result;
	pid_t pid;

	snprintf(r->name, sizeof r->name, "%s", s->name);
	snprintf(r->socket, sizeof r->socket, "%s", socket);
	r->pid = rundir_read_pid(s->dir_fd, &pid) == 0 ? pid : s->pod;
	read_session_id(s);
	r->reused = reused;
	finish_ready(s);
}

/* ---- errors --------------------------------------------------------- */

static void set_error(struct insomnia_spawn *s, enum insomnia_error_kind kind,
                      const char *fmt, va_list ap)
{
	insomnia_error_clear(&s->err);
	s->err.kind = kind;
	vsnprintf(s->err.message, sizeof s->err.message, fmt, ap);
}

void spawn_set_error(struct insomnia_spawn *s, enum insomnia_error_kind kind,
                     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(s, kind, fmt, ap);
	va_end(ap);
}

void spawn_fail(struct insomnia_spawn *s, enum insomnia_error_kind kind,
                const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(s, kind, fmt, ap);
	va_end(ap);
	spawn_abort(s);
}

void spawn_abort(struct insomnia_spawn *s)
{
	if (s->launched)
		spawn_stop_pod(s);
	else
		spawn_report_failure(s);
}

void spawn_fail_with(struct insomnia_spawn *s, const struct insomnia_error *e)
{
	spawn_fail(s, e->kind, "%s", e->message);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_spawn *s = arg;
	int ms = s->opts.timeout_ms;

	if (s->phase == PHASE_LOCK) {
		spawn_fail(s, INSOMNIA_ERR_TIMEOUT,
		           "another client kept starting pod %s for %d ms",
		           s->name, ms);
		return;
	}
	spawn_fail(s, INSOMNIA_ERR_TIMEOUT,
	           "pod %s did not become ready within %d ms", s->name, ms);
}

/* ---- public entry points -------------------------------------------- */

static int copy_options(struct insomnia_spawn *s,
                        const struct insomnia_spawn_options *opts)
{
	bool oom = false;

	s->opts = *opts;
	s->name = dup_or_null(opts->name, &oom);
	s->overlay = dup_or_null(opts->overlay, &oom);
	s->cwd = dup_or_null(opts->cwd, &oom);
	s->session_id = dup_or_null(opts->session_id, &oom);
	s->manifest = dup_or_null(opts->manifest, &oom);
	if (s->opts.timeout_ms <= 0)
		s->opts.timeout_ms = READY_DEFAULT_TIMEOUT_MS;
	return oom ? -1 : 0;
}

/* Checks that need no waiting, so bad input fails before any file. */
static int prepare_resolved(struct insomnia_spawn *s,
                            const struct insomnia_spawn_options *opts,
                            struct insomnia_error *err)
{
	if (insomnia_name_check(opts->name, err) < 0 ||
	    (opts->overlay && podcmd_check_overlay(strlen(opts->overlay),
	                                           "the overlay", err) < 0))
		return -1;
	if (copy_options(s, opts) < 0)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	if (podcmd_resolve(opts->pod_command, s->podcmd, sizeof s->podcmd,
	                   err) < 0)
		return -1;
	if (opts->cwd && !opts->cwd[0])
		return insomnia_error_set(
		    err, INSOMNIA_ERR_LAUNCH_FAILED,
		    "cannot use working directory \"\": empty path");
	s->root_fd =
	    rundir_open_root(true, s->root_path, sizeof s->root_path, err);
	if (s->root_fd < 0)
		return -1;
	if (paths_join(s->dir_path, sizeof s->dir_path, s->root_path, s->name,
	               err) < 0 ||
	    spawn_open_dir(s, err) < 0)
		return -1;
	return 0;
}

/* The name, overlay and cwd filled in (from the session, ...) first:
 * spawnopts.h. */
static int prepare(struct insomnia_spawn *s,
                   const struct insomnia_spawn_options *opts,
                   struct insomnia_error *err)
{
	struct spawnopts r;
	int rc;

	if (spawnopts_resolve(opts, &r, err) < 0)
		return -1;
	rc = prepare_resolved(s, &r.opts, err);
	spawnopts_release(&r);
	return rc;
}

static int add_events(struct insomnia_spawn *s)
{
	int ms = s->opts.timeout_ms;
	struct timeval deadline = {ms / 1000, (ms % 1000) * 1000};
	struct timeval now = {0, 0};

	s->ev_kick = evtimer_new(s->base, spawn_lock_kick, s);
	s->ev_deadline = evtimer_new(s->base, on_deadline, s);
	if (!s->ev_kick || !s->ev_deadline)
		return -1;
	if (evtimer_add(s->ev_deadline, &deadline) < 0 ||
	    evtimer_add(s->ev_kick, &now) < 0)
		return -1;
	return 0;
}

struct insomnia_spawn *insomnia_spawn_start(
    struct event_base *base, const struct insomnia_spawn_options *opts,
    insomnia_spawn_ready_fn ready, insomnia_spawn_failed_fn failed,
    struct insomnia_error *err)
{
	struct insomnia_spawn *s;

	if (!base || !opts || !ready || !failed) {
		insomnia_error_set(
		    err, INSOMNIA_ERR_USAGE,
		    "insomnia_spawn_start needs a base, options and "
		    "both callbacks");
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	s->base = base;
	s->on_ready = ready;
	s->on_error = failed;
	s->root_fd = s->dir_fd = s->inotify_fd = s->log_fd = s->watch = -1;
	s->pidfd = -1;
	s->launch.report_fd = s->launch.release_fd = -1;
	logtail_init(&s->tail);
	if (prepare(s, opts, err) < 0)
		goto fail;
	if (add_events(s) < 0) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "cannot register events");
		goto fail;
	}
	return s;
fail:
	spawn_free(s);
	return NULL;
}

void spawn_cancel_now(struct insomnia_spawn *s)
{
	if (s->launched) {
		spawn_kill_and_reap(s);
		rundir_remove_leftovers_locked(s->dir_fd, false);
	}
	spawn_free(s);
}

void insomnia_spawn_cancel(struct insomnia_spawn *s)
{
	if (!s || s->phase == PHASE_DONE)
		return; /* from its own ready or failed callback: it is over */
	if (s->in_progress) {
		s->cancelled = true; /* done once the callback returns */
		return;
	}
	spawn_cancel_now(s);
}
