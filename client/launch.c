/* launch.c: the monitor process and the pod's exec. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"

extern char **environ;

/* Everything the monitor needs is prepared before fork(), because the
 * client may be multi-threaded and the monitor may then only make
 * async-signal-safe calls. */
struct spawn_plan {
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
};

static int plan_init(struct spawn_plan *plan, const struct launch_spec *spec)
{
	sigset_t none, all;
	int rc;

	sigemptyset(&none);
	sigfillset(&all);
	if ((rc = posix_spawn_file_actions_init(&plan->actions)))
		return rc;
	if ((rc = posix_spawnattr_init(&plan->attr))) {
		posix_spawn_file_actions_destroy(&plan->actions);
		return rc;
	}
	rc = posix_spawn_file_actions_addopen(&plan->actions, 0, "/dev/null",
	                                      O_RDONLY, 0);
	rc = rc ? rc
	        : posix_spawn_file_actions_addopen(&plan->actions, 1,
	                                           "/dev/null", O_WRONLY, 0);
	rc = rc ? rc
	        : posix_spawn_file_actions_adddup2(&plan->actions,
	                                           spec->stderr_fd, 2);
	rc = rc ? rc
	        : posix_spawn_file_actions_addclosefrom_np(&plan->actions, 3);
	if (!rc && spec->cwd)
		rc = posix_spawn_file_actions_addchdir_np(&plan->actions,
		                                          spec->cwd);
	/* the pod starts clean whatever the client did with its signals */
	rc = rc ? rc
	        : posix_spawnattr_setflags(
	              &plan->attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
	                               POSIX_SPAWN_SETSIGDEF);
	rc = rc ? rc : posix_spawnattr_setsigmask(&plan->attr, &none);
	rc = rc ? rc : posix_spawnattr_setsigdefault(&plan->attr, &all);
	if (rc) {
		posix_spawn_file_actions_destroy(&plan->actions);
		posix_spawnattr_destroy(&plan->attr);
	}
	return rc;
}

static void plan_destroy(struct spawn_plan *plan)
{
	posix_spawn_file_actions_destroy(&plan->actions);
	posix_spawnattr_destroy(&plan->attr);
}

static void report(int fd, int32_t type, int32_t value)
{
	struct launch_msg msg = {type, value};
	/* 8 bytes < PIPE_BUF: one atomic write */
	(void)!write(fd, &msg, sizeof msg);
}

/* The classic wait status (WIFEXITED and friends work on it), rebuilt from
 * what waitid() reports. */
static int32_t wait_status(const siginfo_t *info)
{
	if (info->si_code == CLD_EXITED)
		return (info->si_status & 0xff) << 8;
	return (info->si_status & 0x7f) |
	       (info->si_code == CLD_DUMPED ? 0x80 : 0);
}

/* Wait for the pod's exit or for the client's release, whichever first. */
static void monitor_watch(pid_t pod, int report_fd, int release_fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pod, 0);
	struct pollfd fds[2] = {{pidfd, POLLIN, 0}, {release_fd, POLLIN, 0}};
	siginfo_t info;

	if (pidfd < 0)
		_exit(1);
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (fds[1].revents) /* released, or the client died */
			_exit(0);
		if (fds[0].revents)
			break;
	}
	info.si_pid = 0;
	if (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED) == 0)
		report(report_fd, LAUNCH_MSG_EXITED, wait_status(&info));
	_exit(0);
}

static void close_all_except(int *keep, int n)
{
	unsigned lo = 3;

	for (int i = 0; i < n; i++) /* tiny insertion sort */
		for (int j = i; j > 0 && keep[j] < keep[j - 1]; j--) {
			int t = keep[j];
			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		if ((unsigned)keep[i] + 1 > lo)
			lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0U, 0);
}

static void monitor_main(const struct launch_spec *spec,
                         struct spawn_plan *plan, int report_fd, int release_fd)
{
	pid_t pod;
	int rc;

