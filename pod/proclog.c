/* proclog.c: a process's stdout and stderr, cut into records
 * (common/logline.h) and appended to its log file (proclog.h).
 *
 * The path of a byte: a pipe's fixed buffer (one read per callback, so a
 * busy process cannot starve the loop), cut into records stamped once
 * per read, copied into the log's fixed staging buffer, written in one
 * write(2) per callback (or when the stage is full, or before a
 * rotation), then shown to the line hook.  Every buffer has a fixed size,
 * so the memory of a log is bounded whatever the process writes; the
 * regular file's write blocks, so a pipe is read only as fast as the
 * disk takes it and a fast process waits on its full pipe.
 *
 * When a write fails (ENOSPC, EDQUOT, EIO, the file cannot be reopened
 * after a rotation) the records of that write are dropped, any half of
 * them that reached the file is cut off again (the file holds whole
 * records only), the count is kept, and the next write that succeeds is
 * preceded by one "N bytes of output lost: <why>" note.  Dropping was
 * chosen over holding the pipe: nothing tells the pod when space comes
 * back without polling, and a service frozen on a full pipe because its
 * log disk is full turns a logging problem into an outage. */
#include "proclog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "podlog.h"
#include "utf8seq.h"

/* Half of it always stays free for a read: a partial line is cut into a
 * record once it passes LOGLINE_TEXT_MAX (64 KiB), and a pipe holds
 * 64 KiB by default. */
#define PIPE_BUF_CAP (2 * LOGLINE_TEXT_MAX)
/* Holds one read's records (a full pipe buffer cut into lines of one
 * byte would not fit, and is then written in several goes). */
#define STAGE_CAP  (PIPE_BUF_CAP + 32 * 1024)
#define RECORD_MAX (LOGLINE_PREFIX_MAX + LOGLINE_TEXT_MAX + 1)
/* A tail line is for an error message: its start is enough. */
#define TAIL_LINE_MAX 512
/* proclog_drain reads at most this much per pipe. */
#define DRAIN_MAX     (1024 * 1024)
#define FILE_NAME_MAX (INSOMNIA_NAME_MAX + sizeof ".log.4294967295")

struct pipe_in {
	struct pipe_in *next;
	struct proclog *log;
	struct event *ev;
	int fd;
	unsigned run;
	enum logline_stream stream;
	bool in_line; /* the last record ended with '+' */
	size_t len;   /* bytes of a partial line at buf */
	char buf[PIPE_BUF_CAP];
};

struct proclog {
	struct event_base *base;
	int dirfd;
	char name[INSOMNIA_NAME_MAX + 1];
	struct logs_conf conf;
	struct proclog_hooks hooks;
	int fd;       /* the log file, or -1 after a failed reopen */
	int64_t size; /* of the log file, as this proclog wrote it */
	struct pipe_in *pipes;
	unsigned run;
	struct event *eof_ev; /* the eof hook, always from the loop */
	char *stage;          /* STAGE_CAP, only while a pipe is open */
	size_t staged;
	char last_time[LOGLINE_TIME_LEN + 1];
	uint64_t lost; /* bytes dropped since the last good write */
	int lost_errno;
	char tail[PROCLOG_TAIL_LINES][TAIL_LINE_MAX + 1];
	size_t tail_next, tail_count;
};

/* The two prefixes of one read's records: stamped once per read. */
struct batch {
	char pre[2][LOGLINE_PREFIX_MAX];
	size_t plen[2];
};

/* ---- the file ------------------------------------------------------ */

static void file_name(char *buf, const char *name, unsigned index)
{
	if (index == 0)
		snprintf(buf, FILE_NAME_MAX, "%s.log", name);
	else
		snprintf(buf, FILE_NAME_MAX, "%s.log.%u", name, index);
}

