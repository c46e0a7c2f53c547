#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

/* Criterion runs each test in its own process, so the environment each
 * test sets up is its own. */
static void clean_env(void)
{
	static const char *vars[] = {"INSOMNIA_RUNTIME_DIR", "INSOMNIA_HOME",
	                             "XDG_RUNTIME_DIR",      "HOME",
	                             "INSOMNIA_DATA_DIR",    "XDG_CONFIG_HOME"};
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
		unsetenv(vars[i]);
}

static const char *runtime_root(void)
{
	static char out[INSOMNIA_PATH_MAX];
	struct insomnia_error err;
	cr_assert_eq(insomnia_runtime_root(out, sizeof out, &err), 0, "%s",
	             err.message);
	return out;
}

static const char *data_root(void)
{
	static char out[INSOMNIA_PATH_MAX];
	struct insomnia_error err;
	cr_assert_eq(insomnia_data_root(out, sizeof out, &err), 0, "%s",
	             err.message);
	return out;
}

TestSuite(paths, .init = clean_env);

Test(paths, runtime_root_follows_the_documented_order)
{
	setenv("HOME", "/home/u", 1);
	cr_assert_str_eq(runtime_root(), "/home/u/.insomnia/run");
	setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
	cr_assert_str_eq(runtime_root(), "/run/user/7/insomnia");
	setenv("INSOMNIA_HOME", "/ih", 1);
	cr_assert_str_eq(runtime_root(), "/ih/run");
	setenv("INSOMNIA_RUNTIME_DIR", "/rd", 1);
	cr_assert_str_eq(runtime_root(), "/rd");
}

Test(paths, empty_variables_count_as_unset)
{
	setenv("HOME", "/home/u", 1);
	setenv("INSOMNIA_RUNTIME_DIR", "", 1);
	setenv("INSOMNIA_HOME", "", 1);
	setenv("XDG_RUNTIME_DIR", "", 1);
	cr_assert_str_eq(runtime_root(), "/home/u/.insomnia/run");
	setenv("INSOMNIA_DATA_DIR", "", 1);
	cr_assert_str_eq(data_root(), "/home/u/.insomnia");
}

Test(paths, relative_xdg_runtime_dir_is_ignored)
{
	setenv("HOME", "/home/u", 1);
	setenv("XDG_RUNTIME_DIR", "run/user/7", 1);
	cr_assert_str_eq(runtime_root(), "/home/u/.insomnia/run");
}

/* The client and the pod it starts in another directory would resolve a
 * relative root against different cwds: refused, naming the variable. */
static void assert_refused(int (*root)(char *, size_t, struct insomnia_error *),
                           const char *var)
{
	char out[INSOMNIA_PATH_MAX], want[128];
	struct insomnia_error err;

	snprintf(want, sizeof want, "%s=rel/dir is a relative path", var);
	cr_assert_eq(root(out, sizeof out, &err), -1, "%s=rel/dir gave %s", var,
	             out);
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR);
	cr_assert(strstr(err.message, want), "%s", err.message);
}

Test(paths, relative_roots_are_refused_naming_the_variable)
{
	setenv("INSOMNIA_RUNTIME_DIR", "rel/dir", 1);
	assert_refused(insomnia_runtime_root, "INSOMNIA_RUNTIME_DIR");
	unsetenv("INSOMNIA_RUNTIME_DIR");
	setenv("INSOMNIA_DATA_DIR", "rel/dir", 1);
	assert_refused(insomnia_data_root, "INSOMNIA_DATA_DIR");
	unsetenv("INSOMNIA_DATA_DIR");
	setenv("HOME", "rel/dir", 1);
	assert_refused(insomnia_runtime_root, "HOME");
	assert_refused(insomnia_data_root, "HOME");
	/* A later, absolute variable does not rescue an earlier relative
	 * one: the first set variable is the choice. */
	setenv("HOME", "/home/u", 1);
	setenv("INSOMNIA_HOME", "rel/dir", 1);
	assert_refused(insomnia_runtime_root, "INSOMNIA_HOME");
	assert_refused(insomnia_data_root, "INSOMNIA_HOME");
}

Test(paths, relative_home_gives_no_user_manifest)
{
	char out[INSOMNIA_PATH_MAX];

	setenv("HOME", "home/u", 1);
	cr_assert_eq(paths_user_manifest(out, sizeof out, NULL), -1);
}

Test(paths, nothing_set_names_the_variables_to_set)
{
	char out[INSOMNIA_PATH_MAX];
	struct insomnia_error err;
	cr_assert_eq(insomnia_runtime_root(out, sizeof out, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR);
	cr_assert(strstr(err.message, "INSOMNIA_RUNTIME_DIR"));
	cr_assert(strstr(err.message, "INSOMNIA_HOME"));
	cr_assert(strstr(err.message, "XDG_RUNTIME_DIR"));
	cr_assert(strstr(err.message, "HOME"));
	cr_assert_eq(insomnia_data_root(out, sizeof out, &err), -1);
	cr_assert(strstr(err.message, "INSOMNIA_DATA_DIR"));
}

Test(paths, data_root_follows_the_documented_order)
{
	setenv("HOME", "/home/u", 1);
	cr_assert_str_eq(data_root(), "/home/u/.insomnia");
	setenv("INSOMNIA_HOME", "/ih", 1);
	cr_assert_str_eq(data_root(), "/ih");
	setenv("INSOMNIA_DATA_DIR", "/dd", 1);
	cr_assert_str_eq(data_root(), "/dd");
}

Test(paths, user_manifest_uses_xdg_config_home_then_home)
{
	char out[INSOMNIA_PATH_MAX];
	setenv("HOME", "/home/u", 1);
	cr_assert_eq(paths_user_manifest(out, sizeof out, NULL), 0);
	cr_assert_str_eq(out, "/home/u/.config/insomnia/manifest.toml");
	setenv("XDG_CONFIG_HOME", "/cfg", 1);
	cr_assert_eq(paths_user_manifest(out, sizeof out, NULL), 0);
	cr_assert_str_eq(out, "/cfg/insomnia/manifest.toml");
}

Test(paths, project_manifest_is_the_nearest_walking_up)
{
	char tmpl[] = "/tmp/paths-test-XXXXXX", sub[256], want[256],
	     out[INSOMNIA_PATH_MAX];
	cr_assert_not_null(mkdtemp(tmpl));
	snprintf(sub, sizeof sub, "%s/.insomnia", tmpl);
	cr_assert_eq(mkdir(sub, 0700), 0);
	snprintf(want, sizeof want, "%s/.insomnia/manifest.toml", tmpl);
	FILE *f = fopen(want, "w");
	cr_assert_not_null(f);
	fclose(f);
	snprintf(sub, sizeof sub, "%s/a", tmpl);
	mkdir(sub, 0700);
	snprintf(sub, sizeof sub, "%s/a/b", tmpl);
	mkdir(sub, 0700);
	cr_assert_eq(paths_project_manifest(sub, out, sizeof out, NULL), 1);
	cr_assert_str_eq(out, want);
	cr_assert_eq(
	    paths_project_manifest("/proc/self", out, sizeof out, NULL), 0);
	unlink(want);
	snprintf(sub, sizeof sub, "/bin/rm -rf %s", tmpl);
	cr_assert_eq(system(sub), 0);
}