	int keep[3] = {report_fd, release_fd, spec->stderr_fd};

	/* The monitor must not keep the client's descriptors (locks above
	 * all) alive: only its pipes and the pod's stderr stay. */
	close_all_except(keep, 3);
	rc = posix_spawn(&pod, spec->path, &plan->actions, &plan->attr,
	                 spec->argv, environ);
	if (rc) {
		report(report_fd, LAUNCH_MSG_EXEC_FAILED, rc);
		_exit(0);
	}
	report(report_fd, LAUNCH_MSG_PID, pod);
	monitor_watch(pod, report_fd, release_fd);
}

static int first_report(const struct launch_spec *spec, struct launch *l,
                        struct error *err)
{
	struct launch_msg msg;
	int rc = launch_wait_msg(l, &msg);

	if (rc > 0 && msg.type == LAUNCH_MSG_PID) {
		l->pod = msg.value;
		return 0;
	}
	if (rc > 0 && msg.type == LAUNCH_MSG_EXEC_FAILED)
		error_set_errno(err, ERR_LAUNCH_FAILED, msg.value,
		                "cannot execute %s", spec->path);
	else
		error_set(err, ERR_LAUNCH_FAILED,
		          "the launch monitor for %s died", spec->path);
	launch_release(l);
	return -1;
}

int launch_start(const struct launch_spec *spec, struct launch *out,
                 struct error *err)
{
	struct spawn_plan plan;
	int report[2] = {-1, -1}, release[2] = {-1, -1};
	int rc;

	if ((rc = plan_init(&plan, spec)))
		return error_set_errno(err, ERR_LAUNCH_FAILED, rc,
		                       "cannot prepare to start %s",
		                       spec->path);
	if (pipe2(report, O_CLOEXEC) < 0 || pipe2(release, O_CLOEXEC) < 0) {
		error_set_errno(err, ERR_LAUNCH_FAILED, errno,
		                "cannot create pipes");
		goto fail;
	}
	out->monitor = fork();
	if (out->monitor < 0) {
		error_set_errno(err, ERR_LAUNCH_FAILED, errno, "cannot fork");
		goto fail;
	}
	if (out->monitor == 0)
		monitor_main(spec, &plan, report[1], release[0]);
	close(report[1]);
	close(release[0]);
	plan_destroy(&plan);
	fcntl(report[0], F_SETFL, O_NONBLOCK);
	out->report_fd = report[0];
	out->release_fd = release[1];
	return first_report(spec, out, err);
fail:
	for (int i = 0; i < 2; i++) {
		if (report[i] >= 0)
			close(report[i]);
		if (release[i] >= 0)
			close(release[i]);
	}
	plan_destroy(&plan);
	return -1;
}

int launch_read_msg(const struct launch *l, struct launch_msg *msg)
{
	ssize_t n = fd_read_some(l->report_fd, msg, sizeof *msg);

	if (n == (ssize_t)sizeof *msg)
		return 1;
	if (n == 0)
		return 0;
	return -1; /* EAGAIN; a short read cannot happen below PIPE_BUF */
}

int launch_wait_msg(const struct launch *l, struct launch_msg *msg)
{
	struct pollfd pfd = {l->report_fd, POLLIN, 0};

	for (;;) {
		int rc = launch_read_msg(l, msg);
		if (rc >= 0 || errno != EAGAIN)
			return rc;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -1;
	}
}

void launch_release(struct launch *l)
{
	if (l->release_fd >= 0) {
		close(l->release_fd);
		l->release_fd = -1;
	}
	if (l->report_fd >= 0) {
		close(l->report_fd);
		l->report_fd = -1;
	}
	if (l->monitor > 0) {
		/* the monitor exits at once on release; a caller that reaps
		 * every child itself may have taken it already (ECHILD) */
		while (waitpid(l->monitor, NULL, 0) < 0 && errno == EINTR)
			;
		l->monitor = 0;
	}
}