/* Refuses a symlink (O_NOFOLLOW) and anything not a regular file. */
static int file_open(struct proclog *l)
{
	char fname[FILE_NAME_MAX];
	struct stat st;
	int fd;

	file_name(fname, l->name, 0);
	fd = fd_open_regular_at(l->dirfd, fname,
	                        O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	l->fd = fd;
	l->size = st.st_size;
	return 0;
}

/* Start last_time at the time of the file's last record: times go on
 * from there even when the clock was set back since a previous pod wrote
 * it (a resumed session appends). */
static void file_last_time(struct proclog *l)
{
	size_t len = l->size < RECORD_MAX ? (size_t)l->size : RECORD_MAX;
	char *buf = len > 1 ? malloc(len) : NULL, *nl;
	struct logline line;
	size_t at;

	if (!buf)
		return;
	if (pread(l->fd, buf, len, l->size - (off_t)len) == (ssize_t)len &&
	    buf[len - 1] == '\n') {
		nl = memrchr(buf, '\n', len - 1);
		at = nl ? (size_t)(nl - buf) + 1 : 0;
		if ((nl || len == (size_t)l->size) &&
		    logline_decode(buf + at, len - 1 - at, &line))
			memcpy(l->last_time, line.time, sizeof l->last_time);
	}
	free(buf);
}

/* Write all of buf or nothing: a failed write's first part is cut off
 * the file again, so the file never ends inside a record. */
static int file_write(struct proclog *l, const char *buf, size_t len)
{
	size_t done = 0;
	struct stat st;
	ssize_t n;
	int e;

	while (done < len) {
		n = write(l->fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	l->size += (int64_t)len;
	return 0;
fail:
	e = n < 0 ? errno : ENOSPC;
	if (done > 0 && fstat(l->fd, &st) == 0 && st.st_size >= (off_t)done)
		(void)ftruncate(l->fd, st.st_size - (off_t)done);
	errno = e;
	return -1;
}

/* name.log.<keep-1> -> name.log.<keep> ... name.log -> name.log.1, then
 * a new name.log; keep 0 empties the file instead.  A rename that fails
 * (other than for a missing file) falls back to emptying it: the disk
 * use stays bounded, which is what max_size promises. */
static void file_rotate(struct proclog *l)
{
	char from[FILE_NAME_MAX], to[FILE_NAME_MAX];
	unsigned keep = l->conf.keep > 0 ? (unsigned)l->conf.keep : 0;

	/* The oldest goes first, so no rename replaces a file: ext4 writes
	 * out at once a file renamed over another (auto_da_alloc), which
	 * made rotating on disk about twice as slow. */
	if (keep > 0) {
		file_name(to, l->name, keep);
		(void)unlinkat(l->dirfd, to, 0);
	}
	for (unsigned i = keep; i > 0; i--) {
		file_name(from, l->name, i - 1);
		file_name(to, l->name, i);
		if (renameat(l->dirfd, from, l->dirfd, to) < 0 &&
		    errno != ENOENT) {
			podlog("%s: rotating %s: %s", l->name, from,
			       strerror(errno));
			break;
		}
		if (i == 1) {
			if (l->fd >= 0)
				close(l->fd);
			l->fd = -1;
			l->size = 0;
			/* a failure is seen, and counted, at the next write */
			(void)file_open(l);
			return;
		}
	}
	if (l->fd >= 0 && ftruncate(l->fd, 0) == 0)
		l->size = 0;
}

/* ---- records ------------------------------------------------------- */

/* The time for records written now, never before the last one, so the
 * times in a file only go forward even when the clock is set back. */
static void stamp(struct proclog *l, char *now)
{
	logline_now(now);
	if (strcmp(now, l->last_time) < 0)
		memcpy(now, l->last_time, LOGLINE_TIME_LEN + 1);
	else
		memcpy(l->last_time, now, LOGLINE_TIME_LEN + 1);
}

/* Said once on the pod's stderr when the losing starts, not per write. */
static void lose(struct proclog *l, size_t bytes, int errnum)
{
	if (l->lost == 0)
		podlog("%s: writing logs/%s.log failed, dropping its output "
		       "until a write works again: %s",
		       l->name, l->name, fd_strerror(errnum));
	l->lost += bytes;
	l->lost_errno = errnum;
}

/* Show each record just written to the line hook.  The hook must not
 * call back into this proclog. */
static void call_line_hook(struct proclog *l, const char *s, size_t len)
{
	struct logline line;
	const char *nl;

	while (len > 0 && (nl = memchr(s, '\n', len)) != NULL) {
		if (logline_decode(s, (size_t)(nl - s), &line))
			l->hooks.line(l->hooks.arg, &line);
		len -= (size_t)(nl + 1 - s);
		s = nl + 1;
	}
}

/* The "N bytes lost" note, before the first write that works again. */
static int write_lost_note(struct proclog *l)
{
	char rec[256], now[LOGLINE_TIME_LEN + 1];
	size_t n;

	stamp(l, now);
	n = logline_prefix(rec, now, LOGLINE_ERR, false);

	n += (size_t)snprintf(rec + n, sizeof rec - n,
	                      "pod: %" PRIu64 " bytes of output lost: %s\n",
	                      l->lost, fd_strerror(l->lost_errno));
	if (file_write(l, rec, n) < 0)
		return -1;
	l->lost = 0;
	if (l->hooks.line)
		call_line_hook(l, rec, n);
	return 0;
}

static void flush(struct proclog *l)
{
	size_t n = l->staged;

	if (n == 0)
		return;
	l->staged = 0;
	if ((l->fd < 0 && file_open(l) < 0) ||
	    (l->lost > 0 && write_lost_note(l) < 0) ||
	    file_write(l, l->stage, n) < 0) {
		lose(l, n, errno);
		return;
	}
	if (l->hooks.line)
		call_line_hook(l, l->stage, n);
}

/* Stage one record; a record is never split across two files, and one
 * larger than max_size goes whole into a file of its own. */
static void stage_record(struct proclog *l, const char *pre, size_t plen,
                         const char *text, size_t len)
{
	size_t rec = plen + len + 1;
	int64_t used = l->size + (int64_t)l->staged;

	if (l->conf.max_size > 0 && used > 0 &&
	    used + (int64_t)rec > l->conf.max_size) {
		flush(l);
		file_rotate(l);
	}
	if (l->staged + rec > STAGE_CAP)
		flush(l);
	memcpy(l->stage + l->staged, pre, plen);
	memcpy(l->stage + l->staged + plen, text, len);
	l->stage[l->staged + plen + len] = '\n';
	l->staged += rec;
}

/* Stamp a read: once for all of its records. */
static void batch_init(struct proclog *l, enum logline_stream stream,
                       struct batch *b)
{
	char now[LOGLINE_TIME_LEN + 1];

	stamp(l, now);
	b->plen[0] = logline_prefix(b->pre[0], now, stream, false);
	b->plen[1] = logline_prefix(b->pre[1], now, stream, true);
}

static void tail_push(struct proclog *l, const char *text, size_t len)
{
	char *t = l->tail[l->tail_next];
	size_t n = utf8_cut(text, len, TAIL_LINE_MAX);

	memcpy(t, text, n);
	t[n] = '\0';
	l->tail_next = (l->tail_next + 1) % PROCLOG_TAIL_LINES;
	if (l->tail_count < PROCLOG_TAIL_LINES)
		l->tail_count++;
}

static void emit(struct pipe_in *p, const struct batch *b, const char *text,
                 size_t len, bool continued)
{
	if (!p->in_line)
		tail_push(p->log, text, len);
	p->in_line = continued;
	stage_record(p->log, b->pre[continued], b->plen[continued], text, len);
}

/* One whole line: split into records of at most LOGLINE_TEXT_MAX bytes,
 * cut between characters when it is UTF-8. */
static void emit_line(struct pipe_in *p, const struct batch *b, const char *s,
                      size_t len)
{
	size_t n;

	while (len > LOGLINE_TEXT_MAX) {
		n = utf8_cut(s, len, LOGLINE_TEXT_MAX);
		emit(p, b, s, n, true);
		s += n;
		len -= n;
	}
	emit(p, b, s, len, false);
}

/* Records for the whole lines in the buffer; a partial line stays, unless
 * it is too long to wait (then its head goes out "+"-continued) or the
 * pipe is at its end (then it is a line of its own). */
static void cut_lines(struct pipe_in *p, const struct batch *b, bool eof)
{
	char *s = p->buf, *nl;
	size_t left = p->len, n;

	while ((nl = memchr(s, '\n', left)) != NULL) {
		emit_line(p, b, s, (size_t)(nl - s));
		left -= (size_t)(nl + 1 - s);
		s = nl + 1;
	}
	while (left > LOGLINE_TEXT_MAX) {
		n = utf8_cut(s, left, LOGLINE_TEXT_MAX);
		emit(p, b, s, n, true);
		s += n;
		left -= n;
	}
	if (eof && left > 0) {
		emit_line(p, b, s, left);
		left = 0;
	}
	memmove(p->buf, s, left);
	p->len = left;
}

/* ---- pipes --------------------------------------------------------- */

static bool run_open(const struct proclog *l, unsigned run)
{
	for (const struct pipe_in *p = l->pipes; p; p = p->next)
		if (p->run == run)
			return true;
	return false;
}

static void pipe_close(struct pipe_in *p)
{
	struct proclog *l = p->log;
	struct pipe_in **pp = &l->pipes;

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	event_free(p->ev);
	close(p->fd);
	if (p->run == l->run && !run_open(l, l->run))
		event_active(l->eof_ev, EV_TIMEOUT, 0);
	free(p);
	if (!l->pipes) {
		free(l->stage);
		l->stage = NULL;
	}
}

/* One read, its records written.  Returns the bytes read, 0 once the
 * pipe is closed (end of file, or an error, which ends it too), -1 when
 * it is empty for now. */
static ssize_t pipe_read(struct pipe_in *p)
{
	struct batch b;
	ssize_t n;

	n = fd_read_some(p->fd, p->buf + p->len, PIPE_BUF_CAP - p->len);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	batch_init(p->log, p->stream, &b);
	if (n > 0)
		p->len += (size_t)n;
	cut_lines(p, &b, n <= 0);
	flush(p->log);
	if (n <= 0) {
		if (n < 0)
			podlog("%s: reading its output: %s", p->log->name,
			       strerror(errno));
		pipe_close(p);
		return 0;
	}
	return n;
}

/* One read per callback and back to the loop: the other processes'
 * pipes and the control socket get their turn. */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)pipe_read(arg);
}

static void on_eof(evutil_socket_t fd, short what, void *arg)
{
	struct proclog *l = arg;

	(void)fd;
	(void)what;
	if (l->hooks.eof)
		l->hooks.eof(l->hooks.arg);
}

static int pipe_add(struct proclog *l, int fd, enum logline_stream stream,
                    struct insomnia_error *err)
{
	struct pipe_in *p, **pp;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                errno, "%s: its pipe", l->name);
	p = malloc(sizeof *p);
	if (!p)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "%s: its pipe",
		                                l->name);
	/* field by field: the buffer is left untouched (not resident) */
	p->next = NULL;
	p->log = l;
	p->fd = fd;
	p->run = l->run;
	p->stream = stream;
	p->in_line = false;
	p->len = 0;
	p->ev = event_new(l->base, fd, EV_READ | EV_PERSIST, on_readable, p);
	if (!p->ev || event_add(p->ev, NULL) < 0) {
		if (p->ev)
			event_free(p->ev);
		free(p);
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "%s: libevent refused its pipe",
		                          l->name);
	}
	/* appended: drained in the order they were attached */
	for (pp = &l->pipes; *pp; pp = &(*pp)->next)
		;
	*pp = p;
	return 0;
}

