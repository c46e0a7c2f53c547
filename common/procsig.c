/* procsig.c: signalling a process or the group it leads, via pidfd. */
#include "procsig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdio.h"

int procsig_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int procsig_stat(pid_t pid, char *state, pid_t *pgid)
{
	char path[64], buf[512], *p;
	long grp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = fd_read_some(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold anything */
	if (!p || sscanf(p + 1, " %c %*d %ld", state, &grp) != 2) {
		errno = EINVAL;
		return -1;
	}
	*pgid = (pid_t)grp;
	return 0;
}

static int pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

bool procsig_leads_group(int pidfd, pid_t pid)
{
	pid_t pgid;
	char state;

	if (procsig_stat(pid, &state, &pgid) < 0 || pgid != pid)
		return false;
	/* still the process we hold, so what we read was about it */
	return pidfd_signal(pidfd, 0) == 0;
}

int procsig_send(int pidfd, pid_t pid, int sig, bool *group)
{
	bool leads = procsig_leads_group(pidfd, pid);

	if (group)
		*group = leads;
	if (leads && kill(-pid, sig) == 0)
		return 0;
	return pidfd_signal(pidfd, sig);
}

int procsig_kill_leaderless_group(pid_t pgid, int sig)
{
	pid_t grp;
	char state;

	if (pgid <= 1) { /* never kill(-1) or our own group by accident */
		errno = EINVAL;
		return -1;
	}
	if (procsig_stat(pgid, &state, &grp) == 0 && state != 'Z')
		return 1;
	if (kill(-pgid, sig) == 0)
		return 0;
	return errno == ESRCH ? 1 : -1;
}
