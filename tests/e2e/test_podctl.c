/* End-to-end: podctl as a person or a script uses it, with the real pod
 * (and the mock where a pod must misbehave). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "fdio.h"
#include "harness.h"

static void use_real_pod(void)
{
	e2e_setup();
	cr_assert_not_null(getenv("INSOMNIA_TEST_POD"));
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

TestSuite(podctl, .init = use_real_pod, .fini = e2e_teardown, .timeout = 30);

static char *read_all(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	while ((n = fd_read_some(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 1024)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	return buf;
}

/* Run podctl with the NULL-terminated arguments; stdout into *out. */
static int podctl(char **out, ...)
{
	const char *argv[32];
	int n = 0, pipefd[2], status;
	char *text = NULL;
	va_list ap;
	pid_t pid;

	argv[n++] = getenv("INSOMNIA_TEST_PODCTL");
	va_start(ap, out);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	text = read_all(pipefd[0]);
	close(pipefd[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (out)
		*out = text;
	else
		free(text);
	cr_assert(WIFEXITED(status), "podctl died");
	return WEXITSTATUS(status);
}

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	cr_assert_not_null(v, "not JSON (%s): %s", e.text, text);
	return v;
}

static pid_t spawn_json(const char *name)
{
	char *out;
	json_t *r;
	pid_t pid;

	cr_assert_eq(podctl(&out, "spawn", "--name", name, "--json", NULL), 0,
		     "%s", out);
	r = parse(out);
	cr_assert_str_eq(json_string_value(json_object_get(r, "name")), name);
	cr_assert_str_eq(json_string_value(json_object_get(r, "socket")),
			 e2e_rundir(name, "sock"));
	/* the real pod reports its session; the mock writes no state.json,
	 * like other compatible pods, and has none */
	cr_assert_eq(strlen(json_string_value(
			     json_object_get(r, "session_id"))),
		     strcmp(getenv("INSOMNIA_POD_COMMAND"),
			    getenv("INSOMNIA_TEST_POD")) == 0
			     ? 36
			     : 0);
	pid = (pid_t)json_integer_value(json_object_get(r, "pid"));
	cr_assert_gt(pid, 0);
	json_decref(r);
	free(out);
	return pid;
}

static const char *const lock_and_log[] = {"lock", "stderr.log", NULL};

Test(podctl, spawn_then_stop_by_request_leaves_lock_and_log)
{
	pid_t pid = spawn_json("web");
	char *out;
	json_t *r;

	cr_assert_eq(podctl(&out, "stop", "web", "--json", NULL), 0, "%s",
		     out);
	r = parse(out);
	cr_assert_str_eq(json_string_value(json_object_get(r, "stopped_by")),
			 "request");
	cr_assert_eq(json_integer_value(json_object_get(r, "pid")), pid);
	json_decref(r);
	free(out);
	e2e_assert_group_gone(pid);
	e2e_assert_dir_holds("web", lock_and_log);
}

Test(podctl, ls_json_lists_live_pods_with_the_documented_fields)
{
	pid_t a = spawn_json("alpha"), b = spawn_json("beta");
	static const char *fields[] = {"name",       "alive",  "state",
				       "pid",        "pgid",   "session_id",
				       "socket",     "started_at"};
	char *out;
	json_t *pods;

	cr_assert_eq(podctl(&out, "ls", "--json", NULL), 0);
	pods = json_object_get(parse(out), "pods");
	cr_assert_eq(json_array_size(pods), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *p = json_array_get(pods, i);
		for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
			cr_assert_not_null(json_object_get(p, fields[f]),
					   "no field %s", fields[f]);
		cr_assert(json_is_true(json_object_get(p, "alive")));
		cr_assert_str_eq(
			json_string_value(json_object_get(p, "state")),
			"running");
	}
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(pods, 0), "name")),
			 "alpha");
	cr_assert_eq(json_integer_value(
			     json_object_get(json_array_get(pods, 1), "pid")),
		     b);
	free(out);
	e2e_stop(a);
	e2e_stop(b);
}

Test(podctl, killed_pod_is_listed_stale_then_reaped_then_spawnable)
{
	pid_t pid = spawn_json("web");
	char *out;
	json_t *r, *p;
	int status;

	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(podctl(&out, "ls", "--json", NULL), 0);
	p = json_array_get(json_object_get(r = parse(out), "pods"), 0);
	cr_assert(json_is_false(json_object_get(p, "alive")));
	cr_assert_str_eq(json_string_value(json_object_get(p, "state")),
			 "stale");
	json_decref(r);
	free(out);
	cr_assert_eq(podctl(&out, "reap", "--json", NULL), 0);
	p = json_array_get(json_object_get(r = parse(out), "reaped"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(p, "name")), "web");
	cr_assert(json_is_true(json_object_get(p, "removed")));
	json_decref(r);
	free(out);
	cr_assert_eq(access(e2e_rundir("web", NULL), F_OK), -1);
	pid = spawn_json("web");
	e2e_stop(pid);
}

