/* podlist.h: reading one pod dir, for the library's own callers that
 * already hold the runtime root open (stop, reap, the watcher). */
#ifndef INSOMNIA_PODLIST_H
#define INSOMNIA_PODLIST_H

#include <insomnia/pods.h>

/* Fill info for the pod dir `name` inside the runtime root rootfd.
 * Returns 0, or -1 when the dir does not exist or cannot be read. */
int podlist_read(int rootfd, const char *root_path, const char *name,
                 struct insomnia_pod_info *info, struct insomnia_error *err);

#endif
