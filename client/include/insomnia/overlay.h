/* insomnia/overlay.h: building the --overlay text a pod is started with.
 *
 * A spawn names its pod twice: the name the client waits for, and
 * `[pod] name` in the config the pod reads.  compose makes them agree:
 * it checks the overlay parses (so a typo is reported here, with the
 * layer, line and column) and adds the name when the overlay lacks it.
 * A single text is kept as written with the name appended at its end,
 * so the pod's own messages point at the caller's lines. */
#ifndef INSOMNIA_OVERLAY_H
#define INSOMNIA_OVERLAY_H

#include <stddef.h>

#include <insomnia/api.h>
#include <insomnia/dirs.h>
#include <insomnia/error.h>

INSOMNIA_BEGIN_DECLS

/* The longest overlay text, in bytes: the pod gets it as one argument,
 * and the kernel takes at most 128 KiB (its NUL included) in one. */
#define INSOMNIA_OVERLAY_MAX (128 * 1024 - 1)

/* Nothing here keeps a pointer it was given beyond the call, and every
 * text returned is the caller's, to free() (not insomnia_*: it is plain
 * malloc'd memory). */

struct insomnia_overlay_part {
	const char *text;   /* TOML; NULL: absent */
	const char *source; /* for errors, e.g. "overlay file x.toml" */
};

/* Compose parts[0..nparts) (later wins; a part whose text is NULL is
 * skipped) with the pod name.  name may be NULL when the overlay names
 * the pod.  name_out (name_size bytes, INSOMNIA_NAME_MAX + 1 is enough)
 * gets the pod's name either way.  Returns a malloc'd overlay text, or
 * NULL with err (INSOMNIA_ERR_CONFIG: a part does not parse, or names
 * another pod than name; INSOMNIA_ERR_BAD_NAME: no name anywhere, or a
 * bad one). */
INSOMNIA_API char *
insomnia_overlay_compose(const struct insomnia_overlay_part *parts, int nparts,
                         const char *name, char *name_out, size_t name_size,
                         struct insomnia_error *err);

/* Read an overlay file, or stdin for "-" (a pipe is fine), refusing what
 * the pod could not be given: a file that is not a regular one (a FIFO
 * never blocks), more than INSOMNIA_OVERLAY_MAX bytes, a NUL byte (named
 * with its offset, line and column).  Fills source (size bytes) with the
 * layer's name for errors ("overlay file x.toml").  Returns the malloc'd text,
 * or NULL with err (INSOMNIA_ERR_IO, or INSOMNIA_ERR_CONFIG for the content).
 */
INSOMNIA_API char *insomnia_overlay_read_file(const char *path, char *source,
                                              size_t size,
                                              struct insomnia_error *err);

/* The pod name an overlay text sets, if any: 1 and the name in name
 * (size bytes), 0 when none, -1 and err when the text does not parse
 * (source names it in the message). */
INSOMNIA_API int insomnia_overlay_name(const char *text, const char *source,
                                       char *name, size_t size,
                                       struct insomnia_error *err);

/* The pod name the manifests a pod started in cwd would read set: the
 * project manifest (nearest .insomnia/manifest.toml from cwd, NULL: the
 * current directory) over the user manifest.  1 and the name in name
 * (size bytes), 0 when neither names the pod, -1 and err when one does
 * not parse or cannot be read. */
INSOMNIA_API int insomnia_manifest_name(const char *cwd, char *name,
                                        size_t size,
                                        struct insomnia_error *err);

INSOMNIA_END_DECLS

#endif
