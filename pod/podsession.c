/* podsession.c: the session dir, its lock and its journal, pod side. */
#include "podsession.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "atomic_file.h"
#include "fdio.h"
#include "livelock.h"
#include "podlog.h"
#include "safedir.h"
#include "sessionfile.h"
#include "utf8seq.h"

void podsession_init(struct podsession *s)
{
	memset(s, 0, sizeof *s);
	s->rootfd = s->dirfd = s->lockfd = -1;
	journal_init(&s->journal);
}

int podsession_choose(struct podsession *s, const char *requested,
                      struct insomnia_error *err)
{
	uuid_t u;

	if (!requested) {
		uuid_generate_random(u);
		uuid_unparse_lower(u, s->id);
		return 0;
	}
	/* Checked by hand (the client's rule) and by libuuid: both must
	 * agree that this is a UUID. */
	if (session_id_normalize(requested, s->id, NULL) < 0 ||
	    uuid_parse(s->id, u) < 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_BAD_SESSION_ID,
		    "--session: \"%.64s\" is not a UUID (expected "
		    "the form 1b4e28ba-2fa1-11d2-883f-0016d3cca427)",
		    requested);
	s->resumed = true;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Hand a local error on to err, which may be NULL. */
static int pass_on(struct insomnia_error *err,
                   const struct insomnia_error *local)
{
	if (err)
		*err = *local;
	return -1;
}

/* ---- lock ------------------------------------------------------------ */

/* Who holds it, as far as the journal knows.  A pod that has locked the
 * session but not yet journalled may be reported by its predecessor's
 * name, or with "pid unknown". */
static int live_error(struct podsession *s, struct insomnia_error *err)
{
	struct session_info info;
	const char *name;
	bool pid_known;

	if (session_read_info(s->rootfd, s->id, &info, NULL) < 0)
		info.run_name[0] = info.name[0] = '\0';
	name = info.run_name[0] ? info.run_name : info.name;
	pid_known =
	    info.pid > 0 && strcmp(info.last_event, SESSION_EV_STOPPED) != 0;
	if (!name[0])
		return insomnia_error_set(err, INSOMNIA_ERR_SESSION_LIVE,
		                          "session %s is live in another pod",
		                          s->id);
	if (!pid_known)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_SESSION_LIVE,
		    "session %s is live in pod %s (pid unknown)", s->id, name);
	return insomnia_error_set(err, INSOMNIA_ERR_SESSION_LIVE,
	                          "session %s is live in pod %s (pid %ld)",
	                          s->id, name, (long)info.pid);
}

/* The session's `lock`, an OFD lock like the pod's (livelock.h): a
 * `podctl sessions` probing it can never make this take fail. */
static int take_lock(struct podsession *s, struct insomnia_error *err)
{
	char path[INSOMNIA_PATH_MAX + 8];
	int rc;

	snprintf(path, sizeof path, "%s/%s", s->dir, SESSION_LOCK);
	rc = livelock_take_at(s->dirfd, SESSION_LOCK, path, &s->lockfd, err);
	if (rc == LIVELOCK_HELD)
		return live_error(s, err);
	if (rc < 0)
		return -1;
	/* only a holder unlinks `lock`: linked now means ours for good */
	if (!fd_linked_at(s->lockfd, s->dirfd, SESSION_LOCK))
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_RUNTIME_DIR, ENOENT,
		    "%s was removed while being locked", path);
	return 0;
}

/* ---- resume ---------------------------------------------------------- */

/* err may be NULL (the API allows it): the kind of a failure is read
 * from a local error, then handed on. */
static int open_existing(struct podsession *s, struct insomnia_error *err)
{
	char root[INSOMNIA_PATH_MAX];
	struct insomnia_error e;

	s->rootfd = session_open_root(false, root, sizeof root, &e);
	if (s->rootfd < 0 && e.errnum == ENOENT)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_SESSION_UNKNOWN,
		    "unknown session %s: there are no sessions "
		    "yet (no directory %s)",
		    s->id, root);
	if (s->rootfd < 0 ||
	    paths_join(s->dir, sizeof s->dir, root, s->id, &e) < 0)
		return pass_on(err, &e);
	s->dirfd = session_open_dir(s->rootfd, s->id, &e);
	if (s->dirfd < 0 && e.kind == INSOMNIA_ERR_SESSION_UNKNOWN)
		return insomnia_error_set(err, INSOMNIA_ERR_SESSION_UNKNOWN,
		                          "unknown session %s: no directory %s",
		                          s->id, s->dir);
	return s->dirfd < 0 ? pass_on(err, &e) : 0;
}

