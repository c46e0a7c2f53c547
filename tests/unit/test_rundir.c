/* rundir_remove_held: the one removal of what a dead pod left. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"
#include "tmpdir.h"

static struct tmpdir tmp;
static int dirfd_;

static void setup(void)
{
	tmpdir_make(&tmp, "rundir-test");
	cr_assert_eq(mkdirat(tmp.fd, "web", 0700), 0);
	dirfd_ = openat(tmp.fd, "web", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd_, 0);
}

static void teardown(void)
{
	close(dirfd_);
	tmpdir_remove(&tmp);
}

TestSuite(rundir, .init = setup, .fini = teardown, .timeout = 10);

static void touch(const char *name)
{
	int fd = openat(dirfd_, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0);
	close(fd);
}

static bool exists(const char *name)
{
	struct stat st;

	return fstatat(dirfd_, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void first_note(const char *msg, void *arg)
{
	if (!((char *)arg)[0])
		snprintf(arg, 256, "%s", msg);
}

/* After a failed spawn: the published files and `lock` go, the log
 * that explains the death stays, and so does a stranger's file. */
Test(rundir, after_a_failure_the_log_stays_and_the_state_goes)
{
	static const char *const names[] = {RUNDIR_PID, RUNDIR_STATE,
	                                    RUNDIR_STDERR, "mine"};

	for (size_t i = 0; i < 4; i++)
		touch(names[i]);
	cr_assert_eq(rundir_remove_leftovers_locked(dirfd_, false), 1);
	cr_assert(!exists(RUNDIR_PID) && !exists(RUNDIR_STATE) &&
	          !exists(RUNDIR_LOCK));
	cr_assert(exists(RUNDIR_STDERR) && exists("mine"));
}

/* Reap: a FIFO where the socket goes is someone else's; it is kept, said,
 * and `lock` and the dir are kept with it. */
Test(rundir, a_reap_keeps_the_dir_and_says_why_when_a_file_is_not_ours)
{
	char note[256] = "";
	struct rundir_removal how = {RUNDIR_REMOVE_ALL, tmp.fd, "web",
	                             first_note, note};
	int lockfd;

	touch(RUNDIR_PID);
	cr_assert_eq(mkfifoat(dirfd_, RUNDIR_SOCK, 0600), 0);
	lockfd = rundir_hold_dead(dirfd_);
	cr_assert_geq(lockfd, 0);
	cr_assert_eq(rundir_remove_held(dirfd_, &how), 0);
	close(lockfd);
	cr_assert_str_eq(note, "kept sock: not a socket");
	cr_assert(!exists(RUNDIR_PID));
	cr_assert(exists(RUNDIR_LOCK) && exists(RUNDIR_SOCK));
}

Test(rundir, a_reap_removes_every_file_then_the_dir)
{
	char note[256] = "";
	struct rundir_removal how = {RUNDIR_REMOVE_ALL, tmp.fd, "web",
	                             first_note, note};
	struct stat st;
	int lockfd;

	touch(RUNDIR_PID);
	touch(RUNDIR_STDERR);
	lockfd = rundir_hold_dead(dirfd_);
	cr_assert_geq(lockfd, 0);
	cr_assert_eq(rundir_remove_held(dirfd_, &how), 1, "%s", note);
	close(lockfd);
	cr_assert_str_empty(note);
	cr_assert_eq(fstatat(tmp.fd, "web", &st, AT_SYMLINK_NOFOLLOW), -1);
}
