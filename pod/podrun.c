/* podrun.c: lock, socket and published files in the pod's runtime dir. */
#include "podrun.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "rundir.h"
#include "unixsock.h"

/* Pending connections the kernel keeps while the pod is busy. */
#define PODRUN_BACKLOG 64

void podrun_init(struct podrun *r)
{
	r->rootfd = r->dirfd = r->lockfd = r->listenfd = -1;
	r->dir[0] = r->sock[0] = '\0';
	r->bound = r->published = false;
}

int podrun_open(struct podrun *r, const char *name, struct insomnia_error *err)
{
	char root[INSOMNIA_PATH_MAX];

	r->rootfd = rundir_open_root(true, root, sizeof root, err);
	if (r->rootfd < 0)
		return -1;
	if (paths_join(r->dir, sizeof r->dir, root, name, err) < 0 ||
	    paths_join(r->sock, sizeof r->sock, r->dir, RUNDIR_SOCK, err) < 0)
		return -1;
	r->dirfd = rundir_open_dir(r->rootfd, name, r->dir, true, err);
	return r->dirfd < 0 ? -1 : 0;
}

static int already_running(struct podrun *r, const char *name,
                           struct insomnia_error *err)
{
	pid_t pid;

	/* The holder may not have written its pid yet. */
	if (rundir_read_pid(r->dirfd, &pid) < 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_ALREADY_RUNNING,
		    "pod %s is already running (pid unknown)", name);
	return insomnia_error_set(err, INSOMNIA_ERR_ALREADY_RUNNING,
	                          "pod %s is already running (pid %ld)", name,
	                          (long)pid);
}

int podrun_lock(struct podrun *r, const char *name, struct insomnia_error *err)
{
	int rc = rundir_take_lock(r->rootfd, name, r->dir, &r->dirfd,
	                          &r->lockfd, err);

	if (rc == 1)
		return already_running(r, name, err);
	/* a dead predecessor's pid and state lie: gone at once, so that a
	 * held lock never stands long beside a pid file naming another
	 * process (stop checks the holder all the same) */
	if (rc == 0) {
		rundir_remove_entry(r->dirfd, RUNDIR_PID);
		rundir_remove_entry(r->dirfd, RUNDIR_STATE);
	}
	return rc;
}

/* Only with the lock held: whoever made the socket is dead. */
static int remove_stale_sock(struct podrun *r, struct insomnia_error *err)
{
	struct stat st;

	if (fstatat(r->dirfd, RUNDIR_SOCK, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR,
		                                errno, "cannot inspect %s",
		                                r->sock);
	}
	/* Anything else under that name was put there by someone else,
	 * and deleting it could destroy their data. */
	if (!S_ISSOCK(st.st_mode))
		return insomnia_error_set(err, INSOMNIA_ERR_RUNTIME_DIR,
		                          "%s exists and is not a socket; "
		                          "refusing to remove it",
		                          r->sock);
	if (unlinkat(r->dirfd, RUNDIR_SOCK, 0) < 0 && errno != ENOENT)
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		    "cannot remove stale socket %s", r->sock);
	return 0;
}

int podrun_listen(struct podrun *r, struct insomnia_error *err)
{
	if (remove_stale_sock(r, err) < 0)
		return -1;
	r->listenfd = unixsock_listen_at(r->dirfd, RUNDIR_SOCK, r->sock,
	                                 PODRUN_BACKLOG, err);
	if (r->listenfd < 0)
		return -1;
	r->bound = true;
	return 0;
}

int podrun_publish(struct podrun *r, const struct pod_state *st,
                   struct insomnia_error *err)
{
	char pid[32];
	int len = snprintf(pid, sizeof pid, "%ld\n", (long)st->file.pid);

	/* Marked first: a half-done publish is cleaned up all the same. */
	r->published = true;
	/* no fsync: the runtime dir is rebuilt at every start */
	if (atomic_write_sync_at(r->dirfd, RUNDIR_PID, pid, (size_t)len, 0600,
	                         ATOMIC_SYNC_NONE, err) < 0)
		return -1;
	return state_write(r->dirfd, st, err);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void podrun_close(struct podrun *r)
{
	close_fd(&r->listenfd);
	if (r->bound)
		unlinkat(r->dirfd, RUNDIR_SOCK, 0);
	if (r->published) {
		unlinkat(r->dirfd, RUNDIR_STATE, 0);
		unlinkat(r->dirfd, RUNDIR_PID, 0);
	}
	r->bound = r->published = false;
	close_fd(&r->dirfd);
	close_fd(&r->rootfd);
	close_fd(&r->lockfd);
}
