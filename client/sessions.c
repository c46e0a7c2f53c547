/* sessions.c: the public sessions API (insomnia/sessions.h) over
 * common/session.h's reader. */
#include <insomnia/sessions.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "safedir.h"
#include "session.h"

/* How many candidates an ambiguous prefix names before "...". */
#define AMBIGUOUS_SHOWN 4

const char *insomnia_session_state_name(enum insomnia_session_state state)
{
	static const char *const names[] = {
	    [INSOMNIA_SESSION_NEW] = "new",
	    [INSOMNIA_SESSION_LIVE] = "live",
	    [INSOMNIA_SESSION_STOPPED] = "stopped",
	    [INSOMNIA_SESSION_FAILED] = "failed",
	    [INSOMNIA_SESSION_CRASHED] = "crashed",
	    [INSOMNIA_SESSION_UNREADABLE] = "unreadable",
	};

	if ((unsigned)state >= sizeof names / sizeof names[0])
		return "unknown";
	return names[state];
}

/* ---- one session ------------------------------------------------------- */

/* "2024-05-01T12:00:00.123Z" (or an offset instead of Z) to ms since the
 * epoch; 0 when it is not such a time. */
static int64_t parse_time(const char *text)
{
	struct tm tm = {0};
	int ms = 0, used = 0, oh = 0, om = 0;
	const char *p;
	int64_t t;

	if (sscanf(text, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year,
	           &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	           &used) != 6 ||
	    used == 0)
		return 0;
	p = text + used;
	if (*p == '.') {
		int digits = 0;
		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		for (; digits > 0 && digits < 3; digits++)
			ms *= 10;
	}
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
		om = (oh * 60 + om) * (*p == '-' ? -1 : 1);
	else if (*p != 'Z' && *p != 'z')
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = (int64_t)timegm(&tm);
	return (t - (int64_t)om * 60) * 1000 + ms;
}

static enum insomnia_session_state state_of(const struct session_info *s)
{
	if (s->live)
		return INSOMNIA_SESSION_LIVE;
	if (!s->last_event[0])
		return INSOMNIA_SESSION_NEW;
	if (strcmp(s->last_event, SESSION_EV_STOPPED) != 0)
		return INSOMNIA_SESSION_CRASHED;
	return s->last_error[0] ? INSOMNIA_SESSION_FAILED
	                        : INSOMNIA_SESSION_STOPPED;
}

static void to_public(const struct session_info *s,
                      struct insomnia_session_info *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->id, sizeof out->id, "%s", s->id);
	snprintf(out->name, sizeof out->name, "%s", s->name);
	snprintf(out->run_name, sizeof out->run_name, "%s", s->run_name);
	snprintf(out->cwd, sizeof out->cwd, "%s", s->cwd);
	snprintf(out->created_at, sizeof out->created_at, "%s", s->created_at);
	snprintf(out->last_event, sizeof out->last_event, "%s", s->last_event);
	snprintf(out->last_event_at, sizeof out->last_event_at, "%s",
	         s->last_event_at);
	snprintf(out->error, sizeof out->error, "%s", s->last_error);
	out->created_ms = parse_time(s->created_at);
	out->last_event_ms = parse_time(s->last_event_at);
	out->state = state_of(s);
	if (out->state == INSOMNIA_SESSION_STOPPED ||
	    out->state == INSOMNIA_SESSION_FAILED)
		out->ended_ms = out->last_event_ms;
	out->live = s->live;
	/* the pid of a run that journalled its stop is history */
	if (s->live && strcmp(s->last_event, SESSION_EV_STOPPED) != 0)
		out->pid = s->pid;
}

static void unreadable(const char *id, const struct insomnia_error *err,
                       struct insomnia_session_info *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->id, sizeof out->id, "%s", id);
	snprintf(out->error, sizeof out->error, "%s", err->message);
	out->error_kind = err->kind;
	out->state = INSOMNIA_SESSION_UNREADABLE;
}

/* The sessions root, or -1; *none set (and no error) when it does not
 * exist yet. */
static int open_root(bool *none, struct insomnia_error *err)
{
	struct insomnia_error e;
	int fd = session_open_root(false, NULL, 0, &e);

	*none = fd < 0 && e.errnum == ENOENT;
	if (fd < 0 && !*none && err)
		*err = e;
	return fd;
}

static int read_public(int rootfd, const char *id,
                       struct insomnia_session_info *out,
                       struct insomnia_error *err)
{
	struct session_info s;

	if (session_read_info(rootfd, id, &s, err) < 0)
		return -1;
	to_public(&s, out);
	return 0;
}

/* ---- the list ---------------------------------------------------------- */

struct gathered {
	struct insomnia_session_info *items;
	size_t count, cap;
};

