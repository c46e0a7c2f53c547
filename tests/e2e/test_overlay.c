/* End-to-end: an overlay reaches the pod as the user wrote it, or is
 * refused saying why (docs/manifest.md, "The overlay"). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fdio.h"
#include "harness.h"
#include "podcmd.h"
#include "podctl_run.h"

static void use_real_pod(void)
{
	e2e_setup();
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

TestSuite(overlay, .init = e2e_setup, .fini = e2e_teardown, .timeout = 30);
TestSuite(overlay_real, .init = use_real_pod, .fini = e2e_teardown,
          .timeout = 30);

/* <home>/<name> holding len bytes of text; its path. */
static const char *file_with(const char *name, const char *text, size_t len)
{
	static char path[512];
	int fd;

	snprintf(path, sizeof path, "%s/%s", e2e_home, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fd_write_all(fd, text, len), 0);
	close(fd);
	return path;
}

static void assert_no_pod_dir(const char *name)
{
	cr_assert_neq(access(e2e_rundir(name, NULL), F_OK), 0,
	              "a pod dir was made for %s", name);
}

/* The error object of r, which must have failed with kind. */
static const char *error_message(struct podctl_run *r,
                                 enum insomnia_error_kind kind)
{
	static char msg[4096];
	json_t *v = podctl_json(r), *e = json_object_get(v, "error");

	cr_assert_eq(r->code, insomnia_error_exit_code(kind), "exit %d: %s",
	             r->code, r->out);
	cr_assert_str_eq(json_string_value(json_object_get(e, "kind")),
	                 insomnia_error_kind_name(kind));
	snprintf(msg, sizeof msg, "%s",
	         json_string_value(json_object_get(e, "message")));
	json_decref(v);
	return msg;
}

/* The pid of a successful spawn --json. */
static pid_t spawned_pid(struct podctl_run *r)
{
	json_t *v = podctl_json(r);
	pid_t pid;

	cr_assert_eq(r->code, 0, "exit %d: %s %s", r->code, r->out, r->err);
	pid = (pid_t)json_integer_value(json_object_get(v, "pid"));
	cr_assert_gt(pid, 0);
	json_decref(v);
	return pid;
}

/* ---- what is read ---------------------------------------------------- */

/* The text before the NUL is valid on its own: it used to be taken as
 * the whole overlay, silently. */
static const char with_nul[] = "[pod]\ndescription = \"a\"\n#x\0y\n";

Test(overlay, a_nul_byte_in_an_overlay_file_is_refused_where_it_is)
{
	const char *path = file_with("o.toml", with_nul, sizeof with_nul - 1);
	struct podctl_run r = {0};
	const char *msg;
	char want[600];

	podctl_run(&r, "spawn", "--name", "web", "--overlay-file", path,
	           "--json", NULL);
	msg = error_message(&r, INSOMNIA_ERR_CONFIG);
	snprintf(want, sizeof want,
	         "overlay file %s: NUL byte at offset 26 (line 3, column 3)",
	         path);
	cr_assert(strstr(msg, want), "%s", msg);
	podctl_run_free(&r);
	assert_no_pod_dir("web");
}

Test(overlay, a_nul_byte_on_stdin_is_refused_too)
{
	struct podctl_run r = {.stdin_text = with_nul,
	                       .stdin_len = sizeof with_nul - 1,
	                       .stdin_pipe = true};

	podctl_run(&r, "spawn", "--name", "web", "--overlay-file", "-",
	           "--json", NULL);
	cr_assert(strstr(error_message(&r, INSOMNIA_ERR_CONFIG),
	                 "overlay file (stdin): NUL byte at offset 26"));
	podctl_run_free(&r);
	assert_no_pod_dir("web");
}

Test(overlay, an_overlay_from_a_pipe_on_stdin_is_read)
{
	struct podctl_run r = {.stdin_text = "[pod]\nname = \"web\"\n",
	                       .stdin_pipe = true};
	pid_t pid;

	podctl_run(&r, "spawn", "--overlay-file", "-", "--json", NULL);
	pid = spawned_pid(&r);
	podctl_run_free(&r);
	e2e_stop(pid);
	e2e_assert_group_gone(pid);
}

Test(overlay, a_fifo_as_overlay_file_is_refused_not_waited_on)
{
	struct podctl_run r = {0};
	char path[512];

	snprintf(path, sizeof path, "%s/fifo.toml", e2e_home);
	cr_assert_eq(mkfifo(path, 0600), 0);
	podctl_run(&r, "spawn", "--name", "web", "--overlay-file", path,
	           "--json", NULL);
	cr_assert(
	    strstr(error_message(&r, INSOMNIA_ERR_IO), "not a regular file"));
	cr_assert(strstr(error_message(&r, INSOMNIA_ERR_IO), path));
	podctl_run_free(&r);
	assert_no_pod_dir("web");
}

