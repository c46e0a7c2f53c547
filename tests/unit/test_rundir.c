/* rundir_remove_held: the one removal of what a dead pod left. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

/* A socket bound at web/<dir>/<name>, as procnotify binds its own. */
static void bind_socket(const char *dir, const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/web/%s/%s", tmp.path, dir,
	         name);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0, "%s",
	             sa.sun_path);
	close(fd);
}

/* A crashed pod leaves its processes' notify sockets: reap removes them
 * and notify/, then the dir. */
Test(rundir, a_reap_removes_the_notify_sockets_a_crash_left)
{
	char note[256] = "";
	struct rundir_removal how = {RUNDIR_REMOVE_ALL, tmp.fd, "web",
	                             first_note, note};
	struct stat st;
	int lockfd;

	cr_assert_eq(mkdirat(dirfd_, RUNDIR_NOTIFY, 0700), 0);
	bind_socket(RUNDIR_NOTIFY, "db");
	bind_socket(RUNDIR_NOTIFY, "api");
	lockfd = rundir_hold_dead(dirfd_);
	cr_assert_geq(lockfd, 0);
	cr_assert_eq(rundir_remove_held(dirfd_, &how), 1, "%s", note);
	close(lockfd);
	cr_assert_eq(fstatat(tmp.fd, "web", &st, AT_SYMLINK_NOFOLLOW), -1);
}

/* A regular file in notify/ is not the pod's: kept, with notify/, `lock`
 * and the dir. */
Test(rundir, a_reap_keeps_a_file_in_notify_that_is_not_a_socket)
{
	char note[256] = "";
	struct rundir_removal how = {RUNDIR_REMOVE_ALL, tmp.fd, "web",
	                             first_note, note};
	int lockfd, fd;

	cr_assert_eq(mkdirat(dirfd_, RUNDIR_NOTIFY, 0700), 0);
	bind_socket(RUNDIR_NOTIFY, "db");
	fd = openat(dirfd_, RUNDIR_NOTIFY "/data",
	            O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	lockfd = rundir_hold_dead(dirfd_);
	cr_assert_geq(lockfd, 0);
	cr_assert_eq(rundir_remove_held(dirfd_, &how), 0);
	close(lockfd);
	cr_assert(exists(RUNDIR_NOTIFY "/data") && exists(RUNDIR_LOCK));
	cr_assert(!exists(RUNDIR_NOTIFY "/db"));
	cr_assert_str_eq(note, "kept notify: Directory not empty");
}
