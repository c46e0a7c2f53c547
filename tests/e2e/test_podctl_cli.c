/* End-to-end: podctl's command line as people expect it: help and
 * version, option errors, durations, the ls table, spawn's --manifest and
 * --pod-command. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "podctl_run.h"
#include <insomnia/error.h>
#include <insomnia/version.h>

TestSuite(podctl_cli, .init = e2e_setup, .fini = e2e_teardown, .timeout = 30);

static int usage_code(void)
{
	return insomnia_error_exit_code(INSOMNIA_ERR_USAGE);
}

/* How many times needle occurs in hay. */
static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Spawn name (the mock, or what INSOMNIA_POD_COMMAND says) and return
 * its pid. */
static pid_t spawn(const char *name)
{
	struct podctl_run r = {0};
	json_t *v;
	pid_t pid;

	podctl_run(&r, "spawn", "--name", name, "--json", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	v = podctl_json(&r);
	pid = (pid_t)json_integer_value(json_object_get(v, "pid"));
	cr_assert_gt(pid, 0, "%s", r.out);
	json_decref(v);
	podctl_run_free(&r);
	return pid;
}

Test(podctl_cli, help_command_is_each_commands_help)
{
	const char *cmds[] = {"spawn", "ls",       "status", "stop",
	                      "reap",  "sessions", "resume", "watch",
	                      "call",  "version"};
	struct podctl_run a = {0}, b = {0};

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		podctl_run(&a, "help", cmds[i], NULL);
		podctl_run(&b, cmds[i], "--help", NULL);
		cr_assert_eq(a.code, 0, "%s", a.err);
		cr_assert_str_eq(a.out, b.out);
		cr_assert(strstr(a.out, "usage: podctl "), "%s", a.out);
		podctl_run_free(&a);
		podctl_run_free(&b);
	}
	podctl_run(&a, "help", "sessions", "prune", NULL);
	podctl_run(&b, "sessions", "prune", "--help", NULL);
	cr_assert_eq(a.code, 0, "%s", a.err);
	cr_assert_str_eq(a.out, b.out);
	cr_assert(!strncmp(a.out, "usage: podctl sessions prune ", 29), "%s",
	          a.out);
	podctl_run_free(&a);
	podctl_run_free(&b);
	podctl_run(&a, "help", "sessions", "nope", NULL);
	cr_assert_eq(a.code, usage_code());
	cr_assert(strstr(a.err, "no subcommand \"nope\""), "%s", a.err);
	podctl_run_free(&a);
	podctl_run(&a, "help", NULL);
	cr_assert_eq(a.code, 0);
	cr_assert(strstr(a.out, "  version "), "%s", a.out);
	podctl_run_free(&a);
	podctl_run(&a, "help", "nope", NULL);
	cr_assert_eq(a.code, usage_code());
	cr_assert(strstr(a.err, "unknown command \"nope\""), "%s", a.err);
	podctl_run_free(&a);
}

Test(podctl_cli, version_names_podctl_library_and_protocol)
{
	const char *forms[] = {"-V", "--version", "version"};
	char want[128];
	struct podctl_run r = {0};
	json_t *v;

	snprintf(want, sizeof want, "podctl %s\nlibinsomnia %s (protocol %d)\n",
	         INSOMNIA_VERSION_STRING, insomnia_version(),
	         INSOMNIA_PROTOCOL_VERSION);
	for (size_t i = 0; i < 3; i++) {
		podctl_run(&r, forms[i], NULL);
		cr_assert_eq(r.code, 0);
		cr_assert_str_eq(r.out, want);
		podctl_run_free(&r);
	}
	podctl_run(&r, "version", "--json", NULL);
	v = podctl_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(v, "library")),
	                 insomnia_version());
	cr_assert_eq(json_integer_value(json_object_get(v, "protocol")),
	             INSOMNIA_PROTOCOL_VERSION);
	json_decref(v);
	podctl_run_free(&r);
}

/* Each error once, on the first line of stderr, naming the problem; the
 * arguments are NULL-terminated. */
