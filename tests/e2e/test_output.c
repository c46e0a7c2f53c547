/* End-to-end: what podctl prints is whole and valid, or it says it is
 * not.  --json output is valid JSON whatever bytes a path, a message or
 * a pod's stderr holds (docs/errors.md, "In JSON"), and a stdout that
 * cannot be written is an error, not a silent success. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "harness.h"
#include "podctl_run.h"

#define FFFD "\xef\xbf\xbd"

static void use_real_pod(void)
{
	e2e_setup();
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

TestSuite(output, .init = e2e_setup, .fini = e2e_teardown, .timeout = 30);
TestSuite(output_real, .init = use_real_pod, .fini = e2e_teardown,
          .timeout = 30);

static bool tail_has(json_t *error, const char *line)
{
	json_t *tail = json_object_get(error, "tail");

	for (size_t i = 0; i < json_array_size(tail); i++)
		if (!strcmp(json_string_value(json_array_get(tail, i)), line))
			return true;
	return false;
}

/* ---- item: JSON from bytes ---------------------------------------- */

Test(output, json_error_naming_a_non_utf8_path_is_valid_json)
{
	struct podctl_run r = {0};
	char path[512];
	json_t *v, *e;

	snprintf(path, sizeof path, "%s/\xff\xfe.toml", e2e_home);
	podctl_run(&r, "spawn", "--name", "web", "--overlay-file", path,
	           "--json", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_IO), "%s",
	             r.err);
	v = podctl_json(&r);
	e = json_object_get(v, "error");
	cr_assert_str_eq(json_string_value(json_object_get(e, "kind")), "io");
	cr_assert(strstr(json_string_value(json_object_get(e, "message")),
	                 "/" FFFD FFFD ".toml"),
	          "%s", r.out);
	json_decref(v);
	podctl_run_free(&r);
}

Test(output, json_error_keeps_a_non_utf8_stderr_line_in_its_tail)
{
	struct podctl_run r = {0};
	json_t *v, *e;

	setenv("MOCK_POD_ARGS", "--exit 2 --message bad\xff\xc3line", 1);
	podctl_run(&r, "spawn", "--name", "web", "--json", NULL);
	/* a pod's exit 2 is a config error (docs/errors.md) */
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	             "%s", r.err);
	v = podctl_json(&r);
	e = json_object_get(v, "error");
	cr_assert(tail_has(e, "bad" FFFD FFFD "line"), "%s", r.out);
	cr_assert(strstr(json_string_value(json_object_get(e, "message")),
	                 "bad" FFFD FFFD "line"),
	          "%s", r.out);
	json_decref(v);
	podctl_run_free(&r);
}

/* Runs podctl (up to four arguments), asserts its exit code and returns
 * its stdout as JSON. */
static json_t *json_of(int code, const char *a, const char *b, const char *c,
                       const char *d)
{
	struct podctl_run r = {0};
	json_t *v;

	podctl_run(&r, a, b, c, d, NULL);
	cr_assert_eq(r.code, code, "podctl %s: exit %d: %s%s", a, r.code, r.out,
	             r.err);
	v = podctl_json(&r);
	podctl_run_free(&r);
	return v;
}

static json_t *read_json_file(const char *path)
{
	json_error_t e;
	json_t *v = json_load_file(path, 0, &e);

	cr_assert_not_null(v, "%s is not JSON: %s", path, e.text);
	return v;
}

/* The runtime root may be any bytes: the pod still writes a state.json
 * that parses, and every listing still shows the pod. */
