/* session.c: session ids, the sessions root, liveness, and reading a
 * session's summary cheaply (docs/sessions.md). */
#include "session.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "livelock.h"
#include "safedir.h"
#include "toml.h"

/* session.toml is written by the pod; anything bigger is not ours. */
#define SESSION_TOML_MAX (1024 * 1024)

/* The journal is read from its end: first this much, then four times
 * more each round while the last started/resumed record is missing, up
 * to the cap.  A few KiB hold dozens of runs. */
#define JOURNAL_TAIL_FIRST (4 * 1024)
#define JOURNAL_TAIL_MAX   (1024 * 1024)

/* ---- ids --------------------------------------------------------------- */

int session_id_check(const char *id, struct insomnia_error *err)
{
	size_t i;

	for (i = 0; id[i] && i < SESSION_ID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? id[i] != '-' : !isxdigit((unsigned char)id[i]))
			break;
	}
	if (i == SESSION_ID_LEN && id[i] == '\0')
		return 0;
	return error_set(err, INSOMNIA_ERR_BAD_SESSION_ID,
	                 "\"%.64s%s\" is not a session id (a UUID such as "
	                 "1b4e28ba-2fa1-11d2-883f-0016d3cca427)",
	                 id, strlen(id) > 64 ? "..." : "");
}

int session_id_normalize(const char *id, char *out, struct insomnia_error *err)
{
	if (session_id_check(id, err) < 0)
		return -1;
	for (size_t i = 0; i <= SESSION_ID_LEN; i++)
		out[i] = (char)tolower((unsigned char)id[i]);
	return 0;
}

/* ---- directories ------------------------------------------------------- */

int session_open_root(bool create, char *path, size_t size,
                      struct insomnia_error *err)
{
	char data[INSOMNIA_PATH_MAX], root[INSOMNIA_PATH_MAX];
	int datafd, fd;

	if (insomnia_data_root(data, sizeof data, err) < 0 ||
	    paths_join(root, sizeof root, data, SESSION_ROOT, err) < 0)
		return -1;
	/* Filled first: a caller names the path when it is missing. */
	if (path)
		snprintf(path, size, "%s", root);
	datafd = safedir_open(data, create, err);
	if (datafd < 0)
		return -1;
	fd = safedir_openat(datafd, SESSION_ROOT, root, create, err);
	close(datafd);
	return fd;
}

int session_open_dir(int sessions_dirfd, const char *id,
                     struct insomnia_error *err)
{
	char lower[SESSION_ID_LEN + 1];
	int fd;

	if (session_id_normalize(id, lower, err) < 0)
		return -1;
	fd = safedir_openat(sessions_dirfd, lower, lower, false, err);
	if (fd < 0 && err && err->errnum == ENOENT)
		return error_set(err, INSOMNIA_ERR_SESSION_UNKNOWN,
		                 "no session %s", lower);
	if (fd < 0)
		error_prefix(err, "session %s", lower);
	return fd;
}

int session_is_live(int session_dirfd, struct insomnia_error *err)
{
	return livelock_probe_at(session_dirfd, SESSION_LOCK,
	                         "the session's lock file", err);
}

int session_lock_try(int session_dirfd, int *fd, struct insomnia_error *err)
{
	/* the same lock the pod takes (livelock.h) */
	int rc = livelock_take_at(session_dirfd, SESSION_LOCK,
	                          "the session's lock file", fd, err);

	return rc == 0 ? 1 : rc == LIVELOCK_HELD ? 0 : -1;
}

void session_timestamp(char *buf)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm) ||
	    !strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(sec, sizeof sec, "1970-01-01T00:00:00");
	snprintf(buf, SESSION_TIME_MAX, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
}

/* ---- session.toml -------------------------------------------------------- */

