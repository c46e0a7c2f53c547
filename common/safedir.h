/* safedir.h: directories only the user can touch (DESIGN.md,
 * "Directories").
 *
 * Created 0700.  An existing one must be a real directory (checked with
 * lstat, never followed through a symlink), owned by the user, and not
 * writable by group or others; one merely readable by others, as another
 * insomnia client with the default umask makes it, is tightened to 0700. */
#ifndef INSOMNIA_SAFEDIR_H
#define INSOMNIA_SAFEDIR_H

#include <stdbool.h>

#include "error.h"

/* Ensure path is a safe directory, creating it and any missing parents
 * (0700) when create is true.  Returns an O_DIRECTORY|O_CLOEXEC descriptor
 * of it, or -1 with err (kind INSOMNIA_ERR_RUNTIME_DIR) saying which check
 * failed for which path. */
int safedir_open(const char *path, bool create, struct insomnia_error *err);

/* The same for name inside the safe directory dirfd (no parents made);
 * path_for_errors is the full path, for messages. */
int safedir_openat(int dirfd, const char *name, const char *path_for_errors,
                   bool create, struct insomnia_error *err);

#endif
