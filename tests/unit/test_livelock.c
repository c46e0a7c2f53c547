#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "livelock.h"

static char base[64];
static int dirfd_;

static void setup(void)
{
	strcpy(base, "/tmp/livelock-test-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	dirfd_ = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd_, 0);
}

static void teardown(void)
{
	char cmd[128];
	close(dirfd_);
	snprintf(cmd, sizeof cmd, "/bin/rm -rf %s", base);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(livelock, .init = setup, .fini = teardown);

/* A lock made by a prober or reaper under a tight umask must still be
 * openable read-write by the pod (root would not notice: check modes). */
Test(livelock, a_created_lock_is_0600_whatever_the_umask)
{
	static const mode_t masks[] = {0277, 0000, 0777};
	struct stat st;

	for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
		mode_t old = umask(masks[i]);
		int fd = livelock_open(dirfd_, "lock", true);
		umask(old);
		cr_assert_geq(fd, 0);
		cr_assert_eq(fstat(fd, &st), 0);
		cr_assert_eq(st.st_mode & 07777, 0600, "umask %04o gave %04o",
		             (unsigned)masks[i],
		             (unsigned)(st.st_mode & 07777));
		close(fd);
		cr_assert_eq(unlinkat(dirfd_, "lock", 0), 0);
	}
}

/* The property the OFD lock was chosen for: probing never takes, so an
 * owner's take made while a probe is open still succeeds. */
Test(livelock, a_probe_never_makes_the_owners_take_fail)
{
	int prober = livelock_open(dirfd_, "lock", true);
	int owner = livelock_open(dirfd_, "lock", false);
	int other = livelock_open(dirfd_, "lock", false);

	cr_assert(prober >= 0 && owner >= 0 && other >= 0);
	cr_assert_eq(livelock_probe(prober), LIVELOCK_FREE);
	cr_assert_eq(livelock_try(owner), 0);
	cr_assert_eq(livelock_probe(prober), LIVELOCK_HELD);
	cr_assert_eq(livelock_try(other), LIVELOCK_HELD);
	close(owner);
	cr_assert_eq(livelock_probe(prober), LIVELOCK_FREE);
	close(prober);
	close(other);
}
