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
	cr_assert_eq(
	    strlen(json_string_value(json_object_get(r, "session_id"))),
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

	cr_assert_eq(podctl(&out, "stop", "web", "--json", NULL), 0, "%s", out);
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
	static const char *fields[] = {"name",   "alive",     "state",
	                               "pid",    "pgid",      "session_id",
	                               "socket", "started_at"};
	char *out;
	json_t *pods;

	json_t *root;

	cr_assert_eq(podctl(&out, "ls", "--json", NULL), 0);
	pods = json_object_get(root = parse(out), "pods");
	cr_assert_eq(json_array_size(pods), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *p = json_array_get(pods, i);
		for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
			cr_assert_not_null(json_object_get(p, fields[f]),
			                   "no field %s", fields[f]);
		cr_assert(json_is_true(json_object_get(p, "alive")));
		cr_assert_str_eq(json_string_value(json_object_get(p, "state")),
		                 "ready");
	}
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(pods, 0), "name")),
	    "alpha");
	cr_assert_eq(
	    json_integer_value(json_object_get(json_array_get(pods, 1), "pid")),
	    b);
	json_decref(root);
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
	cr_assert_eq(
	    podctl(&out, "stop", "web", "--grace", "0.2", "--json", NULL), 0,
	    "%s", out);
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
	cr_assert_eq(json_integer_value(
	                 json_object_get(json_object_get(r, "hello"), "pid")),
	             pid);
	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(r, "status"), "state")),
	                 "ready");
	json_decref(r);
	free(out);
	e2e_stop(pid);
}

/* The schema error is the pod's (exit 2): podctl exits 2 too, with the
 * kind that code means, as for a syntax error it finds itself. */
Test(podctl, failure_with_json_is_an_error_object_on_stdout)
{
	char *out;
	json_t *r, *e;

	cr_assert_eq(podctl(&out, "spawn", "--name", "web", "--overlay",
	                    "[pod]\nnmae = 1\n", "--json", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_CONFIG));
	r = parse(out);
	e = json_object_get(r, "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "kind")),
	                 "config");
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
	json_t *r, *e;

	cr_assert_eq(podctl(&out, "spawn", "--name", "web", "--overlay",
	                    "[pod]\ndescription = \n", "--json", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_CONFIG));
	e = json_object_get(r = parse(out), "error");
	cr_assert(strstr(json_string_value(json_object_get(e, "message")),
	                 "--overlay:2:"),
	          "%s", out);
	json_decref(r);
	free(out);
	cr_assert_eq(access(e2e_rundir("web", NULL), F_OK), -1,
	             "a pod dir was made for a bad overlay");
}

Test(podctl, each_error_kind_has_its_exit_code)
{
	char *out;

	cr_assert_eq(podctl(&out, "stop", "nobody", "--json", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_NOT_RUNNING),
	             "no runtime root yet");
	free(out);
	spawn_json("web");
	cr_assert_eq(podctl(&out, "stop", "nobody", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_NOT_RUNNING));
	free(out);
	cr_assert_eq(podctl(&out, "spawn", "--name", "web", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_ALREADY_RUNNING));
	free(out);
	cr_assert_eq(podctl(&out, "spawn", "--name", "../x", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_BAD_NAME));
	free(out);
	cr_assert_eq(podctl(&out, "ls", "--bogus", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_USAGE));
	free(out);
	cr_assert_eq(podctl(&out, "stop", "web", NULL), 0);
	free(out);
}

