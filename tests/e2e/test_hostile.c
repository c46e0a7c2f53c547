/* End-to-end: files that are not what they should be, the umask, relative
 * roots, and sessions whose creation never finished, as podctl meets
 * them with the real pod. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "fdio.h"
#include "harness.h"
#include "podctl_run.h"
#include "session.h"
#include "sessionreap.h"

static void use_real_pod(void)
{
	e2e_setup();
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

/* The timeout is a safety net: every assertion is on a result. */
TestSuite(hostile, .init = use_real_pod, .fini = e2e_teardown, .timeout = 60);

struct run {
	int code;
	char *out, *err;
};

/* How a run is made: its cwd and umask ((mode_t)-1: inherited). */
struct how {
	const char *cwd;
	mode_t mask;
};

static const struct how plain = {NULL, (mode_t)-1};

/* podctl with the NULL-terminated arguments; stdout and stderr kept. */
static struct run podctl_how(struct how how, ...)
{
	struct podctl_run pr = {.cwd = how.cwd,
	                        .set_umask = how.mask != (mode_t)-1,
	                        .umask = how.mask};
	va_list ap;

	va_start(ap, how);
	podctl_runv(&pr, ap);
	va_end(ap);
	return (struct run){pr.code, pr.out, pr.err};
}

#define podctl(...) podctl_how(plain, __VA_ARGS__)

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	cr_assert_not_null(v, "not JSON (%s): %s", e.text, text);
	return v;
}

/* podctl spawn --json; the pod's pid and session id. */
static pid_t spawn_web(struct how how, char *id)
{
	struct run r =
	    podctl_how(how, "spawn", "--name", "web", "--json", NULL);
	json_t *v;
	pid_t pid;

	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	v = parse(r.out);
	pid = (pid_t)json_integer_value(json_object_get(v, "pid"));
	if (id)
		snprintf(id, SESSION_ID_LEN + 1, "%s",
		         json_string_value(json_object_get(v, "session_id")));
	json_decref(v);
	run_free(&r);
	return pid;
}

static void kill_pod(pid_t pid)
{
	int status;

	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
}

static void plant_fifo(const char *path)
{
	unlink(path);
	cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo %s: %s", path,
	             strerror(errno));
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void make_dir(const char *path)
{
	cr_assert(mkdir(path, 0700) == 0 || errno == EEXIST, "mkdir %s: %s",
	          path, strerror(errno));
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(fd_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

/* ---- item 7: nothing blocks on a FIFO ---------------------------------- */

Test(hostile, fifos_named_pid_and_state_json_block_no_listing_and_are_kept)
{
	pid_t pid = spawn_web(plain, NULL);
	struct run r;
	json_t *v, *pod;

	kill_pod(pid);
	plant_fifo(e2e_rundir("web", "pid"));
	plant_fifo(e2e_rundir("web", "state.json"));

	r = podctl("ls", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	v = parse(r.out);
	pod = json_array_get(json_object_get(v, "pods"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(pod, "name")), "web",
	                 "%s", r.out);
	cr_assert(json_is_false(json_object_get(pod, "alive")), "%s", r.out);
	json_decref(v);
	run_free(&r);

	r = podctl("status", "web", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_NOT_RUNNING),
	             "%s%s", r.out, r.err);
	run_free(&r);

	/* Not ours to delete: kept, and the note says which and why. */
	r = podctl("reap", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "web: kept"), "%s", r.out);
	cr_assert(strstr(r.out, "not a regular file"), "%s", r.out);
	run_free(&r);
	cr_assert(exists(e2e_rundir("web", "pid")));
	cr_assert(exists(e2e_rundir("web", "state.json")));

	/* A new pod of that name replaces them. */
	pid = spawn_web(plain, NULL);
	e2e_stop(pid);
}

static void fifo_manifest_in(char *dir, size_t size)
{
	char path[400];

	snprintf(dir, size, "%s/proj", e2e_home);
	make_dir(dir);
	snprintf(path, sizeof path, "%s/.insomnia", dir);
	make_dir(path);
	snprintf(path, sizeof path, "%s/.insomnia/manifest.toml", dir);
	plant_fifo(path);
}

Test(hostile, a_fifo_as_manifest_fails_spawn_at_once_naming_it)
{
	char dir[300], want[400];
	struct run r;

	fifo_manifest_in(dir, sizeof dir);
	snprintf(want, sizeof want, "%s/.insomnia/manifest.toml", dir);
	/* podctl reads it for the name: a config error, exit 2 */
	r = podctl("spawn", "--cwd", dir, NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	             "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, want), "%s", r.err);
	cr_assert(strstr(r.err, "not a regular file"), "%s", r.err);
	run_free(&r);
	/* the pod reads it: it exits 2 at once, and says why; podctl
	 * exits 2 as when it found the error itself */
	r = podctl("spawn", "--name", "web", "--cwd", dir, NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	             "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "exit 2"), "%s", r.err);
	cr_assert(strstr(r.err, want), "%s", r.err);
	cr_assert(strstr(r.err, "not a regular file"), "%s", r.err);
	run_free(&r);
}

/* ---- item 8: a sock that is not a socket ------------------------------- */

static void assert_sock_kept(const char *what)
{
	struct run r;
	char *text;

	/* the pod's own runtime_dir error (exit 4), as podctl's code */
	r = podctl("spawn", "--name", "web", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_RUNTIME_DIR),
	             "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "is not a socket; refusing to remove it"), "%s",
	          r.err);
	run_free(&r);
	cr_assert(exists(e2e_rundir("web", "sock")), "%s was deleted", what);

	r = podctl("reap", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "web: kept (kept sock: not a socket)"), "%s",
	          r.out);
	run_free(&r);
	cr_assert(exists(e2e_rundir("web", "sock")), "%s was deleted", what);
	if (strcmp(what, "a file") == 0) {
		text = e2e_read(e2e_rundir("web", "sock"));
		cr_assert_str_eq(text, "precious");
		free(text);
	}
}

Test(hostile, a_regular_file_named_sock_survives_a_failed_spawn_and_reap)
{
	make_dir(e2e_rundir("", NULL));
	make_dir(e2e_rundir("web", NULL));
	write_file(e2e_rundir("web", "sock"), "precious");
	assert_sock_kept("a file");
}

Test(hostile, a_dir_named_sock_survives_a_failed_spawn_and_reap)
{
	make_dir(e2e_rundir("", NULL));
	make_dir(e2e_rundir("web", NULL));
	make_dir(e2e_rundir("web", "sock"));
	assert_sock_kept("a dir");
}

/* ---- item 9: the umask does not matter --------------------------------- */

static void assert_mode(const char *path, mode_t want)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(st.st_mode & 07777, want, "%s is %04o, not %04o", path,
	             (unsigned)(st.st_mode & 07777), (unsigned)want);
}

