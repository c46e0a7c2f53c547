/* procrec.c: the process records of a pod's runtime dir, and killing
 * what a dead pod's processes left. */
#include "procrec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "compat.h"
#include "fdio.h"
#include "procsig.h"
#include "safedir.h"

/* A record is some 120 bytes: a bigger file is none of ours. */
#define PROCREC_FILE_MAX 4096

/* Is token "<session>/<instance>/<name>", session and instance non-empty
 * and without '/'?  A record's token is what the reaper kills by: an
 * empty or foreign one would reach other pods' processes. */
static bool token_ok(const char *token, const char *name)
{
	const char *first = strchr(token, '/');
	const char *second = first ? strchr(first + 1, '/') : NULL;

	return first && first != token && second && second != first + 1 &&
	       strcmp(second + 1, name) == 0;
}

static int open_dir(int rundirfd, bool create, struct insomnia_error *err)
{
	return safedir_openat(rundirfd, PROCREC_DIR, PROCREC_DIR, create, err);
}

static char *encode(const struct procrec *r)
{
	json_t *obj = json_pack("{s:I,s:I,s:I,s:s}", "pid", (json_int_t)r->pid,
	                        "pgid", (json_int_t)r->pgid, "start_time",
	                        (json_int_t)r->start_time, "token", r->token);
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	return text;
}

int procrec_write(int rundirfd, const struct procrec *r,
                  struct insomnia_error *err)
{
	char *text;
	int dirfd, rc;

	if (insomnia_name_check(r->name, err) < 0)
		return -1;
	if (r->pid <= 0 || r->pgid <= 0 || r->start_time > INT64_MAX ||
	    !token_ok(r->token, r->name))
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "bad process record for %s", r->name);
	dirfd = open_dir(rundirfd, true, err);
	if (dirfd < 0)
		return -1;
	text = encode(r);
	if (!text) {
		close(dirfd);
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "cannot encode %s",
		                                r->name);
	}
	/* the runtime dir is rebuilt at every start: no fsync */
	rc = atomic_write_sync_at(dirfd, r->name, text, strlen(text), 0600,
	                          ATOMIC_SYNC_NONE, err);
	free(text);
	close(dirfd);
	return rc;
}

void procrec_remove(int rundirfd, const char *name)
{
	int dirfd;

	if (insomnia_name_check(name, NULL) < 0)
		return;
	dirfd = openat(rundirfd, PROCREC_DIR,
	               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return;
	unlinkat(dirfd, name, 0);
	close(dirfd);
}

/* An integer field in [min, max]. */
static bool get_int(json_t *obj, const char *key, json_int_t min,
                    json_int_t max, json_int_t *v)
{
	json_t *j = json_object_get(obj, key);

	if (!json_is_integer(j))
		return false;
	*v = json_integer_value(j);
	return *v >= min && *v <= max;
}

/* Decode the record procs/<name> holds; 0, or -1 when it is not one. */
static int decode(const char *name, const char *text, size_t len,
                  struct procrec *r)
{
	json_t *obj = json_loadb(text, len, 0, NULL);
	json_t *token = json_object_get(obj, "token");
	json_int_t pid, pgid, start;
	bool ok;

	memset(r, 0, sizeof *r);
	ok = json_is_object(obj) && get_int(obj, "pid", 1, INT32_MAX, &pid) &&
	     get_int(obj, "pgid", 1, INT32_MAX, &pgid) &&
	     get_int(obj, "start_time", 0, INT64_MAX, &start) &&
	     json_is_string(token) &&
	     json_string_length(token) < sizeof r->token;
	if (ok) {
		strcpy(r->name, name); /* checked: fits */
		strcpy(r->token, json_string_value(token));
		r->pid = (pid_t)pid;
		r->pgid = (pid_t)pgid;
		r->start_time = (uint64_t)start;
		/* a NUL inside the JSON string shortens it: checked here */
		ok = strlen(r->token) == json_string_length(token) &&
		     token_ok(r->token, name);
	}
	json_decref(obj);
	return ok ? 0 : -1;
}

/* Read procs/<name>: 0, or -1 when unreadable or not a record. */
static int read_one(int dirfd, const char *name, struct procrec *r)
{
	char *text;
	size_t len;
	int rc;

	/* only a name a pod could have written: never "..", never a path,
	 * never an atomic write's temporary ".<name>.tmp..." */
	if (insomnia_name_check(name, NULL) < 0)
		return -1;
	if (fd_read_file_at(dirfd, name, PROCREC_FILE_MAX, &text, &len) < 0)
		return -1;
	rc = decode(name, text, len, r);
	free(text);
	return rc;
}

int procrec_each(int rundirfd, int (*fn)(const struct procrec *r, void *arg),
                 void *arg)
{
	struct insomnia_error err;
	struct procrec r;
	struct dirent *e;
	int fd, rc = 0;
	DIR *d;

	fd = open_dir(rundirfd, false, &err);
	if (fd < 0)
		return 0; /* none, or not a dir we made: no record to trust */
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while (rc == 0 && (e = readdir(d)))
		if (read_one(dirfd(d), e->d_name, &r) == 0)
			rc = fn(&r, arg);
	closedir(d);
	return rc;
}

/* The recorded process itself, while pid and start time still name it:
 * SIGKILL to it and, when it leads its group, to the group.  A live
 * process with another start time is a stranger that reused the pid. */
static void kill_recorded(const struct procrec *r)
{
	uint64_t start;
	int pidfd = compat_pidfd_open(r->pid);

	if (pidfd < 0)
		return; /* gone: its group, if any, is leaderless */
	/* read with pidfd held: if it still lives after the read, the
	 * start time was its own (procsig_send checks that again) */
	if (proctree_start_time(r->pid, &start) == 0 &&
	    start == r->start_time && compat_pidfd_send_signal(pidfd, 0) == 0)
		procsig_send(pidfd, r->pid, SIGKILL, NULL);
	close(pidfd);
}

void procrec_kill_remains(int rundirfd, const struct procrec *r)
{
	kill_recorded(r);
	/* the members of a leaderless group, and whatever left it
	 * (setsid, double forks): only those carrying the token */
	proctree_signal_marked(r->token, SIGKILL, NULL);
	procrec_remove(rundirfd, r->name);
}

/* Every regular file of the procs dir (records, temporaries a crash
 * left); anything else is kept, and the dir with it. */
static void remove_files(int dirfd)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	struct stat st;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			unlinkat(dirfd, e->d_name, 0);
	closedir(d);
}

void procrec_remove_all(int rundirfd)
{
	int dirfd = openat(rundirfd, PROCREC_DIR,
	                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dirfd < 0)
		return;
	remove_files(dirfd);
	close(dirfd);
	unlinkat(rundirfd, PROCREC_DIR, AT_REMOVEDIR);
}
