/* unixsock.c: bind and connect through a directory descriptor. */
#include "unixsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "paths.h"

/* Fill addr with dir/name, or /proc/self/fd/<dirfd>/name when too long. */
static int make_addr(struct sockaddr_un *addr, int dirfd, const char *dir,
                     const char *name, const char *path_for_errors,
                     struct insomnia_error *err)
{
	int n;

	memset(addr, 0, sizeof *addr);
	addr->sun_family = AF_UNIX;
	if (dir)
		n = snprintf(addr->sun_path, sizeof addr->sun_path, "%s/%s",
		             dir, name);
	else
		n = -1;
	if (n < 0 || (size_t)n >= sizeof addr->sun_path)
		n = snprintf(addr->sun_path, sizeof addr->sun_path,
		             "/proc/self/fd/%d/%s", dirfd, name);
	if (n < 0 || (size_t)n >= sizeof addr->sun_path)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_SOCKET_REFUSED,
		    "socket name too long even through its "
		    "directory: %s",
		    path_for_errors);
	return 0;
}

int unixsock_listen_at(int dirfd, const char *name, const char *path_for_errors,
                       int backlog, struct insomnia_error *err)
{
	struct sockaddr_un addr;
	int fd;

	if (make_addr(&addr, dirfd, NULL, name, path_for_errors, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                errno,
		                                "cannot create a socket");
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		                         "cannot bind %s", path_for_errors);
		goto fail;
	}
	/* The dir is 0700 already; 0600 on the socket is the second wall. */
	if (fchmodat(dirfd, name, 0600, 0) < 0 || listen(fd, backlog) < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		                         "cannot listen on %s",
		                         path_for_errors);
		unlinkat(dirfd, name, 0);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* errnum EAGAIN is what unixsock_is_busy() looks for. */
static int busy(const char *path, struct insomnia_error *err)
{
	insomnia_error_set(err, INSOMNIA_ERR_SOCKET_REFUSED,
	                   "socket %s is busy: its accept queue is full", path);
	if (err)
		err->errnum = EAGAIN;
	return -1;
}

/* A non-blocking AF_UNIX connect either completes at once or fails: with
 * EAGAIN when the listener's accept queue is full.  That socket is not
 * connected (it never will be), so it is closed and reported as busy,
 * which still proves something listens there. */
static int connect_addr(const struct sockaddr_un *addr, const char *path,
                        bool blocking, int *fd_out, struct insomnia_error *err)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                errno,
		                                "cannot create a socket");
	do
		rc = connect(fd, (const struct sockaddr *)addr, sizeof *addr);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		int saved = errno;
		close(fd);
		if (saved == EAGAIN)
			return busy(path, err);
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_SOCKET_REFUSED, saved,
		    "socket %s does not accept connections", path);
	}
	if (blocking &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		int saved = errno;
		close(fd);
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_INTERNAL, saved,
		    "cannot make socket %s blocking", path);
	}
	*fd_out = fd;
	return 0;
}

static int connect_path(const char *path, bool blocking, int *fd_out,
                        struct insomnia_error *err)
{
	char dir[INSOMNIA_PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct sockaddr_un addr;
	int dirfd = -1, rc = -1;

	if (!slash || (size_t)(slash - path) >= sizeof dir)
		return insomnia_error_set(err, INSOMNIA_ERR_SOCKET_REFUSED,
		                          "socket path %s is not usable", path);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (strlen(path) < sizeof addr.sun_path) {
		if (make_addr(&addr, -1, dir, slash + 1, path, err) < 0)
			return -1;
		return connect_addr(&addr, path, blocking, fd_out, err);
	}
	dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_SOCKET_REFUSED, errno,
		    "cannot open the directory of socket %s", path);
	if (make_addr(&addr, dirfd, NULL, slash + 1, path, err) == 0)
		rc = connect_addr(&addr, path, blocking, fd_out, err);
	close(dirfd);
	return rc;
}

int unixsock_connect(const char *path, int *fd_out, struct insomnia_error *err)
{
	return connect_path(path, true, fd_out, err);
}

int unixsock_connect_nonblock(const char *path, int *fd_out,
                              struct insomnia_error *err)
{
	return connect_path(path, false, fd_out, err);
}

int unixsock_check_listening(const char *path, struct insomnia_error *err)
{
	struct insomnia_error mine;
	int fd;

	if (connect_path(path, false, &fd, &mine) == 0) {
		close(fd);
		return 0;
	}
	if (unixsock_is_busy(&mine))
		return 0;
	if (err)
		*err = mine;
	return -1;
}

bool unixsock_is_busy(const struct insomnia_error *err)
{
	return err->kind == INSOMNIA_ERR_SOCKET_REFUSED &&
	       err->errnum == EAGAIN;
}
