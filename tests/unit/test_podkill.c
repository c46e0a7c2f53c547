/* podkill_signal: the one group kill of spawn, stop and reap.  Each test
 * learns that a process died from a pipe it held reaching end of file. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "podkill.h"
#include "procsig.h"

TestSuite(podkill, .timeout = 10);

/* Wait until every holder of the pipe's write end is gone. */
static void assert_all_gone(int rfd)
{
	char c;

	cr_assert_eq(read(rfd, &c, 1), 0, "a member of the group lives on");
	close(rfd);
}

/* A child leading a new session (as a pod does) with one grandchild in
 * its group; both hold w.  When exit_leader, the leader exits at once
 * (after the grandchild started), leaving the grandchild behind. */
static pid_t start_group(int w, bool exit_leader, int ready_w)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		setsid();
		if (fork() == 0) {
			close(ready_w);
			for (;;)
				pause();
		}
		close(ready_w); /* the grandchild exists: go on */
		if (exit_leader)
			_exit(0);
		for (;;)
			pause();
	}
	(void)w;
	return pid;
}

static pid_t group_with_pipe(bool exit_leader, int *rfd)
{
	int p[2], ready[2];
	char c;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(pipe(ready), 0);
	pid = start_group(p[1], exit_leader, ready[1]);
	close(p[1]);
	close(ready[1]);
	cr_assert_eq(read(ready[0], &c, 1), 0); /* both closed it */
	close(ready[0]);
	*rfd = p[0];
	return pid;
}

Test(podkill, never_signals_pid_0_or_1)
{
	struct podkill k = {0, -1, NULL, true};

	cr_assert_eq(podkill_signal(&k, 0), -1);
	cr_assert_eq(errno, EINVAL);
	k.pid = 1;
	cr_assert_eq(podkill_signal(&k, 0), -1);
	cr_assert_eq(errno, EINVAL);
}

Test(podkill, a_live_leader_gets_it_with_its_group_through_the_pidfd)
{
	int rfd, status;
	pid_t pid = group_with_pipe(false, &rfd);
	int pidfd = procsig_pidfd_open(pid);
	struct podkill k = {pid, pidfd, NULL, false};

	cr_assert_geq(pidfd, 0);
	cr_assert_eq(podkill_signal(&k, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	assert_all_gone(rfd);
	close(pidfd);
}

Test(podkill, a_dead_pods_stragglers_are_killed)
{
	int rfd, status;
	pid_t pid = group_with_pipe(true, &rfd);
	struct podkill k = {pid, -1, NULL, true};

	cr_assert_eq(waitpid(pid, &status, 0), pid); /* the pod is gone */
	cr_assert_eq(podkill_signal(&k, SIGKILL), 0);
	assert_all_gone(rfd);
}
