/* sessiondir.c: the sessions root, a session's dir and its lock
 * (session.h). */
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/* Unlink every regular file of the open dir fd (taken over). */
static int unlink_regular_files(int fd, struct insomnia_error *err)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	struct stat st;
	int rc = 0;

	if (!d) {
		close(fd);
		return insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR,
		                                errno, "cannot list %s",
		                                SESSION_LOGS);
	}
	while (rc == 0 && (e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			rc = insomnia_error_set(
			    err, INSOMNIA_ERR_RUNTIME_DIR,
			    "kept %s/%s: not a regular file", SESSION_LOGS, n);
		else if (unlinkat(dirfd(d), n, 0) < 0 && errno != ENOENT)
			rc = insomnia_error_set_errno(
			    err, INSOMNIA_ERR_RUNTIME_DIR, errno,
			    "cannot remove %s/%s", SESSION_LOGS, n);
	}
	closedir(d);
	return rc;
}

int session_remove_logs(int session_dirfd, struct insomnia_error *err)
{
	int fd = openat(session_dirfd, SESSION_LOGS,
	                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR,
		                                errno, "cannot open %s",
		                                SESSION_LOGS);
	if (unlink_regular_files(fd, err) < 0)
		return -1;
	if (unlinkat(session_dirfd, SESSION_LOGS, AT_REMOVEDIR) < 0 &&
	    errno != ENOENT)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR,
		                                errno, "cannot remove %s",
		                                SESSION_LOGS);
	return 0;
}
