/* paths.h: where runtime dirs, sessions and manifests live (DESIGN.md,
 * "Directories").  The order of the variables is the contract; an empty
 * variable counts as unset. */
#ifndef INSOMNIA_PATHS_H
#define INSOMNIA_PATHS_H

#include <stddef.h>

#include <insomnia/dirs.h>

#include "error.h"

/* getenv() that treats an empty value as unset. */
const char *paths_env(const char *name);

/* ${XDG_CONFIG_HOME:-$HOME/.config}/insomnia/manifest.toml (whether or
 * not it exists).  Returns -1 only when neither variable is usable (unset,
 * empty or relative). */
int paths_user_manifest(char *out, size_t size, struct insomnia_error *err);

/* The nearest .insomnia/manifest.toml walking up from cwd (absolute).
 * Returns 1 and fills out when found, 0 when none, -1 on error. */
int paths_project_manifest(const char *cwd, char *out, size_t size,
                           struct insomnia_error *err);

/* out = dir + "/" + name, refusing truncation. */
int paths_join(char *out, size_t size, const char *dir, const char *name,
               struct insomnia_error *err);

#endif
