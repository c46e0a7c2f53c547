/* ports.c: free loopback ports and listening sockets (ports.h). */
#include "ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bind one socket to 127.0.0.1:0 (listening when asked): its fd with
 * *port, or -1.  A listening socket is listening before the next one is
 * bound, so the kernel cannot hand its port out again even to another
 * SO_REUSEADDR socket. */
static int bind_free(int *port, bool listening)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((listening &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0 ||
	    (listening && listen(fd, SOMAXCONN) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int ports_alloc(int *ports, const bool *listen, int *fds, size_t n,
                struct insomnia_error *err)
{
	int *held;
	size_t got;
	int rc = 0;

	if (n == 0)
		return 0;
	held = calloc(n, sizeof *held);
	if (!held)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM,
		                                "cannot allocate ports");
	for (got = 0; got < n; got++) {
		held[got] = bind_free(&ports[got], listen && listen[got]);
		if (held[got] < 0) {
			rc = insomnia_error_set_errno(
			    err, INSOMNIA_ERR_INTERNAL, errno,
			    "cannot find a free port on 127.0.0.1");
			break;
		}
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (fds)
			fds[i] = listen && listen[i] ? held[i] : -1;
		if (listen && listen[i])
			held[i] = -1; /* the caller's now */
	}
	close_all(held, got);
	free(held);
	return rc;
}

int ports_listen_again(int *fd, int port, const char *name,
                       struct insomnia_error *err)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port)};
	int on = 0, one = 1, nfd;
	socklen_t len = sizeof on;

	if (getsockopt(*fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
		return 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	nfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (nfd < 0 ||
	    setsockopt(nfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(nfd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(nfd, SOMAXCONN) < 0) {
		int e = errno;
		if (nfd >= 0)
			close(nfd);
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_INTERNAL, e,
		    "listen port %s (%d) stopped listening and cannot be "
		    "bound again",
		    name, port);
	}
	close(*fd);
	*fd = nfd;
	return 0;
}
