/* test_inotify_cache.c: the library's one process-wide state. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inotify_cache.h"

/* A child that closed its descriptors and opened files of its own (a
 * daemon's first steps) keeps them when it uses the cache: the parent's
 * instances were dropped in the fork, not closed by number later. */
Test(inotify_cache, a_forked_child_never_closes_a_number_it_reused)
{
	int fd = inotify_cache_get(), status;
	pid_t pid;

	cr_assert_geq(fd, 0);
	inotify_cache_put(fd); /* cached: the parent keeps it */
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int mine, got;

		close(fd); /* a daemon closes what it inherited */
		mine = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (mine != fd) /* the lowest free number */
			_exit(2);
		got = inotify_cache_get();
		if (fcntl(mine, F_GETFD) < 0)
			_exit(3); /* the cache closed our /dev/null */
		if (got < 0 || got == mine)
			_exit(4);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0,
	             "child: 3 = the cache closed a file of the child's, "
	             "got %d",
	             WEXITSTATUS(status));
	inotify_cache_clear();
	cr_assert_eq(fcntl(fd, F_GETFD), -1, "clear left an instance open");
}
