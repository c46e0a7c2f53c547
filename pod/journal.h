/* journal.h: appending to a session's journal.jsonl (docs/sessions.md).
 *
 * One JSON object per line, each written with a single write(2) on an
 * O_APPEND descriptor, so concurrent readers see whole records or
 * nothing new, and a crash can tear at most the last line.  A torn last
 * line is never repaired in place: the next record starts with a '\n' of
 * its own, which leaves the torn bytes as one invalid line that readers
 * skip. */
#ifndef INSOMNIA_POD_JOURNAL_H
#define INSOMNIA_POD_JOURNAL_H

#include <stdbool.h>

#include "error.h"
#include "journalfmt.h"

struct journal {
	int fd;
	bool torn; /* the file does not end in '\n' */
};

void journal_init(struct journal *j);

/* Open (creating, 0600) the journal in the session dir, and note whether
 * its last line is unfinished. */
int journal_open(struct journal *j, int session_dirfd,
                 struct insomnia_error *err);

/* Append e, stamped now (journalfmt.h), with one write(2). */
int journal_append(struct journal *j, const struct journal_entry *e,
                   struct insomnia_error *err);

/* fsync the journal. */
int journal_sync(struct journal *j, struct insomnia_error *err);

void journal_close(struct journal *j);

#endif
