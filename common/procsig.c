/* procsig.c: signalling a process or the group it leads, via pidfd. */
#include "procsig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"
#include "fdio.h"

int procsig_pidfd_open(pid_t pid)
{
	return compat_pidfd_open(pid);
}

/* State, group and session of pid from /proc/<pid>/stat. */
static int read_stat(pid_t pid, char *state, pid_t *pgid, pid_t *sid)
{
	char path[64], buf[512], *p;
	long grp, ses;
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
	if (!p || sscanf(p + 1, " %c %*d %ld %ld", state, &grp, &ses) != 3) {
		errno = EINVAL;
		return -1;
	}
	*pgid = (pid_t)grp;
	*sid = (pid_t)ses;
	return 0;
}

int procsig_stat(pid_t pid, char *state, pid_t *pgid)
{
	pid_t sid;

	return read_stat(pid, state, pgid, &sid);
}

bool procsig_leads_group(int pidfd, pid_t pid)
{
	pid_t pgid;
	char state;

	if (procsig_stat(pid, &state, &pgid) < 0 || pgid != pid)
		return false;
	/* still the process we hold, so what we read was about it */
	return compat_pidfd_send_signal(pidfd, 0) == 0;
}

int procsig_send(int pidfd, pid_t pid, int sig, bool *group)
{
	bool leads = procsig_leads_group(pidfd, pid);

	if (group)
		*group = leads;
	if (leads && kill(-pid, sig) == 0)
		return 0;
	return compat_pidfd_send_signal(pidfd, sig);
}

/* Is fd (an entry of a /proc/<pid>/fd dir) the file dev/ino?  stat
 * follows the magic link to the open file itself, whatever its name. */
static bool is_file(int fddir, const char *fd, dev_t dev, ino_t ino)
{
	struct stat st;

	return fd[0] != '.' && fstatat(fddir, fd, &st, 0) == 0 &&
	       st.st_dev == dev && st.st_ino == ino;
}

static bool fd_dir_has(int fddir, dev_t dev, ino_t ino)
{
	DIR *d = fdopendir(fddir);
	struct dirent *e;
	bool found = false;

	if (!d) {
		close(fddir);
		return false;
	}
	while (!found && (e = readdir(d)))
		found = is_file(dirfd(d), e->d_name, dev, ino);
	closedir(d);
	return found;
}

bool procsig_has_open(int pidfd, pid_t pid, dev_t dev, ino_t ino)
{
	char path[64];
	int fddir;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	fddir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fddir < 0 || !fd_dir_has(fddir, dev, ino))
		return false;
	/* still the process we hold, so the dir we read was its own */
	return compat_pidfd_send_signal(pidfd, 0) == 0;
}

/* Is pid a live (not zombie) member of the session-led group pgid? */
static bool in_session_group(pid_t pid, pid_t pgid)
{
	pid_t grp, sid;
	char state;

	return read_stat(pid, &state, &grp, &sid) == 0 && state != 'Z' &&
	       grp == pgid && sid == pgid;
}

/* Signal pid through a pidfd, once the process it names is checked to be
 * a member still: the pid read from /proc may have been reused since. */
static bool signal_member(pid_t pid, pid_t pgid, int sig)
{
	int pidfd = procsig_pidfd_open(pid);
	bool sent;

	if (pidfd < 0)
		return false;
	/* a process that died after the check is a zombie or gone: the
	 * signal is harmless or fails, never lands on a new owner of pid */
	sent = in_session_group(pid, pgid) &&
	       compat_pidfd_send_signal(pidfd, sig) == 0;
	close(pidfd);
	return sent;
}

/* Every member of the session-led group pgid: 0 sent to some, 1 none. */
static int signal_members(pid_t pgid, int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t pid;
	int rc = 1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		pid = (pid_t)atol(e->d_name);
		if (pid > 0 && in_session_group(pid, pgid) &&
		    signal_member(pid, pgid, sig))
			rc = 0;
	}
	closedir(d);
	return rc;
}

int procsig_kill_leaderless_group(pid_t pgid, int sig)
{
	pid_t grp;
	char state;

	if (pgid <= 1) { /* never our own group or init's by accident */
		errno = EINVAL;
		return -1;
	}
	if (procsig_stat(pgid, &state, &grp) == 0 && state != 'Z')
		return 1;
	return signal_members(pgid, sig);
}
