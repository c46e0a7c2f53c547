/* compat: the pidfd calls, and closing descriptors with or without
 * close_range(2).  The fallbacks run in a forked child under a seccomp
 * filter that makes the system call fail with ENOSYS, as an old kernel
 * would. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"

/* Make system call nr fail with ENOSYS in this process from now on. */
static int deny(long nr)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	             offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof code / sizeof code[0], code};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* In a child (denying close_range when asked): open descriptors at 10,
 * 11 and 200, close from 11; exit 0 when exactly 11 and 200 went. */
static int close_from_in_child(bool without_close_range)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 10) < 0 || dup2(fd, 11) < 0 ||
		    dup2(fd, 200) < 0)
			_exit(20);
		close(fd);
		if (without_close_range && deny(SYS_close_range) < 0)
			_exit(21);
		if (without_close_range &&
		    syscall(SYS_close_range, 11U, ~0U, 0) == 0)
			_exit(22); /* the filter did not take */
		compat_close_from(11);
		_exit(is_open(10) && !is_open(11) && !is_open(200) ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

TestSuite(compat, .timeout = 10);

Test(compat, close_from_closes_every_descriptor_from_the_given_one_up)
{
	cr_assert_eq(close_from_in_child(false), 0);
}

Test(compat, close_from_works_on_a_kernel_without_close_range)
{
	cr_assert_eq(close_from_in_child(true), 0);
}

Test(compat, pidfd_signals_the_process_it_names)
{
	pid_t pid = fork();
	int pidfd, status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	pidfd = compat_pidfd_open(pid);
	cr_assert_geq(pidfd, 0, "%s", strerror(errno));
	cr_assert_eq(compat_pidfd_send_signal(pidfd, 0), 0);
	cr_assert_eq(compat_pidfd_send_signal(pidfd, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	cr_assert_eq(compat_pidfd_send_signal(pidfd, 0), -1);
	cr_assert_eq(errno, ESRCH);
	close(pidfd);
}

Test(compat, pidfd_open_without_kernel_support_says_enosys)
{
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (deny(SYS_pidfd_open) < 0)
			_exit(21);
		errno = 0;
		_exit(compat_pidfd_open(getpid()) == -1 && errno == ENOSYS ? 0
		                                                           : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0);
}
