/* spawnlaunch.c: starting the pod through the launch monitor
 * (launch.h), and the monitor's reports: the pod's exit, the monitor's
 * own failure, "stderr.log grew". */
#include "podspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fdio.h"
#include "podcmd.h"
#include "procsig.h"
#include "rundir.h"

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
		return insomnia_error_set(
		    err, INSOMNIA_ERR_RUNTIME_DIR, "cannot create %s/%s: %s",
		    s->dir_path, RUNDIR_STDERR, fd_strerror(errno));
	snprintf(self, sizeof self, "/proc/self/fd/%d", s->log_fd);
	*write_fd = open(self, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
	if (*write_fd < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR,
		                                errno, "cannot reopen %s/%s",
		                                s->dir_path, RUNDIR_STDERR);
	return 0;
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

/* ---- the monitor's reports ------------------------------------------ */

static void pod_died_before_ready(struct insomnia_spawn *s)
{
	int st = s->wait_status;
	const char *last;

	spawn_read_log(s); /* what it printed before dying is the explanation */
	logtail_keep_partial(&s->tail);
	last = s->tail.kept_count
	           ? s->tail.kept[(s->tail.kept_count - 1) % LOGTAIL_KEEP]
	           : "(no output)";
	if (WIFSIGNALED(st)) {
		spawn_set_error(
		    s, INSOMNIA_ERR_EXITED_EARLY,
		    "pod was killed by signal %d (%s) before becoming "
		    "ready: %s",
		    WTERMSIG(st), strsignal(WTERMSIG(st)), last);
		s->err.term_signal = WTERMSIG(st);
	} else {
		/* one exit code per failure: a pod's exit 2 is a config
		 * error, as podctl's own check of the overlay says */
		spawn_set_error(
		    s, error_kind_of_pod_exit(WEXITSTATUS(st)),
		    "pod exited before becoming ready (exit %d): %s",
		    WEXITSTATUS(st), last);
		s->err.exit_status = WEXITSTATUS(st);
	}
	spawn_abort(s);
}

static void pod_exited(struct insomnia_spawn *s, int status)
{
	s->exited = true;
	s->wait_status = status;
	s->have_status = true;
	if (s->phase == PHASE_KILLING) {
		spawn_kill_exited(s);
		return;
	}
	if (s->phase == PHASE_STOPPING) {
		spawn_end_grace(s);
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
	if (s->phase == PHASE_STOPPING || s->phase == PHASE_KILLING)
		return; /* its end of stream follows, which ends the grace */
	spawn_fail(s, e.kind, "%s", e.message);
}

/* The monitor's reports ended without the pod's exit: the monitor was
 * killed or failed.  The pod may well live on: it is killed through our
 * pidfd (kill_and_reap), never assumed dead. */
static void monitor_gone(struct insomnia_spawn *s)
{
	if (s->phase == PHASE_KILLING) {
		spawn_kill_monitor_gone(s);
		return;
	}
	if (s->phase == PHASE_STOPPING) {
		spawn_end_grace(s);
		return;
	}
	spawn_fail(s, INSOMNIA_ERR_INTERNAL,
	           "the launch monitor exited unexpectedly");
}

/* Reports read per event: the rest waits for the loop's next turn (the
 * event is level-triggered), so a stream of "it grew" cannot hold it. */
#define REPORTS_PER_EVENT 64

static void on_report(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_spawn *s = arg;
	struct launch_msg msg;
	bool grew = false;
	int rc = -1;

	for (int i = 0; i < REPORTS_PER_EVENT &&
	                (rc = launch_read_msg(&s->launch, &msg)) > 0;
	     i++) {
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
		spawn_on_log_event(s);
}

/* ---- launching ------------------------------------------------------ */

void spawn_launch(struct insomnia_spawn *s)
{
	const char *argv[8];
	struct pod_env pe;
	struct launch_spec spec = {s->podcmd, (char *const *)argv, -1, s->cwd,
	                           pe.env};
	struct insomnia_error e;
	int rc;

	build_argv(s, argv);
	build_env(s, &pe);
	spawn_drop_lock_watch(s);
	if (open_log(s, &spec.stderr_fd, &e) < 0) {
		if (spec.stderr_fd >= 0)
			close(spec.stderr_fd);
		spawn_fail_with(s, &e);
		return;
	}
	s->attempted = true;
	rc = launch_start(&spec, &s->launch, &e);
	close(spec.stderr_fd);
	if (rc < 0) {
		/* a pod may have run before the monitor gave up on it (and
		 * killed it): what it left goes as after any failure, and
		 * the failure is recorded (spawn_report_failure) */
		spawn_fail_with(s, &e);
		return;
	}
	s->launched = true;
	s->pod = s->launch.pod;
	s->phase = PHASE_READY;
	s->ev_report = event_new(s->base, s->launch.report_fd,
	                         EV_READ | EV_PERSIST, on_report, s);
	if (!s->ev_report || event_add(s->ev_report, NULL) < 0) {
		spawn_fail(s, INSOMNIA_ERR_INTERNAL,
		           "cannot watch the launch monitor");
		return;
	}
	/* a pod we cannot watch is not handed over (stopping it goes
	 * through the monitor); ESRCH: it died already, its exit report
	 * follows */
	s->pidfd = procsig_pidfd_open(s->pod);
	if (s->pidfd < 0 && errno != ESRCH) {
		spawn_fail(s, INSOMNIA_ERR_LAUNCH_FAILED,
		           "cannot watch pod %s: pidfd_open: %s", s->name,
		           strerror(errno));
		return;
	}
	/* what the pod wrote before the first report was read */
	spawn_on_log_event(s);
}
