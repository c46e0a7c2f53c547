/* sessioninfo.c: reading a session's summary cheaply, and listing the
 * sessions (session.h): session.toml's [session] (sessionfile.h), the
 * journal's tail (journalfmt.h), and the lock. */
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "journalfmt.h"
#include "sessionfile.h"

/* The journal is read from its end: first this much, then four times
 * more each round while the last started/resumed record is missing, up
 * to the cap.  A few KiB hold dozens of runs. */
#define JOURNAL_TAIL_FIRST (4 * 1024)
#define JOURNAL_TAIL_MAX   (1024 * 1024)

/* ---- the journal's tail ------------------------------------------------ */

struct tail_scan {
	bool have_last, have_start;
};

/* One line: what is not a record (a torn write, garbage) is skipped. */
static void scan_line(const char *line, size_t len, struct session_info *out,
                      struct tail_scan *sc)
{
	struct journal_record r;

	if (!journalfmt_decode(line, len, &r))
		return;
	if (!sc->have_last) {
		snprintf(out->last_event, sizeof out->last_event, "%s",
		         r.event);
		snprintf(out->last_event_at, sizeof out->last_event_at, "%s",
		         r.ts);
		snprintf(out->last_error, sizeof out->last_error, "%s",
		         strcmp(r.event, SESSION_EV_STOPPED) == 0 ? r.error
		                                                  : "");
		sc->have_last = true;
	}
	if (journalfmt_is_start(&r)) {
		out->pid = r.pid;
		if (r.name[0])
			strcpy(out->run_name, r.name);
		sc->have_start = true;
	}
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
		insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
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
			insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
			                   "out of memory");
			goto out;
		}
		buf = bigger;
		if (read_at(fd, buf, len, (off_t)(size - len)) < 0) {
			insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
			                         "session %s: cannot read %s",
			                         out->id, SESSION_JOURNAL);
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

/* ---- session.toml -------------------------------------------------------- */

static int read_summary(int dirfd, struct session_info *out,
                        struct insomnia_error *err)
{
	struct sessionfile_summary sum;

	if (sessionfile_read_summary(dirfd, out->id, &sum, err) < 0)
		return -1;
	memcpy(out->name, sum.name, sizeof out->name);
	memcpy(out->cwd, sum.cwd, sizeof out->cwd);
	memcpy(out->created_at, sum.created_at, sizeof out->created_at);
	return 0;
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
	if (read_summary(dirfd, out, err) < 0 ||
	    read_journal(dirfd, out, err) < 0)
		goto out;
	live = session_is_live(dirfd, err);
	if (live < 0) {
		insomnia_error_prefix(err, "session %s", out->id);
		goto out;
	}
	out->live = live == 1;
	rc = 0;
out:
	close(dirfd);
	return rc;
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
		rc = insomnia_error_set_errno(
		    err, INSOMNIA_ERR_IO, errno,
		    "cannot list the sessions directory");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		if (!session_id_is_canonical(e->d_name) ||
		    (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN &&
		     !fns->bad))
			continue;
		rc = visit(sessions_dirfd, e->d_name, fns, arg, err);
	}
	if (rc == 0 && errno != 0)
		rc = insomnia_error_set_errno(
		    err, INSOMNIA_ERR_IO, errno,
		    "cannot list the sessions directory");
	closedir(d);
	return rc;
}
