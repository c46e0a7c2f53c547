/* logline.h: the one owner of a process log's record format
 * (<session dir>/logs/<process>.log, docs/manifest.md "Logs"): the pod
 * writes it (pod/proclog.c), the logs method reads it back.
 *
 * One record per line:
 *   2026-12-02T05:21:28.123Z out hello world\n
 *   2026-12-02T05:21:28.124Z err+ <first 64 KiB of a longer line>\n
 *   2026-12-02T05:21:28.124Z err <the rest>\n
 * time (RFC 3339 UTC, milliseconds), the stream ("out" or "err"), a '+'
 * when the process's line goes on in the next record (a line longer than
 * LOGLINE_TEXT_MAX is split, never dropped), one space, the text as the
 * process wrote it (any bytes but '\n'). */
#ifndef INSOMNIA_LOGLINE_H
#define INSOMNIA_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>

#define LOGLINE_TEXT_MAX (64 * 1024)
#define LOGLINE_TIME_LEN 24 /* "2026-12-02T05:21:28.123Z" */
/* time, space, "err+", space */
#define LOGLINE_PREFIX_MAX (LOGLINE_TIME_LEN + 6)

enum logline_stream { LOGLINE_OUT, LOGLINE_ERR };

struct logline {
	char time[LOGLINE_TIME_LEN + 1];
	enum logline_stream stream;
	bool continued;   /* the text goes on in the next record */
	const char *text; /* points into the decoded line; not NUL-ended */
	size_t len;
};

/* The prefix of a record for text written now (or at time, when not
 * NULL), into buf (LOGLINE_PREFIX_MAX bytes); returns its length. */
size_t logline_prefix(char *buf, const char *time, enum logline_stream stream,
                      bool continued);

/* The current time as a record's time, into buf (LOGLINE_TIME_LEN + 1). */
void logline_now(char *buf);

/* Decode one record (without its '\n').  false when it is not one. */
bool logline_decode(const char *line, size_t len, struct logline *out);

#endif