/* ---- the API ------------------------------------------------------- */

struct proclog *proclog_new(struct event_base *base, int logs_dirfd,
                            const char *name, const struct logs_conf *conf,
                            const struct proclog_hooks *hooks,
                            struct insomnia_error *err)
{
	struct proclog *l = calloc(1, sizeof *l);

	if (!l) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "%s: its log", name);
		return NULL;
	}
	l->base = base;
	l->dirfd = logs_dirfd;
	snprintf(l->name, sizeof l->name, "%s", name);
	l->conf = *conf;
	if (hooks)
		l->hooks = *hooks;
	l->fd = -1;
	l->eof_ev = event_new(base, -1, 0, on_eof, l);
	if (!l->eof_ev) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "%s: libevent refused its log", name);
		goto fail;
	}
	if (file_open(l) < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                         "logs/%s.log", name);
		goto fail;
	}
	file_last_time(l);
	return l;
fail:
	proclog_free(l);
	return NULL;
}

/* The fds are ours from here on, even when this fails: the caller has
 * one thing less to clean up. */
int proclog_attach(struct proclog *l, int out_fd, int err_fd,
                   struct insomnia_error *err)
{
	int rc = 0;

	l->run++;
	if (!l->stage && (out_fd >= 0 || err_fd >= 0)) {
		l->stage = malloc(STAGE_CAP);
		if (!l->stage)
			rc = insomnia_error_set_errno(
			    err, INSOMNIA_ERR_INTERNAL, ENOMEM, "%s: its log",
			    l->name);
	}
	if (rc == 0 && out_fd >= 0 && pipe_add(l, out_fd, LOGLINE_OUT, err) < 0)
		rc = -1;
	else if (rc == 0)
		out_fd = -1;
	if (rc == 0 && err_fd >= 0 && pipe_add(l, err_fd, LOGLINE_ERR, err) < 0)
		rc = -1;
	else if (rc == 0)
		err_fd = -1;
	if (out_fd >= 0)
		close(out_fd);
	if (err_fd >= 0)
		close(err_fd);
	if (!run_open(l, l->run))
		event_active(l->eof_ev, EV_TIMEOUT, 0);
	return rc;
}