static void error_once(const char *want, ...)
{
	struct podctl_run r = {0};
	va_list ap;

	va_start(ap, want);
	podctl_runv(&r, ap);
	va_end(ap);
	cr_assert_eq(r.code, usage_code(), "%s", r.err);
	cr_assert(!strncmp(r.err, want, strlen(want)), "want \"%s\" in:\n%s",
	          want, r.err);
	cr_assert_eq(count(r.err, want), 1, "printed twice:\n%s", r.err);
	cr_assert(strstr(r.err, "\nusage: podctl "), "no usage line:\n%s",
	          r.err);
	cr_assert_str_eq(r.out, "");
	podctl_run_free(&r);
}

Test(podctl_cli, option_errors_are_printed_once_and_name_the_problem)
{
	error_once("podctl spawn: --timeout needs a value", "spawn",
	           "--timeout", NULL);
	error_once("podctl spawn: --timeout: bad duration \"5q\" (use 1s, "
	           "500ms, 2m",
	           "spawn", "--timeout", "5q", NULL);
	error_once("podctl ls: unknown option \"--x\"", "ls", "--x", NULL);
	error_once("podctl spawn: unknown option \"-j\"", "spawn", "-j", NULL);
	error_once("podctl ls: too many arguments (\"web\")", "ls", "web",
	           NULL);
	error_once("podctl reap: --json takes no value", "reap", "--json=1",
	           NULL);
	error_once("podctl status: missing NAME", "status", NULL);
	error_once("podctl status: too many arguments (\"b\")", "status", "a",
	           "b", NULL);
	error_once("podctl sessions: unknown option \"--x\"", "sessions", "--x",
	           NULL);
}

/* The commands converted last, each error as the parser words it. */
Test(podctl_cli, every_command_words_its_option_errors_once)
{
	error_once("podctl status: unknown option \"--grace\"", "status", "web",
	           "--grace", "1s", NULL);
	error_once("podctl stop: --grace: bad duration \"5q\"", "stop", "web",
	           "--grace", "5q", NULL);
	error_once("podctl stop: --grace: bad duration \"2d\" (use 1s, 500ms, "
	           "2m, 1m30s; at most 1d)",
	           "stop", "web", "-g", "2d", NULL);
	error_once("podctl stop: -g (--grace) needs a value", "stop", "web",
	           "-g", NULL);
	error_once("podctl stop: missing NAME... (or --all)", "stop", NULL);
	error_once("podctl stop: give NAME... or --all, not both", "stop",
	           "--all", "web", NULL);
	error_once("podctl stop: --all takes no value", "stop", "--all=1",
	           NULL);
	error_once("podctl sessions: too many arguments (\"x\")", "sessions",
	           "x", NULL);
	error_once("podctl sessions prune: --older-than: bad age \"7\" (a "
	           "number and a unit",
	           "sessions", "prune", "--older-than", "7", NULL);
	error_once("podctl sessions prune: give --older-than AGE, --name NAME, "
	           "or both",
	           "sessions", "prune", NULL);
	error_once("podctl sessions prune: unknown option \"--all\"",
	           "sessions", "prune", "--all", NULL);
	error_once("podctl resume: missing ID|PREFIX (or --last NAME)",
	           "resume", NULL);
	error_once("podctl resume: give ID|PREFIX or --last, not both",
	           "resume", "--last", "web", "abc", NULL);
	error_once("podctl resume: --timeout: bad duration \"soon\"", "resume",
	           "abc", "--timeout", "soon", NULL);
	error_once("podctl resume: -l (--last) needs a value", "resume", "-l",
	           NULL);
	error_once("podctl watch: unknown option \"-x\"", "watch", "-x", NULL);
	error_once("podctl watch: too many arguments (\"web\")", "watch", "web",
	           NULL);
	error_once("podctl call: missing NAME METHOD [PARAMS_JSON]", "call",
	           "web", NULL);
	error_once("podctl call: too many arguments (\"d\")", "call", "a", "b",
	           "{}", "d", NULL);
	error_once("podctl call: --timeout: bad duration \"0\"", "call", "web",
	           "ping", "--timeout", "0", NULL);
}