int podsession_resume(struct podsession *s, struct insomnia_error *err)
{
	struct stat st;

	if (open_existing(s, err) < 0 || take_lock(s, err) < 0)
		return -1;
	/* A crash between mkdir and the rename of session.toml leaves a
	 * dir that never became a session. */
	if (fstatat(s->dirfd, SESSION_TOML, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_SESSION_UNKNOWN,
		    "unknown session %s: %s has no %s (its "
		    "creation never finished)",
		    s->id, s->dir, SESSION_TOML);
	if (sessionfile_load(s->dirfd, s->id, &s->recorded, &s->layer, err) < 0)
		return -1;
	return journal_open(&s->journal, s->dirfd, err);
}

/* ---- create ---------------------------------------------------------- */

/* How often a fresh dir may be reaped under a pod before it gives up:
 * each time means a `podctl reap` ran in the instant between mkdir and
 * the lock. */
#define CREATE_TRIES 16

/* Our own mkdir, so the dir is surely new (and ours to remove); safedir
 * then checks and opens what was made. */
static int make_dir(struct podsession *s, struct insomnia_error *err)
{
	char root[INSOMNIA_PATH_MAX];

	if (s->rootfd < 0) {
		s->rootfd = session_open_root(true, root, sizeof root, err);
		if (s->rootfd < 0)
			return -1;
		memcpy(s->root, root, sizeof s->root);
	}
	if (paths_join(s->dir, sizeof s->dir, s->root, s->id, err) < 0)
		return -1;
	if (mkdirat(s->rootfd, s->id, 0700) < 0)
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		    "cannot create directory %s", s->dir);
	s->created = true;
	s->dirfd = safedir_openat(s->rootfd, s->id, s->dir, false, err);
	return s->dirfd < 0 ? -1 : 0;
}

/* Is the dir we locked still the one in sessions/, lock and all?  A
 * reaper (client/sessionreap.c) removes a dir without session.toml
 * only while it holds the lock, so once we hold it and it is still
 * linked, it stays ours. */
static bool still_linked(const struct podsession *s)
{
	struct stat lock;

	return fstat(s->lockfd, &lock) == 0 && lock.st_nlink > 0 &&
	       fd_linked_at(s->dirfd, s->rootfd, s->id);
}

/* The dir was reaped under us (or is being): forget it and draw a new
 * id.  Nobody else knows the old one. */
static void start_over(struct podsession *s)
{
	uuid_t u;

	close_fd(&s->lockfd);
	close_fd(&s->dirfd);
	s->created = false;
	uuid_generate_random(u);
	uuid_unparse_lower(u, s->id);
	/* the id logged at start-up is not the session's any more */
	podlog("session dir %s was reaped while being made; now session %s",
	       s->dir, s->id);
}

/* mkdir and take the lock, starting over while a reaper takes the fresh
 * dir away: the lock held by it, or the dir or lock file gone. */
static int make_locked_dir(struct podsession *s, struct insomnia_error *err)
{
	struct insomnia_error e;

	for (int i = 0; i < CREATE_TRIES; i++) {
		if (make_dir(s, &e) == 0 && take_lock(s, &e) == 0) {
			if (still_linked(s))
				return 0;
		} else if (!s->created ||
		           (e.kind != INSOMNIA_ERR_SESSION_LIVE &&
		            e.errnum != ENOENT)) {
			return pass_on(err, &e);
		}
		start_over(s);
	}
	return insomnia_error_set(
	    err, INSOMNIA_ERR_IO,
	    "cannot create a session in %s: reaped under this "
	    "pod %d times",
	    s->root, CREATE_TRIES);
}

static int write_toml(struct podsession *s, const char *name, const char *cwd,
                      const struct toml_value *config,
                      struct insomnia_error *err)
{
	char created[SESSION_TIME_MAX];
	struct sessionfile_head h = {s->id, name, cwd, created};
	size_t len;
	char *text;
	int rc;

	session_timestamp(created);
	text = sessionfile_render(&h, config, &len, err);
	if (!text)
		return -1;
	/* The data synced before the rename (absent or whole, even after a
	 * power loss); the rename itself is made durable with the rest of
	 * the creation, after the ready line (podsession_settle). */
	rc = atomic_write_sync_at(s->dirfd, SESSION_TOML, text, len, 0600,
	                          ATOMIC_SYNC_FILE, err);
	free(text);
	return rc;
}

/* session.toml is TOML, which holds only UTF-8 text: a cwd of other
 * bytes is refused before anything is made, rather than written and
 * then found unreadable. */
