/* Files that are not what they should be, and modes that do not depend
 * on the umask: the pod side (manifests, session files, what it
 * creates). */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "session.h"

/* The timeout is a safety net only: every assertion is on a result. */
TestSuite(pod_files, .init = th_setup, .fini = th_teardown, .timeout = 30);

static const char *in_home(const char *rel)
{
	static char path[TH_PATH_MAX];

	th_fmt(path, sizeof path, "%s/%s", th.home, rel);
	return path;
}

/* Replace path (and make its parents) with a FIFO nobody writes to. */
static void plant_fifo(const char *path)
{
	th_write_file(path, ""); /* makes the parents */
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo %s: %s", path,
	             strerror(errno));
}

static void session_id(const char *name, char *id)
{
	json_t *st = json_loads(
	    th_read_file(th_rundir_file(name, "state.json")), 0, NULL);
	const char *s = json_string_value(json_object_get(st, "session_id"));

	cr_assert_not_null(s);
	snprintf(id, SESSION_ID_LEN + 1, "%s", s);
	json_decref(st);
}

static void one_run(const char *name, char *id)
{
	struct th_pod p;

	th_start_named(&p, name);
	session_id(name, id);
	th_stop(&p);
	th_pod_free(&p);
}

static const char *session_file(const char *id, const char *file)
{
	static char path[TH_PATH_MAX];

	th_fmt(path, sizeof path, "%s/sessions/%s/%s", th.home, id, file);
	return path;
}

/* A pod started with args fails with code, and its stderr names what. */
static void refused_naming(const char *const *args, int code, const char *what)
{
	struct th_pod p;
	char want[TH_PATH_MAX + 64];

	cr_assert_not(th_start(&p, NULL, args), "pod became ready");
	cr_assert_eq(th_wait(&p), code, "exit %d:\n%s", p.status, p.err);
	th_fmt(want, sizeof want, "%s", what);
	th_assert_err_has(&p, want);
	th_assert_err_has(&p, "not a regular file");
	th_pod_free(&p);
}

/* ---- manifests that are FIFOs ------------------------------------------ */

Test(pod_files, a_fifo_given_as_manifest_is_a_config_error_naming_it)
{
	char fifo[TH_PATH_MAX];
	const char *args[] = {"--overlay", "[pod]\nname = \"web\"\n",
	                      "--manifest", fifo, NULL};

	th_fmt(fifo, sizeof fifo, "%s/fifo.toml", th.root);
	plant_fifo(fifo);
	refused_naming(args, insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	               fifo);
}

Test(pod_files, a_fifo_as_project_manifest_is_a_config_error_naming_it)
{
	char fifo[TH_PATH_MAX];
	const char *args[] = {"--overlay", "[pod]\nname = \"web\"\n", NULL};

	/* It used to be skipped silently, as if there were none. */
	th_fmt(fifo, sizeof fifo, "%s/.insomnia/manifest.toml", th.work);
	plant_fifo(fifo);
	refused_naming(args, insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	               fifo);
}

Test(pod_files, a_fifo_as_user_manifest_is_a_config_error_naming_it)
{
	char fifo[TH_PATH_MAX];
	const char *args[] = {"--overlay", "[pod]\nname = \"web\"\n", NULL};

	th_fmt(fifo, sizeof fifo, "%s/insomnia/manifest.toml",
	       getenv("XDG_CONFIG_HOME"));
	plant_fifo(fifo);
	refused_naming(args, insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	               fifo);
}

/* ---- session files that are FIFOs -------------------------------------- */

Test(pod_files, resuming_a_session_whose_toml_is_a_fifo_fails_naming_it)
{
	char id[SESSION_ID_LEN + 1];
	const char *args[] = {"--session", id, NULL};

	one_run("web", id);
	plant_fifo(session_file(id, SESSION_TOML));
	refused_naming(args, insomnia_error_exit_code(INSOMNIA_ERR_IO),
	               SESSION_TOML);
}

