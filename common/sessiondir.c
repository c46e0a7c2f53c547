/* sessiondir.c: the sessions root, a session's dir and its lock
 * (session.h). */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "livelock.h"
#include "safedir.h"

int session_open_root(bool create, char *path, size_t size,
                      struct insomnia_error *err)
{
	char data[INSOMNIA_PATH_MAX], root[INSOMNIA_PATH_MAX];
	int datafd, fd;

	if (insomnia_data_root(data, sizeof data, err) < 0 ||
	    paths_join(root, sizeof root, data, SESSION_ROOT, err) < 0)
		return -1;
	/* Filled first: a caller names the path when it is missing. */
	if (path)
		snprintf(path, size, "%s", root);
	datafd = safedir_open(data, create, err);
	if (datafd < 0)
		return -1;
	fd = safedir_openat(datafd, SESSION_ROOT, root, create, err);
	close(datafd);
	return fd;
}

int session_open_dir(int sessions_dirfd, const char *id,
                     struct insomnia_error *err)
{
	char lower[SESSION_ID_LEN + 1];
	int fd;

	if (session_id_normalize(id, lower, err) < 0)
		return -1;
	fd = safedir_openat(sessions_dirfd, lower, lower, false, err);
	if (fd < 0 && err && err->errnum == ENOENT)
		return insomnia_error_set(err, INSOMNIA_ERR_SESSION_UNKNOWN,
		                          "no session %s", lower);
	if (fd < 0)
		insomnia_error_prefix(err, "session %s", lower);
	return fd;
}

int session_is_live(int session_dirfd, struct insomnia_error *err)
{
	return livelock_probe_at(session_dirfd, SESSION_LOCK,
	                         "the session's lock file", err);
}

int session_lock_try(int session_dirfd, int *fd, struct insomnia_error *err)
{
	/* the same lock the pod takes (livelock.h) */
	int rc = livelock_take_at(session_dirfd, SESSION_LOCK,
	                          "the session's lock file", fd, err);

	return rc == 0 ? 1 : rc == LIVELOCK_HELD ? 0 : -1;
}
