/* spawnfail.c: after a failure, the pod's group gets TERM, a grace, then
 * KILL (podkill.h: by the safest handle held), the pod is reaped within a
 * bounded wait (as events of the loop; a cancel's is synchronous), and what it
 * left is removed before the error goes out. */
#include "podspawn.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "podkill.h"
#include "procsig.h"
#include "rundir.h"
#include "statefile.h"

/* How long a SIGKILLed pod has to exit: only a process stuck in the
 * kernel takes longer, and a spawn must end all the same. */
#define SPAWN_KILL_WAIT_MS 5000

/* The failed start as state.json says it (statefile.h): state
 * "failed", the pod's pid, and how it ended when the monitor said. */
static void failure_record(const struct insomnia_spawn *s, struct statefile *sf)
{
	int st = s->wait_status;

	memset(sf, 0, sizeof *sf);
	sf->known = STATEFILE_NAME | STATEFILE_STATE;
	snprintf(sf->name, sizeof sf->name, "%s", s->name);
	snprintf(sf->state, sizeof sf->state, "%s", STATEFILE_FAILED);
	if (s->pod > 0) {
		sf->pid = s->pod;
		sf->known |= STATEFILE_PID;
	}
	if (s->have_status && WIFEXITED(st)) {
		sf->exit_status = WEXITSTATUS(st);
		sf->known |= STATEFILE_EXIT_STATUS;
	} else if (s->have_status && WIFSIGNALED(st)) {
		sf->signal = WTERMSIG(st);
		sf->known |= STATEFILE_SIGNAL;
	}
}

/* Remove what the dead pod published and leave the record of its
 * failure in its place, holding its `lock` meanwhile (so no pod starts
 * on the dir between the two) and keeping it: `podctl ls` then tells a
 * failed start from a clean stop and a crash.  A pod that outlived
 * SIGKILL still holds `lock`: then nothing is touched. */
static void record_failure(struct insomnia_spawn *s)
{
	struct rundir_removal how = {RUNDIR_REMOVE_STATE, -1, NULL, NULL, NULL};
	int lockfd = rundir_hold_dead(s->dir_fd);
	struct statefile sf;

	if (lockfd < 0)
		return;
	rundir_remove_held(s->dir_fd, &how);
	failure_record(s, &sf);
	/* best effort: the error the caller gets is the spawn's */
	statefile_write(s->dir_fd, &sf, NULL);
	close(lockfd);
}

void spawn_report_failure(struct insomnia_spawn *s)
{
	if (s->log_fd >= 0 && !s->have_ready) {
		/* the pod is dead: its last words, even a line it never
		 * finished, explain the failure */
		s->exited = true;
		spawn_read_log(s);
		logtail_keep_partial(&s->tail);
	}
	if (s->attempted) /* the pod is dead and reaped by now */
		record_failure(s);
	logtail_format(&s->tail, s->err.detail, sizeof s->err.detail);
	spawn_finish_error(s);
}

/* By the safest handle we hold (podkill.h): the monitor while it has
 * not reported the pod's exit, else our pidfd, else what is left of the
 * group once the pod is dead. */
