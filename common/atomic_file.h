/* atomic_file.h: replace a file so that readers see the old or the new
 * content, never a mix, and a crash leaves one of the two. */
#ifndef INSOMNIA_ATOMIC_FILE_H
#define INSOMNIA_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Write data to a temporary file in dirfd (mode exactly, whatever the
 * umask), fsync it, rename it over name, then fsync dirfd.  The temporary
 * file never outlives a failure. */
int atomic_write_at(int dirfd, const char *name, const void *data, size_t len,
                    mode_t mode, struct insomnia_error *err);

/* What atomic_write_sync_at makes durable.  Readers see the old or the
 * new content either way; the syncs are about a crash of the machine:
 * - FILE: the data before the rename, so a power loss leaves the old
 *   file or the whole new one, never an empty or partial one;
 * - DIR: the rename itself, so the new name survives a power loss.
 * None, for files on tmpfs or recreated at every start (a pod's pid and
 * state.json); FILE alone when the caller syncs the directory later. */
enum {
	ATOMIC_SYNC_NONE = 0,
	ATOMIC_SYNC_FILE = 1,
	ATOMIC_SYNC_DIR = 2,
};

/* atomic_write_at with only the syncs asked for (ATOMIC_SYNC_*). */
int atomic_write_sync_at(int dirfd, const char *name, const void *data,
                         size_t len, mode_t mode, unsigned sync,
                         struct insomnia_error *err);

#endif
