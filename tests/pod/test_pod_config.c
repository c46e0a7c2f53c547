/* The pod's configuration: layers, precedence and schema errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"

TestSuite(pod_config, .init = th_setup, .fini = th_teardown);

/* Start with only an overlay; expect an exit before ready. */
static void refused(struct th_pod *p, const char *overlay, int code)
{
	const char *args[] = {"--overlay", overlay, NULL};

	cr_assert_not(th_start(p, NULL, args), "pod became ready");
	cr_assert_eq(th_wait(p), code, "exit %d; stderr:\n%s", p->status,
	             p->err);
}

static const char *in_root(const char *rel)
{
	static char path[TH_PATH_MAX];

	th_fmt(path, sizeof path, "%s/%s", th.root, rel);
	return path;
}

Test(pod_config, pod_refuses_unknown_key_naming_key_and_layer)
{
	struct th_pod p;

	refused(&p, "[pod]\nname = \"typo\"\nnmae = \"x\"\n",
	        insomnia_error_exit_code(INSOMNIA_ERR_CONFIG));
	th_assert_err_has(&p, "pod: overlay:3:");
	th_assert_err_has(&p, ": unknown key \"pod.nmae\"\n");
	/* Refused before a file is touched. */
	cr_assert_neq(access(th.run, F_OK), 0);
	th_pod_free(&p);
}

/* A top-level table is another tool's (docs/manifest.md): kept, warned
 * about; a plain top-level key is a typo. */
Test(pod_config, pod_refuses_unknown_top_level_key_naming_it)
{
	struct th_pod p;

	refused(&p, "supervise = 1\n[pod]\nname = \"typo\"\n",
	        insomnia_error_exit_code(INSOMNIA_ERR_CONFIG));
	th_assert_err_has(&p, "pod: overlay:1:13: unknown key \"supervise\"\n");
	th_pod_free(&p);
}

Test(pod_config, pod_refuses_wrong_type_naming_expected_and_found)
{
	struct th_pod p;

	refused(&p, "[pod]\nname = 42\n",
	        insomnia_error_exit_code(INSOMNIA_ERR_CONFIG));
	th_assert_err_has(&p, "pod: overlay:2:");
	th_assert_err_has(&p, ": pod.name: expected string, found integer\n");
	th_pod_free(&p);
}

Test(pod_config, pod_refuses_missing_name)
{
	struct th_pod p;

	refused(&p, "[pod]\ndescription = \"nameless\"\n",
	        insomnia_error_exit_code(INSOMNIA_ERR_CONFIG));
	th_assert_err_has(&p, "pod: pod.name is required");
	th_pod_free(&p);
}

Test(pod_config, pod_refuses_missing_name_without_any_layer)
{
	struct th_pod p;

	cr_assert_not(th_start(&p, NULL, NULL));
	cr_assert_eq(th_wait(&p), insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	             "%s", p.err);
	th_assert_err_has(&p, "pod: pod.name is required");
	th_pod_free(&p);
}

Test(pod_config, pod_refuses_bad_name_naming_the_layer)
{
	struct th_pod p;

	refused(&p, "[pod]\nname = \"../escape\"\n",
	        insomnia_error_exit_code(INSOMNIA_ERR_BAD_NAME));
	th_assert_err_has(&p, "pod: overlay:2:");
	th_assert_err_has(&p, ": pod.name: ");
	cr_assert_neq(access(th.run, F_OK), 0);
	th_pod_free(&p);
}

Test(pod_config, pod_reports_a_toml_syntax_error_with_the_layer)
{
	struct th_pod p;

	refused(&p, "[pod]\nname \"x\"\n",
	        insomnia_error_exit_code(INSOMNIA_ERR_CONFIG));
	th_assert_err_has(&p, "pod: overlay:2:");
	th_pod_free(&p);
}

