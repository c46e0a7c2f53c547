/* The pod binary and its manifest: a bad one refused before the ready
 * line with exit 2, another tool's table kept and warned about. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"
#include "toml.h"

TestSuite(pod_manifest, .init = th_setup, .fini = th_teardown);

static void refused(struct th_pod *p, const char *overlay)
{
	const char *args[] = {"--overlay", overlay, NULL};

	cr_assert_not(th_start(p, NULL, args), "pod became ready");
	cr_assert_eq(th_wait(p), insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	             "exit %d; stderr:\n%s", p->status, p->err);
	cr_assert_eq(insomnia_error_exit_code(INSOMNIA_ERR_CONFIG), 2);
	th_assert_err_lacks(p, "INSOMNIA-READY");
	/* refused before the runtime dir or a session was made */
	cr_assert_neq(access(th.run, F_OK), 0);
}

Test(pod_manifest, a_cycle_is_refused_naming_it)
{
	struct th_pod p;

	refused(&p, "[pod]\nname = \"web\"\n"
	            "[process.api]\ncommand = [\"true\"]\n"
	            "depends_on = { db = \"started\" }\n"
	            "[process.db]\ncommand = [\"true\"]\n"
	            "depends_on = [\"api\"]\n");
	th_assert_err_has(&p, "pod: overlay:5:21: dependency cycle: "
	                      "api -> db -> api\n");
	th_pod_free(&p);
}

Test(pod_manifest, an_unknown_dependency_is_refused_naming_it)
{
	struct th_pod p;

	refused(&p, "[pod]\nname = \"web\"\n"
	            "[process.api]\ncommand = [\"true\"]\n"
	            "depends_on = { dbb = \"ready\" }\n");
	th_assert_err_has(&p, "pod: overlay:5:22: process.api.depends_on: "
	                      "unknown process \"dbb\"\n");
	th_pod_free(&p);
}

Test(pod_manifest, an_unknown_key_in_a_process_is_refused)
{
	struct th_pod p;

	refused(&p, "[pod]\nname = \"web\"\n"
	            "[process.api]\ncommand = [\"true\"]\nrestrat = {}\n");
	th_assert_err_has(&p, "pod: overlay:5:11: unknown key "
	                      "\"process.api.restrat\"\n");
	th_pod_free(&p);
}

Test(pod_manifest, a_ready_table_with_two_kinds_is_refused)
{
	struct th_pod p;

	refused(&p, "[pod]\nname = \"web\"\n"
	            "[process.api]\ncommand = [\"true\"]\n"
	            "ready = { fd = 3, log = \"^up$\" }\n");
	th_assert_err_has(&p, "pod: overlay:5:25: process.api.ready: two "
	                      "kinds, fd and log (one per table)\n");
	th_pod_free(&p);
}

/* The session dir from the pod's "session dir PATH" line. */
static void session_dir(const struct th_pod *p, char *out, size_t size)
{
	const char *s = strstr(p->err, "pod: session dir ");
	size_t len;

	cr_assert_not_null(s, "%s", p->err);
	s += strlen("pod: session dir ");
	len = strcspn(s, "\n");
	cr_assert_lt(len, size);
	memcpy(out, s, len);
	out[len] = '\0';
}

Test(pod_manifest, another_tools_table_is_kept_and_warned_about_once)
{
	const char *args[] = {"--overlay",
	                      "[pod]\nname = \"web\"\n"
	                      "[[scope.allow]]\npath = \"/srv\"\n"
	                      "[[scope.allow]]\npath = \"/tmp\"\n",
	                      NULL};
	struct insomnia_error err;
	struct toml_value *doc;
	const struct toml_value *allow;
	struct th_pod p;
	char dir[TH_PATH_MAX], path[TH_PATH_MAX + 16], *text;
	const char *s, *warn;

	cr_assert(th_start(&p, NULL, args), "not ready; stderr:\n%s", p.err);
	warn = "pod: warning: overlay:3:3: unknown table [scope] kept, not "
	       "used\n";
	th_assert_err_has(&p, warn);
	/* once */
	cr_assert_null(
	    strstr(strstr(p.err, warn) + strlen(warn), "unknown table"));
	session_dir(&p, dir, sizeof dir);
	th_stop(&p);
	th_fmt(path, sizeof path, "%s/session.toml", dir);
	text = th_read_file(path);
	doc = toml_parse(text, strlen(text), "session.toml", NULL, &err);
	cr_assert_not_null(doc, "%s", err.message);
	allow = toml_lookup(doc, "config.scope.allow");
	cr_assert_eq(toml_type(allow), TOML_ARRAY, "%s", text);
	cr_assert_eq(toml_len(allow), 2);
	cr_assert(toml_as_string(
	    toml_table_get(toml_array_at(allow, 1), "path"), &s, NULL));
	cr_assert_str_eq(s, "/tmp");
	toml_free(doc);
	th_pod_free(&p);
}

Test(pod_manifest, a_good_manifest_starts)
{
	const char *args[] = {
	    "--overlay",
	    "[pod]\nname = \"web\"\nlogs = { max_size = \"1MB\", keep = 2 }\n"
	    "[process.db]\nshell = \"exec sleep 1000\"\nports = [\"db\"]\n"
	    /* runs on (policy always: exiting before ready fails the
	     * start, docs/supervision.md) */
	    "[process.api]\ncommand = [\"sleep\", \"${port.db}\"]\n"
	    "depends_on = { db = \"ready\" }\n"
	    "restart = { policy = \"always\", backoff = \"0ms..1s\" }\n"
	    "stop = { signal = \"INT\", grace = \"1s\" }\n",
	    NULL};
	struct th_pod p;

	cr_assert(th_start(&p, NULL, args), "not ready; stderr:\n%s", p.err);
	th_assert_err_lacks(&p, "warning");
	th_stop(&p);
	th_pod_free(&p);
}