static void spawn_stop_resume_under(mode_t mask)
{
	struct how how = {NULL, mask};
	char home[300], path[400], id[SESSION_ID_LEN + 1];
	struct run r;
	pid_t pid;

	/* a fresh home whose parents are missing too */
	snprintf(home, sizeof home, "%s/m%04o/fresh/home", e2e_home,
	         (unsigned)mask);
	setenv("INSOMNIA_HOME", home, 1);
	pid = spawn_web(how, id);
	snprintf(path, sizeof path, "%s/m%04o/fresh", e2e_home, (unsigned)mask);
	assert_mode(path, 0700);
	assert_mode(home, 0700);
	snprintf(path, sizeof path, "%s/run/web", home);
	assert_mode(path, 0700);
	snprintf(path, sizeof path, "%s/run/web/stderr.log", home);
	assert_mode(path, 0600);
	snprintf(path, sizeof path, "%s/run/web/sock", home);
	assert_mode(path, 0600);
	snprintf(path, sizeof path, "%s/sessions/%s/session.toml", home, id);
	assert_mode(path, 0600);
	r = podctl_how(how, "stop", "web", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	run_free(&r);
	e2e_assert_group_gone(pid);

	r = podctl_how(how, "resume", id, "--json", NULL);
	cr_assert_eq(r.code, 0, "umask %04o: %s%s", (unsigned)mask, r.out,
	             r.err);
	run_free(&r);
	snprintf(path, sizeof path, "%s/run/web/stderr.log", home);
	assert_mode(path, 0600);
	r = podctl_how(how, "stop", "web", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	run_free(&r);
}

Test(hostile, spawn_and_resume_work_and_keep_modes_under_any_umask)
{
	spawn_stop_resume_under(0277);
	spawn_stop_resume_under(0000);
	spawn_stop_resume_under(0777);
}

/* ---- item 10: roots are absolute --------------------------------------- */

Test(hostile, a_relative_insomnia_home_is_refused_naming_it)
{
	char a[300], b[300];
	struct how in_a = {a, (mode_t)-1};
	struct run r;

	snprintf(a, sizeof a, "%s/a", e2e_home);
	snprintf(b, sizeof b, "%s/b", e2e_home);
	make_dir(a);
	make_dir(b);
	setenv("INSOMNIA_HOME", "rel", 1);
	/* the client in a, the pod in b: they would disagree */
	r = podctl_how(in_a, "spawn", "--name", "web", "--cwd", b, NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_RUNTIME_DIR),
	             "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "INSOMNIA_HOME=rel is a relative path"), "%s",
	          r.err);
	run_free(&r);
	r = podctl_how(in_a, "ls", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_RUNTIME_DIR),
	             "%s%s", r.out, r.err);
	run_free(&r);
	snprintf(a + strlen(a), sizeof a - strlen(a), "/rel");
	cr_assert_not(exists(a), "%s was made", a);
	snprintf(b + strlen(b), sizeof b - strlen(b), "/rel");
	cr_assert_not(exists(b), "%s was made", b);
}

