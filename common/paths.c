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
               struct error *err)
{
	int n = snprintf(out, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return error_set(err, ERR_RUNTIME_DIR, "path too long: %s/%s",
		                 dir, name);
	return 0;
}

/* base (made absolute) + "/" + suffix, or base alone when suffix is NULL */
static int absolute(char *out, size_t size, const char *base,
                    const char *suffix, struct error *err)
{
	char cwd[PATHS_MAX];
	char joined[PATHS_MAX];

	if (base[0] != '/') {
		if (!getcwd(cwd, sizeof cwd))
			return error_set_errno(err, ERR_RUNTIME_DIR, errno,
			                       "cannot resolve relative path "
			                       "%s",
			                       base);
		if (paths_join(joined, sizeof joined, cwd, base, err) < 0)
			return -1;
		base = joined;
	}
	if (!suffix) {
		if (strlen(base) >= size)
			return error_set(err, ERR_RUNTIME_DIR,
			                 "path too long: %s", base);
		strcpy(out, base);
		return 0;
	}
	return paths_join(out, size, base, suffix, err);
}

int paths_runtime_root(char *out, size_t size, struct error *err)
{
	const char *v;

	if ((v = paths_env("INSOMNIA_RUNTIME_DIR")))
		return absolute(out, size, v, NULL, err);
	if ((v = paths_env("INSOMNIA_HOME")))
		return absolute(out, size, v, "run", err);
	v = paths_env("XDG_RUNTIME_DIR");
	if (v && v[0] == '/')
		return paths_join(out, size, v, "insomnia", err);
	if ((v = paths_env("HOME")))
		return absolute(out, size, v, ".insomnia/run", err);
	return error_set(err, ERR_RUNTIME_DIR,
	                 "no runtime directory: set INSOMNIA_RUNTIME_DIR, "
	                 "INSOMNIA_HOME, XDG_RUNTIME_DIR (absolute) or HOME");
}

int paths_data_root(char *out, size_t size, struct error *err)
{
	const char *v;

	if ((v = paths_env("INSOMNIA_DATA_DIR")))
		return absolute(out, size, v, NULL, err);
	if ((v = paths_env("INSOMNIA_HOME")))
		return absolute(out, size, v, NULL, err);
	if ((v = paths_env("HOME")))
		return absolute(out, size, v, ".insomnia", err);
	return error_set(err, ERR_RUNTIME_DIR,
	                 "no data directory: set INSOMNIA_DATA_DIR, "
	                 "INSOMNIA_HOME or HOME");
}

int paths_user_manifest(char *out, size_t size, struct error *err)
{
	const char *v = paths_env("XDG_CONFIG_HOME");

	if (v && v[0] == '/')
		return paths_join(out, size, v, "insomnia/manifest.toml", err);
	if ((v = paths_env("HOME")))
		return absolute(out, size, v, ".config/insomnia/manifest.toml",
		                err);
	return error_set(err, ERR_CONFIG,
	                 "no user manifest location: set XDG_CONFIG_HOME "
	                 "(absolute) or HOME");
}

int paths_project_manifest(const char *cwd, char *out, size_t size,
                           struct error *err)
{
	char dir[PATHS_MAX];
	struct stat st;

	if (absolute(dir, sizeof dir, cwd, NULL, err) < 0)
		return -1;
	for (;;) {
		char *slash;
		if (paths_join(out, size, strcmp(dir, "/") ? dir : "",
		               ".insomnia/manifest.toml", err) < 0)
			return -1;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
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