/* With --json, the one error is an object on stdout, nothing on stderr. */
Test(podctl_cli, option_error_with_json_is_one_object)
{
	const char *cmds[][4] = {
	    {"stop", "--grace", "x", "web"},
	    {"resume", "--timeout", "x", "abc"},
	    {"call", "--timeout", "x", "web"},
	    {"sessions", "prune", "--older-than", "x"},
	};
	struct podctl_run r = {0};
	json_t *v, *e;

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		podctl_run(&r, cmds[i][0], cmds[i][1], cmds[i][2], cmds[i][3],
		           "--json", NULL);
		cr_assert_eq(r.code, usage_code(), "%s", r.err);
		cr_assert_str_eq(r.err, "");
		v = podctl_json(&r);
		e = json_object_get(v, "error");
		cr_assert_str_eq(json_string_value(json_object_get(e, "kind")),
		                 "usage");
		cr_assert(
		    strstr(json_string_value(json_object_get(e, "message")),
		           "\"x\""),
		    "%s", r.out);
		json_decref(v);
		podctl_run_free(&r);
	}
}

/* Every usage line shows what is optional as the parser takes it. */
Test(podctl_cli, usage_lines_match_what_is_parsed)
{
	static const char *const want[][2] = {
	    {"stop", "usage: podctl stop [-g|--grace TIME] [--json] "
	             "NAME...|--all\n"},
	    {"status", "usage: podctl status [--json] NAME\n"},
	    {"watch", "usage: podctl watch [--json]\n"},
	    {"call", "usage: podctl call [-t|--timeout TIME] [--json] NAME "
	             "METHOD [PARAMS_JSON]\n"},
	    {"sessions", "usage: podctl sessions [--json]\n       podctl "
	                 "sessions prune [--older-than AGE] [-n|--name NAME] "
	                 "[--json]\n"},
	    {"resume", "usage: podctl resume [-o|--overlay TOML] "
	               "[-f|--overlay-file FILE]\n                     "
	               "[-t|--timeout TIME] [-q|--quiet] [--json]\n        "
	               "             ID|PREFIX|--last NAME\n"},
	};
	struct podctl_run r = {0};

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		podctl_run(&r, want[i][0], "--help", NULL);
		cr_assert_eq(r.code, 0);
		cr_assert(!strncmp(r.out, want[i][1], strlen(want[i][1])),
		          "want:\n%sgot:\n%s", want[i][1], r.out);
		podctl_run_free(&r);
	}
	podctl_run(&r, "sessions", "prune", "--help", NULL);
	cr_assert(!strncmp(r.out, "usage: podctl sessions prune ", 29), "%s",
	          r.out);
	podctl_run_free(&r);
}

/* stop --grace and call --timeout take units (and stop 0). */
Test(podctl_cli, stop_and_call_take_durations)
{
	struct podctl_run r = {0};
	pid_t a, b;

	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
	a = spawn("web");
	podctl_run(&r, "call", "web", "ping", "--timeout", "1500ms", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "{\"pong\":true}\n");
	podctl_run_free(&r);
	podctl_run(&r, "stop", "web", "--grace", "500ms", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, "\"stopped_by\":\"request\""), "%s", r.out);
	podctl_run_free(&r);
	e2e_assert_group_gone(a);
	b = spawn("api");
	podctl_run(&r, "stop", "-g0", "api", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "api: stopped (sigkill)\n");
	podctl_run_free(&r);
	e2e_assert_group_gone(b);
}

