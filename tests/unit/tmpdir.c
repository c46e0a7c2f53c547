/* tmpdir.c: a fresh directory for one unit test. */
#include "tmpdir.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void tmpdir_make(struct tmpdir *t, const char *tag)
{
	snprintf(t->path, sizeof t->path, "/tmp/%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(t->path));
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(t->fd, 0);
}

void tmpdir_remove(struct tmpdir *t)
{
	char cmd[128];

	close(t->fd);
	snprintf(cmd, sizeof cmd, "/bin/rm -rf %s", t->path);
	cr_assert_eq(system(cmd), 0);
}
