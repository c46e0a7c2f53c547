/* procsig_has_open: what proves that a pid names the holder of a file. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procsig.h"

/* A child holding fd open (inherited: no O_CLOEXEC), then waiting. */
static pid_t start_holder(int fd)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		(void)fd;
		/* a failed assertion ends the test process: not us too */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return pid;
}

static int temp_file(struct stat *st)
{
	char path[] = "/tmp/procsig-open-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path); /* held by descriptor only, as a removed lock can be */
	cr_assert_eq(fstat(fd, st), 0);
	return fd;
}

Test(procsig_open, a_process_holding_the_file_is_seen_and_others_are_not)
{
	struct stat held, other;
	int fd = temp_file(&held);
	pid_t pid = start_holder(fd);
	int pidfd = procsig_pidfd_open(pid);
	int otherfd = temp_file(&other); /* after the fork: never the child's */

	close(fd);
	close(otherfd);
	cr_assert_geq(pidfd, 0);
	cr_assert(procsig_has_open(pidfd, pid, held.st_dev, held.st_ino));
	cr_assert_not(procsig_has_open(pidfd, pid, other.st_dev, other.st_ino));
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_not(procsig_has_open(pidfd, pid, held.st_dev, held.st_ino),
	              "a dead process holds nothing");
	close(pidfd);
}