static int push(struct gathered *g, const struct insomnia_session_info *info)
{
	if (g->count == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct insomnia_session_info *bigger =
		    realloc(g->items, cap * sizeof *bigger);
		if (!bigger)
			return -1;
		g->items = bigger;
		g->cap = cap;
	}
	g->items[g->count++] = *info;
	return 0;
}

static int push_good(const struct session_info *s, void *arg)
{
	struct insomnia_session_info info;

	to_public(s, &info);
	return push(arg, &info) < 0 ? 1 : 0;
}

static int push_bad(const char *id, const struct insomnia_error *err, void *arg)
{
	struct insomnia_session_info info;

	unreadable(id, err, &info);
	return push(arg, &info) < 0 ? 1 : 0;
}

/* Oldest first; ties (same millisecond) by id, so the order is stable. */
static int by_creation(const void *a, const void *b)
{
	const struct insomnia_session_info *x = a, *y = b;

	if (x->created_ms != y->created_ms)
		return x->created_ms < y->created_ms ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Every session, sorted; g->items is the caller's to free. */
static int gather(struct gathered *g, struct insomnia_error *err)
{
	bool none;
	int fd = open_root(&none, err), rc;

	memset(g, 0, sizeof *g);
	if (fd < 0)
		return none ? 0 : -1;
	rc = session_list(fd, &(struct session_list_fns){push_good, push_bad},
	                  g, err);
	close(fd);
	if (rc != 0)
		return rc < 0 ? -1
		              : insomnia_error_set(
		                    err, INSOMNIA_ERR_INTERNAL,
		                    "out of memory listing sessions");
	if (g->count > 1) /* qsort(NULL, 0) is undefined */
		qsort(g->items, g->count, sizeof *g->items, by_creation);
	return 0;
}

int insomnia_sessions_each(int (*fn)(const struct insomnia_session_info *info,
                                     void *arg),
                           void *arg, struct insomnia_error *err)
{
	struct gathered g;
	int rc = 0;

	if (gather(&g, err) < 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < g.count; i++)
		rc = fn(&g.items[i], arg);
	free(g.items);
	return rc;
}

/* ---- by id or prefix ------------------------------------------------------
 */

/* The prefix lower-cased into out (SESSION_ID_LEN + 1 bytes), or -1:
 * empty, too long, or not the start of a UUID's spelling. */
static int prefix_normalize(const char *text, char *out,
                            struct insomnia_error *err)
{
	size_t i;

	for (i = 0; text[i] && i < SESSION_ID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? text[i] != '-' : !isxdigit((unsigned char)text[i]))
			break;
		out[i] = (char)tolower((unsigned char)text[i]);
	}
	out[i] = '\0';
	if (i > 0 && text[i] == '\0')
		return 0;
	return insomnia_error_set(
	    err, INSOMNIA_ERR_BAD_SESSION_ID,
	    "\"%.64s%s\" is not a session id or the start of one "
	    "(a UUID such as 1b4e28ba-2fa1-11d2-883f-0016d3cca427)",
	    text, strlen(text) > 64 ? "..." : "");
}

struct matches {
	char ids[AMBIGUOUS_SHOWN][SESSION_ID_LEN + 1];
	size_t count;
};

/* A name the prefix matches and that is a session (it has session.toml,
 * readable or not): a dir still being created is none. */
static bool is_candidate(int rootfd, const char *name, const char *prefix)
{
	char path[NAME_MAX + 16];
	struct stat st;

	if (strncmp(name, prefix, strlen(prefix)) != 0 ||
	    !session_id_is_canonical(name))
		return false;
	snprintf(path, sizeof path, "%s/%s", name, SESSION_TOML);
	return fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	       errno != ENOENT;
}

static int match_prefix(int rootfd, const char *prefix, struct matches *m,
                        struct insomnia_error *err)
{
	int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;

	if (!d) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		                         "cannot list the sessions directory");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	m->count = 0;
	while ((e = readdir(d)))
		if (is_candidate(rootfd, e->d_name, prefix)) {
			if (m->count < AMBIGUOUS_SHOWN)
				strcpy(m->ids[m->count], e->d_name);
			m->count++;
		}
	closedir(d);
	return 0;
}

static int ambiguous(const char *prefix, const struct matches *m,
                     struct insomnia_error *err)
{
	char list[AMBIGUOUS_SHOWN * (SESSION_ID_LEN + 2) + 8] = "";
	size_t shown = m->count < AMBIGUOUS_SHOWN ? m->count : AMBIGUOUS_SHOWN;

	for (size_t i = 0; i < shown; i++) {
		strcat(list, i ? ", " : "");
		strcat(list, m->ids[i]);
	}
	return insomnia_error_set(
	    err, INSOMNIA_ERR_SESSION_AMBIGUOUS,
	    "session id \"%s\" is ambiguous: %zu sessions start "
	    "with it (%s%s)",
	    prefix, m->count, list, m->count > shown ? ", ..." : "");
}

