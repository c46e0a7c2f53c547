/* End-to-end: a pod the client cannot watch (pidfd_open failing right
 * after the launch: ENOMEM, ENFILE, EMFILE; injected here by interposing
 * syscall(2)) is not handed over but stopped, through the launch monitor,
 * and the spawn ends within its grace and a bounded kill wait. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

TestSuite(spawn_faults, .init = e2e_setup, .fini = e2e_teardown, .timeout = 20);

static bool fail_pidfd_open;
static pid_t refused; /* the pid whose pidfd_open was made to fail */

/* The library's calls land here (the executable's symbol comes first).
 * Six arguments are passed on whatever the call had, as glibc's own
 * syscall(2) reads six registers: the kernel looks at those it needs. */
long syscall(long number, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;
	void *sym;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_pidfd_open && fail_pidfd_open) {
		refused = (pid_t)a[0];
		errno = EMFILE;
		return -1;
	}
	if (!real) { /* POSIX's way to turn dlsym's answer into a function */
		sym = dlsym(RTLD_NEXT, "syscall");
		memcpy(&real, &sym, sizeof real);
	}
	return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static int spawn_blind(const char *name, const char *mock_args,
                       struct error *err)
{
	struct spawn_options o = e2e_options(name, mock_args);
	struct spawn_result res;
	int rc;

	o.timeout_ms = 1000; /* never reached by the fixed code */
	o.grace_ms = 200;
	fail_pidfd_open = true;
	rc = spawn_pod(&o, &res, err);
	fail_pidfd_open = false;
	return rc;
}

static void assert_blind_failure(int rc, const struct error *err)
{
	cr_assert_eq(rc, -1, "a pod the client cannot watch was handed over");
	cr_assert_eq(err->kind, ERR_LAUNCH_FAILED, "%s", err->message);
	cr_assert(strstr(err->message, "pidfd_open"), "%s", err->message);
	cr_assert(strstr(err->message, strerror(EMFILE)), "%s", err->message);
}

/* A pod that would become ready: the old code handed it over unwatched. */
Test(spawn_faults, a_pod_that_cannot_be_watched_is_stopped_not_handed_over)
{
	struct error err;
	int rc = spawn_blind("blind", NULL, &err);

	assert_blind_failure(rc, &err);
	cr_assert_gt(refused, 0);
	e2e_assert_group_gone(refused);
}

/* A pod that ignores SIGTERM and never gets ready: the old code sent
 * nothing (no pidfd) and then waited forever for its exit. */
Test(spawn_faults, an_unwatched_pod_ignoring_term_is_killed_after_the_grace)
{
	struct error err;
	int rc = spawn_blind("deaf", "--hang --ignore-term", &err);

	assert_blind_failure(rc, &err);
	cr_assert_gt(refused, 0);
	e2e_assert_group_gone(refused);
}
