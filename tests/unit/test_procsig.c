#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procsig.h"

/* A child that waits forever, in its own group when own_group. */
static pid_t start_sleeper(bool own_group)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (own_group)
			setpgid(0, 0);
		for (;;)
			pause();
	}
	if (own_group)
		setpgid(pid, pid); /* either side may win; both agree */
	return pid;
}

static int wait_signal(pid_t pid)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status));
	return WTERMSIG(status);
}

Test(procsig, group_leader_gets_a_group_signal)
{
	pid_t pid = start_sleeper(true);
	int pidfd = procsig_pidfd_open(pid);
	bool group = false;

	cr_assert_geq(pidfd, 0);
	cr_assert(procsig_leads_group(pidfd, pid));
	cr_assert_eq(procsig_send(pidfd, pid, SIGKILL, &group), 0);
	cr_assert(group);
	cr_assert_eq(wait_signal(pid), SIGKILL);
	close(pidfd);
}

/* A process in the caller's group: signalling "its group" would kill the
 * caller (this test) too. */
Test(procsig, member_of_a_foreign_group_is_signalled_alone)
{
	pid_t pid = start_sleeper(false);
	int pidfd = procsig_pidfd_open(pid);
	bool group = true;

	cr_assert_geq(pidfd, 0);
	cr_assert_not(procsig_leads_group(pidfd, pid));
	cr_assert_eq(procsig_send(pidfd, pid, SIGTERM, &group), 0);
	cr_assert_not(group);
	cr_assert_eq(wait_signal(pid), SIGTERM);
	close(pidfd);
}

Test(procsig, a_reaped_process_is_not_signalled)
{
	pid_t pid = start_sleeper(true);
	int pidfd = procsig_pidfd_open(pid);

	kill(pid, SIGKILL);
	wait_signal(pid);
	cr_assert_not(procsig_leads_group(pidfd, pid));
	cr_assert_eq(procsig_send(pidfd, pid, SIGKILL, NULL), -1);
	cr_assert_eq(errno, ESRCH);
	close(pidfd);
}