/* Each line "pod: <text>", so the pod's words stand apart from the
 * process's. */
void proclog_note(struct proclog *l, const char *text)
{
	char pre[LOGLINE_PREFIX_MAX + sizeof "pod: "],
	    now[LOGLINE_TIME_LEN + 1];
	size_t plen, len = strlen(text), n;
	bool own_stage = !l->stage;

	stamp(l, now);
	plen = logline_prefix(pre, now, LOGLINE_ERR, false);
	memcpy(pre + plen, "pod: ", 5);
	plen += 5;

	if (own_stage && !(l->stage = malloc(STAGE_CAP)))
		return;
	for (const char *s = text, *nl; len > 0; s += n, len -= n) {
		nl = memchr(s, '\n', len);
		n = nl ? (size_t)(nl - s) : len;
		n = utf8_cut(s, n, LOGLINE_TEXT_MAX);
		stage_record(l, pre, plen, s, n);
		if (n < len && s[n] == '\n')
			n++;
	}
	flush(l);
	if (own_stage) {
		free(l->stage);
		l->stage = NULL;
	}
}

size_t proclog_tail(const struct proclog *l, const char **lines, size_t n)
{
	size_t first;

	if (n > l->tail_count)
		n = l->tail_count;
	first = (l->tail_next + PROCLOG_TAIL_LINES - n) % PROCLOG_TAIL_LINES;
	for (size_t i = 0; i < n; i++)
		lines[i] = l->tail[(first + i) % PROCLOG_TAIL_LINES];
	return n;
}