static void copy_string(const struct toml_value *table, const char *key,
                        char *out, size_t size)
{
	const char *s;
	size_t len;

	if (toml_as_string(toml_table_get(table, key), &s, &len) &&
	    len < size && strlen(s) == len)
		memcpy(out, s, len + 1);
}

static int read_toml(int dirfd, struct session_info *out,
                     struct insomnia_error *err)
{
	const struct toml_value *sess, *at;
	struct toml_value *doc;
	struct toml_datetime dt;
	char *text, source[SESSION_ID_LEN + 16];
	size_t len;

	if (fd_read_file_at(dirfd, SESSION_TOML, SESSION_TOML_MAX, &text,
	                    &len) < 0) {
		if (errno == ENOENT)
			return error_set(err, INSOMNIA_ERR_SESSION_UNKNOWN,
			                 "session %s has no %s (still being "
			                 "created, or damaged)",
			                 out->id, SESSION_TOML);
		return error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                       "session %s: cannot read %s", out->id,
		                       SESSION_TOML);
	}
	snprintf(source, sizeof source, "session %s", out->id);
	doc = toml_parse(text, len, source, NULL, err);
	free(text);
	if (!doc)
		return -1;
	sess = toml_table_get(doc, "session");
	copy_string(sess, "name", out->name, sizeof out->name);
	copy_string(sess, "cwd", out->cwd, sizeof out->cwd);
	at = toml_table_get(sess, "created_at");
	if (toml_as_datetime(at, &dt))
		toml_datetime_format(toml_type(at), &dt, out->created_at);
	toml_free(doc);
	return 0;
}

/* ---- the journal's tail ------------------------------------------------ */

struct tail_scan {
	bool have_last, have_start;
};

/* One line: a record is a JSON object with string "ts" and "event";
 * anything else (a torn write, garbage) is not and is skipped. */
static void scan_line(const char *line, size_t len, struct session_info *out,
                      struct tail_scan *sc)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	const char *ts = json_string_value(json_object_get(rec, "ts"));
	const char *ev = json_string_value(json_object_get(rec, "event"));

	if (!ts || !ev)
		goto out;
	if (!sc->have_last) {
		snprintf(out->last_event, sizeof out->last_event, "%s", ev);
		snprintf(out->last_event_at, sizeof out->last_event_at, "%s",
		         ts);
		sc->have_last = true;
	}
	if (strcmp(ev, SESSION_EV_STARTED) == 0 ||
	    strcmp(ev, SESSION_EV_RESUMED) == 0) {
		json_int_t pid =
		    json_integer_value(json_object_get(rec, "pid"));
		const char *name =
		    json_string_value(json_object_get(rec, "name"));
		out->pid = pid > 0 && pid == (pid_t)pid ? (pid_t)pid : 0;
		if (name && strlen(name) <= INSOMNIA_NAME_MAX)
			strcpy(out->run_name, name);
		sc->have_start = true;
	}
out:
	json_decref(rec);
}

/* Scan buf's complete lines from the last one back.  When whole is
 * false the first line may have been cut by the read and is skipped. */
static void scan_lines(const char *buf, size_t len, bool whole,
                       struct session_info *out, struct tail_scan *sc)
{
	const char *first = buf, *end = buf + len;

	if (!whole) {
		const char *nl = memchr(buf, '\n', len);
		first = nl ? nl + 1 : end;
	}
	while (end > first && !sc->have_start) {
		const char *nl = memrchr(first, '\n', (size_t)(end - first));
		const char *line = nl ? nl + 1 : first;

		if (end > line)
			scan_line(line, (size_t)(end - line), out, sc);
		end = nl ? nl : first;
	}
}

