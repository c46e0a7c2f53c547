/* crash-loop: the random-kill crash loop for as many rounds as you like
 * (the e2e test runs a few hundred).  Usage:
 *   crash-loop [--rounds N] [--seed S] [--pod PATH]
 * It runs in a private INSOMNIA_HOME and prints the seed first, so a
 * failing run can be replayed with --seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchlib.h"
#include "crashloop.h"

static void usage(void)
{
	fputs("usage: crash-loop [--rounds N] [--seed S] [--pod PATH]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static char home[BENCH_HOME_MAX], self[4096], pod[4096];
	struct crashloop c = {0};
	int npods = 0;

	c.rounds = 2000;
	c.reap_every = 10;
	c.seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--rounds"))
			c.rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed"))
			c.seed = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--pod"))
			snprintf(pod, sizeof pod, "%s", argv[++i]);
		else
			usage();
	}
	bench_on_failure("crash-loop", home, NULL, &npods);
	bench_self_exe(self, sizeof self);
	bench_use_build_monitor(self);
	if (bench_resolve_exe(pod, sizeof pod, self, "../../pod/pod") < 0)
		bench_fail("no pod binary (give --pod PATH)");
	bench_setup_home(home, sizeof home, "/tmp/insomnia-bench-crash-XXXXXX",
	                 pod);
	printf("crash-loop: seed %u, %d rounds\n", c.seed, c.rounds);
	fflush(stdout);
	c.pod_command = pod;
	if (crashloop_run(&c) < 0)
		bench_fail("%s", c.why);
	printf("crash-loop: %d rounds held: %d killed starting, %d killed "
	       "serving, %d resumes, %d reaps\n",
	       c.rounds, c.killed_starting, c.killed_serving, c.resumed,
	       c.reaped);
	bench_remove_home(home);
	return 0;
}
