/* podspawn.c: the handshake as a small state machine on libevent.
 *
 * Phases: wait for the spawn lock (the pod dir's flock, which serialises
 * concurrent spawns of one name) → launch → read stderr.log lines until
 * the ready line → confirm the socket → detach.  Failure from any phase
 * goes through fail(), which stops the pod's group before reporting.
 *
 * The client itself holds no inotify instance while it follows the log:
 * the launch monitor watches stderr.log and says "it grew" on its report
 * pipe (closing an inotify instance may wait for the kernel, and a
 * one-spawn process such as podctl would pay that at exit).  Only a spawn
 * that must wait for another client's spawn lock watches the dir, with an
 * instance from inotify_cache. */
#include <insomnia/spawn.h>

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "paths.h"
#include "deadline.h"
#include "fdio.h"
#include "inotify_cache.h"
#include "launch.h"
#include "logtail.h"
#include "podcmd.h"
#include "procsig.h"
#include "ready.h"
#include "rundir.h"
#include "statefile.h"
#include "unixsock.h"

/* How long a SIGKILLed pod has to exit: only a process stuck in the
 * kernel takes longer, and a spawn must end all the same. */
#define SPAWN_KILL_WAIT_MS 5000

enum phase {
	PHASE_LOCK,     /* waiting for the spawn lock */
	PHASE_READY,    /* the pod runs; following its log */
	PHASE_STOPPING, /* failed: TERM sent, grace running */
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
	bool launched, exited;
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
	struct insomnia_spawn_result result;
	struct insomnia_error err;
};

/* Every function that ends a spawn (succeed, fail, report_failure, ...)
 * frees it: callers return right after calling one. */
