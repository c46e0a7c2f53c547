/* compat.c: pidfd and close_range system calls, with what each lacks. */
#include "compat.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The upper bound of the last-resort loop: a huge RLIMIT_NOFILE (2^30 in
 * some containers) would make it take seconds. */
#define COMPAT_CLOSE_MAX 65536

int compat_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int compat_pidfd_send_signal(int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
	(void)pidfd;
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

static int close_range_from(int lowfd)
{
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0);
#else
	(void)lowfd;
	errno = ENOSYS;
	return -1;
#endif
}

/* Every number /proc lists from lowfd up, except the listing's own. */
static int close_listed(int lowfd)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || fd < lowfd || fd == dirfd(d))
			continue;
		close((int)fd);
	}
	closedir(d);
	return 0;
}

/* No /proc (an early chroot): every number the rlimit allows. */
static void close_counted(int lowfd)
{
	struct rlimit rl;
	long max = COMPAT_CLOSE_MAX;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max)
		max = (long)rl.rlim_cur;
	for (long fd = lowfd; fd < max; fd++)
		close((int)fd);
}

void compat_close_from(int lowfd)
{
	if (close_range_from(lowfd) == 0)
		return;
	if (close_listed(lowfd) < 0)
		close_counted(lowfd);
}
