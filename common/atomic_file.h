/* atomic_file.h: replace a file so that readers see the old or the new
 * content, never a mix, and a crash leaves one of the two. */
#ifndef INSOMNIA_ATOMIC_FILE_H
#define INSOMNIA_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Write data to a temporary file in dirfd, fsync it, rename it over name,
 * then fsync dirfd.  The temporary file never outlives a failure. */
int atomic_write_at(int dirfd, const char *name, const void *data, size_t len,
                    mode_t mode, struct error *err);

#endif
