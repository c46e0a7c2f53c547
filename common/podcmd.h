/* podcmd.h: which program is the pod.  INSOMNIA_POD_COMMAND is an
 * executable path, never a shell line (so an E2E harness can swap in a
 * mock pod); else `pod` on PATH. */
#ifndef INSOMNIA_PODCMD_H
#define INSOMNIA_PODCMD_H

#include <stddef.h>

#include "error.h"

#define PODCMD_ENV "INSOMNIA_POD_COMMAND"

/* Resolve to an executable path.  explicit (may be NULL) wins over the
 * environment.  Errors are ERR_LAUNCH_FAILED and name what was tried. */
int podcmd_resolve(const char *explicit, char *out, size_t size,
                   struct error *err);

#endif
