/* sessionreap.c: removing sessions whose creation never finished. */
#include "sessionreap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "safedir.h"
#include "session.h"

/* What a crashed creation can leave: the lock and the temporary of
 * session.toml (and the logs dir, see remove_logs).  Anything else (a
 * journal: someone's history) is kept, and the dir with it. */
static bool is_leftover(const char *name)
{
	static const char tmp[] = "." SESSION_TOML ".tmp.";

	return strcmp(name, SESSION_LOCK) == 0 ||
	       strncmp(name, tmp, sizeof tmp - 1) == 0;
}

static void note(struct insomnia_reap_report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->note[0])
		return; /* the first reason is the one to fix */
	va_start(ap, fmt);
	vsnprintf(r->note, sizeof r->note, fmt, ap);
	va_end(ap);
}

/* Does dirfd hold session.toml (of any type)?  Then it is a session. */
static bool has_toml(int dirfd)
{
	struct stat st;

	return fstatat(dirfd, SESSION_TOML, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	       errno != ENOENT;
}

/* The logs a creation that failed once its processes started can leave
 * (its pod could not remove them: killed, or an older pod). */
static void remove_logs(int dirfd, struct insomnia_reap_report *r)
{
	struct insomnia_error err;

	if (session_remove_logs(dirfd, &err) < 0)
		note(r, "%s", err.message);
}

/* Unlink the leftovers (the lock last: we hold it), then the dir. */
static void remove_leftovers(int rootfd, int dirfd, const char *id,
                             struct insomnia_reap_report *r)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	struct stat st;

	if (!d && fd >= 0) { /* fdopendir failed: the dup is still ours */
		int saved = errno;
		close(fd);
		errno = saved;
	}
	while (d && (e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") ||
		    !strcmp(n, SESSION_LOCK))
			continue;
		if (fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			note(r, "cannot examine %s: %s", n, strerror(errno));
		else if (!strcmp(n, SESSION_LOGS) && S_ISDIR(st.st_mode))
			remove_logs(dirfd, r);
		else if (!is_leftover(n) || !S_ISREG(st.st_mode))
			note(r, "kept %s: not left by a creation", n);
		else if (unlinkat(dirfd, n, 0) < 0)
			note(r, "cannot remove %s: %s", n, strerror(errno));
	}
	if (d)
		closedir(d);
	else
		note(r, "cannot list the dir: %s", strerror(errno));
	if (r->note[0])
		return;
	unlinkat(dirfd, SESSION_LOCK, 0);
	/* a pod that made a new lock meanwhile is creating it: no failure */
	if (unlinkat(rootfd, id, AT_REMOVEDIR) == 0)
		r->removed = true;
	else if (errno != ENOTEMPTY)
		note(r, "cannot remove the dir: %s", strerror(errno));
}

/* 1 when reaped (or tried), 0 when left alone. */
static int reap_one(int rootfd, const char *id, struct insomnia_reap_report *r)
{
	int dirfd, lockfd = -1, done = 0;
	struct insomnia_error err;

	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "session %.36s", id);
	/* a foreign-owned or non-dir entry is not ours to judge here:
	 * `podctl sessions` reports it */
	dirfd = safedir_openat(rootfd, id, id, false, NULL);
	if (dirfd < 0 || has_toml(dirfd))
		goto out;
	switch (session_lock_try(dirfd, &lockfd, &err)) {
	case 0: /* a pod is creating it right now */
		goto out;
	case -1:
		note(r, "%s", err.message);
		done = 1;
		goto out;
	}
	/* Held: a pod that had the lock before us may have finished. */
	if (!has_toml(dirfd)) {
		remove_leftovers(rootfd, dirfd, id, r);
		done = 1;
	}
out:
	if (lockfd >= 0)
		close(lockfd);
	if (dirfd >= 0)
		close(dirfd);
	return done;
}

int session_reap(void (*fn)(const struct insomnia_reap_report *r, void *arg),
                 void *arg, struct insomnia_error *err)
{
	struct insomnia_reap_report r;
	struct insomnia_error local;
	struct dirent *e;
	int rootfd, dupfd;
	DIR *d;

	rootfd = session_open_root(false, NULL, 0, &local);
	if (rootfd < 0 && local.errnum == ENOENT)
		return 0; /* no sessions yet */
	if (rootfd < 0) {
		if (err)
			*err = local;
		return -1;
	}
	dupfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	d = dupfd >= 0 ? fdopendir(dupfd) : NULL;
	if (!d) {
		/* as for the runtime root: one kind for an unlistable dir */
		insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		                         "cannot list the sessions directory");
		if (dupfd >= 0)
			close(dupfd);
		close(rootfd);
		return -1;
	}
	while ((e = readdir(d)))
		if (session_id_is_canonical(e->d_name) &&
		    reap_one(rootfd, e->d_name, &r) && fn)
			fn(&r, arg);
	closedir(d);
	close(rootfd);
	return 0;
}