/* ---- what fits on the pod's command line ----------------------------- */

/* An overlay of exactly len bytes naming web: comments after the name. */
static char *overlay_of(size_t len)
{
	static const char head[] = "[pod]\nname = \"web\"\n";
	char *text = malloc(len + 1);

	cr_assert_not_null(text);
	memset(text, '#', len);
	memcpy(text, head, sizeof head - 1);
	for (size_t i = sizeof head - 1 + 79; i < len; i += 80)
		text[i] = '\n';
	text[len] = '\0';
	return text;
}

Test(overlay, the_longest_overlay_fits_on_the_command_line)
{
	char *text = overlay_of(PODCMD_OVERLAY_MAX);
	const char *path = file_with("big.toml", text, PODCMD_OVERLAY_MAX);
	struct podctl_run r = {0};
	pid_t pid;

	podctl_run(&r, "spawn", "--name", "web", "--overlay-file", path,
	           "--json", NULL);
	pid = spawned_pid(&r);
	podctl_run_free(&r);
	free(text);
	e2e_stop(pid);
	e2e_assert_group_gone(pid);
}

Test(overlay, a_longer_overlay_is_refused_with_the_limit_not_e2big)
{
	char *text = overlay_of(PODCMD_OVERLAY_MAX + 1);
	const char *path = file_with("big.toml", text, PODCMD_OVERLAY_MAX + 1);
	struct podctl_run r = {0};
	char limit[32];

	snprintf(limit, sizeof limit, "%d bytes", PODCMD_OVERLAY_MAX);
	podctl_run(&r, "spawn", "--name", "web", "--overlay-file", path,
	           "--json", NULL);
	cr_assert(strstr(error_message(&r, INSOMNIA_ERR_CONFIG), limit), "%s",
	          r.out);
	podctl_run_free(&r);
	free(text);
	assert_no_pod_dir("web");
}

/* Within the limit as read, over it once the name is added. */
Test(overlay, an_overlay_over_the_limit_with_its_name_is_refused)
{
	char *text = overlay_of(PODCMD_OVERLAY_MAX);
	const char *path;
	struct podctl_run r = {0};

	memcpy(text, "[pod]\ndescr = \"web\"\n", 20); /* no name now */
	path = file_with("big.toml", text, PODCMD_OVERLAY_MAX);
	podctl_run(&r, "spawn", "--name", "web", "--overlay-file", path,
	           "--json", NULL);
	cr_assert(strstr(error_message(&r, INSOMNIA_ERR_CONFIG), "too long"),
	          "%s", r.out);
	podctl_run_free(&r);
	free(text);
	assert_no_pod_dir("web");
}

