/* podreap.c: cleaning stale runtime dirs. */
#include "podreap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fdio.h"
#include "paths.h"
#include "podlist.h"
#include "rundir.h"
#include "sessionreap.h"

/* State letter and pgid of a process, from /proc/<pid>/stat. */
static bool proc_stat(const char *pid, char *state, long *pgid)
{
	char path[300], buf[512], *p; /* pid: a d_name, up to 255 */
	int fd, n;

	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = (int)read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold anything */
	return p && sscanf(p + 2, "%c %*d %ld", state, pgid) == 2;
}

/* Does any process other than a zombie still run in the group? */
static bool group_runs(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool runs = false;
	long grp;
	char st;

	while (d && !runs && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		    proc_stat(e->d_name, &st, &grp) && grp == pgid && st != 'Z')
			runs = true;
	if (d)
		closedir(d);
	return runs;
}

/* Kill what a dead pod left in its group, but only while the group's
 * leader is gone or a zombie: a live leader with that pid is a stranger
 * that reused it. */
static pid_t kill_stale_group(pid_t pgid)
{
	char pid[24], st = 'Z';
	long grp;

	if (pgid <= 1)
		return 0;
	snprintf(pid, sizeof pid, "%ld", (long)pgid);
	if (proc_stat(pid, &st, &grp) && st != 'Z')
		return 0;
	if (!group_runs(pgid))
		return 0;
	return kill(-pgid, SIGKILL) == 0 ? pgid : 0;
}

/* Notes are short by design: a cut one still says what went wrong. */
static void note(struct reap_report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->note, sizeof r->note, fmt, ap);
	va_end(ap);
}

/* Remove the files a pod dir may hold, then the dir itself. */
static void remove_dir(int rootfd, int dirfd, struct reap_report *r)
{
	DIR *d = fdopendir(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* a non-socket sock, a FIFO or dir named pid: not ours */
		if (rundir_remove_entry(dirfd, e->d_name) < 0)
			note(r, "kept %s: %s", e->d_name,
			     errno == ENOTSOCK ? "not a socket"
			                       : fd_strerror(errno));
	}
	if (d)
		closedir(d);
	if (unlinkat(rootfd, r->name, AT_REMOVEDIR) == 0)
		r->removed = true;
	else if (!r->note[0])
		note(r, "cannot remove the dir: %s", strerror(errno));
}

/* 1 when reaped (or tried), 0 when left alone. */
static int reap_one(int rootfd, const char *root, const char *name,
                    struct reap_report *r)
{
	struct pod_info info;
	int dirfd, done = 0;

	memset(r, 0, sizeof *r);
	memcpy(r->name, name, strlen(name) + 1); /* a checked pod name */
	dirfd = openat(rootfd, name,
	               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return 0;
	/* the spawn lock keeps us out of a handshake in progress */
	if (flock(dirfd, LOCK_EX | LOCK_NB) < 0)
		goto out;
	if (podlist_read(rootfd, root, name, &info, NULL) < 0 || info.alive)
		goto out;
	r->killed_group =
	    kill_stale_group(info.pgid > 0 ? info.pgid : info.pid);
	remove_dir(rootfd, dirfd, r);
	done = 1;
out:
	close(dirfd); /* releases the spawn lock; waiting spawners saw the
	                 dir deleted and make it anew */
	return done;
}

int pod_reap(void (*fn)(const struct reap_report *r, void *arg), void *arg,
             struct error *err)
{
	char root[PATHS_MAX];
	struct reap_report r;
	struct dirent *e;
	int rootfd;
	DIR *d;

	rootfd = rundir_open_root(false, root, sizeof root, err);
	if (rootfd < 0) /* no pods, but maybe sessions to reap */
		return err && err->errnum == ENOENT
		           ? session_reap(fn, arg, NULL)
		           : -1;
	d = fdopendir(fcntl(rootfd, F_DUPFD_CLOEXEC, 0));
	while (d && (e = readdir(d))) {
		if (podname_check(e->d_name, NULL) < 0)
			continue;
		if (reap_one(rootfd, root, e->d_name, &r) && fn)
			fn(&r, arg);
	}
	if (d)
		closedir(d);
	close(rootfd);
	/* and the sessions whose creation a crash cut short */
	return session_reap(fn, arg, NULL);
}