int insomnia_session_find(const char *id_or_prefix,
                          struct insomnia_session_info *info,
                          struct insomnia_error *err)
{
	char prefix[SESSION_ID_LEN + 1];
	struct matches m;
	bool none;
	int fd, rc = -1;

	if (!id_or_prefix)
		id_or_prefix = "";
	if (prefix_normalize(id_or_prefix, prefix, err) < 0)
		return -1;
	fd = open_root(&none, err);
	if (fd < 0)
		return none ? insomnia_error_set(
		                  err, INSOMNIA_ERR_SESSION_UNKNOWN,
		                  "no session %s (no sessions yet)", prefix)
		            : -1;
	if (strlen(prefix) == SESSION_ID_LEN) {
		rc = read_public(fd, prefix, info, err);
	} else if (match_prefix(fd, prefix, &m, err) == 0) {
		if (m.count == 0)
			insomnia_error_set(err, INSOMNIA_ERR_SESSION_UNKNOWN,
			                   "no session id starts with \"%s\"",
			                   prefix);
		else if (m.count > 1)
			ambiguous(prefix, &m, err);
		else
			rc = read_public(fd, m.ids[0], info, err);
	}
	close(fd);
	return rc;
}

/* ---- the last of a name ----------------------------------------------------
 */

static int64_t moved_at(const struct insomnia_session_info *s)
{
	return s->last_event_ms ? s->last_event_ms : s->created_ms;
}

int insomnia_session_last(const char *name, struct insomnia_session_info *info,
                          struct insomnia_error *err)
{
	const struct insomnia_session_info *best = NULL;
	struct gathered g;

	if (insomnia_name_check(name, err) < 0 || gather(&g, err) < 0)
		return -1;
	for (size_t i = 0; i < g.count; i++) {
		const struct insomnia_session_info *s = &g.items[i];
		if (s->state == INSOMNIA_SESSION_UNREADABLE ||
		    strcmp(s->name, name) != 0)
			continue;
		/* ties: the later created, as sorted */
		if (!best || moved_at(s) >= moved_at(best))
			best = s;
	}
	if (best)
		*info = *best;
	free(g.items);
	if (!best)
		return insomnia_error_set(err, INSOMNIA_ERR_SESSION_UNKNOWN,
		                          "pod %s has no session", name);
	return 0;
}

/* ---- prune -------------------------------------------------------------- */

/* The files a session holds; anything else in its dir is not ours. */
static bool is_session_file(const char *name)
{
	static const char tmp[] = "." SESSION_TOML ".tmp.";

	return strcmp(name, SESSION_TOML) == 0 ||
	       strcmp(name, SESSION_JOURNAL) == 0 ||
	       strcmp(name, SESSION_LOCK) == 0 ||
	       strcmp(name, SESSION_LOGS) == 0 ||
	       strncmp(name, tmp, sizeof tmp - 1) == 0;
}

/* A listing of dirfd on an open file description of its own: a dup
 * would share (and leave at the end) one offset for every listing. */
static DIR *open_listing(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d && fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return d;
}

/* Refuse before removing anything: a dir holding a stranger's file is
 * left whole. */
static int check_contents(int dirfd, const char *id, struct insomnia_error *err)
{
	DIR *d = open_listing(dirfd);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_RUNTIME_DIR, errno,
		    "session %s: cannot list it", id);
	while (rc == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    !is_session_file(e->d_name))
			rc = insomnia_error_set(
			    err, INSOMNIA_ERR_RUNTIME_DIR,
			    "session %s: not removed: it holds %s, "
			    "which is not a session's file",
			    id, e->d_name);
	closedir(d);
	return rc;
}

/* The journal first and session.toml after it: cut short, what remains
 * is still a session (prunable again) or a creation's leftover (reap). */
static int unlink_files(int rootfd, int dirfd, const char *id,
                        struct insomnia_error *err)
{
	static const char *const order[] = {SESSION_JOURNAL, SESSION_TOML};
	DIR *d = NULL;
	struct dirent *e;