/* ---- item 11: sessions that never got going ---------------------------- */

static const char *sess(const char *id, const char *file)
{
	static char path[400];

	snprintf(path, sizeof path, "%s/sessions/%s%s%s", e2e_home, id,
	         file ? "/" : "", file ? file : "");
	return path;
}

#define EMPTY    "00000000-0000-4000-8000-000000000001"
#define LOCKONLY "00000000-0000-4000-8000-000000000002"
#define TMPONLY  "00000000-0000-4000-8000-000000000003"
#define HELD     "00000000-0000-4000-8000-000000000004"
#define JOURNAL  "00000000-0000-4000-8000-000000000005"

/* "session ID" in the reap report: removed, or kept with a note. */
static json_t *reported(json_t *reaped, const char *id)
{
	char name[64];

	snprintf(name, sizeof name, "session %s", id);
	for (size_t i = 0; i < json_array_size(reaped); i++) {
		json_t *o = json_array_get(reaped, i);
		if (!strcmp(json_string_value(json_object_get(o, "name")),
		            name))
			return o;
	}
	return NULL;
}

Test(hostile, reap_removes_sessions_whose_creation_never_finished)
{
	char real[SESSION_ID_LEN + 1];
	struct insomnia_error err;
	int heldfd, lockfd;
	json_t *v, *reaped;
	struct run r;
	pid_t pid;

	pid = spawn_web(plain, real);
	e2e_stop(pid);
	make_dir(sess(EMPTY, NULL));
	make_dir(sess(LOCKONLY, NULL));
	write_file(sess(LOCKONLY, "lock"), "");
	make_dir(sess(TMPONLY, NULL));
	write_file(sess(TMPONLY, ".session.toml.tmp.4242.0"), "[sess");
	write_file(sess(TMPONLY, "lock"), "");
	make_dir(sess(JOURNAL, NULL));
	write_file(sess(JOURNAL, "journal.jsonl"), "{}\n");
	/* a pod in the middle of creating it: it holds the lock */
	make_dir(sess(HELD, NULL));
	heldfd = open(sess(HELD, NULL), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_eq(session_lock_try(heldfd, &lockfd, &err), 1, "%s",
	             err.message);

	r = podctl("reap", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	v = parse(r.out);
	reaped = json_object_get(v, "reaped");
	for (const char *const *id =
	         (const char *const[]){EMPTY, LOCKONLY, TMPONLY, NULL};
	     *id; id++) {
		cr_assert(json_is_true(json_object_get(reported(reaped, *id),
		                                       "removed")),
		          "%s: %s", *id, r.out);
		cr_assert_not(exists(sess(*id, NULL)), "%s is still there",
		              *id);
	}
	/* someone's history: kept, saying why */
	cr_assert(json_is_false(
	    json_object_get(reported(reaped, JOURNAL), "removed")));
	cr_assert(strstr(json_string_value(json_object_get(
	                     reported(reaped, JOURNAL), "note")),
	                 "journal.jsonl"),
	          "%s", r.out);
	cr_assert(exists(sess(JOURNAL, "journal.jsonl")));
	/* being created, and a real session: untouched, unreported */
	cr_assert_null(reported(reaped, HELD), "%s", r.out);
	cr_assert_null(reported(reaped, real), "%s", r.out);
	cr_assert(exists(sess(HELD, "lock")));
	cr_assert(exists(sess(real, "session.toml")));
	json_decref(v);
	run_free(&r);

	/* Its creator gone, the held one goes too. */
	close(lockfd);
	r = podctl("reap", NULL);
	cr_assert(strstr(r.out, "session " HELD ": removed"), "%s", r.out);
	cr_assert_not(exists(sess(HELD, NULL)));
	run_free(&r);
	close(heldfd);
}

Test(hostile, sessions_lists_the_rest_and_reports_damaged_or_foreign_ones)
{
	char good[SESSION_ID_LEN + 1], bad[SESSION_ID_LEN + 1],
	    foreign[SESSION_ID_LEN + 1];
	json_t *v, *list, *unreadable;
	struct run r;

	e2e_stop(spawn_web(plain, good));
	e2e_stop(spawn_web(plain, bad));
	e2e_stop(spawn_web(plain, foreign));
	write_file(sess(bad, "session.toml"), "[session\nid = ");
	cr_assert_eq(chown(sess(foreign, NULL), 65534, 65534), 0);

	r = podctl("sessions", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, good), "%s", r.out);
	cr_assert_null(strstr(r.out, bad), "%s", r.out);
	cr_assert(strstr(r.err, bad), "%s", r.err);
	cr_assert(strstr(r.err, foreign), "%s", r.err);
	cr_assert(strstr(r.err, "owned by uid 65534"), "%s", r.err);
	run_free(&r);

	r = podctl("sessions", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	v = parse(r.out);
	list = json_object_get(v, "sessions");
	unreadable = json_object_get(v, "unreadable");
	cr_assert_eq(json_array_size(list), 1, "%s", r.out);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(list, 0), "id")),
	    good);
	cr_assert_eq(json_array_size(unreadable), 2, "%s", r.out);
	for (size_t i = 0; i < 2; i++) {
		json_t *o = json_array_get(unreadable, i);
		const char *id = json_string_value(json_object_get(o, "id"));
		cr_assert(!strcmp(id, bad) || !strcmp(id, foreign), "%s", id);
		cr_assert_str_eq(json_string_value(json_object_get(o, "kind")),
		                 !strcmp(id, bad) ? "config" : "runtime_dir",
		                 "%s", r.out);
	}
	json_decref(v);
	run_free(&r);
}

