/* podlist.c: reading pod dirs. */
#include "podlist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "rundir.h"
#include "statefile.h"

/* Only what fits: insomnia_pod_info's fields hold statefile's. */
_Static_assert(sizeof((struct insomnia_pod_info *)0)->session_id >=
                   sizeof((struct statefile *)0)->session_id,
               "session_id");
_Static_assert(sizeof((struct insomnia_pod_info *)0)->started_at >=
                   sizeof((struct statefile *)0)->started_at,
               "started_at");
_Static_assert(sizeof((struct insomnia_pod_info *)0)->state >=
                   sizeof((struct statefile *)0)->state,
               "state");

/* A spawner's record of a failed start (statefile.h): how the pod
 * ended, when known. */
static void read_failure(const struct statefile *sf,
                         struct insomnia_pod_info *info)
{
	if (sf->known & STATEFILE_EXIT_STATUS)
		info->exit_status = sf->exit_status;
	if (sf->known & STATEFILE_SIGNAL)
		info->term_signal = sf->signal;
}

static bool is_failed(const struct statefile *sf)
{
	return (sf->known & STATEFILE_STATE) &&
	       strcmp(sf->state, STATEFILE_FAILED) == 0;
}

/* state.json is optional: pods that do not write it still list. */
static void read_state(int dirfd, struct insomnia_pod_info *info)
{
	struct statefile sf;

	if (statefile_read(dirfd, &sf) < 0)
		return;
	/* a live pod over a failed predecessor's record (it removes it
	 * right after taking `lock`): nothing in it is the live pod's */
	if (info->alive && is_failed(&sf))
		return;
	/* unknown fields are "" and 0, as info's own unknowns */
	memcpy(info->session_id, sf.session_id, sizeof sf.session_id);
	memcpy(info->started_at, sf.started_at, sizeof sf.started_at);
	memcpy(info->state, sf.state, sizeof sf.state);
	/* Not "socket": it is <dir>/sock by contract, and JSON cannot hold
	 * a path that is not UTF-8 (docs/errors.md), so the dir's own path
	 * is the one that reaches it. */
	info->pgid = sf.pgid;
	info->pid = sf.pid;
	if (!info->alive && is_failed(&sf))
		read_failure(&sf, info);
}

/* What the state says of a dead pod: "failed" as its spawner recorded;
 * else a state.json left behind means a crash ("stale"), none a clean
 * stop. */
static void dead_state(struct insomnia_pod_info *info)
{
	if (!strcmp(info->state, STATEFILE_FAILED))
		return;
	strcpy(info->state, info->state[0] ? "stale" : "stopped");
}

static void info_init(struct insomnia_pod_info *info, const char *name)
{
	memset(info, 0, sizeof *info);
	snprintf(info->name, sizeof info->name, "%s", name);
	info->exit_status = -1;
}

int podlist_read(int rootfd, const char *root_path, const char *name,
                 struct insomnia_pod_info *info, struct insomnia_error *err)
{
	int dirfd, live;

	info_init(info, name);
	dirfd = openat(rootfd, name,
	               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_NOT_RUNNING,
		    "pod %s is not running (no dir in %s)", name, root_path);
	live = rundir_is_live(dirfd, err);
	if (live < 0) {
		close(dirfd);
		return -1;
	}
	info->alive = live == 1;
	read_state(dirfd, info);
	if (!info->pid) /* pods that write no state.json may write a pid */
		rundir_read_pid(dirfd, &info->pid);
	if (!info->socket[0])
		snprintf(info->socket, sizeof info->socket, "%s/%s/%s",
		         root_path, name, RUNDIR_SOCK);
	if (!info->alive)
		dead_state(info);
	else if (!info->state[0])
		strcpy(info->state, STATEFILE_STARTING);
	close(dirfd);
	return 0;
}

/* A dir that vanished meanwhile (reaped) is no row; one whose lock
 * cannot be probed (a FIFO named lock, ...) is listed as "unusable", so
 * a listing never hides it: podlist_read() says why. */
static bool read_row(int rootfd, const char *root, const char *name,
                     struct insomnia_pod_info *info)
{
	struct insomnia_error e;

	if (podlist_read(rootfd, root, name, info, &e) == 0)
		return true;
	if (e.kind == INSOMNIA_ERR_NOT_RUNNING)
		return false;
	info_init(info, name);
	strcpy(info->state, "unusable");
	return true;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the valid pod dirs, sorted; NULL-terminated, malloc'd. */
static char **list_names(DIR *d, size_t *count)
{
	struct dirent *e;
	char **names = NULL, **bigger;
	size_t n = 0, cap = 0;

	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
			continue;
		if (insomnia_name_check(e->d_name, NULL) < 0)
			continue; /* ".", "..", and anything not ours */
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			bigger = realloc(names, cap * sizeof *names);
			if (!bigger)
				goto oom;
			names = bigger;
		}
		if (!(names[n] = strdup(e->d_name)))
			goto oom;
		n++;
	}
	if (n > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(names, n, sizeof *names, by_name);
	*count = n;
	return names ? names : calloc(1, sizeof *names);
oom:
	while (n > 0)
		free(names[--n]);
	free(names);
	return NULL;
}

/* The names in the runtime root; NULL with err when it cannot be read
 * (the duplicated descriptor is closed on every path). */
static char **read_names(int rootfd, const char *root, size_t *count,
                         struct insomnia_error *err)
{
	int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	char **names;

	if (!d) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR, saved,
		                         "cannot list %s", root);
		return NULL;
	}
	names = list_names(d, count);
	closedir(d);
	if (!names)
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory listing %s", root);
	return names;
}

int insomnia_pods_each(int (*fn)(const struct insomnia_pod_info *info,
                                 void *arg),
                       void *arg, struct insomnia_error *err)
{
	char root[INSOMNIA_PATH_MAX];
	struct insomnia_pod_info info;
	struct insomnia_error local;
	size_t count = 0;
	char **names;
	int rootfd, rc = 0;

	insomnia_error_clear(&local);
	rootfd = rundir_open_root(false, root, sizeof root, &local);
	if (rootfd < 0 && local.errnum == ENOENT)
		return 0; /* no runtime root yet: no pods */
	if (rootfd < 0) {
		if (err)
			*err = local;
		return -1;
	}
	names = read_names(rootfd, root, &count, err);
	if (!names) {
		close(rootfd);
		return -1;
	}
	for (size_t i = 0; i < count && rc == 0; i++)
		if (read_row(rootfd, root, names[i], &info))
			rc = fn(&info, arg);
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	close(rootfd);
	return rc;
}

int insomnia_pod_find(const char *name, struct insomnia_pod_info *info,
                      struct insomnia_error *err)
{
	char root[INSOMNIA_PATH_MAX];
	struct insomnia_error local;
	int rootfd, rc;

	if (insomnia_name_check(name, err) < 0)
		return -1;
	insomnia_error_clear(&local);
	rootfd = rundir_open_root(false, root, sizeof root, &local);
	if (rootfd < 0 && local.errnum == ENOENT)
		return insomnia_error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		                          "pod %s is not running", name);
	if (rootfd < 0) {
		if (err)
			*err = local;
		return -1;
	}
	rc = podlist_read(rootfd, root, name, info, err);
	close(rootfd);
	return rc;
}