void proclog_drain(struct proclog *l)
{
	struct pipe_in *p = l->pipes, *next;
	size_t got;
	ssize_t n;

	for (; p; p = next) {
		next = p->next;
		got = 0;
		while (got < DRAIN_MAX && (n = pipe_read(p)) > 0)
			got += (size_t)n;
	}
}

bool proclog_open(const struct proclog *l)
{
	return l->pipes != NULL;
}

void proclog_free(struct proclog *l)
{
	struct pipe_in *p, *next;

	if (!l)
		return;
	for (p = l->pipes; p; p = next) {
		next = p->next;
		event_free(p->ev);
		close(p->fd);
		free(p);
	}
	if (l->eof_ev)
		event_free(l->eof_ev);
	if (l->fd >= 0)
		close(l->fd);
	free(l->stage);
	free(l);
}

/* ---- reading back -------------------------------------------------- */

#define READ_CHUNK (64 * 1024)
/* Longer lines are not records: their head is shown, the rest skipped. */
#define READ_LINE_MAX (2 * RECORD_MAX)

typedef void (*read_fn)(void *arg, const char *line, size_t len);

/* Where the last n records start: in file `file` (0 the current log,
 * i name.log.i) at offset off, then every newer file whole. */
struct read_start {
	int file; /* -1: no records */
	off_t off;
};

/* dirfd/name.log[.index] for reading: the fd, -2 when missing, or -1. */
static int open_read(int dirfd, const char *name, unsigned index,
                     struct insomnia_error *err)
{
	char fname[FILE_NAME_MAX];
	int fd;

	file_name(fname, name, index);
	fd = fd_open_regular_at(dirfd, fname, O_RDONLY | O_NOFOLLOW, 0);
	if (fd >= 0 || errno == ENOENT)
		return fd >= 0 ? fd : -2;
	return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno, "logs/%s",
	                                fname);
}

