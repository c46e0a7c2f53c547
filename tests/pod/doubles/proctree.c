/* Test double of common/proctree.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "proctree.h"

void proctree_token(char *buf, size_t size, const char *session_id,
                    const char *process)
{
	snprintf(buf, size, "%s/%s", session_id, process);
}

int proctree_start_time(pid_t pid, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	*ticks = p ? strtoull(p, NULL, 10) : 0;
	return 0;
}

static int carries(pid_t pid, const char *prefix)
{
	char path[64], buf[65536];
	size_t plen = strlen(PROCTREE_TOKEN_VAR "=");
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (char *e = buf; e < buf + n; e += strlen(e) + 1)
		if (strncmp(e, PROCTREE_TOKEN_VAR "=", plen) == 0 &&
		    strncmp(e + plen, prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

int proctree_signal_marked(const char *token_prefix, int sig, size_t *count)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t c = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);
		int fd;
		if (pid <= 0 || pid == getpid() || !carries(pid, token_prefix))
			continue;
		fd = compat_pidfd_open(pid);
		if (fd < 0)
			continue;
		if (carries(pid, token_prefix) &&
		    compat_pidfd_send_signal(fd, sig) == 0)
			c++;
		close(fd);
	}
	closedir(d);
	if (count)
		*count = c;
	return 0;
}
