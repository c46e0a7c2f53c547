/* journal.c: one record, one write(2).  The record's format is
 * common/journalfmt.c's. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "journalfmt.h"
#include "session.h"

void journal_init(struct journal *j)
{
	j->fd = -1;
	j->torn = false;
}

/* Does the file end in the middle of a line? */
static int tail_is_torn(int fd, bool *torn)
{
	struct stat st;
	char last;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -1;
	*torn = false;
	if (st.st_size == 0)
		return 0;
	do
		n = pread(fd, &last, 1, st.st_size - 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		return -1;
	*torn = last != '\n';
	return 0;
}

int journal_open(struct journal *j, int session_dirfd,
                 struct insomnia_error *err)
{
	/* O_RDWR only so tail_is_torn can pread the last byte. */
	j->fd =
	    fd_open_regular_at(session_dirfd, SESSION_JOURNAL,
	                       O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW, 0600);
	if (j->fd < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "cannot open %s",
		                                SESSION_JOURNAL);
	/* 0600 whatever the umask it was created under: the next pod
	 * opens it for writing. */
	if (fchmod(j->fd, 0600) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "cannot chmod %s",
		                                SESSION_JOURNAL);
	if (tail_is_torn(j->fd, &j->torn) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "cannot read %s",
		                                SESSION_JOURNAL);
	return 0;
}

int journal_append(struct journal *j, const struct journal_entry *e,
                   struct insomnia_error *err)
{
	size_t len = 0;
	char *line = journalfmt_encode(e, j->torn, &len);
	const char *event = e->event;
	ssize_t n;

	if (!line)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_INTERNAL,
		    "cannot encode the journal record \"%s\"", event);
	do
		n = write(j->fd, line, len);
	while (n < 0 && errno == EINTR);
	free(line);
	if (n == (ssize_t)len) {
		j->torn = false;
		return 0;
	}
	/* Whatever part reached the file is a torn line now. */
	if (n > 0)
		j->torn = true;
	return insomnia_error_set_errno(
	    err, INSOMNIA_ERR_IO, n < 0 ? errno : ENOSPC,
	    "cannot append \"%s\" to %s", event, SESSION_JOURNAL);
}

int journal_sync(struct journal *j, struct insomnia_error *err)
{
	if (fsync(j->fd) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "cannot sync %s",
		                                SESSION_JOURNAL);
	return 0;
}

void journal_close(struct journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}