Test(podctl, help_and_version_work_for_every_command)
{
	static const char *cmds[] = {"spawn",  "ls",    "status",
	                             "stop",   "reap",  "sessions",
	                             "resume", "watch", "call"};
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

/* ---- sessions ------------------------------------------------------ */

static json_t *sessions_json(void)
{
	char *out;
	json_t *r;

	cr_assert_eq(podctl(&out, "sessions", "--json", NULL), 0, "%s", out);
	r = parse(out);
	free(out);
	return r;
}

/* The only session's field, as a string. */
static const char *only_session(json_t *r, const char *field)
{
	json_t *list = json_object_get(r, "sessions");

	cr_assert_eq(json_array_size(list), 1, "sessions: %zu",
	             json_array_size(list));
	return json_string_value(
	    json_object_get(json_array_get(list, 0), field));
}

/* The id of the only session there is. */
static void only_session_id(char *id, size_t size)
{
	json_t *r = sessions_json();

	snprintf(id, size, "%s", only_session(r, "id"));
	json_decref(r);
}

static char *journal_of(const char *id)
{
	char path[512];

	snprintf(path, sizeof path, "%s/sessions/%s/journal.jsonl", e2e_home,
	         id);
	return e2e_read(path);
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(podctl, sessions_shows_a_stopped_session_as_ended)
{
	static const char *fields[] = {
	    "id",   "name", "created_at", "last_event", "last_event_at",
	    "live", "pid",  "cwd"};
	pid_t pid = spawn_json("web");
	json_t *r, *s;
	char *out;

	r = sessions_json();
	cr_assert(json_is_true(json_object_get(
	    json_array_get(json_object_get(r, "sessions"), 0), "live")));
	json_decref(r);
	cr_assert_eq(podctl(&out, "stop", "web", NULL), 0);
	free(out);
	e2e_assert_group_gone(pid);
	r = sessions_json();
	s = json_array_get(json_object_get(r, "sessions"), 0);
	for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
		cr_assert_not_null(json_object_get(s, fields[f]), "no %s",
		                   fields[f]);
	cr_assert(json_is_false(json_object_get(s, "live")));
	cr_assert_str_eq(only_session(r, "last_event"), "stopped");
	cr_assert_str_eq(only_session(r, "name"), "web");
	json_decref(r);
}

Test(podctl, resume_keeps_the_id_and_the_journal_holds_both_runs)
{
	pid_t pid = spawn_json("web");
	char id[40], *out, *journal;
	json_t *r;

	only_session_id(id, sizeof id);
	cr_assert_eq(podctl(&out, "stop", "web", NULL), 0);
	free(out);
	e2e_assert_group_gone(pid);
	cr_assert_eq(podctl(&out, "resume", id, "--json", NULL), 0, "%s", out);
	r = parse(out);
	free(out);
	cr_assert_str_eq(json_string_value(json_object_get(r, "session_id")),
	                 id);
	pid = (pid_t)json_integer_value(json_object_get(r, "pid"));
	json_decref(r);
	journal = journal_of(id);
	cr_assert_not_null(journal);
	cr_assert_eq(count(journal, "\"started\""), 1, "%s", journal);
	cr_assert_eq(count(journal, "\"resumed\""), 1, "%s", journal);
	cr_assert_eq(count(journal, "\"stopped\""), 1, "%s", journal);
	cr_assert_eq(count(journal, "\"ready\""), 2, "%s", journal);
	free(journal);
	e2e_stop(pid);
}

Test(podctl, killed_pod_is_stale_reaped_and_its_session_resumes)
{
	pid_t pid = spawn_json("web");
	char id[40], *out;
	json_t *r;
	int status;

	only_session_id(id, sizeof id);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(podctl(&out, "ls", NULL), 0);
	cr_assert(strstr(out, "crashed"), "%s", out);
	free(out);
	cr_assert_eq(podctl(&out, "reap", NULL), 0);
	cr_assert(strstr(out, "web: removed"), "%s", out);
	free(out);
	cr_assert_eq(podctl(&out, "resume", id, "--json", NULL), 0, "%s", out);
	r = parse(out);
	free(out);
	pid = (pid_t)json_integer_value(json_object_get(r, "pid"));
	json_decref(r);
	e2e_stop(pid);
}

Test(podctl, resume_of_a_live_session_is_refused_naming_its_pod)
{
	pid_t pid = spawn_json("web");
	char id[40], want[64], *out;
	json_t *r, *e;

	only_session_id(id, sizeof id);
	cr_assert_eq(podctl(&out, "resume", id, "--json", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_SESSION_LIVE));
	e = json_object_get(r = parse(out), "error");
	snprintf(want, sizeof want, "pod web (pid %d)", pid);
	cr_assert(
	    strstr(json_string_value(json_object_get(e, "message")), want),
	    "%s", out);
	json_decref(r);
	free(out);
	e2e_stop(pid);
}

Test(podctl, garbage_and_unknown_session_ids_are_refused)
{
	char *out;

	cr_assert_eq(podctl(&out, "resume", "not-a-uuid", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_BAD_SESSION_ID));
	free(out);
	cr_assert_eq(podctl(&out, "resume", "../../etc", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_BAD_SESSION_ID));
	free(out);
	cr_assert_eq(podctl(&out, "resume",
	                    "1b4e28ba-2fa1-11d2-883f-0016d3cca427", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_SESSION_UNKNOWN));
	free(out);
	spawn_json("web"); /* a sessions dir now exists */
	cr_assert_eq(podctl(&out, "resume",
	                    "1b4e28ba-2fa1-11d2-883f-0016d3cca427", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_SESSION_UNKNOWN));
	free(out);
	cr_assert_eq(podctl(&out, "stop", "web", NULL), 0);
	free(out);
}

Test(podctl, ten_concurrent_resumes_make_exactly_one_live_pod)
{
	enum { N = 10 };
	pid_t pid = spawn_json("web"), clients[N];
	char id[40], *out;
	int won = 0, status;
	json_t *r, *pods;

	only_session_id(id, sizeof id);
	cr_assert_eq(podctl(&out, "stop", "web", NULL), 0);
	free(out);
	e2e_assert_group_gone(pid);
	for (int i = 0; i < N; i++) {
		clients[i] = fork();
		if (clients[i] == 0) {
			char *o;
			_exit(podctl(&o, "resume", id, "--quiet", NULL));
		}
	}
	for (int i = 0; i < N; i++) {
		cr_assert_eq(waitpid(clients[i], &status, 0), clients[i]);
		cr_assert(WIFEXITED(status));
		if (WEXITSTATUS(status) == 0)
			won++;
		else
			cr_assert(WEXITSTATUS(status) ==
			                  insomnia_error_exit_code(
			                      INSOMNIA_ERR_ALREADY_RUNNING) ||
			              WEXITSTATUS(status) ==
			                  insomnia_error_exit_code(
			                      INSOMNIA_ERR_SESSION_LIVE),
			          "a loser exited %d", WEXITSTATUS(status));
	}
	cr_assert_eq(won, 1);
	cr_assert_eq(podctl(&out, "ls", "--json", NULL), 0);
	pods = json_object_get(r = parse(out), "pods");
	cr_assert_eq(json_array_size(pods), 1);
	pid = (pid_t)json_integer_value(
	    json_object_get(json_array_get(pods, 0), "pid"));
	json_decref(r);
	free(out);
	e2e_stop(pid);
}

Test(podctl, reap_kills_the_group_a_dead_pod_left_running)
{
	char *out, *log;
	json_t *r, *p;
	pid_t pid, child;
	int status;

	/* a pod whose forked child stays in its group after it dies */
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_MOCK_POD"), 1);
	setenv("MOCK_POD_ARGS", "--fork-child", 1);
	pid = spawn_json("web");
	log = e2e_read(e2e_rundir("web", "stderr.log"));
	cr_assert(strstr(log, "mock-pod: child "), "%s", log);
	child = (pid_t)atol(strstr(log, "mock-pod: child ") + 16);
	free(log);
	cr_assert_eq(getpgid(child), pid);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(podctl(&out, "reap", "--json", NULL), 0, "%s", out);
	p = json_array_get(json_object_get(r = parse(out), "reaped"), 0);
	cr_assert_eq(json_integer_value(json_object_get(p, "killed_group")),
	             pid, "%s", out);
	cr_assert(json_is_true(json_object_get(p, "removed")));
	json_decref(r);
	free(out);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	e2e_assert_group_gone(pid);
}

Test(podctl, reap_leaves_a_group_whose_leader_pid_is_alive)
{
	char path[512], text[32], *out;
	pid_t pid, stranger;
	json_t *r, *p;
	int status;
	FILE *f;

	/* a live group leader that merely reuses the dead pod's pid must
	 * survive the reap: write its pid where the dead pod's was */
	pid = spawn_json("web");
	e2e_stop(pid);
	stranger = fork();
	if (stranger == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(stranger, stranger); /* both sides, so no race */
	snprintf(path, sizeof path, "%s", e2e_rundir("web", "pid"));
	f = fopen(path, "w");
	cr_assert_not_null(f);
	snprintf(text, sizeof text, "%d\n", stranger);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(podctl(&out, "reap", "--json", NULL), 0, "%s", out);
	p = json_array_get(json_object_get(r = parse(out), "reaped"), 0);
	cr_assert_eq(json_integer_value(json_object_get(p, "killed_group")), 0,
	             "%s", out);
	json_decref(r);
	free(out);
	cr_assert_eq(waitpid(stranger, &status, WNOHANG), 0,
	             "the stranger was killed");
	kill(stranger, SIGKILL);
	cr_assert_eq(waitpid(stranger, &status, 0), stranger);
}
