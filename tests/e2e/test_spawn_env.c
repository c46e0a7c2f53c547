/* End-to-end: the pod command is told its name and runtime dir in its
 * environment (INSOMNIA_POD_NAME, INSOMNIA_POD_DIR), and the caller's own
 * environment is left as it was. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(spawn_env, .init = e2e_setup, .fini = e2e_teardown, .timeout = 30);

struct env_line {
	char line[8192];
	int seen;
};

static void keep_env_line(const char *line, void *arg)
{
	struct env_line *e = arg;

	if (strncmp(line, "mock-pod: env ", 14) == 0) {
		snprintf(e->line, sizeof e->line, "%s", line);
		e->seen++;
	}
}

Test(spawn_env, the_pod_is_told_its_name_and_dir_and_the_caller_keeps_its_env)
{
	struct insomnia_spawn_options o = e2e_options("web", "--print-env");
	struct insomnia_spawn_result r;
	struct insomnia_error err;
	struct env_line e = {.seen = 0};
	char want[8192];

	/* a stale value in the caller's environment: the pod gets the
	 * right one, the caller keeps its own */
	setenv("INSOMNIA_POD_NAME", "callers-own", 1);
	unsetenv("INSOMNIA_POD_DIR");
	o.progress = keep_env_line;
	o.arg = &e;
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s", err.message);
	snprintf(want, sizeof want,
	         "mock-pod: env INSOMNIA_POD_NAME=web INSOMNIA_POD_DIR=%s",
	         e2e_rundir("web", NULL));
	cr_assert_eq(e.seen, 1);
	cr_assert_str_eq(e.line, want);
	cr_assert_str_eq(getenv("INSOMNIA_POD_NAME"), "callers-own");
	cr_assert_null(getenv("INSOMNIA_POD_DIR"));
	unsetenv("INSOMNIA_POD_NAME");
	e2e_stop(r.pid);
	e2e_assert_group_gone(r.pid);
}
