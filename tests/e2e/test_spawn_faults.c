/* End-to-end: a pod the client cannot watch (pidfd_open failing right
 * after the launch: ENOMEM, ENFILE, EMFILE; injected here by interposing
 * syscall(2)) is not handed over but stopped, through the launch monitor,
 * and the spawn ends within its grace and a bounded kill wait. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

TestSuite(spawn_faults, .init = e2e_setup, .fini = e2e_teardown, .timeout = 20);

static bool fail_pidfd_open;
static pid_t refused; /* the pid whose pidfd_open was made to fail */

/* The library's calls land here (the executable's symbol comes first).
 * Six arguments are passed on whatever the call had, as glibc's own
 * syscall(2) reads six registers: the kernel looks at those it needs. */
long syscall(long number, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;
	void *sym;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_pidfd_open && fail_pidfd_open) {
		refused = (pid_t)a[0];
		errno = EMFILE;
		return -1;
	}
	if (!real) { /* POSIX's way to turn dlsym's answer into a function */
		sym = dlsym(RTLD_NEXT, "syscall");
		memcpy(&real, &sym, sizeof real);
	}
	return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int spawn_blind(const char *name, const char *mock_args,
                       struct insomnia_error *err)
{
	struct insomnia_spawn_options o = e2e_options(name, mock_args);
	struct insomnia_spawn_result res;
	int rc;

	o.timeout_ms = 1000; /* never reached by the fixed code */
	o.grace_ms = 200;
	fail_pidfd_open = true;
	rc = insomnia_spawn(&o, &res, err);
	fail_pidfd_open = false;
	return rc;
}

static void assert_blind_failure(int rc, const struct insomnia_error *err)
{
	cr_assert_eq(rc, -1, "a pod the client cannot watch was handed over");
	cr_assert_eq(err->kind, INSOMNIA_ERR_LAUNCH_FAILED, "%s", err->message);
	cr_assert(strstr(err->message, "pidfd_open"), "%s", err->message);
	cr_assert(strstr(err->message, strerror(EMFILE)), "%s", err->message);
}

/* A pod that would become ready: the old code handed it over unwatched. */
Test(spawn_faults, a_pod_that_cannot_be_watched_is_stopped_not_handed_over)
{
	struct insomnia_error err;
	int rc = spawn_blind("blind", NULL, &err);

	assert_blind_failure(rc, &err);
	cr_assert_gt(refused, 0);
	e2e_assert_group_gone(refused);
}

/* A pod that ignores SIGTERM and never gets ready: the old code sent
 * nothing (no pidfd) and then waited forever for its exit. */
Test(spawn_faults, an_unwatched_pod_ignoring_term_is_killed_after_the_grace)
{
	struct insomnia_error err;
	int rc = spawn_blind("deaf", "--hang --ignore-term", &err);

	assert_blind_failure(rc, &err);
	cr_assert_gt(refused, 0);
	e2e_assert_group_gone(refused);
}

/* Our child running the launch monitor (its log watcher is its child,
 * not ours). */
static pid_t find_monitor(void)
{
	char path[64], exe[4096];
	pid_t found = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	ssize_t n;

	while (d && !found && (e = readdir(d))) {
		pid_t pid = (pid_t)atol(e->d_name);
		char *stat;
		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/exe", (long)pid);
		n = readlink(path, exe, sizeof exe - 1);
		if (n <= 0)
			continue;
		exe[n] = '\0';
		snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
		stat = e2e_read(path);
		if (stat && strstr(exe, "pod-launch-monitor") &&
		    atol(strrchr(stat, ')') + 4) == (long)getpid())
			found = pid;
		free(stat);
	}
	if (d)
		closedir(d);
	return found;
}

/* At the pod's first line (its pid), the monitor is killed. */
static void kill_monitor(const char *line, void *arg)
{
	pid_t monitor;

	if (*(bool *)arg)
		return;
	monitor = find_monitor();
	cr_assert_gt(monitor, 0, "no launch monitor among our children");
	cr_assert_eq(kill(monitor, SIGKILL), 0);
	*(bool *)arg = true;
}

/* A monitor that dies (OOM killer, a stray kill) reports no exit: the
 * pod lives on, and must be killed through the client's pidfd, not
 * assumed dead and left running. */
Test(spawn_faults, a_killed_monitor_does_not_leave_its_pod_running)
{
	struct insomnia_spawn_options o =
	    e2e_options("orphan", "--ready-delay -1");
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	bool killed = false;
	pid_t pod;

	o.timeout_ms = 10000; /* never reached: the monitor's end ends it */
	o.grace_ms = 200;
	o.progress = kill_monitor;
	o.arg = &killed;
	cr_assert_eq(insomnia_spawn(&o, &res, &err), -1,
	             "spawned without monitor");
	cr_assert(killed);
	pod = e2e_logged_pid("orphan");
	cr_assert_gt(pod, 0);
	/* hangs (the suite's timeout) while the pod still runs */
	e2e_assert_group_gone(pod);
}