	for (size_t i = 0; i < 2; i++)
		if (unlinkat(dirfd, order[i], 0) < 0 && errno != ENOENT)
			goto fail;
	if (!(d = open_listing(dirfd)))
		goto fail;
	while ((e = readdir(d)))
		if (e->d_name[0] == '.' && is_session_file(e->d_name) &&
		    unlinkat(dirfd, e->d_name, 0) < 0 && errno != ENOENT)
			goto fail;
	closedir(d);
	d = NULL;
	if (session_remove_logs(dirfd, err) < 0) {
		insomnia_error_prefix(err, "session %s", id);
		return -1;
	}
	/* the lock last, still held: a pod that opened it meanwhile finds
	 * it unlinked once it gets it, and refuses (docs/sessions.md) */
	if (unlinkat(dirfd, SESSION_LOCK, 0) < 0 && errno != ENOENT)
		goto fail;
	/* ENOTEMPTY: a pod made a new lock in the instant before the
	 * rmdir; it finds no session.toml and refuses, and what it leaves is
	 * a creation's leftover for `podctl reap`.  The session is gone. */
	if (unlinkat(rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY)
		goto fail;
	return 0;
fail:
	insomnia_error_set_errno(err, INSOMNIA_ERR_RUNTIME_DIR, errno,
	                         "session %s: cannot remove it", id);
	if (d)
		closedir(d);
	return -1;
}

static bool wanted(const struct insomnia_session_info *s,
                   const struct insomnia_sessions_prune_options *o,
                   int64_t now_ms)
{
	if (s->state == INSOMNIA_SESSION_LIVE ||
	    s->state == INSOMNIA_SESSION_UNREADABLE)
		return false;
	if (o->name && strcmp(s->name, o->name) != 0)
		return false;
	return o->older_than_ms <= 0 ||
	       now_ms - moved_at(s) >= o->older_than_ms;
}

/* Read id while holding its lock: a probe reports our own lock as held,
 * so it is judged by its journal alone. */
static int read_locked(int rootfd, const char *id,
                       struct insomnia_session_info *info,
                       struct insomnia_error *err)
{
	struct session_info s;

	if (session_read_info(rootfd, id, &s, err) < 0)
		return -1;
	s.live = false;
	to_public(&s, info);
	return 0;
}

/* Remove a session locked by us, if it is still wanted: 1 removed, 0
 * left, -1 error. */
static int remove_locked(int rootfd, int dirfd, const char *id,
                         const struct insomnia_sessions_prune_options *o,
                         int64_t now_ms, struct insomnia_session_info *info,
                         struct insomnia_error *err)
{
	if (read_locked(rootfd, id, info, err) < 0)
		return err->kind == INSOMNIA_ERR_SESSION_UNKNOWN ? 0 : -1;
	if (!wanted(info, o, now_ms))
		return 0;
	if (check_contents(dirfd, id, err) < 0 ||
	    unlink_files(rootfd, dirfd, id, err) < 0)
		return -1;
	return 1;
}

/* 1 removed, 0 left (gone, live, or changed meanwhile), -1 error.
 * Decided again under the session's lock, so no pod can start on it
 * while it goes: what the listing saw may be stale.  err is not NULL. */
static int prune_one(int rootfd, const char *id,
                     const struct insomnia_sessions_prune_options *o,
                     int64_t now_ms, struct insomnia_session_info *info,
                     struct insomnia_error *err)
{
	int dirfd = session_open_dir(rootfd, id, err), lockfd = -1, rc;

	if (dirfd < 0)
		return err->kind == INSOMNIA_ERR_SESSION_UNKNOWN ? 0 : -1;
	rc = session_lock_try(dirfd, &lockfd, err);
	if (rc == 1)
		rc = remove_locked(rootfd, dirfd, id, o, now_ms, info, err);
	if (lockfd >= 0)
		close(lockfd);
	close(dirfd);
	return rc;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int insomnia_sessions_prune(
    const struct insomnia_sessions_prune_options *opts,
    void (*removed)(const struct insomnia_session_info *info, void *arg),
    void *arg, struct insomnia_error *err)
{
	struct insomnia_error local;
	struct insomnia_session_info info;
	struct gathered g;
	int64_t now = now_ms();
	int count = 0, rc = 0, fd;
	bool none;

	if (!err)
		err = &local; /* prune_one reads the kind */
	if (!opts || (opts->older_than_ms <= 0 && !opts->name))
		return insomnia_error_set(
		    err, INSOMNIA_ERR_USAGE,
		    "prune needs an age or a name: refusing to "
		    "remove every ended session");
	if (opts->name && insomnia_name_check(opts->name, err) < 0)
		return -1;
	if (gather(&g, err) < 0)
		return -1;
	fd = open_root(&none, err);
	for (size_t i = 0; fd >= 0 && rc >= 0 && i < g.count; i++) {
		if (!wanted(&g.items[i], opts, now))
			continue;
		rc = prune_one(fd, g.items[i].id, opts, now, &info, err);
		if (rc == 1) {
			count++;
			if (removed)
				removed(&info, arg);
		}
	}
	if (fd >= 0)
		close(fd);
	free(g.items);
	if (fd < 0 && !none)
		return -1;
	return rc < 0 ? -1 : count;
}
