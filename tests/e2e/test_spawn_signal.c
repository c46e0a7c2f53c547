/* End-to-end: `podctl spawn` and `podctl resume` interrupted by SIGINT,
 * SIGTERM or SIGHUP cancel the spawn (pod stopped, dir cleaned) and say
 * so; and a session whose working directory is gone says that.  The
 * signal is sent once podctl has shown the mock's "waiting" line (the
 * mock waits for a SIGUSR1 that never comes), never after a delay. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "harness.h"

TestSuite(spawn_signal, .init = e2e_setup, .fini = e2e_teardown, .timeout = 30);

static const char *const only_log[] = {"stderr.log", NULL};

struct podctl_run {
	pid_t pid;
	int out, err; /* read ends of its stdout and stderr */
	char seen[8192];
	size_t seen_len;
};

static void start(struct podctl_run *r, const char *const *args)
{
	const char *argv[16];
	int o[2], e[2], n = 0;

	argv[n++] = getenv("INSOMNIA_TEST_PODCTL");
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	cr_assert_eq(pipe2(o, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(e, O_CLOEXEC), 0);
	r->pid = fork();
	cr_assert_geq(r->pid, 0);
	if (r->pid == 0) {
		dup2(o[1], 1);
		dup2(e[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	r->out = o[0];
	r->err = e[0];
	r->seen_len = 0;
}

/* Read podctl's stderr until it holds want (blocking reads: an event). */
static void await_stderr(struct podctl_run *r, const char *want)
{
	while (!memmem(r->seen, r->seen_len, want, strlen(want))) {
		ssize_t n = fd_read_some(r->err, r->seen + r->seen_len,
		                         sizeof r->seen - 1 - r->seen_len);
		cr_assert_gt(n, 0, "podctl ended before \"%s\": %.*s", want,
		             (int)r->seen_len, r->seen);
		r->seen_len += (size_t)n;
	}
	r->seen[r->seen_len] = '\0';
}

static char *rest(int fd)
{
	char *text = NULL;

	cr_assert_eq(fd_read_fd(fd, 1 << 20, &text, NULL), 0);
	close(fd);
	return text;
}

/* Wait for podctl's exit; its remaining stderr and stdout. */
static int finish(struct podctl_run *r, char **err_text, char **out_text)
{
	int status;

	*err_text = rest(r->err);
	*out_text = rest(r->out);
	cr_assert_eq(waitpid(r->pid, &status, 0), r->pid);
	cr_assert(WIFEXITED(status), "podctl died of signal %d",
	          WTERMSIG(status));
	return WEXITSTATUS(status);
}

static pid_t pod_pid(const struct podctl_run *r)
{
	const char *p = strstr(r->seen, "mock-pod: pid ");

	cr_assert_not_null(p, "%s", r->seen);
	return (pid_t)atol(p + strlen("mock-pod: pid "));
}

static void interrupt_spawn(const char *const *args, int sig, int code,
                            const char *signame)
{
	struct podctl_run r;
	char *err, *out;
	pid_t pod;

	setenv("MOCK_POD_ARGS", "--ready-delay -1", 1);
	start(&r, args);
	await_stderr(&r, "mock-pod: waiting for SIGUSR1");
	pod = pod_pid(&r);
	cr_assert_eq(kill(r.pid, sig), 0);
	cr_assert_eq(finish(&r, &err, &out), code, "%s%s", r.seen, err);
	cr_assert(strstr(err, "interrupted by "), "%s", err);
	cr_assert(strstr(err, signame), "%s", err);
	cr_assert(strstr(err, "cancelled"), "%s", err);
	cr_assert_str_eq(out, "");
	e2e_assert_group_gone(pod);
	e2e_assert_dir_holds("web", only_log);
	free(err);
	free(out);
}

Test(spawn_signal, sigint_cancels_podctl_spawn_and_exits_130)
{
	const char *args[] = {"spawn", "--name", "web", NULL};

	interrupt_spawn(args, SIGINT, 130, "SIGINT");
}

Test(spawn_signal, sigterm_cancels_podctl_spawn_and_exits_143)
{
	const char *args[] = {"spawn", "--name", "web", NULL};

	interrupt_spawn(args, SIGTERM, 143, "SIGTERM");
}

Test(spawn_signal, sighup_cancels_podctl_spawn_and_exits_129)
{
	const char *args[] = {"spawn", "--name", "web", NULL};

	interrupt_spawn(args, SIGHUP, 129, "SIGHUP");
}

/* With --json there are no progress lines: the event is the mock's
 * line in stderr.log, seen through an inotify watch on the pod dir made
 * before podctl starts. */
static int watch_pod_dir(const char *name)
{
	int ino = inotify_init1(IN_CLOEXEC);

	cr_assert_eq(mkdir(e2e_rundir("", NULL), 0700), 0);
	cr_assert_eq(mkdir(e2e_rundir(name, NULL), 0700), 0);
	cr_assert_geq(ino, 0);
	cr_assert_geq(inotify_add_watch(ino, e2e_rundir(name, NULL),
	                                IN_CREATE | IN_MODIFY),
	              0);
	return ino;
}

static void await_log(int ino, const char *name, const char *want)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	char *log;

	while (!(log = e2e_read(e2e_rundir(name, "stderr.log"))) ||
	       !strstr(log, want)) {
		free(log);
		cr_assert_gt(read(ino, buf, sizeof buf), 0);
	}
	free(log);
	close(ino);
}

Test(spawn_signal, sigint_with_json_prints_a_json_error)
{
	const char *args[] = {"spawn", "--name", "web", "--json", NULL};
	struct podctl_run r;
	char *err, *out;
	json_t *v, *e;

	int ino = watch_pod_dir("web");

	setenv("MOCK_POD_ARGS", "--ready-delay -1", 1);
	start(&r, args);
	await_log(ino, "web", "mock-pod: waiting for SIGUSR1");
	cr_assert_eq(kill(r.pid, SIGINT), 0);
	cr_assert_eq(finish(&r, &err, &out), 130, "%s", err);
	v = json_loads(out, 0, NULL);
	cr_assert_not_null(v, "not JSON: %s", out);
	e = json_object_get(v, "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "kind")),
	                 "interrupted");
	cr_assert(strstr(json_string_value(json_object_get(e, "message")),
	                 "cancelled"));
	cr_assert_eq(json_integer_value(json_object_get(e, "signal")), SIGINT);
	json_decref(v);
	e2e_assert_dir_holds("web", only_log);
	free(err);
	free(out);
}

/* ---- resume --------------------------------------------------------- */

static int run_podctl(const char *const *args, char **out)
{
	struct podctl_run r;
	char *err;
	int code;

	start(&r, args);
	code = finish(&r, &err, out);
	free(err);
	return code;
}

/* A session made by the real pod with its cwd in dir, then stopped. */
static void make_session(const char *dir, char *id, size_t size)
{
	const char *spawn[] = {"spawn", "--name", "web", "--cwd",
	                       dir,     "--json", NULL};
	const char *stop[] = {"stop", "web", NULL};
	json_t *v;
	char *out;
	pid_t pid;

	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
	cr_assert_eq(run_podctl(spawn, &out), 0, "%s", out);
	v = json_loads(out, 0, NULL);
	cr_assert_not_null(v, "%s", out);
	snprintf(id, size, "%s",
	         json_string_value(json_object_get(v, "session_id")));
	pid = (pid_t)json_integer_value(json_object_get(v, "pid"));
	json_decref(v);
	free(out);
	cr_assert_eq(run_podctl(stop, &out), 0, "%s", out);
	free(out);
	e2e_assert_group_gone(pid);
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_MOCK_POD"), 1);
}

static void make_dir(char *dir, size_t size)
{
	snprintf(dir, size, "%s/work", e2e_home);
	cr_assert_eq(mkdir(dir, 0700), 0);
}

Test(spawn_signal, sigterm_cancels_podctl_resume_and_exits_143)
{
	char dir[300], id[64];
	const char *args[] = {"resume", id, NULL};

	make_dir(dir, sizeof dir);
	make_session(dir, id, sizeof id);
	interrupt_spawn(args, SIGTERM, 143, "SIGTERM");
}

Test(spawn_signal, resume_whose_working_directory_is_gone_says_so)
{
	char dir[300], id[64], want[400];
	const char *args[] = {"resume", id, NULL};
	struct podctl_run r;
	char *err, *out;

	make_dir(dir, sizeof dir);
	make_session(dir, id, sizeof id);
	cr_assert_eq(rmdir(dir), 0);
	start(&r, args);
	cr_assert_eq(finish(&r, &err, &out),
	             insomnia_error_exit_code(INSOMNIA_ERR_LAUNCH_FAILED), "%s",
	             err);
	snprintf(want, sizeof want,
	         "cannot use working directory %s: No such file or directory",
	         dir);
	cr_assert(strstr(err, want), "%s", err);
	free(err);
	free(out);
}
