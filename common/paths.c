/* paths.c: resolving the runtime root, the data root and manifests. */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *paths_env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

int paths_join(char *out, size_t size, const char *dir, const char *name,
               struct insomnia_error *err)
{
	int n = snprintf(out, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return insomnia_error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
		                          "path too long: %s/%s", dir, name);
	return 0;
}

/* The value of root variable var (set, non-empty) + "/" + suffix (or
 * alone when suffix is NULL).  A relative value is refused: the client
 * and the pod it starts (in another working directory, --cwd) would
 * resolve it against different directories and disagree on where the
 * pod lives. */
static int root_from(const char *var, const char *suffix, char *out,
                     size_t size, struct insomnia_error *err)
{
	const char *v = paths_env(var);

	if (v[0] != '/')
		return insomnia_error_set(
		    err, INSOMNIA_ERR_RUNTIME_DIR,
		    "%s=%s is a relative path; set it to an "
		    "absolute one",
		    var, v);
	if (!suffix) {
		if (strlen(v) >= size)
			return insomnia_error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
			                          "path too long: %s", v);
		strcpy(out, v);
		return 0;
	}
	return paths_join(out, size, v, suffix, err);
}

int insomnia_runtime_root(char *out, size_t size, struct insomnia_error *err)
{
	const char *v;

	if (paths_env("INSOMNIA_RUNTIME_DIR"))
		return root_from("INSOMNIA_RUNTIME_DIR", NULL, out, size, err);
	if (paths_env("INSOMNIA_HOME"))
		return root_from("INSOMNIA_HOME", "run", out, size, err);
	v = paths_env("XDG_RUNTIME_DIR");
	if (v && v[0] == '/')
		return paths_join(out, size, v, "insomnia", err);
	if (paths_env("HOME"))
		return root_from("HOME", ".insomnia/run", out, size, err);
	return insomnia_error_set(
	    err, INSOMNIA_ERR_RUNTIME_DIR,
	    "no runtime directory: set INSOMNIA_RUNTIME_DIR, "
	    "INSOMNIA_HOME, XDG_RUNTIME_DIR (absolute) or HOME");
}

int insomnia_data_root(char *out, size_t size, struct insomnia_error *err)
{
	if (paths_env("INSOMNIA_DATA_DIR"))
		return root_from("INSOMNIA_DATA_DIR", NULL, out, size, err);
	if (paths_env("INSOMNIA_HOME"))
		return root_from("INSOMNIA_HOME", NULL, out, size, err);
	if (paths_env("HOME"))
		return root_from("HOME", ".insomnia", out, size, err);
	return insomnia_error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
	                          "no data directory: set INSOMNIA_DATA_DIR, "
	                          "INSOMNIA_HOME or HOME");
}

/* A relative HOME is ignored here, as a relative XDG_CONFIG_HOME is:
 * no absolute location, no user manifest. */
int paths_user_manifest(char *out, size_t size, struct insomnia_error *err)
{
	const char *v = paths_env("XDG_CONFIG_HOME");

	if (v && v[0] == '/')
		return paths_join(out, size, v, "insomnia/manifest.toml", err);
	v = paths_env("HOME");
	if (v && v[0] == '/')
		return paths_join(out, size, v,
		                  ".config/insomnia/manifest.toml", err);
	return insomnia_error_set(
	    err, INSOMNIA_ERR_CONFIG,
	    "no user manifest location: set XDG_CONFIG_HOME "
	    "or HOME (absolute)");
}

/* cwd, made absolute against the current directory. */
static int absolute_cwd(char *out, size_t size, const char *cwd,
                        struct insomnia_error *err)
{
	char here[INSOMNIA_PATH_MAX];

	if (cwd[0] == '/') {
		if (strlen(cwd) >= size)
			return insomnia_error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
			                          "path too long: %s", cwd);
		strcpy(out, cwd);
		return 0;
	}
	if (!getcwd(here, sizeof here))
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		    "cannot resolve relative path %s", cwd);
	return paths_join(out, size, here, cwd, err);
}

int paths_project_manifest(const char *cwd, char *out, size_t size,
                           struct insomnia_error *err)
{
	char dir[INSOMNIA_PATH_MAX];
	struct stat st;

	if (absolute_cwd(dir, sizeof dir, cwd, err) < 0)
		return -1;
	for (;;) {
		char *slash;
		if (paths_join(out, size, strcmp(dir, "/") ? dir : "",
		               ".insomnia/manifest.toml", err) < 0)
			return -1;
		/* Whatever stands there is the manifest: one that is not a
		 * regular file (a FIFO, a dir) is refused by the reader,
		 * naming it, rather than silently skipped. */
		if (stat(out, &st) == 0)
			return 1;
		slash = strrchr(dir, '/');
		if (!slash || strcmp(dir, "/") == 0)
			return 0;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}