static int pread_full(int fd, char *buf, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* the file shrank under us */
			return -1;
		}
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Count the lines of fd backwards from its end, at most need of them,
 * reading chunk by chunk: how many there are, and where the first one
 * counted starts.  An unterminated last line counts as a line. */
static ssize_t count_back(int fd, size_t need, char *chunk, off_t *start)
{
	struct stat st;
	off_t pos;
	size_t found = 0, len;
	char *nl, *end;

	if (fstat(fd, &st) < 0)
		return -1;
	*start = 0;
	pos = st.st_size;
	if (pos == 0)
		return 0;
	if (pread_full(fd, chunk, 1, pos - 1) < 0)
		return -1;
	if (chunk[0] == '\n')
		pos--; /* the last line's own end */
	while (pos > 0) {
		len = pos < READ_CHUNK ? (size_t)pos : READ_CHUNK;
		pos -= (off_t)len;
		if (pread_full(fd, chunk, len, pos) < 0)
			return -1;
		for (end = chunk + len;
		     (nl = memrchr(chunk, '\n', (size_t)(end - chunk)));
		     end = nl) {
			if (++found == need) {
				*start = pos + (nl - chunk) + 1;
				return (ssize_t)found;
			}
		}
	}
	return (ssize_t)found + 1; /* the first line of the file */
}

static int find_start(int dirfd, const char *name, size_t n,
                      struct read_start *rs, struct insomnia_error *err)
{
	char *chunk = malloc(READ_CHUNK);
	ssize_t got;
	int fd, rc = 0;

	rs->file = -1;
	rs->off = 0;
	if (!chunk)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "reading a log");
	for (unsigned i = 0; n > 0 && i < INT32_MAX; i++) {
		fd = open_read(dirfd, name, i, err);
		if (fd == -2)
			break;
		if (fd < 0) {
			rc = -1;
			break;
		}
		got = count_back(fd, n, chunk, &rs->off);
		close(fd);
		if (got < 0) {
			rc = insomnia_error_set_errno(
			    err, INSOMNIA_ERR_IO, errno, "logs/%s.log", name);
			break;
		}
		rs->file = (int)i;
		n -= (size_t)got;
	}
	free(chunk);
	return rc;
}

/* Pass each line of fd from off on to fn. */
static int emit_from(int fd, off_t off, char *buf, read_fn fn, void *arg)
{
	size_t len = 0;
	bool skipping = false;
	char *s, *nl;
	ssize_t n;

	while ((n = pread(fd, buf + len, READ_LINE_MAX - len, off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += n;
		len += (size_t)n;
		for (s = buf; (nl = memchr(s, '\n', len - (size_t)(s - buf)));
		     s = nl + 1) {
			if (!skipping)
				fn(arg, s, (size_t)(nl - s));
			skipping = false;
		}
		len -= (size_t)(s - buf);
		memmove(buf, s, len);
		if (len == READ_LINE_MAX) {
			if (!skipping)
				fn(arg, buf, len);
			skipping = true;
			len = 0;
		}
	}
	if (len > 0 && !skipping)
		fn(arg, buf, len);
	return 0;
}

int proclog_read_last(int logs_dirfd, const char *name, size_t n,
                      void (*fn)(void *arg, const char *line, size_t len),
                      void *arg, struct insomnia_error *err)
{
	struct read_start rs;
	char *buf = NULL;
	int fd, rc = 0;

	if (find_start(logs_dirfd, name, n, &rs, err) < 0)
		return -1;
	if (rs.file < 0)
		return 0;
	buf = malloc(READ_LINE_MAX);
	if (!buf)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "reading a log");
	for (int i = rs.file; i >= 0 && rc == 0; i--) {
		fd = open_read(logs_dirfd, name, (unsigned)i, err);
		if (fd == -2)
			continue; /* gone meanwhile: nothing left of it */
		if (fd < 0) {
			rc = -1;
			break;
		}
		if (emit_from(fd, i == rs.file ? rs.off : 0, buf, fn, arg) < 0)
			rc = insomnia_error_set_errno(
			    err, INSOMNIA_ERR_IO, errno, "logs/%s.log", name);
		close(fd);
	}
	free(buf);
	return rc;
}
