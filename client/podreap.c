/* podreap.c: cleaning stale runtime dirs.
 *
 * A dir is removed only while reap holds both what it checked: the spawn
 * lock (no handshake runs on the dir) and the pod's own `lock` (no pod
 * runs, none can start on that file).  `lock` goes last of the files,
 * still held: a pod that opened it before can take it only once it is
 * unlinked, sees that, and starts over on a fresh dir
 * (rundir_take_lock).  Before removing anything, while nothing can
 * start there, it kills what the dead pod's processes left (procrec.h,
 * docs/runtime-dir.md "Process records"). */
#include <insomnia/reap.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "podlist.h"
#include "fdio.h"
#include "paths.h"
#include <insomnia/pods.h>
#include "podkill.h"
#include "podremains.h"
#include "rundir.h"
#include "sessionreap.h"
#include "statefile.h"

/* Kill what a dead pod left in its group: only a group the pod led
 * (recorded pgid == pid; a pod that wrote no pgid was started in its own
 * group by a spawner), only while the group's leader is gone or a zombie
 * (a live leader with that pid is a stranger that reused it), and only
 * members of the session the pod led: a state.json from long ago may
 * name a pid that has since led some pipeline's group, in another
 * session (procsig_kill_leaderless_group). */
static pid_t kill_stale_group(const struct insomnia_pod_info *info)
{
	pid_t pgid = info->pgid > 0 ? info->pgid : info->pid;

	if (pgid <= 1 || pgid != info->pid) /* another's group: never */
		return 0;
	if (podremains_started_before_boot(info->started_at))
		return 0;
	/* dead (we hold its lock): only what is left of its group */
	return podkill_signal(&(struct podkill){pgid, -1, NULL, true},
	                      SIGKILL) == 0
	           ? pgid
	           : 0;
}

/* Notes are short by design: a cut one still says what went wrong. */
static void note(struct insomnia_reap_report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->note[0]) /* the first problem is the one to fix */
		return;
	va_start(ap, fmt);
	vsnprintf(r->note, sizeof r->note, fmt, ap);
	va_end(ap);
}

static void note_kept(const char *msg, void *arg)
{
	note(arg, "%s", msg);
}

/* We hold the spawn lock and `lock`: nothing runs or starts here. */
static void remove_dir(int rootfd, int dirfd, struct insomnia_reap_report *r)
{
	struct rundir_removal how = {RUNDIR_REMOVE_ALL, rootfd, r->name,
	                             note_kept, r};

	r->removed = rundir_remove_held(dirfd, &how) == 1;
}

/* Take the pod's lock; 1 held (go on), 0 a live pod (leave it), with a
 * note when `lock` itself is unusable (not a regular file, ...). */
static int hold(int dirfd, int *lockfd, struct insomnia_reap_report *r)
{
	*lockfd = rundir_hold_dead(dirfd);
	if (*lockfd >= 0)
		return 1;
	if (errno != EAGAIN)
		note(r, "cannot take %s: %s", RUNDIR_LOCK, fd_strerror(errno));
	return 0;
}

/* 1 when reaped (or tried), 0 when left alone. */
static int reap_one(int rootfd, const char *root, const char *name,
                    struct insomnia_reap_report *r)
{
	struct insomnia_pod_info info;
	int dirfd, lockfd = -1, done = 0;

	memset(r, 0, sizeof *r);
	memcpy(r->name, name, strlen(name) + 1); /* a checked pod name */
	dirfd = openat(rootfd, name,
	               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return 0;
	/* the spawn lock keeps us out of a handshake in progress, and
	 * every remover holds it: linked now means linked until we let go */
	if (rundir_spawn_lock_try(dirfd) != 0 ||
	    !fd_linked_at(dirfd, rootfd, name))
		goto out;
	if (!hold(dirfd, &lockfd, r)) {
		done = r->note[0] != 0; /* report an unusable dir */
		goto out;
	}
	/* read under our lock: what the last pod left is final */
	if (podlist_read(rootfd, root, name, &info, NULL) == 0)
		r->killed_group = kill_stale_group(&info);
	podremains_kill(dirfd);
	remove_dir(rootfd, dirfd, r);
	done = 1;
out:
	if (lockfd >= 0)
		close(lockfd);
	close(dirfd); /* releases the spawn lock */
	/* Waiting spawners watch the dir; the close event can come before
	 * the lock is free, so a touch after it is what wakes them.  A
	 * removed dir wakes them by its deletion. */
	if (!r->removed)
		utimensat(rootfd, name, NULL, AT_SYMLINK_NOFOLLOW);
	return done;
}

static int list_root(int rootfd, const char *root, DIR **d,
                     struct insomnia_error *err)
{
	int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);

	*d = fd < 0 ? NULL : fdopendir(fd);
	if (*d)
		return 0;
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR, errno,
	                                "cannot list %s", root);
}

int insomnia_reap(void (*fn)(const struct insomnia_reap_report *r, void *arg),
                  void *arg, struct insomnia_error *err)
{
	char root[INSOMNIA_PATH_MAX];
	struct insomnia_reap_report r;
	struct insomnia_error local;
	struct dirent *e;
	int rootfd;
	DIR *d;

	insomnia_error_clear(&local);
	rootfd = rundir_open_root(false, root, sizeof root, &local);
	if (rootfd < 0 && local.errnum == ENOENT) /* no pods; sessions? */
		return session_reap(fn, arg, err);
	if (rootfd < 0) {
		if (err)
			*err = local;
		return -1;
	}
	if (list_root(rootfd, root, &d, err) < 0) {
		close(rootfd);
		return -1;
	}
	while ((e = readdir(d))) {
		if (insomnia_name_check(e->d_name, NULL) < 0)
			continue;
		if (reap_one(rootfd, root, e->d_name, &r) && fn)
			fn(&r, arg);
	}
	closedir(d);
	close(rootfd);
	/* and the sessions whose creation a crash cut short */
	return session_reap(fn, arg, err);
}
