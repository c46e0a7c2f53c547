/* podcmd.c: resolving the pod command without a shell. */
#include "podcmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

static int is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

static int check_path(const char *path, const char *from, char *out,
                      size_t size, struct insomnia_error *err)
{
	if (!is_executable_file(path))
		return insomnia_error_set(err, INSOMNIA_ERR_LAUNCH_FAILED,
		                          "pod command %s (from %s) is not an "
		                          "executable file",
		                          path, from);
	if (strlen(path) >= size)
		return insomnia_error_set(err, INSOMNIA_ERR_LAUNCH_FAILED,
		                          "pod command path is too long");
	strcpy(out, path);
	return 0;
}

/* Empty and relative PATH entries (the current directory) are skipped: a
 * launcher must not pick up ./pod from wherever it happens to run. */
static int search_path(char *out, size_t size, struct insomnia_error *err)
{
	const char *path = paths_env("PATH");
	char candidate[INSOMNIA_PATH_MAX];

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n > 0 && path[0] == '/' && n + 5 < sizeof candidate) {
			memcpy(candidate, path, n);
			strcpy(candidate + n, "/pod");
			if (is_executable_file(candidate))
				return check_path(candidate, "PATH", out, size,
				                  err);
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return insomnia_error_set(
	    err, INSOMNIA_ERR_LAUNCH_FAILED,
	    "no executable \"pod\" on PATH; install it or set "
	    "%s to its path",
	    PODCMD_ENV);
}

int podcmd_resolve(const char *explicit, char *out, size_t size,
                   struct insomnia_error *err)
{
	const char *env;

	if (explicit && *explicit)
		return check_path(explicit, "the caller", out, size, err);
	env = paths_env(PODCMD_ENV);
	if (env)
		return check_path(env, PODCMD_ENV, out, size, err);
	return search_path(out, size, err);
}

int podcmd_check_overlay(size_t len, const char *what,
                         struct insomnia_error *err)
{
	if (len <= PODCMD_OVERLAY_MAX)
		return 0;
	return insomnia_error_set(
	    err, INSOMNIA_ERR_CONFIG,
	    "%s is too long: %zu bytes, and a pod takes at most "
	    "%d bytes of overlay on its command line",
	    what, len, PODCMD_OVERLAY_MAX);
}
