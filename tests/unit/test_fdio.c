#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "fdio.h"
#include "tmpdir.h"

static struct tmpdir tmp;

static void setup(void)
{
	tmpdir_make(&tmp, "fdio-test");
}

static void teardown(void)
{
	tmpdir_remove(&tmp);
}

TestSuite(fdio, .init = setup, .fini = teardown);

/* Without O_NONBLOCK at open, a FIFO with no writer blocks forever: the
 * test would hang (and time out) rather than pass. */
Test(fdio, fifo_is_refused_without_blocking)
{
	char *text = NULL;

	cr_assert_eq(mkfifoat(tmp.fd, "fifo", 0600), 0);
	cr_assert_eq(fd_read_file_at(tmp.fd, "fifo", 64, &text, NULL), -1);
	cr_assert_eq(errno, FD_ENOTREG);
	cr_assert_null(text);
	errno = 0;
	cr_assert_eq(fd_open_regular_at(tmp.fd, "fifo", O_RDWR, 0), -1);
	cr_assert_eq(errno, FD_ENOTREG);
}

Test(fdio, directory_is_refused)
{
	cr_assert_eq(mkdirat(tmp.fd, "dir", 0700), 0);
	cr_assert_eq(fd_open_regular_at(tmp.fd, "dir", O_RDONLY, 0), -1);
	cr_assert_eq(errno, FD_ENOTREG);
}

Test(fdio, regular_file_is_read_and_fd_is_blocking_and_cloexec)
{
	char *text;
	size_t len;
	int fd = openat(tmp.fd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(fd_write_all(fd, "hello\n", 6), 0);
	close(fd);
	cr_assert_eq(fd_read_file_at(tmp.fd, "f", 64, &text, &len), 0);
	cr_assert_str_eq(text, "hello\n");
	cr_assert_eq(len, 6);
	free(text);
	fd = fd_open_regular_at(tmp.fd, "f", O_RDONLY, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	cr_assert_neq(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);
}

Test(fdio, error_message_names_a_non_regular_file)
{
	struct insomnia_error err;

	insomnia_error_set_errno(&err, INSOMNIA_ERR_IO, FD_ENOTREG,
	                         "cannot read %s", "x");
	cr_assert_str_eq(err.message, "cannot read x: not a regular file");
}
