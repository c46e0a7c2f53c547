#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "fdio.h"
#include "tmpdir.h"

static struct tmpdir tmp;

static void setup(void)
{
	tmpdir_make(&tmp, "atomic-test");
}

static void teardown(void)
{
	tmpdir_remove(&tmp);
}

TestSuite(atomic_file, .init = setup, .fini = teardown);

static int entries(void)
{
	int n = 0;
	DIR *d = opendir(tmp.path);
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' ||
		    (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")))
			n++;
	closedir(d);
	return n;
}

Test(atomic_file, writes_content_with_mode_and_leaves_no_temp)
{
	char *got;
	size_t len;
	struct stat st;
	cr_assert_eq(atomic_write_at(tmp.fd, "pid", "42\n", 3, 0600, NULL), 0);
	cr_assert_eq(fd_read_file_at(tmp.fd, "pid", 100, &got, &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_str_eq(got, "42\n");
	free(got);
	cr_assert_eq(fstatat(tmp.fd, "pid", &st, 0), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(entries(), 1);
}

Test(atomic_file, replaces_existing_content_whole)
{
	char *got;
	cr_assert_eq(
	    atomic_write_at(tmp.fd, "f", "a long old content", 18, 0600, NULL),
	    0);
	cr_assert_eq(atomic_write_at(tmp.fd, "f", "new", 3, 0600, NULL), 0);
	cr_assert_eq(fd_read_file_at(tmp.fd, "f", 100, &got, NULL), 0);
	cr_assert_str_eq(got, "new");
	free(got);
	cr_assert_eq(entries(), 1);
}

Test(atomic_file, failure_leaves_no_temporary_behind)
{
	struct insomnia_error err;
	/* a directory in the way makes rename fail after the write */
	cr_assert_eq(mkdirat(tmp.fd, "d", 0700), 0);
	cr_assert_eq(mkdirat(tmp.fd, "d/x", 0700), 0);
	cr_assert_eq(atomic_write_at(tmp.fd, "d", "x", 1, 0600, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_IO);
	cr_assert(strstr(err.message, "rename"));
	cr_assert_eq(entries(), 1);
}

Test(atomic_file, read_file_refuses_files_over_the_limit)
{
	char *got = NULL;
	cr_assert_eq(
	    atomic_write_at(tmp.fd, "big", "0123456789", 10, 0600, NULL), 0);
	cr_assert_eq(fd_read_file_at(tmp.fd, "big", 4, &got, NULL), -1);
	cr_assert_null(got);
}

Test(atomic_file, the_mode_asked_for_whatever_the_umask)
{
	static const mode_t masks[] = {0277, 0777, 0000};
	struct stat st;

	for (size_t i = 0; i < 3; i++) {
		umask(masks[i]);
		cr_assert_eq(atomic_write_at(tmp.fd, "f", "x", 1, 0600, NULL),
		             0);
		cr_assert_eq(fstatat(tmp.fd, "f", &st, 0), 0);
		cr_assert_eq(st.st_mode & 07777, 0600, "umask %04o gave %04o",
		             (unsigned)masks[i],
		             (unsigned)(st.st_mode & 07777));
	}
	umask(022);
}

Test(atomic_file, without_syncs_it_is_still_atomic_and_leaves_no_temp)
{
	char *got;
	struct stat st;

	cr_assert_eq(atomic_write_sync_at(tmp.fd, "pid", "7\n", 2, 0600,
	                                  ATOMIC_SYNC_NONE, NULL),
	             0);
	cr_assert_eq(fd_read_file_at(tmp.fd, "pid", 100, &got, NULL), 0);
	cr_assert_str_eq(got, "7\n");
	free(got);
	cr_assert_eq(fstatat(tmp.fd, "pid", &st, 0), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(entries(), 1);
}
