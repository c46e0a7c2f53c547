/* proclog.h: one process's output, from its stdout and stderr pipes to
 * <session dir>/logs/<name>.log (common/logline.h), on the pod's loop.
 *
 * Lines are read as they come, stamped and tagged with their stream, and
 * appended; a line longer than LOGLINE_TEXT_MAX is split with a marker.
 * When the file would pass max_size it is rotated (<name>.log.1 ...
 * <name>.log.<keep>; keep 0 starts it afresh).  The manifest bounds
 * max_size (>= 128 KiB: whole records fit) and keep (<= 100: a rotation
 * renames each kept file) in pod/manifest.c; proclog itself takes any
 * values (a record bigger than max_size gets a file of its own), so its
 * tests may rotate at a few bytes.  Memory is bounded: each
 * pipe has a fixed buffer, and a pipe is read only as fast as the file
 * takes the bytes, so a process that writes faster than the disk is
 * slowed by its full pipe, and nothing is ever dropped (but for a write
 * that fails, e.g. a full disk: counted and noted, see proclog.c).  The
 * last PROCLOG_TAIL_LINES lines are kept for error messages.
 *
 * One proclog lives as long as its process's entry in the supervisor
 * (across restarts); proclog_attach hands it each run's pipes. */
#ifndef INSOMNIA_POD_PROCLOG_H
#define INSOMNIA_POD_PROCLOG_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "logline.h"
#include "manifest.h"

#define PROCLOG_TAIL_LINES 8

struct proclog;

/* A whole record was appended (called after the write); text is not
 * NUL-ended and lives only during the call.  For `logs -f` and, later,
 * readiness by log line. */
typedef void (*proclog_line_fn)(void *arg, const struct logline *line);
/* Both pipes of the current run reached end of file.  Always called
 * from the loop (never from inside a proclog_* call). */
typedef void (*proclog_eof_fn)(void *arg);

struct proclog_hooks {
	proclog_line_fn line; /* may be NULL */
	proclog_eof_fn eof;   /* may be NULL */
	void *arg;
};

/* logs_dirfd: <session dir>/logs (borrowed; the caller creates it 0700).
 * The file is opened O_APPEND|O_CLOEXEC, 0600, created if needed. */
struct proclog *proclog_new(struct event_base *base, int logs_dirfd,
                            const char *name, const struct logs_conf *conf,
                            const struct proclog_hooks *hooks,
                            struct insomnia_error *err);

/* Start reading a new run's pipes (read ends, taken over: closed at EOF
 * or by proclog_free, or at once when this fails; -1 for none).  A
 * previous run's pipes still open keep being read until their EOF. */
int proclog_attach(struct proclog *l, int out_fd, int err_fd,
                   struct insomnia_error *err);

/* Append a line of the pod's own about this process (e.g. "exited with
 * status 3"), tagged "err", written "pod: <text>".  Best effort. */
void proclog_note(struct proclog *l, const char *text);

/* The last n (<= PROCLOG_TAIL_LINES) lines, oldest first, each a
 * NUL-ended string valid until the next read or free; returns how many. */
size_t proclog_tail(const struct proclog *l, const char **lines, size_t n);

/* Read everything the pipes hold right now (a process that exited may
 * have written its last words just before): bounded, then returns. */
void proclog_drain(struct proclog *l);

/* Is any pipe still open? */
bool proclog_open(const struct proclog *l);

void proclog_free(struct proclog *l);

/* For the logs method: the last n records of name's log (its rotated
 * files too, when the current one holds fewer), oldest first, each
 * passed to fn with the whole record (line without '\n').  0, or -1 with
 * err; a missing log is 0 records. */
int proclog_read_last(int logs_dirfd, const char *name, size_t n,
                      void (*fn)(void *arg, const char *line, size_t len),
                      void *arg, struct insomnia_error *err);

#endif