Test(pod_config, pod_finds_project_manifest_walking_up_and_overlay_wins)
{
	const char *args[] = {"--overlay", "[pod]\ndescription = \"overlay\"\n",
	                      NULL};
	struct th_pod p;
	char line[TH_PATH_MAX + 64];

	th_write_file(
	    in_root("proj/.insomnia/manifest.toml"),
	    "[pod]\nname = \"fromproj\"\ndescription = \"project\"\n");
	th_write_file(in_root("proj/a/b/.keep"), "");
	cr_assert(th_start(&p, in_root("proj/a/b"), args), "%s", p.err);
	th_fmt(line, sizeof line, "pod: config: project manifest %s\n",
	       in_root("proj/.insomnia/manifest.toml"));
	th_assert_err_has(&p, line);
	th_assert_err_has(&p, "pod: config: overlay\n");
	th_assert_status(&p, "fromproj", "overlay");
	th_stop(&p);
	th_pod_free(&p);
}

Test(pod_config, pod_layers_project_manifest_over_user_manifest)
{
	struct th_pod p;
	char line[TH_PATH_MAX + 64];

	th_write_file(in_root("config/insomnia/manifest.toml"),
	              "[pod]\nname = \"fromuser\"\ndescription = \"user\"\n");
	th_write_file(in_root("proj/.insomnia/manifest.toml"),
	              "[pod]\nname = \"fromproj\"\n");
	cr_assert(th_start(&p, in_root("proj"), NULL), "%s", p.err);
	th_fmt(line, sizeof line, "pod: config: user manifest %s\n",
	       in_root("config/insomnia/manifest.toml"));
	th_assert_err_has(&p, line);
	th_assert_status(&p, "fromproj", "user");
	th_stop(&p);
	th_pod_free(&p);
}

Test(pod_config, pod_names_the_user_manifest_in_its_errors)
{
	struct th_pod p;
	char prefix[TH_PATH_MAX + 64];

	th_write_file(in_root("config/insomnia/manifest.toml"),
	              "[pod]\nname = \"u\"\ncolour = \"red\"\n");
	cr_assert_not(th_start(&p, NULL, NULL));
	cr_assert_eq(th_wait(&p), insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	             "%s", p.err);
	th_fmt(prefix, sizeof prefix, "pod: user manifest %s:3:",
	       in_root("config/insomnia/manifest.toml"));
	th_assert_err_has(&p, prefix);
	th_assert_err_has(&p, "unknown key \"pod.colour\"");
	th_pod_free(&p);
}

Test(pod_config, pod_uses_the_manifest_given_with_the_option)
{
	const char *args[] = {"--manifest", "../elsewhere/pod.toml", NULL};
	struct th_pod p;
	char line[TH_PATH_MAX + 64];

	/* A project manifest above cwd must lose to the named one. */
	th_write_file(in_root("work/.insomnia/manifest.toml"),
	              "[pod]\nname = \"searched\"\n");
	th_write_file(in_root("elsewhere/pod.toml"),
	              "[pod]\nname = \"named\"\ndescription = \"given\"\n");
	cr_assert(th_start(&p, NULL, args), "%s", p.err);
	th_fmt(line, sizeof line, "pod: config: project manifest %s/%s\n",
	       th.work, "../elsewhere/pod.toml");
	th_assert_err_has(&p, line);
	th_assert_status(&p, "named", "given");
	th_stop(&p);
	th_pod_free(&p);
}

Test(pod_config, pod_refuses_a_missing_manifest_given_with_the_option)
{
	const char *args[] = {"--manifest", "/nonexistent/manifest.toml",
	                      "--overlay", "[pod]\nname = \"x\"\n", NULL};
	struct th_pod p;

	cr_assert_not(th_start(&p, NULL, args));
	cr_assert_eq(th_wait(&p), insomnia_error_exit_code(INSOMNIA_ERR_CONFIG),
	             "%s", p.err);
	th_assert_err_has(&p, "pod: project manifest "
	                      "/nonexistent/manifest.toml: cannot read: No "
	                      "such file or directory\n");
	th_pod_free(&p);
}