/* The library refuses too, for callers that do not go through podctl. */
Test(overlay, spawn_pod_refuses_an_overlay_too_long_for_the_command_line)
{
	char *text = overlay_of(PODCMD_OVERLAY_MAX + 1);
	struct insomnia_spawn_options o = e2e_options("web", NULL);
	struct insomnia_spawn_result res;
	struct insomnia_error err;

	o.overlay = text;
	cr_assert_eq(insomnia_spawn(&o, &res, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG, "%s", err.message);
	free(text);
	assert_no_pod_dir("web");
}

/* ---- the same rules as the pod -------------------------------------- */

Test(overlay_real, pod_equals_1_fails_in_podctl_as_in_the_pod)
{
	const char *path = file_with("o.toml", "\npod = 1\n", 9);
	struct podctl_run r = {0};

	podctl_run(&r, "spawn", "--name", "web", "--overlay", "pod = 1",
	           "--json", NULL);
	cr_assert(strstr(error_message(&r, INSOMNIA_ERR_CONFIG),
	                 "--overlay:1:7: pod: expected table, found integer"));
	podctl_run_free(&r);
	podctl_run(&r, "spawn", "--name", "web", "--overlay-file", path,
	           "--json", NULL);
	cr_assert(strstr(error_message(&r, INSOMNIA_ERR_CONFIG),
	                 ":2:7: pod: expected table, found integer"));
	podctl_run_free(&r);
	podctl_run(&r, "spawn", "--name", "web", "--overlay", "[pod]\nname = 1",
	           "--json", NULL);
	cr_assert(strstr(error_message(&r, INSOMNIA_ERR_CONFIG),
	                 "--overlay:2:8: pod.name: expected string, found "
	                 "integer"));
	podctl_run_free(&r);
	assert_no_pod_dir("web");
}

/* The session's name, unless an overlay renames the pod, whichever
 * option carries it. */
Test(overlay_real, a_rename_works_through_either_overlay_option_on_resume)
{
	const char *path = file_with("o.toml", "[pod]\nname = \"api\"\n", 19);
	struct podctl_run r = {0};
	char id[64];
	json_t *v;
	pid_t pid;

	podctl_run(&r, "spawn", "--name", "web", "--json", NULL);
	pid = spawned_pid(&r);
	podctl_run_free(&r);
	podctl_run(&r, "sessions", "--json", NULL);
	v = podctl_json(&r);
	snprintf(id, sizeof id, "%s",
	         json_string_value(json_object_get(
	             json_array_get(json_object_get(v, "sessions"), 0), "id")));
	json_decref(v);
	podctl_run_free(&r);
	podctl_run(&r, "stop", "web", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	podctl_run_free(&r);
	e2e_assert_group_gone(pid);

	podctl_run(&r, "resume", id, "--overlay-file", path, "--json", NULL);
	pid = spawned_pid(&r);
	cr_assert(strstr(r.out, "\"name\":\"api\""), "%s", r.out);
	podctl_run_free(&r);
	podctl_run(&r, "stop", "api", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	podctl_run_free(&r);
	e2e_assert_group_gone(pid);

	podctl_run(&r, "resume", id, "--overlay", "[pod]\nname = \"db\"",
	           "--json", NULL);
	pid = spawned_pid(&r);
	cr_assert(strstr(r.out, "\"name\":\"db\""), "%s", r.out);
	podctl_run_free(&r);
	podctl_run(&r, "stop", "db", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	podctl_run_free(&r);
	e2e_assert_group_gone(pid);
}

/* ---- the name added without moving a line ---------------------------- */

/* The pod's message about the overlay, which it must reject. */
static void assert_pod_says(const char *overlay, const char *want)
{
	struct podctl_run r = {0};
	const char *msg;

	podctl_run(&r, "spawn", "--name", "web", "--overlay", overlay, "--json",
	           NULL);
	/* the pod's exit 2 is podctl's config error too */
	msg = error_message(&r, INSOMNIA_ERR_CONFIG);
	cr_assert(strstr(msg, want), "want \"%s\" in: %s", want, msg);
	podctl_run_free(&r);
}

Test(overlay_real, the_pods_positions_are_the_users_whatever_the_pod_table)
{
	/* a [pod] table the text ends in */
	assert_pod_says("# mine\n\n[pod]\n\ndescription = \"d\"\nnmae = 1\n",
	                "overlay:6:8: unknown key \"pod.nmae\"");
	/* dotted keys in the root table */
	assert_pod_says("# mine\n\npod.description = \"d\"\npod.nmae = 1",
	                "overlay:4:12: unknown key \"pod.nmae\"");
	/* no pod table at all */
	assert_pod_says("# mine\n\nx = 1\n", "overlay:3:5: unknown key \"x\"");
}

Test(overlay_real, a_pod_table_the_name_cannot_be_appended_to_is_refused)
{
	struct podctl_run r = {0};

	podctl_run(&r, "spawn", "--name", "web", "--overlay",
	           "pod = { description = \"d\" }", "--json", NULL);
	cr_assert(strstr(error_message(&r, INSOMNIA_ERR_CONFIG),
	                 "set name = \"web\" in its [pod] table"));
	podctl_run_free(&r);
	assert_no_pod_dir("web");
}

/* podctl reads a manifest for the name by the same rule. */
Test(overlay, a_nul_byte_in_the_manifest_podctl_reads_is_refused)
{
	static const char text[] = "[pod]\nname = \"web\"\n\0";
	struct podctl_run r = {0};
	char dir[512];

	snprintf(dir, sizeof dir, "%s/proj", e2e_home);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(mkdir(strcat(dir, "/.insomnia"), 0700), 0);
	file_with("proj/.insomnia/manifest.toml", text, sizeof text - 1);
	dir[strlen(dir) - strlen("/.insomnia")] = '\0';
	podctl_run(&r, "spawn", "--cwd", dir, "--json", NULL);
	cr_assert(strstr(error_message(&r, INSOMNIA_ERR_CONFIG),
	                 "manifest.toml: NUL byte at offset 19 (line 3, "
	                 "column 1)"),
	          "%s", r.out);
	podctl_run_free(&r);
	assert_no_pod_dir("web");
}