/* Times as durations, no raw null: the pod's description is unset. */
Test(podctl_cli, status_shows_durations_and_no_null)
{
	struct podctl_run r = {0};
	char *line, *save = NULL;
	bool uptime = false, started = false, description = false;
	pid_t pid;

	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
	pid = spawn("web");
	podctl_run(&r, "status", "web", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_null(strstr(r.out, "null"), "%s", r.out);
	cr_assert_null(strstr(r.out, "uptime_ms"), "%s", r.out);
	cr_assert(!strncmp(r.out, "web: ready\n", 11), "%s", r.out);
	for (line = strtok_r(r.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char unit = 0, extra = 0;
		long n = -1;

		if (sscanf(line, "  uptime %ld%c%c", &n, &unit, &extra) == 2)
			uptime = n >= 0 && strchr("smhd", unit);
		started |= !strncmp(line, "  started_at ", 13) &&
		           strstr(line, "Z (") && strstr(line, " ago)");
		description |= !strcmp(line, "  description  -");
	}
	cr_assert(uptime && started && description,
	          "uptime %d started %d "
	          "description %d",
	          uptime, started, description);
	podctl_run_free(&r);
	e2e_stop(pid);
}

Test(podctl_cli, timeout_takes_a_unit)
{
	struct podctl_run r = {0};
	json_t *v;

	setenv("MOCK_POD_ARGS", "--hang", 1);
	podctl_run(&r, "spawn", "--name", "web", "--timeout", "300ms", "--json",
	           NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_TIMEOUT),
	             "%s%s", r.out, r.err);
	v = podctl_json(&r);
	cr_assert(strstr(json_string_value(json_object_get(
	                     json_object_get(v, "error"), "message")),
	                 "300 ms"),
	          "%s", r.out);
	json_decref(v);
	podctl_run_free(&r);
}

/* The column where header word starts, and where line has text there. */
static void assert_aligned(const char *header, const char *line,
                           const char *word)
{
	const char *at = strstr(header, word);
	size_t col;

	cr_assert_not_null(at, "%s", header);
	col = (size_t)(at - header);
	cr_assert_gt(strlen(line), col, "%s", line);
	cr_assert_eq(line[col - 1], ' ', "%s not aligned:\n%s\n%s", word,
	             header, line);
	cr_assert_neq(line[col], ' ', "%s not aligned:\n%s\n%s", word, header,
	              line);
}

Test(podctl_cli, ls_columns_fit_any_name_and_show_an_age)
{
	char longname[INSOMNIA_NAME_MAX + 1];
	struct podctl_run r = {0};
	char *lines[4] = {NULL}, *save = NULL;
	pid_t a, b;
	int n = 0;

	memset(longname, 'x', INSOMNIA_NAME_MAX);
	longname[INSOMNIA_NAME_MAX] = '\0';
	a = spawn("web");
	b = spawn(longname);
	podctl_run(&r, "ls", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	for (char *l = strtok_r(r.out, "\n", &save); l && n < 4;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	cr_assert_eq(n, 3, "%s", r.out);
	for (int i = 1; i < 3; i++) {
		assert_aligned(lines[0], lines[i], "STATE");
		assert_aligned(lines[0], lines[i], "PID");
		assert_aligned(lines[0], lines[i], "AGE");
		assert_aligned(lines[0], lines[i], "SOCKET");
	}
	podctl_run_free(&r);
	e2e_stop(a);
	e2e_stop(b);
}

/* The real pod writes state.json: its age is known, and shown in the
 * short form. */
Test(podctl_cli, ls_age_of_a_real_pod)
{
	struct podctl_run r = {0};
	json_t *v, *p;
	pid_t pid;
	char *row;

	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
	pid = spawn("web");
	podctl_run(&r, "ls", "--json", NULL);
	v = podctl_json(&r);
	p = json_array_get(json_object_get(v, "pods"), 0);
	cr_assert(json_is_integer(json_object_get(p, "age_s")), "%s", r.out);
	cr_assert_geq(json_integer_value(json_object_get(p, "age_s")), 0);
	cr_assert(json_is_string(json_object_get(p, "started_at")));
	json_decref(v);
	podctl_run_free(&r);
	podctl_run(&r, "ls", NULL);
	row = strchr(r.out, '\n');
	cr_assert_not_null(row);
	/* "<digits>s" (or m, for a slow machine) after the pid */
	cr_assert(strstr(row, "s  ") || strstr(row, "m  "), "%s", r.out);
	podctl_run_free(&r);
	e2e_stop(pid);
}

/* The mock writes no state.json: what is unknown is null, not 0 or "". */
Test(podctl_cli, ls_json_unknowns_are_null)
{
	struct podctl_run r = {0};
	json_t *v, *p;
	pid_t pid = spawn("web");

	podctl_run(&r, "ls", "--json", NULL);
	v = podctl_json(&r);
	p = json_array_get(json_object_get(v, "pods"), 0);
	cr_assert_eq(json_integer_value(json_object_get(p, "pid")), pid);
	cr_assert(json_is_null(json_object_get(p, "pgid")), "%s", r.out);
	cr_assert(json_is_null(json_object_get(p, "session_id")), "%s", r.out);
	cr_assert(json_is_null(json_object_get(p, "started_at")), "%s", r.out);
	cr_assert(json_is_null(json_object_get(p, "age_s")), "%s", r.out);
	json_decref(v);
	podctl_run_free(&r);
	e2e_stop(pid);
}

Test(podctl_cli, pod_command_without_the_environment)
{
	struct podctl_run r = {0};
	json_t *v;

	unsetenv("INSOMNIA_POD_COMMAND");
	setenv("PATH", "/nonexistent", 1); /* no `pod` to fall back on */
	podctl_run(&r, "spawn", "--name", "web", "--json", "--pod-command",
	           getenv("INSOMNIA_TEST_MOCK_POD"), NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	v = podctl_json(&r);
	e2e_stop((pid_t)json_integer_value(json_object_get(v, "pid")));
	json_decref(v);
	podctl_run_free(&r);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* --manifest reaches the pod (a schema error in it is the pod's, exit 2
 * like any config error), a relative path is podctl's cwd's, and the
 * name may come from it. */
Test(podctl_cli, manifest_is_the_pods_and_may_name_it)
{
	char dir[512], bad[600], good[600];
	struct podctl_run r = {0};
	json_t *v;

	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
	snprintf(dir, sizeof dir, "%s/proj", e2e_home);
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(bad, sizeof bad, "%s/bad.toml", dir);
	snprintf(good, sizeof good, "%s/good.toml", dir);
	write_file(bad, "[pod]\nnmae = \"x\"\n");
	write_file(good, "[pod]\nname = \"fromman\"\n");

	r.cwd = dir;
	podctl_run(&r, "spawn", "--name", "web", "--manifest", "bad.toml",
	           "--cwd", "/", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	             "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, bad), "%s", r.err);
	cr_assert(strstr(r.err, "pod.nmae"), "%s", r.err);
	podctl_run_free(&r);

	r = (struct podctl_run){.cwd = dir};
	podctl_run(&r, "spawn", "--manifest", "good.toml", "--cwd", "/",
	           "--json", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	v = podctl_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(v, "name")),
	                 "fromman");
	e2e_stop((pid_t)json_integer_value(json_object_get(v, "pid")));
	json_decref(v);
	podctl_run_free(&r);
}

/* A failed start is "failed" with how it ended, not "crashed". */
Test(podctl_cli, ls_tells_a_failed_start_and_its_exit)
{
	struct podctl_run r = {0};
	json_t *v, *p;

	setenv("MOCK_POD_ARGS", "--exit 5", 1);
	podctl_run(&r, "spawn", "--name", "web", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_BAD_NAME),
	             "%s", r.err);
	podctl_run_free(&r);
	setenv("MOCK_POD_ARGS", "--signal 9", 1);
	podctl_run(&r, "spawn", "--name", "api", NULL);
	cr_assert_eq(r.code,
	             insomnia_error_exit_code(INSOMNIA_ERR_EXITED_EARLY), "%s",
	             r.err);
	podctl_run_free(&r);
	podctl_run(&r, "ls", NULL);
	cr_assert(strstr(r.out, "failed (exit 5)"), "%s", r.out);
	cr_assert(strstr(r.out, "failed (signal 9)"), "%s", r.out);
	cr_assert_null(strstr(r.out, "crashed"), "%s", r.out);
	podctl_run_free(&r);
	podctl_run(&r, "ls", "--json", NULL);
	v = podctl_json(&r);
	for (size_t i = 0; i < 2; i++) {
		p = json_array_get(json_object_get(v, "pods"), i);
		cr_assert_str_eq(json_string_value(json_object_get(p, "state")),
		                 "failed");
	}
	p = json_array_get(json_object_get(v, "pods"), 0); /* api */
	cr_assert(json_is_null(json_object_get(p, "exit_status")), "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(p, "signal")), 9);
	p = json_array_get(json_object_get(v, "pods"), 1); /* web */
	cr_assert_eq(json_integer_value(json_object_get(p, "exit_status")), 5);
	cr_assert(json_is_null(json_object_get(p, "signal")), "%s", r.out);
	json_decref(v);
	podctl_run_free(&r);
}
