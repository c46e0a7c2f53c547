/* notify.c: NOTIFY_SOCKET messages to the pod's own supervisor
 * (notify.h). */
#include "notify.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "podlog.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;

/* A path ("/run/...") or an abstract name ("@name"), as systemd sets
 * it; anything else is not ours to guess at. */
static bool parse_address(const char *value)
{
	size_t len = strlen(value);

	if ((value[0] != '/' && value[0] != '@') || len < 2 ||
	    len >= sizeof notify_addr.sun_path)
		return false;
	memset(&notify_addr, 0, sizeof notify_addr);
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, value, len);
	if (value[0] == '@')
		notify_addr.sun_path[0] = '\0';
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	                         (value[0] == '/'));
	return true;
}

void notify_init(void)
{
	const char *value = getenv("NOTIFY_SOCKET");
	bool ok;

	if (!value || !value[0]) {
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	ok = parse_address(value);
	if (!ok)
		podlog("NOTIFY_SOCKET=%s is not a socket path or @name; "
		       "ignored",
		       value);
	unsetenv("NOTIFY_SOCKET");
	if (!ok)
		return;
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0)
		podlog("cannot notify the supervisor: socket: %s",
		       strerror(errno));
}

void notify_send(const char *msg)
{
	ssize_t n;

	if (notify_fd < 0)
		return;
	do
		n = sendto(notify_fd, msg, strlen(msg), MSG_NOSIGNAL,
		           (struct sockaddr *)&notify_addr, notify_len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		podlog("cannot notify the supervisor: %s", strerror(errno));
}

void notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