static void fail(struct insomnia_spawn *s, enum insomnia_error_kind kind,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail_prepare(struct insomnia_spawn *s,
                         enum insomnia_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void read_log(struct insomnia_spawn *s);

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

static void free_event(struct event **ev)
{
	if (*ev) {
		event_free(*ev);
		*ev = NULL;
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Everything but the struct itself: events first (a descriptor number
 * freed here may be reused at once by a spawn started from a callback),
 * then the monitor, the descriptors and the spawn lock. */
static void spawn_teardown(struct insomnia_spawn *s)
{
	free_event(&s->ev_kick);
	free_event(&s->ev_inotify);
	free_event(&s->ev_report);
	free_event(&s->ev_deadline);
	free_event(&s->ev_grace);
	if (s->launched)
		launch_release(&s->launch);
	if (s->inotify_fd >= 0 && s->watch >= 0)
		inotify_rm_watch(s->inotify_fd, s->watch);
	inotify_cache_put(s->inotify_fd);
	s->inotify_fd = -1;
	close_fd(&s->log_fd);
	close_fd(&s->pidfd);
	close_fd(&s->dir_fd);
	if (s->locked) /* wake waiting spawners after the unlock (close) */
		utimensat(s->root_fd, s->name, NULL, AT_SYMLINK_NOFOLLOW);
	close_fd(&s->root_fd);
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

static void finish_error(struct insomnia_spawn *s)
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
static void succeed(struct insomnia_spawn *s, const char *socket, bool reused)
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

/* Only the holder of `lock` may remove `sock`, and only a holder may
 * unlink `lock` (livelock.h); the pod is dead here, so taking it is
 * instant unless a straggler still holds it.  Before a launch the lock
 * file itself is kept: the new pod will take it. */
static void remove_leftovers(struct insomnia_spawn *s, bool keep_lock)
{
	rundir_remove_leftovers_locked(s->dir_fd, keep_lock);
}

static void report_failure(struct insomnia_spawn *s)
{
	if (s->log_fd >= 0 && !s->have_ready) {
		/* the pod is dead: its last words, even a line it never
		 * finished, explain the failure */
		s->exited = true;
		read_log(s);
		logtail_keep_partial(&s->tail);
	}
	if (s->launched) /* the pod is dead and reaped by now */
		remove_leftovers(s, false);
	logtail_format(&s->tail, s->err.detail, sizeof s->err.detail);
	finish_error(s);
}

/* While the monitor has not reported the pod's exit, the pod is its
 * unreaped child, so the monitor signals it (its group: a session leader
 * cannot leave it): our own pidfd may have been opened after the monitor
 * reaped the pod, on a pid since reused.  With the monitor gone, our
 * pidfd, and the group only while the pod leads it (procsig.h).  Once
 * the pod is dead, what is left of its group is killed only while no
 * process holds the group's id as its pid: then the group can only be
 * the pod's own stragglers (Linux does not reuse a pid that is still a
 * group's id). */
static void signal_group(struct insomnia_spawn *s, int sig)
{
	if (s->pod <= 0) /* never kill(0) or kill(-1): that is not the pod */
		return;
	if (!s->exited && launch_signal(&s->launch, sig) == 0)
		return;
	if (!s->exited && s->pidfd >= 0 &&
	    procsig_send(s->pidfd, s->pod, sig, NULL) == 0)
		return;
	procsig_kill_leaderless_group(s->pod, sig);
}

/* Said after the failure's own message, which comes first. */
static void note_survivor(struct insomnia_spawn *s)
{
	size_t len = strlen(s->err.message);

	snprintf(s->err.message + len, sizeof s->err.message - len,
	         " (pid %ld outlived SIGKILL for %d ms and may be left)",
	         (long)s->pod, SPAWN_KILL_WAIT_MS);
}

/* The monitor is gone without reporting the pod's exit (killed, or it
 * failed): our pidfd is what is left to signal and watch the pod by. */
static void kill_by_pidfd(struct insomnia_spawn *s, int ms)
{
	struct pollfd pfd = {s->pidfd, POLLIN, 0};
	int n;

	if (s->pidfd < 0) { /* none only when the pod was already gone */
		s->exited = true;
		return;
	}
	procsig_send(s->pidfd, s->pod, SIGKILL, NULL);
	do
		n = poll(&pfd, 1, ms);
	while (n < 0 && errno == EINTR);
	s->exited = n > 0;
}

/* KILL the whole group (stragglers included) and wait for the pod's
 * exit report, which after SIGKILL comes at once; never longer than
 * SPAWN_KILL_WAIT_MS in all (a process stuck in the kernel, log reports
 * that keep coming), so a spawn always ends: the error then says the pod
 * may be left. */
static void kill_and_reap(struct insomnia_spawn *s)
{
	int64_t end = deadline_in(SPAWN_KILL_WAIT_MS);
	struct launch_msg msg;
	int rc;

	signal_group(s, SIGKILL);
	while (!s->exited) {
		rc = launch_wait_msg(&s->launch, &msg, deadline_left_ms(end));
		if (rc > 0) {
			s->exited = msg.type == LAUNCH_MSG_EXITED;
			continue;
		}
		if (rc == 0) /* the monitor's reports ended without an exit */
			kill_by_pidfd(s, deadline_left_ms(end));
		break;
	}
	if (!s->exited)
		note_survivor(s);
}

static void grace_expired(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_spawn *s = arg;

	kill_and_reap(s);
	report_failure(s);
}

/* TERM to the group, then KILL after the grace (or as soon as the pod has
 * exited: what is left of its group gets no more grace). */
static void stop_pod(struct insomnia_spawn *s)
{
	int ms = s->opts.grace_ms > 0 ? s->opts.grace_ms
	                              : INSOMNIA_SPAWN_DEFAULT_GRACE_MS;
	struct timeval grace = {ms / 1000, (ms % 1000) * 1000};

	s->phase = PHASE_STOPPING;
	free_event(&s->ev_inotify);
	free_event(&s->ev_deadline);
	if (s->exited || s->pod <= 0) {
		grace_expired(-1, 0, s);
		return;
	}
	signal_group(s, SIGTERM);
	s->ev_grace = evtimer_new(s->base, grace_expired, s);
	if (!s->ev_grace || evtimer_add(s->ev_grace, &grace) < 0)
		grace_expired(-1, 0, s);
}

/* Record the error, then stop the pod if there is one. */
static void set_error(struct insomnia_spawn *s, enum insomnia_error_kind kind,
                      const char *fmt, va_list ap)
{
	insomnia_error_clear(&s->err);
	s->err.kind = kind;
	vsnprintf(s->err.message, sizeof s->err.message, fmt, ap);
}

static void abort_spawn(struct insomnia_spawn *s)
{
	if (s->launched)
		stop_pod(s);
	else
		report_failure(s);
}

static void fail_prepare(struct insomnia_spawn *s,
                         enum insomnia_error_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(s, kind, fmt, ap);
	va_end(ap);
}

static void fail(struct insomnia_spawn *s, enum insomnia_error_kind kind,
                 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(s, kind, fmt, ap);
	va_end(ap);
	abort_spawn(s);
}

static void fail_with(struct insomnia_spawn *s, const struct insomnia_error *e)
{
	fail(s, e->kind, "%s", e->message);
}

/* ---- following stderr.log ------------------------------------------ */

static int on_line(const char *line, size_t len, bool cut, void *arg)
{
	struct insomnia_spawn *s = arg;

	if (!s->exited && ready_has_prefix(line, len)) {
		size_t n = len < READY_LINE_MAX ? len : READY_LINE_MAX;
		memcpy(s->ready_buf, line, n);
		s->ready_buf[n] = '\0';
		s->ready_len = n;
		s->ready_cut = cut || n < len;
		s->have_ready = true;
		return 1;
	}
	logtail_keep(&s->tail, line, len, cut);
	if (s->opts.progress && !s->exited && !s->cancelled) {
		char shown[LOGTAIL_LINE_MAX + 1];
		memcpy(shown, line, len);
		shown[len] = '\0';
		s->in_progress = true;
		s->opts.progress(shown, s->opts.arg);
		s->in_progress = false;
	}
	return s->cancelled; /* stop reading: the spawn is being dropped */
}

/* Everything the file holds beyond what was read; stops at the ready line
 * (whatever follows it belongs to the running pod, not to us). */
static void read_log(struct insomnia_spawn *s)
{
	char buf[65536];
	ssize_t n;

	while (!s->have_ready && !s->cancelled &&
	       (n = fd_read_some(s->log_fd, buf, sizeof buf)) > 0)
		logtail_feed(&s->tail, buf, (size_t)n, on_line, s);
}

static void handle_ready(struct insomnia_spawn *s)
{
	struct ready_line rl;
	struct insomnia_error e;

	if (s->ready_cut) {
		fail(s, INSOMNIA_ERR_MALFORMED_READY,
		     "ready line is longer than %d bytes", READY_LINE_MAX);
		return;
	}
	if (ready_parse(s->ready_buf, s->ready_len, &rl, &e) < 0) {
		fail(s, INSOMNIA_ERR_MALFORMED_READY, "%s: \"%s\"", e.message,
		     s->ready_buf);
		return;
	}
	if (strcmp(rl.name, s->name) != 0) {
		fail(s, INSOMNIA_ERR_NAME_MISMATCH,
		     "pod announced itself as \"%s\", not \"%s\"", rl.name,
		     s->name);
		return;
	}
	/* a full accept queue counts as listening (docs/handshake.md) */
	if (unixsock_check_listening(rl.socket, &e) < 0) {
		fail(s, INSOMNIA_ERR_SOCKET_REFUSED,
		     "pod announced ready but %s", e.message);
		return;
	}
	succeed(s, rl.socket, false);
}

static void cancel_now(struct insomnia_spawn *s);

/* The only place progress callbacks run: a cancel from one of them takes
 * effect here, once the callback has returned. */
static void on_log_event(struct insomnia_spawn *s)
{
	read_log(s);
	if (s->cancelled) {
		cancel_now(s);
		return;
	}
	if (s->have_ready)
		handle_ready(s);
}

/* ---- exit of the pod ------------------------------------------------ */

static void pod_died_before_ready(struct insomnia_spawn *s)
{
	int st = s->wait_status;
	const char *last;

	read_log(s); /* what it printed before dying is the explanation */
	logtail_keep_partial(&s->tail);
	last = s->tail.kept_count
	           ? s->tail.kept[(s->tail.kept_count - 1) % LOGTAIL_KEEP]
	           : "(no output)";
	if (WIFSIGNALED(st)) {
		fail_prepare(s, INSOMNIA_ERR_EXITED_EARLY,
		             "pod was killed by signal %d (%s) before becoming "
		             "ready: %s",
		             WTERMSIG(st), strsignal(WTERMSIG(st)), last);
		s->err.term_signal = WTERMSIG(st);
	} else {
		fail_prepare(s, INSOMNIA_ERR_EXITED_EARLY,
		             "pod exited before becoming ready (exit %d): %s",
		             WEXITSTATUS(st), last);
		s->err.exit_status = WEXITSTATUS(st);
	}
	abort_spawn(s);
}

static void pod_exited(struct insomnia_spawn *s, int status)
{
	s->exited = true;
	s->wait_status = status;
	if (s->phase == PHASE_STOPPING) {
		grace_expired(-1, 0, s);
		return;
	}
	pod_died_before_ready(s);
}

static struct launch_spec spec_of(struct insomnia_spawn *s)
{
	return (struct launch_spec){s->podcmd, NULL, -1, s->cwd, NULL};
}

/* The monitor cannot collect the pod's status any more: stop the pod. */
static void monitor_failed(struct insomnia_spawn *s,
                           const struct launch_msg *msg)
{
	struct launch_spec spec = spec_of(s);
	struct insomnia_error e;

	launch_failed(&spec, msg, &e);
	if (s->phase == PHASE_STOPPING)
		return; /* its end of stream follows, which ends the grace */
	fail(s, e.kind, "%s", e.message);
}

/* The monitor's reports ended without the pod's exit: the monitor was
 * killed or failed.  The pod may well live on: it is killed through our
 * pidfd (kill_and_reap), never assumed dead. */
static void monitor_gone(struct insomnia_spawn *s)
{
	if (s->phase == PHASE_STOPPING) {
		grace_expired(-1, 0, s);
		return;
	}
	fail(s, INSOMNIA_ERR_INTERNAL,
	     "the launch monitor exited unexpectedly");
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_spawn *s = arg;
	struct launch_msg msg;
	bool grew = false;
	int rc;

	while ((rc = launch_read_msg(&s->launch, &msg)) > 0) {
		if (msg.type == LAUNCH_MSG_EXITED) {
			pod_exited(s, msg.value);
			return;
		}
		if (msg.type == LAUNCH_MSG_FAILED) {
			monitor_failed(s, &msg);
			return;
		}
		grew |= msg.type == LAUNCH_MSG_LOG;
	}
	if (rc == 0) {
		monitor_gone(s);
		return;
	}
	if (grew && s->phase == PHASE_READY)
		on_log_event(s);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_spawn *s = arg;
	int ms = s->opts.timeout_ms;

	if (s->phase == PHASE_LOCK) {
		fail(s, INSOMNIA_ERR_TIMEOUT,
		     "another client kept starting pod %s for %d ms", s->name,
		     ms);
		return;
	}
	fail(s, INSOMNIA_ERR_TIMEOUT,
	     "pod %s did not become ready within %d ms", s->name, ms);
}

/* ---- launching ------------------------------------------------------ */

/* stderr.log, opened once as a regular file (a FIFO of that name would
 * block a writer forever: it is refused, named); the pod's descriptor is
 * reopened from ours, so both are the same file whatever happens to the
 * name meanwhile. */
static int open_log(struct insomnia_spawn *s, int *write_fd,
                    struct insomnia_error *err)
{
	char self[64];

	s->log_fd =
	    fd_open_regular_at(s->dir_fd, RUNDIR_STDERR,
	                       O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
	/* truncating is safe: we hold the spawn lock and the pod's lock was
	 * free, so no live pod writes this file */
	if (s->log_fd < 0 || ftruncate(s->log_fd, 0) < 0 ||
	    fchmod(s->log_fd, 0600) < 0) /* whatever the caller's umask */
		return error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
		                 "cannot create %s/%s: %s", s->dir_path,
		                 RUNDIR_STDERR, fd_strerror(errno));
	snprintf(self, sizeof self, "/proc/self/fd/%d", s->log_fd);
	*write_fd = open(self, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
	if (*write_fd < 0)
		return error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		                       "cannot reopen %s/%s", s->dir_path,
		                       RUNDIR_STDERR);
	return 0;
}

/* A watch left from waiting for the spawn lock has no use any more. */
static void drop_lock_watch(struct insomnia_spawn *s)
{
	if (s->watch >= 0) {
		inotify_rm_watch(s->inotify_fd, s->watch);
		s->watch = -1;
	}
}

static int build_argv(struct insomnia_spawn *s, const char **argv)
{
	int n = 0;

	argv[n++] = s->podcmd;
	argv[n++] = "--overlay";
	argv[n++] = s->overlay ? s->overlay : "";
	if (s->session_id) {
		argv[n++] = "--session";
		argv[n++] = s->session_id;
	}
	if (s->manifest) {
		argv[n++] = "--manifest";
		argv[n++] = s->manifest;
	}
	argv[n] = NULL;
	return n;
}

/* The pod's name and dir, set in its environment (podcmd.h). */
struct pod_env {
	char name[sizeof PODCMD_ENV_NAME "=" + INSOMNIA_NAME_MAX];
	char dir[sizeof PODCMD_ENV_DIR "=" + INSOMNIA_PATH_MAX];
	char *env[3];
};

static void build_env(struct insomnia_spawn *s, struct pod_env *pe)
{
	snprintf(pe->name, sizeof pe->name, "%s=%s", PODCMD_ENV_NAME, s->name);
	snprintf(pe->dir, sizeof pe->dir, "%s=%s", PODCMD_ENV_DIR, s->dir_path);
	pe->env[0] = pe->name;
	pe->env[1] = pe->dir;
	pe->env[2] = NULL;
}

static void launch_pod(struct insomnia_spawn *s)
{
	const char *argv[8];
	struct pod_env pe;
	struct launch_spec spec = {s->podcmd, (char *const *)argv, -1, s->cwd,
	                           pe.env};
	struct insomnia_error e;
	int rc;

	build_argv(s, argv);
	build_env(s, &pe);
	drop_lock_watch(s);
	if (open_log(s, &spec.stderr_fd, &e) < 0) {
		if (spec.stderr_fd >= 0)
			close(spec.stderr_fd);
		fail_with(s, &e);
		return;
	}
	rc = launch_start(&spec, &s->launch, &e);
	close(spec.stderr_fd);
	if (rc < 0) {
		/* a pod may have run before the monitor gave up on it (and
		 * killed it): what it left goes as after any failure */
		remove_leftovers(s, false);
		fail_with(s, &e);
		return;
	}
	s->launched = true;
	s->pod = s->launch.pod;
	s->phase = PHASE_READY;
	s->ev_report = event_new(s->base, s->launch.report_fd,
	                         EV_READ | EV_PERSIST, on_report, s);
	if (!s->ev_report || event_add(s->ev_report, NULL) < 0) {
		fail(s, INSOMNIA_ERR_INTERNAL,
		     "cannot watch the launch monitor");
		return;
	}
	/* a pod we cannot watch is not handed over (stopping it goes
	 * through the monitor); ESRCH: it died already, its exit report
	 * follows */
	s->pidfd = procsig_pidfd_open(s->pod);
	if (s->pidfd < 0 && errno != ESRCH) {
		fail(s, INSOMNIA_ERR_LAUNCH_FAILED,
		     "cannot watch pod %s: pidfd_open: %s", s->name,
		     strerror(errno));
		return;
	}
	/* what the pod wrote before the first report was read */
	on_log_event(s);
}

/* A live pod: with reuse it is the answer, else the name is taken. */
static void found_live(struct insomnia_spawn *s)
{
	char socket[INSOMNIA_PATH_MAX];
	struct insomnia_error e;
	pid_t pid = 0;

	rundir_read_pid(s->dir_fd, &pid);
	if (!s->opts.reuse) {
		fail(s, INSOMNIA_ERR_ALREADY_RUNNING,
		     "pod %s is already running (pid %ld)", s->name, (long)pid);
		return;
	}
	if (paths_join(socket, sizeof socket, s->dir_path, RUNDIR_SOCK, &e) <
	        0 ||
	    unixsock_check_listening(socket, &e) < 0) {
		fail(s, INSOMNIA_ERR_SOCKET_REFUSED,
		     "pod %s is running (pid %ld) but %s", s->name, (long)pid,
		     e.message);
		return;
	}
	succeed(s, socket, true);
}

/* We hold the spawn lock: decide between reuse, refusal and launch. */
static void locked(struct insomnia_spawn *s)
{
	struct insomnia_error e;
	int live = rundir_is_live(s->dir_fd, &e);

	if (live < 0) {
		fail_with(s, &e);
		return;
	}
	if (live) {
		found_live(s);
		return;
	}
	remove_leftovers(s, true); /* a crashed pod's pid and state lie */
	launch_pod(s);
}

/* ---- the spawn lock ------------------------------------------------- */

static int open_dir(struct insomnia_spawn *s, struct insomnia_error *err)
{
	if (s->watch >= 0) { /* it watched the old inode */
		inotify_rm_watch(s->inotify_fd, s->watch);
		s->watch = -1;
	}
	close_fd(&s->dir_fd);
	/* retries when a reap removes the dir between mkdir and open */
	s->dir_fd =
	    rundir_open_dir(s->root_fd, s->name, s->dir_path, true, err);
	return s->dir_fd < 0 ? -1 : 0;
}

static void on_inotify(evutil_socket_t fd, short what, void *arg);

/* The instance for waiting on another client's spawn lock, taken from
 * the cache on first need: an uncontended spawn never has one. */
static int lock_wait_inotify(struct insomnia_spawn *s)
{
	if (s->inotify_fd >= 0)
		return 0;
	s->inotify_fd = inotify_cache_get();
	if (s->inotify_fd < 0)
		return -1;
	s->ev_inotify = event_new(s->base, s->inotify_fd, EV_READ | EV_PERSIST,
	                          on_inotify, s);
	if (!s->ev_inotify || event_add(s->ev_inotify, NULL) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* Try the lock; when another client holds it, wait for it to let go: it
 * touches the dir after unlocking, which inotify reports to us. */
static void try_lock(struct insomnia_spawn *s)
{
	int rc = rundir_spawn_lock_try(s->dir_fd);
	char path[64];
	struct insomnia_error e;

	if (rc == 0) {
		/* reaped, and made anew, while we waited on it? */
		if (!fd_linked_at(s->dir_fd, s->root_fd, s->name)) {
			rundir_spawn_unlock(s->dir_fd);
			if (open_dir(s, &e) < 0) {
				fail_with(s, &e);
				return;
			}
			try_lock(s);
			return;
		}
		s->locked = true;
		locked(s);
		return;
	}
	if (rc < 0) {
		fail(s, INSOMNIA_ERR_RUNTIME_DIR, "cannot lock %s: %s",
		     s->dir_path, strerror(errno));
		return;
	}
	if (!fd_linked_at(s->dir_fd, s->root_fd, s->name)) {
		/* reaped under the holder's lock: no event will ever come
		 * from this inode again, so start over on a fresh dir */
		if (open_dir(s, &e) < 0) {
			fail_with(s, &e);
			return;
		}
		try_lock(s);
		return;
	}
	if (s->watch >= 0)
		return; /* already waiting */
	snprintf(path, sizeof path, "/proc/self/fd/%d", s->dir_fd);
	if (lock_wait_inotify(s) == 0)
		s->watch = inotify_add_watch(s->inotify_fd, path,
		                             IN_ATTRIB | IN_CLOSE |
		                                 IN_DELETE_SELF | IN_ONLYDIR);
	if (s->watch < 0) {
		fail(s, INSOMNIA_ERR_RUNTIME_DIR, "cannot watch %s: %s",
		     s->dir_path, strerror(errno));
		return;
	}
	/* it may have been released between the try and the watch */
	if (rundir_spawn_lock_try(s->dir_fd) == 0) {
		rundir_spawn_unlock(s->dir_fd);
		try_lock(s);
		return;
	}
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_spawn *s = arg;
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	while (fd_read_some(s->inotify_fd, buf, sizeof buf) > 0)
		;
	if (s->phase != PHASE_LOCK)
		return; /* a late event of the lock wait */
	drop_lock_watch(s);
	try_lock(s);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	try_lock(arg);
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
static int prepare(struct insomnia_spawn *s,
                   const struct insomnia_spawn_options *opts,
                   struct insomnia_error *err)
{
	if (!opts->name)
		return error_set(err, INSOMNIA_ERR_BAD_NAME,
		                 "no pod name given");
	if (insomnia_name_check(opts->name, err) < 0 ||
	    (opts->overlay && podcmd_check_overlay(strlen(opts->overlay),
	                                           "the overlay", err) < 0))
		return -1;
	if (copy_options(s, opts) < 0)
		return error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
	if (podcmd_resolve(opts->pod_command, s->podcmd, sizeof s->podcmd,
	                   err) < 0)
		return -1;
	if (opts->cwd && !opts->cwd[0])
		return error_set(
		    err, INSOMNIA_ERR_LAUNCH_FAILED,
		    "cannot use working directory \"\": empty path");
	s->root_fd =
	    rundir_open_root(true, s->root_path, sizeof s->root_path, err);
	if (s->root_fd < 0)
		return -1;
	if (paths_join(s->dir_path, sizeof s->dir_path, s->root_path, s->name,
	               err) < 0 ||
	    open_dir(s, err) < 0)
		return -1;
	return 0;
}

static int add_events(struct insomnia_spawn *s)
{
	int ms = s->opts.timeout_ms;
	struct timeval deadline = {ms / 1000, (ms % 1000) * 1000};
	struct timeval now = {0, 0};

	s->ev_kick = evtimer_new(s->base, on_kick, s);
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
	struct insomnia_spawn *s = calloc(1, sizeof *s);

	if (!s) {
		error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
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
		error_set(err, INSOMNIA_ERR_INTERNAL, "cannot register events");
		goto fail;
	}
	return s;
fail:
	spawn_free(s);
	return NULL;
}

static void cancel_now(struct insomnia_spawn *s)
{
	if (s->launched) {
		kill_and_reap(s);
		remove_leftovers(s, false);
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
	cancel_now(s);
}

/* ---- the blocking spawn: the same machine in a private loop ---------- */

struct blocking {
	const struct insomnia_spawn_options
	    *opts; /* the caller's, for progress */
	struct insomnia_spawn_result *res;
	struct insomnia_error *err;
	int rc;
};

static void blocking_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct blocking *b = arg;

	*b->res = *res;
	b->rc = 0;
}

static void blocking_failed(const struct insomnia_error *err, void *arg)
{
	struct blocking *b = arg;

	if (b->err)
		*b->err = *err;
	b->rc = -1;
}

static void relay_progress(const char *line, void *arg)
{
	struct blocking *b = arg;

	b->opts->progress(line, b->opts->arg);
}

int insomnia_spawn(const struct insomnia_spawn_options *opts,
                   struct insomnia_spawn_result *res,
                   struct insomnia_error *err)
{
	struct blocking b = {opts, res, err, -1};
	struct insomnia_spawn_options inner = *opts;
	struct event_base *base = event_base_new();
	struct insomnia_spawn *s;

	if (!base)
		return error_set(err, INSOMNIA_ERR_INTERNAL,
		                 "cannot create an event loop");
	/* all callbacks get one arg: b carries the caller's progress and
	 * our result slots */
	inner.progress = opts->progress ? relay_progress : NULL;
	inner.arg = &b;
	s = insomnia_spawn_start(base, &inner, blocking_ready, blocking_failed,
	                         err);
	if (s)
		event_base_dispatch(base);
	event_base_free(base);
	return s ? b.rc : -1;
}