Test(pod_files, resuming_a_session_whose_journal_is_a_fifo_fails_naming_it)
{
	char id[SESSION_ID_LEN + 1];
	const char *args[] = {"--session", id, NULL};

	one_run("web", id);
	plant_fifo(session_file(id, SESSION_JOURNAL));
	refused_naming(args, insomnia_error_exit_code(INSOMNIA_ERR_IO),
	               SESSION_JOURNAL);
}

Test(pod_files, reading_a_session_with_fifo_files_fails_and_never_blocks)
{
	static const char *const files[] = {SESSION_TOML, SESSION_JOURNAL,
	                                    SESSION_LOCK};
	struct session_info info;
	struct insomnia_error err;
	char id[SESSION_ID_LEN + 1];
	int fd;

	for (size_t i = 0; i < 3; i++) {
		one_run("web", id);
		plant_fifo(session_file(id, files[i]));
		fd = session_open_root(false, NULL, 0, &err);
		cr_assert_geq(fd, 0, "%s", err.message);
		cr_assert_eq(session_read_info(fd, id, &info, &err), -1,
		             "%s read", files[i]);
		cr_assert(strstr(err.message, files[i]) ||
		              strstr(err.message, "lock file"),
		          "%s", err.message);
		cr_assert(strstr(err.message, "not a regular file"), "%s",
		          err.message);
		close(fd);
	}
}

/* ---- the umask does not matter ----------------------------------------- */

static void assert_mode(const char *path, mode_t want)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(st.st_mode & 07777, want, "%s is %04o, not %04o", path,
	             (unsigned)(st.st_mode & 07777), (unsigned)want);
}

static void assert_private(const char *id)
{
	static const char *const rundir[] = {"lock", "sock", "pid",
	                                     "state.json"};
	static const char *const sess[] = {SESSION_TOML, SESSION_JOURNAL,
	                                   SESSION_LOCK};
	char path[TH_PATH_MAX];

	assert_mode(th.home, 0700);
	assert_mode(th.run, 0700);
	assert_mode(th_rundir_file("web", ""), 0700);
	for (size_t i = 0; i < 4; i++)
		assert_mode(th_rundir_file("web", rundir[i]), 0600);
	assert_mode(in_home("sessions"), 0700);
	th_fmt(path, sizeof path, "%s/sessions/%s", th.home, id);
	assert_mode(path, 0700);
	for (size_t i = 0; i < 3; i++)
		assert_mode(session_file(id, sess[i]), 0600);
}

/* A fresh home (parents missing too), a new session and its resume, all
 * under mask; every dir 0700, every file and the socket 0600. */
static void start_and_resume_under(mode_t mask)
{
	struct th_pod p;
	char id[SESSION_ID_LEN + 1], home[TH_PATH_MAX];
	const char *args[] = {"--session", id, NULL};

	th_fmt(home, sizeof home, "%s/fresh/parents/home", th.root);
	setenv("INSOMNIA_HOME", home, 1);
	snprintf(th.home, sizeof th.home, "%s", home);
	th_fmt(th.run, sizeof th.run, "%s/run", th.home);
	umask(mask);
	th_start_named(&p, "web");
	session_id("web", id);
	assert_private(id);
	assert_mode(in_home(".."), 0700); /* a missing parent we made */
	th_stop(&p);
	th_pod_free(&p);
	cr_assert(th_start(&p, NULL, args), "resume under umask %04o:\n%s",
	          (unsigned)mask, p.err);
	assert_private(id);
	th_stop(&p);
	th_pod_free(&p);
	umask(022);
}

Test(pod_files, umask_0277_changes_no_mode_and_the_session_resumes)
{
	start_and_resume_under(0277);
}

Test(pod_files, umask_0000_changes_no_mode_and_the_session_resumes)
{
	start_and_resume_under(0000);
}

Test(pod_files, umask_0777_changes_no_mode_and_the_session_resumes)
{
	start_and_resume_under(0777);
}
