/* logtail.h: turning the bytes of a growing stderr.log into lines.
 *
 * Reads arrive in arbitrary pieces, so a partial line is kept until its
 * newline comes.  Memory is bounded: a line longer than LOGTAIL_LINE_MAX
 * is cut (and flagged), the rest of it skipped up to its newline, so a pod
 * printing a 1 MiB line without a newline costs nothing.  The last
 * LOGTAIL_KEEP lines are kept for error messages. */
#ifndef INSOMNIA_LOGTAIL_H
#define INSOMNIA_LOGTAIL_H

#include <stdbool.h>
#include <stddef.h>

/* a failed process's 8 output lines (PROCLOG_TAIL_LINES) and the pod's
 * line saying why, with room to spare */
#define LOGTAIL_KEEP     10
#define LOGTAIL_LINE_MAX 8192 /* above READY_LINE_MAX on purpose */
#define LOGTAIL_SHOW_MAX 512  /* per line, in the kept tail */

/* Called per complete line (no '\n'); cut means the line was longer than
 * LOGTAIL_LINE_MAX and only its start is given.  A non-zero return stops
 * the feed (the rest of the bytes are left unread by the caller). */
typedef int (*logtail_line_fn)(const char *line, size_t len, bool cut,
                               void *arg);

struct logtail {
	char partial[LOGTAIL_LINE_MAX];
	size_t partial_len;
	bool cutting; /* inside an over-long line */
	char kept[LOGTAIL_KEEP][LOGTAIL_SHOW_MAX];
	unsigned kept_count; /* total lines kept so far */
};

void logtail_init(struct logtail *t);

/* Feed bytes.  Returns the number consumed: all of them, or up to and
 * including the line whose callback returned non-zero. */
size_t logtail_feed(struct logtail *t, const char *buf, size_t len,
                    logtail_line_fn fn, void *arg);

/* Add a line to the kept tail (the callbacks decide what is kept). */
void logtail_keep(struct logtail *t, const char *line, size_t len, bool cut);

/* Keep the pending partial line, if any (the pod died mid-line). */
void logtail_keep_partial(struct logtail *t);

/* The kept lines, oldest first, each followed by '\n'. */
void logtail_format(const struct logtail *t, char *out, size_t size);

#endif