Test(podctl, reap_never_touches_a_live_pod)
{
	pid_t pid = spawn_json("web");
	char *out;

	cr_assert_eq(podctl(&out, "reap", NULL), 0);
	cr_assert(strstr(out, "nothing to reap"), "%s", out);
	free(out);
	cr_assert(e2e_socket_accepts(e2e_rundir("web", "sock")));
	e2e_stop(pid);
}

Test(podctl, stop_of_a_pod_ignoring_sigterm_ends_with_sigkill)
{
	char *out;
	json_t *r;
	pid_t pid;

	/* the mock neither answers shutdown nor heeds SIGTERM */
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_MOCK_POD"), 1);
	setenv("MOCK_POD_ARGS", "--ignore-term", 1);
	pid = spawn_json("web");
	cr_assert_eq(podctl(&out, "stop", "web", "--grace", "0.2", "--json",
			    NULL),
		     0, "%s", out);
	r = parse(out);
	cr_assert_str_eq(json_string_value(json_object_get(r, "stopped_by")),
			 "sigkill");
	json_decref(r);
	free(out);
	e2e_assert_group_gone(pid);
	/* stop cleaned what the killed pod could not */
	e2e_assert_dir_holds("web", (const char *const[]){"stderr.log", NULL});
}

Test(podctl, status_json_is_the_pods_own_answer)
{
	pid_t pid = spawn_json("web");
	char *out;
	json_t *r;

	cr_assert_eq(podctl(&out, "status", "web", "--json", NULL), 0, "%s",
		     out);
	r = parse(out);
	cr_assert_eq(json_integer_value(json_object_get(
			     json_object_get(r, "hello"), "pid")),
		     pid);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(r, "status"), "state")),
			 "running");
	json_decref(r);
	free(out);
	e2e_stop(pid);
}

Test(podctl, failure_with_json_is_an_error_object_on_stdout)
{
	char *out;
	json_t *r, *e;

	cr_assert_eq(podctl(&out, "spawn", "--name", "web", "--overlay",
			    "[pod]\nnmae = 1\n", "--json", NULL),
		     error_exit_code(ERR_EXITED_EARLY));
	r = parse(out);
	e = json_object_get(r, "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "kind")),
			 "exited_early");
	cr_assert(strstr(json_string_value(json_object_get(e, "message")),
			 "unknown key \"pod.nmae\""),
		  "%s", out);
	cr_assert(json_is_array(json_object_get(e, "tail")));
	cr_assert_gt(json_array_size(json_object_get(e, "tail")), 0);
	cr_assert_eq(json_integer_value(json_object_get(e, "exit_status")), 2);
	json_decref(r);
	free(out);
}

Test(podctl, overlay_syntax_error_is_reported_before_any_launch)
{
	char *out;
	json_t *e;

	cr_assert_eq(podctl(&out, "spawn", "--name", "web", "--overlay",
			    "[pod]\ndescription = \n", "--json", NULL),
		     error_exit_code(ERR_CONFIG));
	e = json_object_get(parse(out), "error");
	cr_assert(strstr(json_string_value(json_object_get(e, "message")),
			 "--overlay:2:"),
		  "%s", out);
	free(out);
	cr_assert_eq(access(e2e_rundir("web", NULL), F_OK), -1,
		     "a pod dir was made for a bad overlay");
}

Test(podctl, each_error_kind_has_its_exit_code)
{
	char *out;

	cr_assert_eq(podctl(&out, "stop", "nobody", "--json", NULL),
		     error_exit_code(ERR_NOT_RUNNING), "no runtime root yet");
	free(out);
	spawn_json("web");
	cr_assert_eq(podctl(&out, "stop", "nobody", NULL),
		     error_exit_code(ERR_NOT_RUNNING));
	free(out);
	cr_assert_eq(podctl(&out, "spawn", "--name", "web", NULL),
		     error_exit_code(ERR_ALREADY_RUNNING));
	free(out);
	cr_assert_eq(podctl(&out, "spawn", "--name", "../x", NULL),
		     error_exit_code(ERR_BAD_NAME));
	free(out);
	cr_assert_eq(podctl(&out, "ls", "--bogus", NULL),
		     error_exit_code(ERR_USAGE));
	free(out);
	cr_assert_eq(podctl(&out, "stop", "web", NULL), 0);
	free(out);
}

Test(podctl, help_and_version_work_for_every_command)
{
	static const char *cmds[] = {"spawn", "ls", "status", "stop", "reap"};
	char *out;

	cr_assert_eq(podctl(&out, "--version", NULL), 0);
	cr_assert(strncmp(out, "podctl ", 7) == 0);
	free(out);
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
		cr_assert_eq(podctl(&out, cmds[i], "--help", NULL), 0);
		cr_assert(strstr(out, "usage: podctl"), "%s", out);
		free(out);
	}
}
