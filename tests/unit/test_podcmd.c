#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"
#include "podcmd.h"

static char base[64];

static void setup(void)
{
	strcpy(base, "/tmp/podcmd-test-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
	unsetenv(PODCMD_ENV);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "/bin/rm -rf %s", base);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(podcmd, .init = setup, .fini = teardown);

static const char *make_file(const char *name, mode_t mode)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", base, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("#!/bin/sh\n", f);
	fclose(f);
	chmod(path, mode);
	return path;
}

Test(podcmd, env_path_is_used_verbatim_without_a_shell)
{
	char out[INSOMNIA_PATH_MAX];
	const char *p = make_file("my pod; rm -rf x", 0700);
	setenv(PODCMD_ENV, p, 1);
	cr_assert_eq(podcmd_resolve(NULL, out, sizeof out, NULL), 0);
	cr_assert_str_eq(out, p);
}

Test(podcmd, non_executable_env_path_is_a_launch_error)
{
	char out[INSOMNIA_PATH_MAX];
	struct insomnia_error err;
	setenv(PODCMD_ENV, make_file("pod", 0600), 1);
	cr_assert_eq(podcmd_resolve(NULL, out, sizeof out, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_LAUNCH_FAILED);
	cr_assert(strstr(err.message, PODCMD_ENV));
}

Test(podcmd, empty_env_falls_back_to_path)
{
	char out[INSOMNIA_PATH_MAX], want[256];
	snprintf(want, sizeof want, "%s", make_file("pod", 0700));
	setenv(PODCMD_ENV, "", 1);
	setenv("PATH", "relative:/nonexistent", 1);
	cr_assert_eq(podcmd_resolve(NULL, out, sizeof out, NULL), -1);
	char path[300];
	snprintf(path, sizeof path, "/nonexistent::%s", base);
	setenv("PATH", path, 1);
	cr_assert_eq(podcmd_resolve(NULL, out, sizeof out, NULL), 0);
	cr_assert_str_eq(out, want);
}

Test(podcmd, missing_pod_names_the_variable)
{
	char out[INSOMNIA_PATH_MAX];
	struct insomnia_error err;
	setenv("PATH", base, 1);
	cr_assert_eq(podcmd_resolve(NULL, out, sizeof out, &err), -1);
	cr_assert(strstr(err.message, PODCMD_ENV));
}

Test(podcmd, explicit_command_wins_over_env)
{
	char out[INSOMNIA_PATH_MAX], want[256];
	snprintf(want, sizeof want, "%s", make_file("a", 0700));
	setenv(PODCMD_ENV, make_file("b", 0700), 1);
	cr_assert_eq(podcmd_resolve(want, out, sizeof out, NULL), 0);
	cr_assert_str_eq(out, want);
}
