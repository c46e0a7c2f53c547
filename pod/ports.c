/* ports.c: free loopback ports (ports.h). */
#include "ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bind one socket to 127.0.0.1:0: its fd with *port, or -1. */
static int bind_free(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int ports_alloc(int *ports, size_t n, struct insomnia_error *err)
{
	int *fds;
	size_t i, got = 0;
	int rc = 0;

	if (n == 0)
		return 0;
	fds = calloc(n, sizeof *fds);
	if (!fds)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM,
		                                "cannot allocate ports");
	for (got = 0; got < n; got++) {
		fds[got] = bind_free(&ports[got]);
		if (fds[got] < 0) {
			rc = insomnia_error_set_errno(
			    err, INSOMNIA_ERR_INTERNAL, errno,
			    "cannot find a free port on 127.0.0.1");
			break;
		}
	}
	for (i = 0; i < got; i++)
		close(fds[i]);
	free(fds);
	return rc;
}