static void signal_group(struct insomnia_spawn *s, int sig)
{
	struct podkill k = {s->pod, s->pidfd, &s->launch, s->exited};

	if (s->pod > 0) /* none before the launch: nothing to signal */
		podkill_signal(&k, sig);
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

/* KILL the whole group (stragglers included) and wait, blocking, for the
 * pod's exit report, which after SIGKILL comes at once; never longer than
 * SPAWN_KILL_WAIT_MS in all (a process stuck in the kernel, log reports
 * that keep coming), so a spawn always ends: the error then says the pod
 * may be left. */
void spawn_kill_and_reap(struct insomnia_spawn *s)
{
	int64_t end = deadline_in(SPAWN_KILL_WAIT_MS);
	struct launch_msg msg;
	int rc;

	signal_group(s, SIGKILL);
	while (!s->exited) {
		rc = launch_wait_msg(&s->launch, &msg, deadline_left_ms(end));
		if (rc > 0) {
			s->exited = msg.type == LAUNCH_MSG_EXITED;
			if (s->exited) {
				s->wait_status = msg.value;
				s->have_status = true;
			}
			continue;
		}
		if (rc == 0) /* the monitor's reports ended without an exit */
			kill_by_pidfd(s, deadline_left_ms(end));
		break;
	}
	if (!s->exited)
		note_survivor(s);
}

/* ---- after KILL, without holding the loop ---------------------------- */

/* The pod is dead (or outlived the bound): report. */
static void kill_done(struct insomnia_spawn *s)
{
	spawn_free_event(&s->ev_grace);
	spawn_free_event(&s->ev_pidfd);
	if (!s->exited)
		note_survivor(s);
	spawn_report_failure(s);
}

static void kill_wait_expired(evutil_socket_t fd, short what, void *arg)
{
	kill_done(arg);
}

static void pidfd_exited(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_spawn *s = arg;

	s->exited = true;
	kill_done(s);
}

void spawn_kill_exited(struct insomnia_spawn *s)
{
	kill_done(s);
}

/* The monitor's reports ended without the pod's exit: KILL by our pidfd
 * and wait for it to be readable, within the same bound. */
void spawn_kill_monitor_gone(struct insomnia_spawn *s)
{
	spawn_free_event(&s->ev_report); /* its end of stream stays ready */
	if (s->pidfd < 0) {              /* none only when the pod was gone */
		s->exited = true;
		kill_done(s);
		return;
	}
	procsig_send(s->pidfd, s->pod, SIGKILL, NULL);
	s->ev_pidfd = event_new(s->base, s->pidfd, EV_READ, pidfd_exited, s);
	if (!s->ev_pidfd || event_add(s->ev_pidfd, NULL) < 0)
		kill_done(s); /* cannot wait: said as a possible survivor */
}

/* KILL the group, then wait for the pod's exit as events of the loop:
 * the monitor's exit report (on_report, PHASE_KILLING), or our pidfd
 * once the monitor is gone, and a SPAWN_KILL_WAIT_MS timer, so a spawn
 * always ends, its error then saying the pod may be left.  Without the
 * events (out of memory, or no report event), the bounded synchronous
 * wait of spawn_kill_and_reap. */
void spawn_end_grace(struct insomnia_spawn *s)
{
	struct timeval wait = {SPAWN_KILL_WAIT_MS / 1000,
	                       (SPAWN_KILL_WAIT_MS % 1000) * 1000};

	spawn_free_event(&s->ev_grace);
	s->phase = PHASE_KILLING;
	if (s->exited || !s->ev_report) {
		spawn_kill_and_reap(s);
		spawn_report_failure(s);
		return;
	}
	signal_group(s, SIGKILL);
	s->ev_grace = evtimer_new(s->base, kill_wait_expired, s);
	if (!s->ev_grace || evtimer_add(s->ev_grace, &wait) < 0) {
		spawn_kill_and_reap(s);
		spawn_report_failure(s);
	}
}

static void grace_expired(evutil_socket_t fd, short what, void *arg)
{
	spawn_end_grace(arg);
}

/* TERM to the group, then KILL after the grace (or as soon as the pod has
 * exited: what is left of its group gets no more grace). */
void spawn_stop_pod(struct insomnia_spawn *s)
{
	int ms = s->opts.grace_ms > 0 ? s->opts.grace_ms
	                              : INSOMNIA_SPAWN_DEFAULT_GRACE_MS;
	struct timeval grace = {ms / 1000, (ms % 1000) * 1000};

	s->phase = PHASE_STOPPING;
	spawn_free_event(&s->ev_inotify);
	spawn_free_event(&s->ev_deadline);
	spawn_free_event(&s->ev_more);
	if (s->exited || s->pod <= 0) {
		spawn_end_grace(s);
		return;
	}
	signal_group(s, SIGTERM);
	s->ev_grace = evtimer_new(s->base, grace_expired, s);
	if (!s->ev_grace || evtimer_add(s->ev_grace, &grace) < 0)
		spawn_end_grace(s);
}