/* Reapers running flat out while pods create sessions: no creation
 * fails, none is lost, nothing is left half-made. */
#define RACE_ROUNDS  50
#define RACE_REAPERS 2

static pid_t start_reaper(const int stop[2])
{
	pid_t pid = fork();
	char c;

	cr_assert_geq(pid, 0);
	if (pid != 0)
		return pid;
	close(stop[1]); /* the parent's end alone says when to stop */
	while (read(stop[0], &c, 1) < 0 && errno == EAGAIN)
		session_reap(NULL, NULL, NULL);
	_exit(0);
}

static int count_complete(const struct session_info *info, void *arg)
{
	++*(int *)arg;
	return 0;
}

/* ~3% of rounds meet a reaper between mkdir and lock (measured): a run
 * exercises the start-over path about once or twice. */
Test(hostile, creating_sessions_while_reapers_run_never_fails_or_leaks,
     .timeout = 150)
{
	pid_t reapers[RACE_REAPERS];
	struct insomnia_error err;
	int stop[2], fd, listed = 0, dirs = 0;
	DIR *d;
	struct dirent *e;

	cr_assert_eq(pipe2(stop, O_CLOEXEC | O_NONBLOCK), 0);
	for (int i = 0; i < RACE_REAPERS; i++)
		reapers[i] = start_reaper(stop);
	close(stop[0]);
	for (int i = 0; i < RACE_ROUNDS; i++) {
		struct insomnia_spawn_options o = e2e_options("web", NULL);
		struct insomnia_spawn_result r;

		cr_assert_eq(insomnia_spawn(&o, &r, &err), 0,
		             "round %d: %s\n%s", i, err.message, err.detail);
		e2e_stop(r.pid);
	}
	close(stop[1]);
	for (int i = 0; i < RACE_REAPERS; i++)
		cr_assert_eq(waitpid(reapers[i], NULL, 0), reapers[i]);

	d = opendir(sess("", NULL));
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		dirs += e->d_name[0] != '.';
	closedir(d);
	fd = session_open_root(false, NULL, 0, &err);
	cr_assert_geq(fd, 0, "%s", err.message);
	cr_assert_eq(
	    session_list(fd, &(struct session_list_fns){count_complete, NULL},
	                 &listed, &err),
	    0, "%s", err.message);
	close(fd);
	cr_assert_eq(listed, RACE_ROUNDS);
	cr_assert_eq(dirs, RACE_ROUNDS, "half-made sessions left behind");
}