/* pread all of [off, off + len) into buf. */
static int read_at(int fd, char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int read_journal(int dirfd, struct session_info *out,
                        struct insomnia_error *err)
{
	int fd = fd_open_regular_at(dirfd, SESSION_JOURNAL,
	                            O_RDONLY | O_NOFOLLOW, 0);
	struct tail_scan sc = {false, false};
	struct stat st;
	size_t want = JOURNAL_TAIL_FIRST;
	char *buf = NULL;
	int rc = -1;

	if (fd < 0 && errno == ENOENT)
		return 0; /* created, no pod run yet */
	if (fd < 0 || fstat(fd, &st) < 0) {
		error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                "session %s: cannot read %s", out->id,
		                SESSION_JOURNAL);
		goto out;
	}
	for (;;) {
		size_t size = (size_t)st.st_size;
		/* One byte more than wanted: it tells whether the first
		 * line read starts at a line boundary. */
		size_t len = size > want ? want + 1 : size;
		char *bigger = realloc(buf, len ? len : 1);

		if (!bigger) {
			error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
			goto out;
		}
		buf = bigger;
		if (read_at(fd, buf, len, (off_t)(size - len)) < 0) {
			error_set_errno(err, INSOMNIA_ERR_IO, errno,
			                "session %s: cannot read %s", out->id,
			                SESSION_JOURNAL);
			goto out;
		}
		sc.have_last = false;
		scan_lines(buf, len, len == size, out, &sc);
		if (sc.have_start || len == size || want >= JOURNAL_TAIL_MAX)
			break;
		want *= 4;
	}
	rc = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- the read API ------------------------------------------------------ */

int session_read_info(int sessions_dirfd, const char *id,
                      struct session_info *out, struct insomnia_error *err)
{
	int dirfd, live, rc = -1;

	memset(out, 0, sizeof *out);
	if (session_id_normalize(id, out->id, err) < 0)
		return -1;
	dirfd = session_open_dir(sessions_dirfd, out->id, err);
	if (dirfd < 0)
		return -1;
	if (read_toml(dirfd, out, err) < 0 || read_journal(dirfd, out, err) < 0)
		goto out;
	live = session_is_live(dirfd, err);
	if (live < 0) {
		error_prefix(err, "session %s", out->id);
		goto out;
	}
	out->live = live == 1;
	rc = 0;
out:
	close(dirfd);
	return rc;
}

/* Only the lower-case spelling is a session's directory: an upper-case
 * twin is someone else's file. */
static bool is_session_name(const char *name)
{
	char lower[SESSION_ID_LEN + 1];

	return session_id_normalize(name, lower, NULL) == 0 &&
	       strcmp(lower, name) == 0;
}

/* Read one entry and hand it to fn, or, when it cannot be read, to bad
 * (which decides whether to go on).  Without bad, the error stops the
 * listing. */
static int visit(int sessions_dirfd, const char *id,
                 const struct session_list_fns *fns, void *arg,
                 struct insomnia_error *err)
{
	struct session_info info;

	if (session_read_info(sessions_dirfd, id, &info, err) == 0)
		return fns->fn(&info, arg);
	if (err->kind == INSOMNIA_ERR_SESSION_UNKNOWN)
		return 0; /* vanished, or still being created */
	return fns->bad ? fns->bad(id, err, arg) : -1;
}

int session_list(int sessions_dirfd, const struct session_list_fns *fns,
                 void *arg, struct insomnia_error *err)
{
	/* A fresh open file description: readdir must not move the
	 * caller's offset. */
	int fd =
	    openat(sessions_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct insomnia_error local;
	struct dirent *e;
	DIR *d = NULL;
	int rc = 0;

	/* The kind of a failed read decides whether to go on. */
	if (!err)
		err = &local;

	if (fd < 0 || !(d = fdopendir(fd))) {
		rc = error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                     "cannot list the sessions directory");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		if (!is_session_name(e->d_name) ||
		    (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN &&
		     !fns->bad))
			continue;
		rc = visit(sessions_dirfd, e->d_name, fns, arg, err);
	}
	if (rc == 0 && errno != 0)
		rc = error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                     "cannot list the sessions directory");
	closedir(d);
	return rc;
}
