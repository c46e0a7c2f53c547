/* podcmd.h: which program is the pod.  INSOMNIA_POD_COMMAND is an
 * executable path, never a shell line (so an E2E harness can swap in a
 * mock pod); else `pod` on PATH. */
#ifndef INSOMNIA_PODCMD_H
#define INSOMNIA_PODCMD_H

#include <stddef.h>

#include "error.h"
#include <insomnia/overlay.h>

#define PODCMD_ENV "INSOMNIA_POD_COMMAND"

/* What the pod command finds in its environment besides the caller's
 * (which the client leaves untouched): its name, and the absolute path
 * of its runtime dir <runtime root>/<name>, so that a pod (a mock in a
 * harness) need not re-implement the directory rules. */
#define PODCMD_ENV_NAME "INSOMNIA_POD_NAME"
#define PODCMD_ENV_DIR  "INSOMNIA_POD_DIR"

/* The longest --overlay text, in bytes.  The kernel takes one argv
 * string of at most MAX_ARG_STRLEN (32 pages: 128 KiB with 4 KiB pages)
 * counting its NUL; a longer one fails exec with "Argument list too
 * long".  The pod gets its overlay only on the command line, so a
 * longer one is refused before anything is started (docs/manifest.md). */
#define PODCMD_OVERLAY_MAX INSOMNIA_OVERLAY_MAX /* <insomnia/overlay.h> */

/* The largest manifest file, in bytes: the pod refuses a bigger one
 * (a human-written file; anything bigger is a mistake), and the client
 * reading a manifest for its [pod] name uses the same limit. */
#define PODCMD_MANIFEST_MAX (1024 * 1024)

/* Resolve to an executable path.  explicit (may be NULL) wins over the
 * environment.  Errors are INSOMNIA_ERR_LAUNCH_FAILED and name what was tried.
 */
int podcmd_resolve(const char *explicit, char *out, size_t size,
                   struct insomnia_error *err);

/* 0 when an overlay of len bytes fits on the pod's command line, else
 * -1 with INSOMNIA_ERR_CONFIG naming what (e.g. "overlay file x.toml") and the
 * limit. */
int podcmd_check_overlay(size_t len, const char *what,
                         struct insomnia_error *err);

#endif
