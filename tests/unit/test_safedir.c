#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safedir.h"

static char base[64];

static void make_base(void)
{
	strcpy(base, "/tmp/safedir-test-XXXXXX");
	cr_assert_not_null(mkdtemp(base));
}

static void remove_base(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "/bin/rm -rf %s", base);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(safedir, .init = make_base, .fini = remove_base);

static const char *at(const char *name)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", base, name);
	return path;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void refused(const char *path, const char *reason_part)
{
	struct insomnia_error err;
	cr_assert_eq(safedir_open(path, true, &err), -1, "%s accepted", path);
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR);
	cr_assert(strstr(err.message, reason_part), "reason was \"%s\"",
	          err.message);
	cr_assert(strstr(err.message, path), "path missing in \"%s\"",
	          err.message);
}

Test(safedir, creates_missing_dirs_and_parents_0700)
{
	struct insomnia_error err;
	int fd = safedir_open(at("a/b/c"), true, &err);
	cr_assert_geq(fd, 0, "%s", err.message);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(mode_of(at("a")), 0700);
	cr_assert_eq(mode_of(at("a/b/c")), 0700);
	close(fd);
}

Test(safedir, refuses_a_symlink_even_to_a_good_dir)
{
	cr_assert_eq(mkdir(at("real"), 0700), 0);
	char target[256];
	snprintf(target, sizeof target, "%s", at("real"));
	cr_assert_eq(symlink(target, at("link")), 0);
	refused(at("link"), "symbolic link");
}

Test(safedir, refuses_group_or_world_writable)
{
	cr_assert_eq(mkdir(at("w"), 0700), 0);
	cr_assert_eq(chmod(at("w"), 0777), 0);
	refused(at("w"), "writable by group or others (mode 0777)");
	cr_assert_eq(chmod(at("w"), 0775), 0);
	refused(at("w"), "mode 0775");
	cr_assert_eq(mode_of(at("w")), 0775,
	             "a refused dir must be left alone");
}

Test(safedir, tightens_a_merely_readable_dir_to_0700)
{
	int fd;
	cr_assert_eq(mkdir(at("r"), 0700), 0);
	cr_assert_eq(chmod(at("r"), 0755), 0);
	fd = safedir_open(at("r"), false, NULL);
	cr_assert_geq(fd, 0);
	cr_assert_eq(mode_of(at("r")), 0700);
	close(fd);
}

Test(safedir, refuses_a_file)
{
	int fd = open(at("f"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	refused(at("f"), "not a directory");
}

Test(safedir, refuses_a_foreign_owned_dir)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to chown to nobody");
	cr_assert_eq(mkdir(at("foreign"), 0700), 0);
	cr_assert_eq(chown(at("foreign"), 65534, 65534), 0);
	refused(at("foreign"), "owned by uid 65534");
}

Test(safedir, missing_without_create_is_an_error)
{
	struct insomnia_error err;
	cr_assert_eq(safedir_open(at("nope"), false, &err), -1);
	cr_assert(strstr(err.message, "nope"));
}

Test(safedir, openat_checks_a_child_of_a_safe_dir)
{
	struct insomnia_error err;
	int dirfd = safedir_open(base, false, &err);
	cr_assert_geq(dirfd, 0, "%s", err.message);
	int fd = safedir_openat(dirfd, "child", at("child"), true, &err);
	cr_assert_geq(fd, 0, "%s", err.message);
	cr_assert_eq(mode_of(at("child")), 0700);
	close(fd);
	close(dirfd);
}

Test(safedir, dirs_and_parents_are_0700_whatever_the_umask)
{
	static const mode_t masks[] = {0277, 0777, 0000};
	static const char *const paths[] = {"m1/p/d", "m2/p/d", "m3/p/d"};
	struct insomnia_error err;
	char parent[256];
	int fd;

	for (size_t i = 0; i < 3; i++) {
		umask(masks[i]);
		fd = safedir_open(at(paths[i]), true, &err);
		umask(022);
		cr_assert_geq(fd, 0, "umask %04o: %s", (unsigned)masks[i],
		              err.message);
		close(fd);
		cr_assert_eq(mode_of(at(paths[i])), 0700);
		snprintf(parent, sizeof parent, "%s", at(paths[i]));
		*strrchr(parent, '/') = '\0';
		cr_assert_eq(mode_of(parent), 0700, "umask %04o: parent %04o",
		             (unsigned)masks[i], (unsigned)mode_of(parent));
	}
}
