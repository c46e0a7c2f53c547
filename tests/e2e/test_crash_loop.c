/* End-to-end: the random-kill crash loop (tools/stress/crashloop.h) for a
 * few hundred rounds.  The seed is printed; INSOMNIA_CRASH_SEED replays
 * one, INSOMNIA_STRESS_SCALE multiplies the rounds. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "crashloop.h"
#include "harness.h"

TestSuite(crash_loop, .init = e2e_setup, .fini = e2e_teardown, .timeout = 170);

Test(crash_loop, spawn_resume_and_reap_hold_after_random_sigkills)
{
	const char *seed = getenv("INSOMNIA_CRASH_SEED");
	const char *scale = getenv("INSOMNIA_STRESS_SCALE");
	struct crashloop c = {0};

	c.pod_command = getenv("INSOMNIA_TEST_POD");
	c.seed = seed ? (unsigned)strtoul(seed, NULL, 0)
	              : (unsigned)time(NULL) ^ (unsigned)getpid();
#ifdef __SANITIZE_ADDRESS__
	c.rounds = 60; /* several times slower */
#else
	c.rounds = 200;
#endif
	c.rounds *= scale && atoi(scale) > 0 ? atoi(scale) : 1;
	c.reap_every = 10;
	fprintf(stderr,
	        "crash loop: seed %u (INSOMNIA_CRASH_SEED=%u replays)\n",
	        c.seed, c.seed);
	cr_assert_eq(crashloop_run(&c), 0, "%s", c.why);
	fprintf(stderr,
	        "crash loop: %d rounds: %d killed starting, %d serving, "
	        "%d resumes, %d reaps\n",
	        c.rounds, c.killed_starting, c.killed_serving, c.resumed,
	        c.reaped);
	cr_assert_gt(c.killed_starting, 0, "no kill landed during start-up");
	cr_assert_gt(c.killed_serving, 0);
	cr_assert_gt(c.resumed, 0);
}
