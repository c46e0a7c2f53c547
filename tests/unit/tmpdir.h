/* tmpdir.h: a fresh directory under /tmp for one unit test, opened, and
 * removed with all it holds when the test ends. */
#ifndef INSOMNIA_TESTS_UNIT_TMPDIR_H
#define INSOMNIA_TESTS_UNIT_TMPDIR_H

struct tmpdir {
	char path[64];
	int fd; /* O_RDONLY | O_DIRECTORY */
};

/* Make /tmp/<tag>-XXXXXX and open it; asserts it worked. */
void tmpdir_make(struct tmpdir *t, const char *tag);

void tmpdir_remove(struct tmpdir *t);

#endif
