/* End-to-end: reap and listings under faults: a runtime root that cannot
 * be listed (fdopendir failing, injected here by interposing it), and a
 * `lock` that is not a regular file (a FIFO must never hang anyone). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "podlist.h"
#include "harness.h"
#include <insomnia/pods.h>
#include <insomnia/reap.h>
#include "rundir.h"
#include "session.h"

TestSuite(reap_faults, .init = e2e_setup, .fini = e2e_teardown, .timeout = 20);

static bool fail_fdopendir;
static int fdopendir_calls, fail_fdopendir_call; /* 1-based; 0: none */

/* The library's calls land here (the executable's symbol comes first). */
DIR *fdopendir(int fd)
{
	static DIR *(*real)(int);
	void *sym;

	if (fail_fdopendir || ++fdopendir_calls == fail_fdopendir_call) {
		errno = ENOMEM;
		return NULL;
	}
	if (!real) { /* POSIX's way to turn dlsym's answer into a function */
		sym = dlsym(RTLD_NEXT, "fdopendir");
		memcpy(&real, &sym, sizeof real);
	}
	return real(fd);
}

/* <root>/<name>/, with <file> made by make (NULL: none). */
static void make_pod_dir(const char *name, const char *file,
                         int (*make)(const char *path))
{
	char root[4096];
	struct insomnia_error err;
	int rootfd = rundir_open_root(true, root, sizeof root, &err);

	cr_assert_geq(rootfd, 0, "%s", err.message);
	cr_assert_eq(mkdirat(rootfd, name, 0700), 0);
	close(rootfd);
	if (file)
		cr_assert_eq(make(e2e_rundir(name, file)), 0);
}

static int make_fifo(const char *path)
{
	return mkfifo(path, 0600);
}

static int count(const struct insomnia_pod_info *info, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

Test(reap_faults, reap_fails_and_leaks_nothing_when_the_root_cannot_be_listed)
{
	int before, rc;
	struct insomnia_error err;

	make_pod_dir("dead", NULL, NULL);
	before = e2e_fd_count();
	fail_fdopendir = true;
	rc = insomnia_reap(NULL, NULL, &err);
	fail_fdopendir = false;
	cr_assert_eq(rc, -1, "reap reported success without listing");
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR);
	cr_assert_eq(e2e_fd_count(), before, "a descriptor leaked");
}

Test(reap_faults, listing_fails_and_leaks_nothing_when_the_root_cannot_be_read)
{
	int before, rc, n = 0;
	struct insomnia_error err;

	make_pod_dir("dead", NULL, NULL);
	before = e2e_fd_count();
	fail_fdopendir = true;
	rc = insomnia_pods_each(count, &n, &err);
	fail_fdopendir = false;
	cr_assert_eq(rc, -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR);
	cr_assert_eq(e2e_fd_count(), before, "a descriptor leaked");
}

static void note_of(const struct insomnia_reap_report *r, void *arg)
{
	snprintf(arg, 256, "%s: %s", r->name, r->note);
}

Test(reap_faults, a_fifo_named_lock_is_refused_by_name_never_waited_on)
{
	char root[4096], note[256] = "";
	struct insomnia_pod_info info;
	struct insomnia_spawn_result res;
	struct insomnia_spawn_options o = e2e_options("fifo", NULL);
	struct insomnia_error err;
	int rootfd;

	make_pod_dir("fifo", "lock", make_fifo);
	rootfd = rundir_open_root(false, root, sizeof root, &err);
	cr_assert_eq(podlist_read(rootfd, root, "fifo", &info, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR);
	cr_assert(strstr(err.message, "not a regular file"), "%s", err.message);
	close(rootfd);
	cr_assert_eq(insomnia_reap(note_of, note, &err), 0, "%s", err.message);
	cr_assert(strstr(note, "fifo: cannot take lock: not a regular file"),
	          "reap said \"%s\"", note);
	cr_assert_eq(insomnia_spawn(&o, &res, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR, "%s", err.message);
	cr_assert(strstr(err.message, "not a regular file"), "%s", err.message);
}

Test(reap_faults, a_fifo_named_state_json_lists_as_a_stopped_pod)
{
	char root[4096];
	struct insomnia_pod_info info;
	struct insomnia_error err;
	int rootfd;

	make_pod_dir("fifo", "state.json", make_fifo);
	rootfd = rundir_open_root(false, root, sizeof root, &err);
	cr_assert_eq(podlist_read(rootfd, root, "fifo", &info, &err), 0, "%s",
	             err.message);
	cr_assert_not(info.alive);
	close(rootfd);
}

static int first_row(const struct insomnia_pod_info *info, void *arg)
{
	*(struct insomnia_pod_info *)arg = *info;
	return 1;
}

/* A listing (ls, a TUI) shows such a dir rather than hiding it. */
Test(reap_faults, a_fifo_named_lock_is_listed_as_unusable_not_hidden)
{
	struct insomnia_pod_info info = {0};
	struct insomnia_error err;

	make_pod_dir("fifo", "lock", make_fifo);
	cr_assert_eq(insomnia_pods_each(first_row, &info, &err), 1,
	             "the dir was not listed");
	cr_assert_str_eq(info.name, "fifo");
	cr_assert_str_eq(info.state, "unusable");
	cr_assert_not(info.alive);
}

/* No runtime root yet: an empty list, also for a caller passing no err. */
Test(reap_faults, listing_without_a_runtime_root_is_empty_with_a_null_err)
{
	struct insomnia_pod_info info = {0};

	cr_assert_eq(insomnia_pods_each(first_row, &info, NULL), 0);
}

/* A session dir a crash left with only its lock, under a data root whose
 * runtime root does not exist yet. */
static void make_leftover_session(void)
{
	const char *id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
	struct insomnia_error err;
	int rootfd = session_open_root(true, NULL, 0, &err), fd;

	cr_assert_geq(rootfd, 0, "%s", err.message);
	cr_assert_eq(mkdirat(rootfd, id, 0700), 0);
	fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	close(openat(fd, SESSION_LOCK, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	close(fd);
	close(rootfd);
}

/* The sessions root is listed by the 1st fdopendir, the leftover's own
 * dir by the 2nd: that one fails. */
Test(reap_faults, a_session_leftover_that_cannot_be_listed_is_named_no_leak)
{
	char note[256] = "";
	struct insomnia_error err;
	int before;

	make_leftover_session();
	before = e2e_fd_count();
	fdopendir_calls = 0;
	fail_fdopendir_call = 2;
	cr_assert_eq(insomnia_reap(note_of, note, &err), 0, "%s", err.message);
	fail_fdopendir_call = 0;
	cr_assert(strstr(note, "cannot list the dir"), "reap said \"%s\"",
	          note);
	cr_assert_eq(e2e_fd_count(), before, "a descriptor leaked");
}

/* No runtime root yet, and a data root that cannot be used: the failure
 * is reported with its kind and message, not as an empty error. */
Test(reap_faults, a_session_root_that_cannot_be_used_fails_reap_with_a_reason)
{
	struct insomnia_error err;

	cr_assert_eq(setenv("INSOMNIA_DATA_DIR", "relative/data", 1), 0);
	insomnia_error_clear(&err);
	cr_assert_eq(insomnia_reap(NULL, NULL, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR, "kind %s: %s",
	             insomnia_error_kind_name(err.kind), err.message);
	cr_assert(strstr(err.message, "INSOMNIA_DATA_DIR"), "%s", err.message);
}