Test(output_real, a_non_utf8_runtime_root_keeps_state_and_listings_valid)
{
	char root[512], sock[600], state[600];
	json_t *v, *row;
	pid_t pid;

	snprintf(root, sizeof root, "%s/run\xff", e2e_home);
	setenv("INSOMNIA_RUNTIME_DIR", root, 1);
	snprintf(sock, sizeof sock, "%s/run" FFFD "/web/sock", e2e_home);
	snprintf(state, sizeof state, "%s/web/state.json", root);

	v = json_of(0, "spawn", "--name", "web", "--json");
	cr_assert_str_eq(json_string_value(json_object_get(v, "socket")), sock);
	pid = (pid_t)json_integer_value(json_object_get(v, "pid"));
	json_decref(v);

	v = read_json_file(state);
	cr_assert_str_eq(json_string_value(json_object_get(v, "socket")), sock);
	json_decref(v);

	v = json_of(0, "ls", "--json", NULL, NULL);
	row = json_array_get(json_object_get(v, "pods"), 0);
	cr_assert_not_null(row, "the pod's row is missing");
	cr_assert(json_is_true(json_object_get(row, "alive")));
	cr_assert_str_eq(json_string_value(json_object_get(row, "socket")),
	                 sock);
	json_decref(v);

	/* status reaches the socket by the dir's path, not state.json's */
	v = json_of(0, "status", "web", "--json", NULL);
	cr_assert_eq(json_integer_value(
	                 json_object_get(json_object_get(v, "status"), "pid")),
	             pid);
	json_decref(v);

	v = json_of(0, "stop", "web", "--json", NULL);
	cr_assert_str_eq(json_string_value(json_object_get(v, "stopped_by")),
	                 "request");
	json_decref(v);
	e2e_assert_group_gone(pid);
	v = json_of(0, "reap", "--json", NULL, NULL);
	json_decref(v);
}

/* ---- item: a stdout that cannot be written ------------------------- */

/* podctl with stdout on /dev/full: exit code want, and stderr says why. */
static void full(int want, const char *a, const char *b, const char *c,
                 const char *d)
{
	struct podctl_run r = {.stdout_path = "/dev/full"};

	podctl_run(&r, a, b, c, d, NULL);
	cr_assert_eq(r.code, want, "podctl %s %s: exit %d, stderr: %s", a,
	             b ? b : "", r.code, r.err);
	cr_assert(strstr(r.err, "podctl: cannot write to standard output: "
	                        "No space left on device"),
	          "podctl %s %s: stderr: %s", a, b ? b : "", r.err);
	podctl_run_free(&r);
}

#define IO insomnia_error_exit_code(INSOMNIA_ERR_IO)

Test(output_real, every_command_fails_when_stdout_cannot_be_written)
{
	char id[64];
	json_t *v;
	pid_t pid;

	full(IO, "--version", NULL, NULL, NULL);
	full(IO, "--help", NULL, NULL, NULL);
	full(IO, "ls", "--help", NULL, NULL);
	full(IO, "ls", NULL, NULL, NULL);
	full(IO, "ls", "--json", NULL, NULL);
	full(IO, "sessions", NULL, NULL, NULL);
	/* spawn: the pod is up, only its details are lost */
	full(IO, "spawn", "--name", "web", "--json");
	v = json_of(0, "ls", "--json", NULL, NULL);
	pid = (pid_t)json_integer_value(json_object_get(
	    json_array_get(json_object_get(v, "pods"), 0), "pid"));
	json_decref(v);
	cr_assert_gt(pid, 0);
	full(IO, "status", "web", NULL, NULL);
	full(IO, "status", "web", "--json", NULL);
	full(IO, "ls", "--json", NULL, NULL);
	full(IO, "sessions", "--json", NULL, NULL);
	full(IO, "stop", "web", "--json", NULL);
	e2e_assert_group_gone(pid);
	full(IO, "reap", "--json", NULL, NULL);
	full(IO, "reap", NULL, NULL, NULL);

	v = json_of(0, "sessions", "--json", NULL, NULL);
	snprintf(id, sizeof id, "%s",
	         json_string_value(json_object_get(
	             json_array_get(json_object_get(v, "sessions"), 0), "id")));
	json_decref(v);
	full(IO, "resume", id, NULL, NULL);
	v = json_of(0, "ls", "--json", NULL, NULL);
	pid = (pid_t)json_integer_value(json_object_get(
	    json_array_get(json_object_get(v, "pods"), 0), "pid"));
	json_decref(v);
	full(IO, "stop", "web", NULL, NULL);
	e2e_assert_group_gone(pid);
}

/* A failure keeps its own exit code; the error object that could not be
 * printed is told on stderr instead. */
Test(output, a_json_error_that_cannot_be_written_is_told_on_stderr)
{
	struct podctl_run r = {.stdout_path = "/dev/full"};

	podctl_run(&r, "status", "nope", "--json", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_NOT_RUNNING),
	             "%s", r.err);
	cr_assert(strstr(r.err, "podctl: pod nope is not running"), "%s",
	          r.err);
	cr_assert(strstr(r.err, "cannot write to standard output"), "%s",
	          r.err);
	podctl_run_free(&r);
}
