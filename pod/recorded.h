/* recorded.h: the config a new session records (session.toml's
 * [config]), made to mean the same thing when a later pod resumes it.
 *
 * A relative `cwd` of a process is relative to the directory of the
 * layer that set it; the recorded config keeps the text but not that
 * layer, and on resume it is a layer of its own, relative to the
 * session's cwd.  So the record holds each such cwd resolved against
 * its layer's directory. */
#ifndef INSOMNIA_POD_RECORDED_H
#define INSOMNIA_POD_RECORDED_H

#include "error.h"
#include "manifest.h"
#include "toml.h"

/* tree with every relative process cwd made absolute (a new tree), or
 * NULL with err.  *same is set when nothing needed it (the caller may
 * then record tree itself; NULL is returned). */
struct toml_value *recorded_config(const struct toml_value *tree,
                                   const struct manifest *m, bool *same,
                                   struct insomnia_error *err);

#endif
