/* safedir.c: creating and checking 0700 directories. */
#include "safedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

/* The lstat checks, in the order a person would fix them. */
static int check_stat(const struct stat *st, const char *path,
                      struct insomnia_error *err)
{
	if (S_ISLNK(st->st_mode))
		return insomnia_error_set(
		    err, INSOMNIA_ERR_RUNTIME_DIR,
		    "unsafe directory %s: it is a symbolic link", path);
	if (!S_ISDIR(st->st_mode))
		return insomnia_error_set(
		    err, INSOMNIA_ERR_RUNTIME_DIR,
		    "unsafe directory %s: it is not a directory", path);
	if (st->st_uid != geteuid())
		return insomnia_error_set(
		    err, INSOMNIA_ERR_RUNTIME_DIR,
		    "unsafe directory %s: owned by uid %u, not by "
		    "you (uid %u)",
		    path, (unsigned)st->st_uid, (unsigned)geteuid());
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return insomnia_error_set(
		    err, INSOMNIA_ERR_RUNTIME_DIR,
		    "unsafe directory %s: writable by group or "
		    "others (mode %04o); run chmod 700 on it",
		    path, (unsigned)(st->st_mode & 07777));
	return 0;
}

/* Open what lstat saw, make sure it is the same inode (no swap in
 * between), and tighten a group/other-readable mode to 0700. */
static int open_checked(int dirfd, const char *name, const char *path,
                        const struct stat *seen, struct insomnia_error *err)
{
	struct stat st;
	int fd = openat(dirfd, name,
	                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		    "cannot open directory %s", path);
	if (fstat(fd, &st) < 0 || st.st_dev != seen->st_dev ||
	    st.st_ino != seen->st_ino) {
		close(fd);
		return insomnia_error_set(
		    err, INSOMNIA_ERR_RUNTIME_DIR,
		    "unsafe directory %s: it changed while being "
		    "checked",
		    path);
	}
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0) {
		int saved = errno;
		close(fd);
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_RUNTIME_DIR, saved,
		    "cannot tighten %s to mode 0700", path);
	}
	return fd;
}

int safedir_openat(int dirfd, const char *name, const char *path_for_errors,
                   bool create, struct insomnia_error *err)
{
	struct stat st;

	if (create && mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		    "cannot create directory %s", path_for_errors);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		    "cannot use directory %s", path_for_errors);
	if (check_stat(&st, path_for_errors, err) < 0)
		return -1;
	return open_checked(dirfd, name, path_for_errors, &st, err);
}

/* mkdir, then 0700 whatever the umask: a parent made 0500 under umask
 * 0277 would refuse the children we are about to make in it. */
static int make_one(const char *path, struct insomnia_error *err)
{
	int fd;

	if (mkdir(path, 0700) < 0)
		return errno == EEXIST
		           ? 0
		           : insomnia_error_set_errno(
		                 err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		                 "cannot create directory %s", path);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0700) < 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_RUNTIME_DIR, saved,
		    "cannot make %s mode 0700", path);
	}
	close(fd);
	return 0;
}

/* mkdir -p for the missing parents of path, each 0700.  Existing parents
 * (such as /tmp or $HOME) are not ours to judge. */
static int make_parents(const char *path, struct insomnia_error *err)
{
	char buf[INSOMNIA_PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof buf)
		return insomnia_error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
		                          "path too long: %s", path);
	strcpy(buf, path);
	for (slash = strchr(buf + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (make_one(buf, err) < 0)
			return -1;
		*slash = '/';
	}
	return 0;
}

int safedir_open(const char *path, bool create, struct insomnia_error *err)
{
	if (path[0] != '/')
		return insomnia_error_set(
		    err, INSOMNIA_ERR_RUNTIME_DIR,
		    "directory %s is not an absolute path", path);
	if (create && make_parents(path, err) < 0)
		return -1;
	return safedir_openat(AT_FDCWD, path, path, create, err);
}
