/* overlay.h: building the --overlay text a pod is started with.
 *
 * A spawn names its pod twice: the name the client waits for, and
 * `[pod] name` in the config the pod reads.  compose makes them agree:
 * it checks the overlay parses (so a typo is reported here, with the
 * layer, line and column) and adds the name when the overlay lacks it.
 * A single text is kept as written with the name appended at its end,
 * so the pod's own messages point at the caller's lines. */
#ifndef INSOMNIA_OVERLAY_H
#define INSOMNIA_OVERLAY_H

#include "error.h"

struct overlay_part {
	const char *text;   /* TOML; NULL: absent */
	const char *source; /* for errors, e.g. "overlay file x.toml" */
};

/* Compose up to two parts (later wins) with the pod name.  name may be
 * NULL when the overlay names the pod; *name_out then points into the
 * result's storage (valid until the result is freed).  Returns a
 * malloc'd overlay text, or NULL with err (ERR_CONFIG, ERR_BAD_NAME). */
char *overlay_compose(const struct overlay_part *parts, int nparts,
                      const char *name, char *name_out, size_t name_size,
                      struct error *err);

/* Read an overlay file, or stdin for "-" (a pipe is fine), refusing what
 * the pod could not be given: a file that is not a regular one (a FIFO
 * never blocks), more than PODCMD_OVERLAY_MAX bytes, a NUL byte (named
 * with its offset, line and column).  Fills source with the layer's name
 * for errors ("overlay file x.toml").  Returns the malloc'd text, or
 * NULL with err (ERR_IO, or ERR_CONFIG for the content). */
char *overlay_read_file(const char *path, char *source, size_t size,
                        struct error *err);

/* The pod name an overlay text sets, if any: 1 and the name, 0 when
 * none, -1 when the text does not parse. */
int overlay_name(const char *text, const char *source, char *name, size_t size,
                 struct error *err);

/* The pod name the manifests a pod started in cwd would read set: the
 * project manifest (nearest .insomnia/manifest.toml from cwd, NULL: the
 * current directory) over the user manifest.  1 and the name, 0 when
 * neither names the pod, -1 when one does not parse. */
int overlay_manifest_name(const char *cwd, char *name, size_t size,
                          struct error *err);

#endif
