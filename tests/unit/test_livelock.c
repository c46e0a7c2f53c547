#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "livelock.h"
#include "tmpdir.h"

static struct tmpdir tmp;

static void setup(void)
{
	tmpdir_make(&tmp, "livelock-test");
}

static void teardown(void)
{
	tmpdir_remove(&tmp);
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
		int fd = livelock_open(tmp.fd, "lock", true);
		umask(old);
		cr_assert_geq(fd, 0);
		cr_assert_eq(fstat(fd, &st), 0);
		cr_assert_eq(st.st_mode & 07777, 0600, "umask %04o gave %04o",
		             (unsigned)masks[i],
		             (unsigned)(st.st_mode & 07777));
		close(fd);
		cr_assert_eq(unlinkat(tmp.fd, "lock", 0), 0);
	}
}

/* The property the OFD lock was chosen for: probing never takes, so an
 * owner's take made while a probe is open still succeeds. */
Test(livelock, a_probe_never_makes_the_owners_take_fail)
{
	int prober = livelock_open(tmp.fd, "lock", true);
	int owner = livelock_open(tmp.fd, "lock", false);
	int other = livelock_open(tmp.fd, "lock", false);

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

/* The one take: created when absent, held by one description at a time,
 * and a file that is not a lock is named in the error. */
Test(livelock, take_at_takes_once_and_says_why_it_cannot)
{
	struct insomnia_error err;
	int owner, other;

	cr_assert_eq(
	    livelock_take_at(tmp.fd, "lock", "the test lock", &owner, &err), 0);
	cr_assert_geq(owner, 0);
	cr_assert_eq(
	    livelock_take_at(tmp.fd, "lock", "the test lock", &other, &err),
	    LIVELOCK_HELD);
	cr_assert_eq(other, -1);
	close(owner);
	cr_assert_eq(mkfifoat(tmp.fd, "fifo", 0600), 0);
	cr_assert_eq(
	    livelock_take_at(tmp.fd, "fifo", "the test lock", &other, &err),
	    -1);
	cr_assert_eq(other, -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR);
	cr_assert(strstr(err.message, "cannot open the test lock"), "%s",
	          err.message);
}