static int check_recordable(const char *cwd, struct insomnia_error *err)
{
	size_t len = strlen(cwd), step;

	for (size_t i = 0; i < len; i += step)
		if (!(step = utf8_seq_valid(cwd + i, len - i)))
			return insomnia_error_set(
			    err, INSOMNIA_ERR_CONFIG,
			    "cannot record the session: the working "
			    "directory %s is not valid UTF-8, which "
			    "session.toml cannot hold",
			    cwd);
	return 0;
}

int podsession_create(struct podsession *s, const char *name, const char *cwd,
                      const struct toml_value *config,
                      struct insomnia_error *err)
{
	if (check_recordable(cwd, err) < 0 || make_locked_dir(s, err) < 0 ||
	    write_toml(s, name, cwd, config, err) < 0 ||
	    journal_open(&s->journal, s->dirfd, err) < 0)
		return -1;
	return 0;
}

/* ---- the journal ----------------------------------------------------- */

int podsession_begin(struct podsession *s, const char *name,
                     struct insomnia_error *err)
{
	struct journal_entry e = {
	    .event = s->resumed ? SESSION_EV_RESUMED : SESSION_EV_STARTED,
	    .pid = getpid(),
	    .name = name,
	};

	if (journal_append(&s->journal, &e, err) < 0)
		return -1;
	s->began = true;
	return 0;
}

int podsession_ready(struct podsession *s, struct insomnia_error *err)
{
	struct journal_entry e = {.event = SESSION_EV_READY};

	if (journal_append(&s->journal, &e, err) < 0)
		return -1;
	s->ready = true;
	return 0;
}

/* Nothing before the ready line waits for the disk but session.toml's
 * data; the rest is made durable here, in one batch: the journal (its
 * started/resumed and ready records), and for a new session the dir
 * entries (session.toml's rename, the journal, the lock) and the session
 * dir itself.  Nobody can resume the session before this pod stops, and
 * a pod killed before here leaves everything in the page cache whole:
 * only a power loss in the instant after the ready line can lose it. */
int podsession_settle(struct podsession *s, struct insomnia_error *err)
{
	if (journal_sync(&s->journal, err) < 0)
		return -1;
	if (!s->created)
		return 0;
	if (fsync(s->dirfd) < 0 || fsync(s->rootfd) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "cannot sync %s", s->dir);
	return 0;
}

void podsession_stopping(struct podsession *s, const char *reason,
                         const char *detail)
{
	struct journal_entry e = {
	    .event = SESSION_EV_STOPPING, .reason = reason, .detail = detail};
	struct insomnia_error err;

	if (s->began && journal_append(&s->journal, &e, &err) < 0)
		podlog("session %s: %s", s->id, err.message);
}

static void journal_stopped(struct podsession *s,
                            const struct insomnia_error *failure)
{
	struct journal_entry e = {
	    .event = SESSION_EV_STOPPED,
	    .error = failure ? failure->message : NULL,
	};
	struct insomnia_error err;

	if (journal_append(&s->journal, &e, &err) < 0 ||
	    journal_sync(&s->journal, &err) < 0)
		podlog("session %s: %s", s->id, err.message);
}

/* Nobody but this pod ever learnt the id (it is published only with the
 * ready line), so the files can go while we hold the lock. */
/* Only a holder of `lock` may unlink it (livelock.h); taking it again on
 * our own descriptor succeeds exactly when we hold it.  Without it (the
 * creation failed before or at the lock) a reaper may hold it: the dir is
 * left to it, or removed here only when empty. */
static void remove_created(struct podsession *s)
{
	struct insomnia_error err;

	if (s->dirfd >= 0 && s->lockfd >= 0 && livelock_try(s->lockfd) == 0) {
		unlinkat(s->dirfd, SESSION_JOURNAL, 0);
		unlinkat(s->dirfd, SESSION_TOML, 0);
		/* the supervisor's, made before a process failed */
		if (session_remove_logs(s->dirfd, &err) < 0)
			podlog("session %s: %s", s->id, err.message);
		unlinkat(s->dirfd, SESSION_LOCK, 0);
	}
	if (s->rootfd >= 0)
		unlinkat(s->rootfd, s->id, AT_REMOVEDIR);
}

void podsession_close(struct podsession *s,
                      const struct insomnia_error *failure)
{
	if (s->created && !s->ready)
		remove_created(s);
	else if (s->began)
		journal_stopped(s, failure);
	journal_close(&s->journal);
	close_fd(&s->lockfd); /* releases the session */
	close_fd(&s->dirfd);
	close_fd(&s->rootfd);
	if (s->recorded)
		toml_free(s->recorded);
	s->recorded = NULL;
	s->layer = NULL;
}
