/* fds.c: closing inherited descriptors, with a fallback for kernels
 * older than close_range(2) (5.9). */
#include "fds.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/* The slow way: every number /proc lists, except the listing's own. */
static void close_listed(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || fd <= 2 || fd == dirfd(d))
			continue;
		close((int)fd);
	}
	closedir(d);
}

void fds_close_inherited(void)
{
	if (close_range(3, ~0U, 0) == 0)
		return;
	if (errno == ENOSYS || errno == EINVAL)
		close_listed();
}
