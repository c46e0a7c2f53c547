/* The manifest: the schema (pod/podconfig.c) and manifest_load
 * (pod/manifest.c) on real layers, every refusal at its exact
 * layer:line:col. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "podconfig.h"

static char dir[64];       /* this test's temporary dir */
static char manifest[256]; /* <dir>/proj/.insomnia/manifest.toml */
static struct pod_config cfg;
static struct manifest m;
static struct insomnia_error err;

static void setup(void)
{
	char path[128];

	snprintf(dir, sizeof dir, "/tmp/test-manifest-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	/* no user manifest */
	snprintf(path, sizeof path, "%s/xdg", dir);
	setenv("XDG_CONFIG_HOME", path, 1);
	snprintf(path, sizeof path, "%s/proj", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/proj/.insomnia", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(manifest, sizeof manifest, "%s/manifest.toml", path);
	memset(&cfg, 0, sizeof cfg);
	memset(&m, 0, sizeof m);
}

static void teardown(void)
{
	char path[128];

	manifest_free(&m);
	podconfig_free(&cfg);
	unlink(manifest);
	snprintf(path, sizeof path, "%s/proj/.insomnia", dir);
	rmdir(path);
	snprintf(path, sizeof path, "%s/proj", dir);
	rmdir(path);
	cr_assert_eq(rmdir(dir), 0, "something left in %s", dir);
}

TestSuite(manifest, .init = setup, .fini = teardown);

/* Load the overlay text (and the project manifest text, when not NULL)
 * as the pod does; 0 or -1 with err. */
static int load(const char *project, const char *overlay)
{
	struct podconfig_args a = {overlay, NULL, dir, NULL};

	if (project) {
		FILE *f = fopen(manifest, "w");
		cr_assert_not_null(f);
		fputs(project, f);
		cr_assert_eq(fclose(f), 0);
		a.manifest = manifest;
	}
	memset(&err, 0, sizeof err);
	if (podconfig_load(&a, &cfg, &err) < 0)
		return -1;
	return manifest_load(cfg.tree, "/pod/cwd", &m, &err);
}

static void ok(const char *overlay)
{
	manifest_free(&m); /* a refused load before it kept its tree */
	podconfig_free(&cfg);
	cr_assert_eq(load(NULL, overlay), 0, "refused: %s", err.message);
}

static void refused(const char *overlay, const char *message)
{
	cr_assert_eq(load(NULL, overlay), -1, "accepted:\n%s", overlay);
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG, "kind %d: %s", err.kind,
	             err.message);
	cr_assert_str_eq(err.message, message);
}

#define POD "[pod]\nname = \"web\"\n"

/* ---- the schema --------------------------------------------------- */

Test(manifest, unknown_key_in_pod)
{
	refused(POD "nmae = 1\n", "overlay:3:8: unknown key \"pod.nmae\"");
}

Test(manifest, unknown_key_in_a_process)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\ncomand = [\"y\"]\n",
	        "overlay:5:10: unknown key \"process.db.comand\"");
}

Test(manifest, unknown_key_in_a_process_subtable)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "stop = { signal = \"TERM\", grase = \"1s\" }\n",
	        "overlay:5:35: unknown key \"process.db.stop.grase\"");
}

Test(manifest, bad_process_name)
{
	refused(POD "[process.\".db\"]\ncommand = [\"x\"]\n",
	        "overlay:3:1: process.\\\".db\\\": not a valid name (1 to 63 "
	        "of A-Z a-z 0-9 . _ -, not starting with '.' or '-')");
}

Test(manifest, wrong_shape_names_the_element)
{
	refused(POD "[process.db]\ncommand = [\"x\", 1]\n",
	        "overlay:4:17: process.db.command: expected array of "
	        "strings, found integer in it");
	manifest_free(&m);
	podconfig_free(&cfg);
	refused(POD "[process.db]\ncommand = \"x\"\n",
	        "overlay:4:11: process.db.command: expected array of "
	        "strings, found string");
}

Test(manifest, unknown_top_level_key_is_refused)
{
	refused("x = 1\n" POD, "overlay:1:5: unknown key \"x\"");
}

Test(manifest, unknown_top_level_table_is_kept_and_warned_once)
{
	const struct toml_value *allow;

	cr_redirect_stderr();
	ok(POD "[[scope.allow]]\npath = \"/a\"\n[[scope.allow]]\n"
	       "path = \"/b\"\n[other]\nk = 1\n");
	allow = toml_lookup(cfg.tree, "scope.allow");
	cr_assert_eq(toml_type(allow), TOML_ARRAY);
	cr_assert_eq(toml_len(allow), 2);
	cr_assert_not_null(toml_lookup(cfg.tree, "other.k"));
	fflush(stderr);
	cr_assert_stderr_eq_str(
	    "pod: warning: overlay:3:3: unknown table [scope] kept, not used\n"
	    "pod: warning: overlay:7:1: unknown table [other] kept, not "
	    "used\n");
}

/* ---- commands ------------------------------------------------------- */

Test(manifest, empty_command)
{
	refused(POD "[process.db]\ncommand = []\n",
	        "overlay:4:11: process.db.command: empty command");
}

Test(manifest, empty_program_and_empty_shell)
{
	refused(POD "[process.db]\ncommand = [\"\", \"x\"]\n",
	        "overlay:4:12: process.db.command: empty program name");
	manifest_free(&m);
	podconfig_free(&cfg);
	refused(POD "[process.db]\nshell = \"\"\n",
	        "overlay:4:9: process.db.shell: empty");
}

Test(manifest, both_command_and_shell)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\nshell = \"y\"\n",
	        "overlay:5:9: process.db: both command and shell are set "
	        "(set one)");
}

Test(manifest, neither_command_nor_shell)
{
	refused(POD "[process.db]\nautostart = false\n",
	        "overlay:3:1: process.db: neither command nor shell is set");
}

Test(manifest, shell_runs_under_sh)
{
	ok(POD "[process.db]\nshell = \"exec redis-server\"\n");
	cr_assert_eq(m.nprocs, 1);
	cr_assert(m.procs[0].shell);
	cr_assert_eq(m.procs[0].argc, 3);
	cr_assert_str_eq(m.procs[0].argv[0], "/bin/sh");
	cr_assert_str_eq(m.procs[0].argv[1], "-c");
	cr_assert_str_eq(m.procs[0].argv[2], "exec redis-server");
	cr_assert_null(m.procs[0].argv[3]);
}

Test(manifest, nul_in_command_is_refused)
{
	refused(POD "[process.db]\ncommand = [\"a\\u0000b\"]\n",
	        "overlay:4:12: process.db.command: holds a NUL character");
}

/* ---- values ----------------------------------------------------------- */

Test(manifest, bad_duration)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "stop = { grace = \"5q\" }\n",
	        "overlay:5:18: process.db.stop.grace: bad duration \"5q\" "
	        "(use 250ms, 5s, 2m, 1h, 1m30s; at most 30d)");
}

Test(manifest, a_bare_number_is_not_a_duration)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "restart = { reset_after = \"60\" }\n",
	        "overlay:5:27: process.db.restart.reset_after: bad duration "
	        "\"60\" (use 250ms, 5s, 2m, 1h, 1m30s; at most 30d)");
}

Test(manifest, bad_backoff)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "restart = { backoff = \"30s..1s\" }\n",
	        "overlay:5:23: process.db.restart.backoff: 30s is more than "
	        "1s");
	manifest_free(&m);
	podconfig_free(&cfg);
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "restart = { backoff = \"1s\" }\n",
	        "overlay:5:23: process.db.restart.backoff: expected "
	        "\"MIN..MAX\" (e.g. \"100ms..30s\"), found \"1s\"");
}

Test(manifest, bad_signal)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "stop = { signal = \"TREM\" }\n",
	        "overlay:5:19: process.db.stop.signal: unknown signal "
	        "\"TREM\" (e.g. TERM, INT, QUIT, HUP, USR1, KILL)");
}

Test(manifest, bad_policy_and_condition)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "restart = { policy = \"sometimes\" }\n",
	        "overlay:5:22: process.db.restart.policy: unknown policy "
	        "\"sometimes\" (no, on-failure, always)");
	manifest_free(&m);
	podconfig_free(&cfg);
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "[process.api]\ncommand = [\"y\"]\n"
	            "depends_on = { db = \"healthy\" }\n",
	        "overlay:7:21: process.api.depends_on: unknown condition "
	        "\"healthy\" (started, ready, exited, succeeded)");
}

Test(manifest, bad_size)
{
	refused(POD "logs = { max_size = \"10XB\" }\n",
	        "overlay:3:21: pod.logs.max_size: bad size (bytes, or a "
	        "number with KB, MB, GB, KiB, MiB, GiB; from 128 KiB to 1 "
	        "TiB)");
}

/* A rotation renames every kept file: a tiny max_size or a huge keep
 * would make the pod rotate for every record and stall its loop. */
Test(manifest, log_sizes_below_128_kib_and_keep_above_100_are_refused)
{
	refused(POD "logs = { max_size = \"1B\", keep = 3 }\n",
	        "overlay:3:21: pod.logs.max_size: bad size (bytes, or a "
	        "number with KB, MB, GB, KiB, MiB, GiB; from 128 KiB to 1 "
	        "TiB)");
	manifest_free(&m);
	podconfig_free(&cfg);
	refused(POD "[process.a]\ncommand = [\"x\"]\n"
	            "logs = { max_size = 131071 }\n",
	        "overlay:5:21: process.a.logs.max_size: bad size (bytes, or a "
	        "number with KB, MB, GB, KiB, MiB, GiB; from 128 KiB to 1 "
	        "TiB)");
	manifest_free(&m);
	podconfig_free(&cfg);
	refused(POD "logs = { max_size = \"1MB\", keep = 101 }\n",
	        "overlay:3:35: pod.logs.keep: expected an integer from 0 to "
	        "100");
	manifest_free(&m);
	podconfig_free(&cfg);
	ok(POD "logs = { max_size = 131072, keep = 100 }\n"
	       "[process.a]\ncommand = [\"x\"]\n");
	cr_assert_eq(m.procs[0].logs.max_size, 131072);
	cr_assert_eq(m.procs[0].logs.keep, 100);
}

Test(manifest, bad_env_name)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "env = { \"1X\" = \"y\" }\n",
	        "overlay:5:16: process.db.env: \"1X\" is not a variable name "
	        "(A-Z a-z 0-9 _, not starting with a digit)");
}

Test(manifest, a_nul_in_an_env_name_is_named_as_such)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "env = { \"A\\u0000B\" = \"y\" }\n",
	        "overlay:5:22: process.db.env: a variable name holds a NUL "
	        "character");
}

Test(manifest, sizes_and_their_units)
{
	ok(POD
	   "logs = { max_size = \"200KiB\", keep = 0 }\n"
	   "[process.a]\ncommand = [\"x\"]\n"
	   "[process.b]\ncommand = [\"x\"]\nlogs = { max_size = \"1MB\" }\n"
	   "[process.c]\ncommand = [\"x\"]\nlogs = { max_size = 512000 }\n");
	cr_assert_eq(m.procs[0].logs.max_size, 200 * 1024);
	cr_assert_eq(m.procs[0].logs.keep, 0);
	/* a process's logs table overrides [pod]'s key by key */
	cr_assert_eq(m.procs[1].logs.max_size, 1000000);
	cr_assert_eq(m.procs[1].logs.keep, 0);
	cr_assert_eq(m.procs[2].logs.max_size, 512000);
}

/* ---- dependencies ----------------------------------------------------- */

Test(manifest, unknown_dependency)
{
	refused(POD "[process.api]\ncommand = [\"x\"]\n"
	            "depends_on = { dbb = \"started\" }\n",
	        "overlay:5:22: process.api.depends_on: unknown process "
	        "\"dbb\"");
}

Test(manifest, unknown_dependency_in_the_array_form)
{
	refused(POD "[process.api]\ncommand = [\"x\"]\n"
	            "depends_on = [\"dbb\"]\n",
	        "overlay:5:15: process.api.depends_on: unknown process "
	        "\"dbb\"");
}

Test(manifest, cycle_names_every_member)
{
	refused(POD "[process.api]\ncommand = [\"x\"]\n"
	            "depends_on = { db = \"started\" }\n"
	            "[process.db]\ncommand = [\"x\"]\n"
	            "depends_on = { cache = \"ready\" }\n"
	            "[process.cache]\ncommand = [\"x\"]\n"
	            "depends_on = [\"api\"]\n",
	        "overlay:5:21: dependency cycle: api -> db -> cache -> api");
}

Test(manifest, cycle_reached_through_an_outsider)
{
	/* web is not on the cycle: it is not named */
	refused(POD "[process.web]\ncommand = [\"x\"]\n"
	            "depends_on = [\"a\"]\n"
	            "[process.a]\ncommand = [\"x\"]\ndepends_on = [\"b\"]\n"
	            "[process.b]\ncommand = [\"x\"]\ndepends_on = [\"a\"]\n",
	        "overlay:8:15: dependency cycle: a -> b -> a");
}

Test(manifest, self_dependency_is_a_cycle)
{
	refused(POD "[process.db]\ncommand = [\"x\"]\n"
	            "depends_on = [\"db\"]\n",
	        "overlay:5:15: dependency cycle: db -> db");
}

Test(manifest, topological_order_keeps_manifest_order_among_independents)
{
	ok(POD "[process.api]\ncommand = [\"x\"]\n"
	       "depends_on = { db = \"ready\", cache = \"started\" }\n"
	       "[process.worker]\ncommand = [\"x\"]\n"
	       "[process.db]\ncommand = [\"x\"]\n"
	       "[process.cache]\ncommand = [\"x\"]\n"
	       "depends_on = { db = \"succeeded\" }\n"
	       "[process.cron]\ncommand = [\"x\"]\n");
	/* manifest: api worker db cache cron */
	size_t want[] = {1, 2, 3, 0, 4};
	cr_assert_eq(m.nprocs, 5);
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(m.order[i], want[i], "order[%zu] = %zu", i,
		             m.order[i]);
	cr_assert_eq(m.procs[0].ndeps, 2);
	cr_assert_eq(m.procs[0].deps[0].index, 2);
	cr_assert_eq(m.procs[0].deps[0].cond, DEP_READY);
	cr_assert_eq(m.procs[0].deps[1].index, 3);
	cr_assert_eq(m.procs[0].deps[1].cond, DEP_STARTED);
	cr_assert_eq(m.procs[3].deps[0].cond, DEP_SUCCEEDED);
	size_t i = 99;
	cr_assert_eq(manifest_find(&m, "cache", &i), &m.procs[3]);
	cr_assert_eq(i, 3);
	cr_assert_null(manifest_find(&m, "nope", NULL));
}

/* ---- ports and placeholders ------------------------------------------- */

Test(manifest, duplicate_port_in_a_process)
{
	refused(POD "[process.api]\ncommand = [\"x\"]\n"
	            "ports = [\"http\", \"http\"]\n",
	        "overlay:5:18: process.api.ports: duplicate port name \"http\" "
	        "(also process api's)");
}

Test(manifest, duplicate_port_across_processes)
{
	refused(POD "[process.a]\ncommand = [\"x\"]\nports = [\"http\"]\n"
	            "[process.b]\ncommand = [\"x\"]\nports = [\"http\"]\n",
	        "overlay:8:10: process.b.ports: duplicate port name \"http\" "
	        "(also process a's)");
}

Test(manifest, bad_port_name)
{
	refused(
	    POD "[process.a]\ncommand = [\"x\"]\nports = [\"Http\"]\n",
	    "overlay:5:10: process.a.ports: bad port name \"Http\" (1 to 32 "
	    "of a-z 0-9 _)");
}

Test(manifest, unknown_placeholder)
{
	refused(POD "[process.api]\ncommand = [\"x\", \"${port.htp}\"]\n"
	            "ports = [\"http\"]\n",
	        "overlay:4:17: process.api.command: unknown placeholder "
	        "${port.htp}");
}

Test(manifest, placeholders_in_env_and_cwd_are_checked)
{
	refused(POD "[process.api]\ncommand = [\"x\"]\n"
	            "env = { A = \"${pod.nam}\" }\n",
	        "overlay:5:13: process.api.env: unknown placeholder "
	        "${pod.nam}");
	manifest_free(&m);
	podconfig_free(&cfg);
	refused(POD "[process.api]\ncommand = [\"x\"]\ncwd = \"${x\"\n",
	        "overlay:5:7: process.api.cwd: unterminated \"${\" at byte 1 "
	        "(write \"$${\" for a literal \"${\")");
}

Test(manifest, ports_in_reach_are_own_and_direct_dependencies)
{
	ok(POD "[process.db]\ncommand = [\"x\"]\nports = [\"db\"]\n"
	       "[process.api]\nshell = \"x ${port.db} ${port.http} "
	       "${pod.name} ${pod.dir} ${session.dir} $${x}\"\n"
	       "ports = [\"http\"]\ndepends_on = [\"db\"]\n");
	manifest_free(&m);
	podconfig_free(&cfg);
	/* a dependency's dependency is out of reach */
	refused(POD "[process.db]\ncommand = [\"x\"]\nports = [\"db\"]\n"
	            "[process.api]\ncommand = [\"x\"]\ndepends_on = [\"db\"]\n"
	            "[process.web]\ncommand = [\"${port.db}\"]\n"
	            "depends_on = [\"api\"]\n",
	        "overlay:10:12: process.web.command: unknown placeholder "
	        "${port.db}");
}

/* ---- defaults and the rest ------------------------------------------- */

Test(manifest, defaults)
{
	const struct proc_spec *p;

	ok(POD "[process.db]\ncommand = [\"redis-server\"]\n");
	p = &m.procs[0];
	cr_assert_str_eq(p->name, "db");
	cr_assert_eq(p->argc, 1);
	cr_assert_null(p->argv[1]);
	cr_assert_not(p->shell);
	cr_assert_null(p->cwd);
	cr_assert_eq(p->nenv, 0);
	cr_assert_null(p->env[0]);
	cr_assert_not(p->env_clear);
	cr_assert(p->autostart);
	cr_assert_eq(p->restart.policy, RESTART_NO);
	cr_assert_eq(p->restart.backoff_min_ms, 100);
	cr_assert_eq(p->restart.backoff_max_ms, 30000);
	cr_assert_eq(p->restart.max, 5);
	cr_assert_eq(p->restart.reset_after_ms, 60000);
	cr_assert_eq(p->stop.signal, SIGTERM);
	cr_assert_eq(p->stop.grace_ms, 5000);
	cr_assert_eq(p->logs.max_size, 10000000);
	cr_assert_eq(p->logs.keep, 3);
	cr_assert_eq(p->ndeps, 0);
	cr_assert_eq(p->nports, 0);
	cr_assert_null(p->ports[0]);
	cr_assert_eq(m.order[0], 0);
}

Test(manifest, everything_set)
{
	const struct proc_spec *p;

	ok(POD "[process.db]\ncommand = [\"a\", \"b c\"]\n"
	       "env = { REDIS_X = \"1\", Y = \"${pod.dir}/s\" }\n"
	       "env_clear = true\nautostart = false\n"
	       "restart = { policy = \"on-failure\", backoff = \"0ms..1m30s\","
	       " max = 0, reset_after = \"2h\" }\n"
	       "stop = { signal = \"SIGINT\", grace = \"0s\" }\n"
	       "logs = { max_size = \"1GB\", keep = 7 }\n"
	       "ports = [\"http\", \"admin_2\"]\n");
	p = &m.procs[0];
	cr_assert_eq(p->argc, 2);
	cr_assert_str_eq(p->argv[1], "b c");
	cr_assert_eq(p->nenv, 2);
	cr_assert_str_eq(p->env[0], "REDIS_X=1");
	cr_assert_str_eq(p->env[1], "Y=${pod.dir}/s");
	cr_assert(p->env_clear);
	cr_assert_not(p->autostart);
	cr_assert_eq(p->restart.policy, RESTART_ON_FAILURE);
	cr_assert_eq(p->restart.backoff_min_ms, 0);
	cr_assert_eq(p->restart.backoff_max_ms, 90000);
	cr_assert_eq(p->restart.max, 0);
	cr_assert_eq(p->restart.reset_after_ms, 7200000);
	cr_assert_eq(p->stop.signal, SIGINT);
	cr_assert_eq(p->stop.grace_ms, 0);
	cr_assert_eq(p->logs.max_size, 1000000000);
	cr_assert_eq(p->logs.keep, 7);
	cr_assert_eq(p->nports, 2);
	cr_assert_str_eq(p->ports[1], "admin_2");
}

Test(manifest, no_process_table_is_no_process)
{
	ok(POD);
	cr_assert_eq(m.nprocs, 0);
}

Test(manifest, cwd_resolves_against_the_layer_that_set_it)
{
	char projdir[128];

	/* the project manifest sets a's cwd; the overlay sets b's */
	cr_assert_eq(load("[process.a]\ncommand = [\"x\"]\ncwd = \"sub\"\n"
	                  "[process.b]\ncommand = [\"x\"]\n"
	                  "[process.c]\ncommand = [\"x\"]\n",
	                  POD "[process.b]\ncwd = \"../o\"\n"),
	             0, "%s", err.message);
	snprintf(projdir, sizeof projdir, "%s/proj/.insomnia", dir);
	cr_assert_str_eq(m.procs[0].cwd, "sub");
	cr_assert_str_eq(m.procs[0].cwd_base, projdir);
	/* the overlay's dir is the pod's cwd (podconfig_args.cwd) */
	cr_assert_str_eq(m.procs[1].cwd, "../o");
	cr_assert_str_eq(m.procs[1].cwd_base, dir);
	/* unset: the pod's cwd, as given to manifest_load */
	cr_assert_null(m.procs[2].cwd);
	cr_assert_str_eq(m.procs[2].cwd_base, "/pod/cwd");
}

Test(manifest, errors_name_the_layer_that_set_the_value)
{
	cr_assert_eq(load("[process.a]\ncommand = [\"x\"]\n"
	                  "stop = { signal = \"NOPE\" }\n",
	                  POD),
	             -1);
	cr_assert(strstr(err.message, "project manifest "), "%s", err.message);
	cr_assert(strstr(err.message, "/proj/.insomnia/manifest.toml:3:19: "
	                              "process.a.stop.signal: unknown signal"),
	          "%s", err.message);
}

/* ---- readiness and liveness (ready = {...}, alive = {...}) ------------ */

#define PROC "[process.db]\ncommand = [\"x\"]\n"

/* One process with lines after PROC, loaded; its spec. */
static const struct proc_spec *one(const char *lines)
{
	char text[1024];

	snprintf(text, sizeof text, POD PROC "%s", lines);
	ok(text);
	cr_assert_eq(m.nprocs, 1);
	return &m.procs[0];
}

Test(manifest, no_ready_or_alive_table_is_probe_none)
{
	const struct proc_spec *p = one("");

	cr_assert_eq(p->ready.kind, PROBE_NONE);
	cr_assert_eq(p->alive.kind, PROBE_NONE);
	cr_assert_not(proc_spec_wants_notify(p));
	cr_assert_eq(p->nlisten, 0);
	cr_assert_null(p->listen);
}

Test(manifest, ready_notify_with_its_defaults)
{
	const struct proc_spec *p = one("ready = { notify = true }\n");

	cr_assert_eq(p->ready.kind, PROBE_NOTIFY);
	cr_assert_eq(p->ready.timeout_ms, 30000);
	cr_assert_eq(p->ready.interval_ms, 0);
	cr_assert(proc_spec_wants_notify(p));
}

Test(manifest, ready_notify_with_a_timeout)
{
	const struct proc_spec *p =
	    one("ready = { notify = true, timeout = \"10s\" }\n");

	cr_assert_eq(p->ready.timeout_ms, 10000);
}

Test(manifest, ready_fd_as_a_section_table)
{
	const struct proc_spec *p = one("[process.db.ready]\nfd = 3\n");

	cr_assert_eq(p->ready.kind, PROBE_FD);
	cr_assert_eq(p->ready.fd, 3);
	cr_assert_eq(p->ready.timeout_ms, 30000);
	cr_assert_not(proc_spec_wants_notify(p));
}

Test(manifest, ready_fd_after_the_listen_sockets)
{
	const struct proc_spec *p =
	    one("ports = [\"a\", { name = \"http\", listen = true }, "
	        "{ name = \"rpc\", listen = true }]\n"
	        "ready = { fd = 5 }\n");

	cr_assert_eq(p->ready.fd, 5);
	cr_assert_eq(p->nlisten, 2);
}

Test(manifest, ready_log_keeps_the_regex)
{
	const struct proc_spec *p =
	    one("ready = { log = \"^Ready to accept( connections)?$\" }\n");

	cr_assert_eq(p->ready.kind, PROBE_LOG);
	cr_assert_str_eq(p->ready.pattern, "^Ready to accept( connections)?$");
	cr_assert_eq(p->ready.timeout_ms, 30000);
	cr_assert_eq(p->ready.interval_ms, 0);
}

Test(manifest, ready_tcp_with_its_defaults)
{
	const struct proc_spec *p = one(
	    "ports = [\"db\"]\nready = { tcp = \"127.0.0.1:${port.db}\" }\n");

	cr_assert_eq(p->ready.kind, PROBE_TCP);
	cr_assert_str_eq(p->ready.target, "127.0.0.1:${port.db}");
	cr_assert_eq(p->ready.timeout_ms, 30000);
	cr_assert_eq(p->ready.interval_ms, 1000);
}

Test(manifest, ready_http_with_an_interval)
{
	const struct proc_spec *p =
	    one("ports = [\"http\"]\n"
	        "ready = { http = \"http://127.0.0.1:${port.http}/\", "
	        "interval = \"100ms\", timeout = \"1m\" }\n");

	cr_assert_eq(p->ready.kind, PROBE_HTTP);
	cr_assert_str_eq(p->ready.target, "http://127.0.0.1:${port.http}/");
	cr_assert_eq(p->ready.interval_ms, 100);
	cr_assert_eq(p->ready.timeout_ms, 60000);
}

Test(manifest, ready_exec_keeps_its_argv)
{
	const struct proc_spec *p =
	    one("ready = { exec = [\"test\", \"-e\", \"${pod.dir}/x\"] }\n");

	cr_assert_eq(p->ready.kind, PROBE_EXEC);
	cr_assert_eq(p->ready.argc, 3);
	cr_assert_str_eq(p->ready.argv[0], "test");
	cr_assert_str_eq(p->ready.argv[2], "${pod.dir}/x");
	cr_assert_null(p->ready.argv[3]);
	cr_assert_eq(p->ready.interval_ms, 1000);
	cr_assert_eq(p->ready.timeout_ms, 30000);
}

Test(manifest, alive_tcp_with_its_defaults)
{
	const struct proc_spec *p = one("alive = { tcp = \"[::1]:8080\" }\n");

	cr_assert_eq(p->alive.kind, PROBE_TCP);
	cr_assert_str_eq(p->alive.target, "[::1]:8080");
	cr_assert_eq(p->alive.interval_ms, 1000);
	cr_assert_eq(p->alive.timeout_ms, 1000); /* 5s capped at 1s */
	cr_assert_eq(p->alive.failures, 3);
	cr_assert_eq(p->ready.kind, PROBE_NONE);
}

Test(manifest, alive_http_timeout_defaults_to_5s_under_a_long_interval)
{
	const struct proc_spec *p =
	    one("alive = { http = \"http://localhost:80/health\", "
	        "interval = \"30s\" }\n");

	cr_assert_eq(p->alive.kind, PROBE_HTTP);
	cr_assert_eq(p->alive.interval_ms, 30000);
	cr_assert_eq(p->alive.timeout_ms, 5000);
	cr_assert_eq(p->alive.failures, 3);
}

Test(manifest, alive_exec_with_everything_set)
{
	const struct proc_spec *p =
	    one("alive = { exec = [\"true\"], interval = \"2s\", "
	        "timeout = \"2s\", failures = 1 }\n");

	cr_assert_eq(p->alive.kind, PROBE_EXEC);
	cr_assert_eq(p->alive.argc, 1);
	cr_assert_str_eq(p->alive.argv[0], "true");
	cr_assert_eq(p->alive.interval_ms, 2000);
	cr_assert_eq(p->alive.timeout_ms, 2000);
	cr_assert_eq(p->alive.failures, 1);
}

Test(manifest, alive_watchdog_fails_at_the_first_missed_deadline)
{
	const struct proc_spec *p = one("alive = { watchdog = \"2s\" }\n");

	cr_assert_eq(p->alive.kind, PROBE_WATCHDOG);
	cr_assert_eq(p->alive.interval_ms, 2000);
	cr_assert_eq(p->alive.failures, 1);
	cr_assert(proc_spec_wants_notify(p));
}

Test(manifest, ready_and_alive_together)
{
	const struct proc_spec *p =
	    one("ports = [\"http\"]\n"
	        "ready = { notify = true }\n"
	        "alive = { tcp = \"127.0.0.1:${port.http}\", failures = 5 }\n");

	cr_assert_eq(p->ready.kind, PROBE_NOTIFY);
	cr_assert_eq(p->alive.kind, PROBE_TCP);
	cr_assert_eq(p->alive.failures, 5);
}

Test(manifest, ports_mix_strings_and_tables)
{
	const struct proc_spec *p =
	    one("ports = [\"admin\", { name = \"http\", listen = true }, "
	        "{ name = \"rpc\" }, { name = \"udp\", listen = false }]\n");

	cr_assert_eq(p->nports, 4);
	cr_assert_str_eq(p->ports[0], "admin");
	cr_assert_str_eq(p->ports[1], "http");
	cr_assert_str_eq(p->ports[2], "rpc");
	cr_assert_str_eq(p->ports[3], "udp");
	cr_assert_null(p->ports[4]);
	cr_assert_not(p->listen[0]);
	cr_assert(p->listen[1]);
	cr_assert_not(p->listen[2]);
	cr_assert_not(p->listen[3]);
	cr_assert_eq(p->nlisten, 1);
}

Test(manifest, idle_timeout)
{
	ok(POD "idle_timeout = \"15m\"\n");
	cr_assert_eq(cfg.idle_timeout_ms, 15 * 60 * 1000);
}

Test(manifest, no_idle_timeout_is_zero)
{
	ok(POD);
	cr_assert_eq(cfg.idle_timeout_ms, 0);
}

/* One process with lines after PROC (its line 5 on), refused with
 * message. */
static void proc_refused(const char *lines, const char *message)
{
	char text[1024];

	manifest_free(&m);
	podconfig_free(&cfg);
	snprintf(text, sizeof text, POD PROC "%s", lines);
	refused(text, message);
}

Test(manifest, a_probe_table_names_exactly_one_kind)
{
	proc_refused("ready = { notify = true, tcp = \"1.2.3.4:5\" }\n",
	             "overlay:5:32: process.db.ready: two kinds, notify and "
	             "tcp (one per table)");
	proc_refused("alive = { exec = [\"true\"], watchdog = \"1s\" }\n",
	             "overlay:5:39: process.db.alive: two kinds, exec and "
	             "watchdog (one per table)");
	proc_refused("ready = { timeout = \"1s\" }\n",
	             "overlay:5:9: process.db.ready: no kind (set one of "
	             "notify, fd, log, tcp, http, exec)");
	proc_refused("[process.db.alive]\nfailures = 2\n",
	             "overlay:5:1: process.db.alive: no kind (set one of tcp, "
	             "http, exec, watchdog)");
}

Test(manifest, readiness_kinds_are_refused_in_alive)
{
	proc_refused("alive = { notify = true }\n",
	             "overlay:5:20: process.db.alive.notify: not a liveness "
	             "check (alive takes tcp, http, exec or watchdog; notify "
	             "is for ready)");
	proc_refused("alive = { fd = 3 }\n",
	             "overlay:5:16: process.db.alive.fd: not a liveness check "
	             "(alive takes tcp, http, exec or watchdog; fd is for "
	             "ready)");
	proc_refused("alive = { log = \"x\" }\n",
	             "overlay:5:17: process.db.alive.log: not a liveness check "
	             "(alive takes tcp, http, exec or watchdog; log is for "
	             "ready)");
}

Test(manifest, the_watchdog_is_refused_in_ready)
{
	proc_refused("ready = { watchdog = \"1s\" }\n",
	             "overlay:5:22: process.db.ready.watchdog: not a readiness "
	             "check (ready takes notify, fd, log, tcp, http or exec; "
	             "watchdog is for alive)");
}

Test(manifest, an_unknown_key_in_a_probe_table)
{
	proc_refused("ready = { nofity = true }\n",
	             "overlay:5:20: unknown key \"process.db.ready.nofity\"");
	proc_refused("ready = { notify = 1 }\n",
	             "overlay:5:20: process.db.ready.notify: expected boolean, "
	             "found integer");
	proc_refused("ready = { notify = false }\n",
	             "overlay:5:20: process.db.ready.notify: only true (leave "
	             "ready out for no readiness check)");
}

Test(manifest, fd_outside_3_to_255)
{
	proc_refused("ready = { fd = 2 }\n",
	             "overlay:5:16: process.db.ready.fd: expected an integer "
	             "from 3 to 255 (0, 1 and 2 are stdin, stdout and "
	             "stderr)");
	proc_refused("ready = { fd = 256 }\n",
	             "overlay:5:16: process.db.ready.fd: expected an integer "
	             "from 3 to 255 (0, 1 and 2 are stdin, stdout and "
	             "stderr)");
}

/* The pod holds a listen port's socket: a connect to it always
 * succeeds (the backlog), so a tcp check there would prove nothing. */
Test(manifest, tcp_check_of_a_listen_port)
{
	proc_refused("ports = [\"admin\", { name = \"http\", listen = true }]\n"
	             "alive = { tcp = \"127.0.0.1:${port.http}\" }\n",
	             "overlay:6:17: process.db.alive.tcp: a tcp check of a "
	             "listen port always connects (the pod holds the "
	             "socket, the kernel queues the connection): use http, "
	             "exec or notify");
	ok(POD PROC "ports = [\"admin\", { name = \"http\", listen = true }]\n"
	            "alive = { tcp = \"127.0.0.1:${port.admin}\" }\n"
	            "ready = { http = \"http://127.0.0.1:${port.http}/\" }\n");
}

Test(manifest, fd_on_a_listen_socket)
{
	/* LISTEN_FDS=2: http at fd 3, rpc at fd 4; admin is no socket */
	proc_refused("ports = [\"admin\", { name = \"http\", listen = true }, "
	             "{ name = \"rpc\", listen = true }]\nready = { fd = 4 }\n",
	             "overlay:6:16: process.db.ready.fd: fd 4 is port "
	             "\"rpc\"'s listening socket (LISTEN_FDS: fds 3 to 4); "
	             "use 5 or more");
	proc_refused("ports = [{ name = \"http\", listen = true }]\n"
	             "ready = { fd = 3 }\n",
	             "overlay:6:16: process.db.ready.fd: fd 3 is port "
	             "\"http\"'s listening socket (LISTEN_FDS: fds 3 to 3); "
	             "use 4 or more");
}

Test(manifest, a_regex_regcomp_refuses_with_its_reason)
{
	proc_refused("ready = { log = \"(ready\" }\n",
	             "overlay:5:17: process.db.ready.log: bad regex "
	             "\"(ready\": Unmatched ( or \\(");
	proc_refused("ready = { log = \"\" }\n",
	             "overlay:5:17: process.db.ready.log: empty regex (it "
	             "matches every line)");
}

/* glibc takes them, and "^(a|a)*(a*)*\2\2x$" on 200 a's froze the pod */
Test(manifest, a_regex_with_a_back_reference_is_refused)
{
	proc_refused("ready = { log = '^(a|a)*(a*)*\\2\\2x$' }\n",
	             "overlay:5:17: process.db.ready.log: back-references "
	             "(\\1 ... \\9) are not allowed: matching them can "
	             "take exponential time");
	ok(POD PROC "ready = { log = 'port \\$?[0-9]+ \\\\1' }\n");
}

Test(manifest, interval_only_for_polled_kinds)
{
	proc_refused("ready = { notify = true, interval = \"1s\" }\n",
	             "overlay:5:37: process.db.ready.interval: only for tcp, "
	             "http and exec (notify, fd and log are not polled)");
	proc_refused("ready = { log = \"x\", interval = \"1s\" }\n",
	             "overlay:5:33: process.db.ready.interval: only for tcp, "
	             "http and exec (notify, fd and log are not polled)");
	proc_refused("alive = { watchdog = \"1s\", interval = \"1s\" }\n",
	             "overlay:5:39: process.db.alive.interval: only for tcp, "
	             "http and exec (the watchdog's value is its deadline)");
	proc_refused("alive = { watchdog = \"1s\", timeout = \"1s\" }\n",
	             "overlay:5:38: process.db.alive.timeout: not for the "
	             "watchdog (its value is its deadline)");
}

Test(manifest, failures_only_in_alive)
{
	proc_refused("ready = { exec = [\"x\"], failures = 2 }\n",
	             "overlay:5:36: process.db.ready.failures: only for alive "
	             "(readiness fails once, at its timeout)");
	proc_refused("alive = { tcp = \"127.0.0.1:1\", failures = 0 }\n",
	             "overlay:5:43: process.db.alive.failures: expected an "
	             "integer from 1 to 1000000");
}

Test(manifest, durations_must_be_positive)
{
	proc_refused("ready = { notify = true, timeout = \"0s\" }\n",
	             "overlay:5:36: process.db.ready.timeout: must be more "
	             "than 0s");
	proc_refused("alive = { watchdog = \"0ms\" }\n",
	             "overlay:5:22: process.db.alive.watchdog: must be more "
	             "than 0s");
	proc_refused("alive = { tcp = \"127.0.0.1:1\", interval = \"0s\" }\n",
	             "overlay:5:43: process.db.alive.interval: must be more "
	             "than 0s");
	proc_refused("ready = { fd = 3, timeout = \"5\" }\n",
	             "overlay:5:29: process.db.ready.timeout: bad duration "
	             "\"5\" (use 250ms, 5s, 2m, 1h, 1m30s; at most 30d)");
}

Test(manifest, an_alive_timeout_over_its_interval)
{
	proc_refused("alive = { tcp = \"127.0.0.1:1\", interval = \"1500ms\", "
	             "timeout = \"2s\" }\n",
	             "overlay:5:63: process.db.alive.timeout: 2s is more than "
	             "the interval, 1500ms (a try ends before the next "
	             "begins)");
	proc_refused("alive = { http = \"http://127.0.0.1:1/\", "
	             "timeout = \"2s\" }\n",
	             "overlay:5:51: process.db.alive.timeout: 2s is more than "
	             "the interval, 1s (a try ends before the next begins)");
}

Test(manifest, an_empty_exec)
{
	proc_refused("ready = { exec = [] }\n",
	             "overlay:5:18: process.db.ready.exec: empty command");
	proc_refused("alive = { exec = [\"\", \"a\"] }\n",
	             "overlay:5:19: process.db.alive.exec: empty program name");
}

Test(manifest, placeholders_in_probes_have_the_commands_ports_in_reach)
{
	proc_refused("ready = { tcp = \"127.0.0.1:${port.htp}\" }\n"
	             "ports = [\"http\"]\n",
	             "overlay:5:17: process.db.ready.tcp: unknown placeholder "
	             "${port.htp}");
	proc_refused("alive = { http = \"http://127.0.0.1:${port.x}/\" }\n",
	             "overlay:5:18: process.db.alive.http: unknown placeholder "
	             "${port.x}");
	proc_refused("ready = { exec = [\"x\", \"${pod.nam}\"] }\n",
	             "overlay:5:24: process.db.ready.exec: unknown placeholder "
	             "${pod.nam}");
	/* a dependency's port is in reach, as in command */
	manifest_free(&m);
	podconfig_free(&cfg);
	ok(POD "[process.db]\ncommand = [\"x\"]\nports = [\"db\"]\n"
	       "[process.api]\ncommand = [\"x\"]\ndepends_on = [\"db\"]\n"
	       "ready = { exec = [\"ping\", \"${port.db}\"] }\n"
	       "alive = { tcp = \"localhost:${port.db}\" }\n");
	cr_assert_str_eq(m.procs[1].alive.target, "localhost:${port.db}");
}

Test(manifest, a_tcp_target_is_host_and_port)
{
	proc_refused("ready = { tcp = \"127.0.0.1\" }\n",
	             "overlay:5:17: process.db.ready.tcp: expected "
	             "\"host:port\" (e.g. \"127.0.0.1:${port.http}\"), found "
	             "\"127.0.0.1\"");
	proc_refused("ready = { tcp = \"example.com:80\" }\n",
	             "overlay:5:17: process.db.ready.tcp: host \"example.com\" "
	             "is not localhost, an IPv4 address or an [IPv6] one (a "
	             "probe makes no DNS lookup)");
	proc_refused("alive = { tcp = \"::1:80\" }\n",
	             "overlay:5:17: process.db.alive.tcp: host \"::1\" is not "
	             "localhost, an IPv4 address or an [IPv6] one (a probe "
	             "makes no DNS lookup)");
	proc_refused(
	    "ready = { tcp = \"127.0.0.1:65536\" }\n",
	    "overlay:5:17: process.db.ready.tcp: port \"65536\" is not "
	    "a number from 1 to 65535 or a ${port.NAME}");
}

Test(manifest, an_http_target_is_a_plain_http_url)
{
	proc_refused("ready = { http = \"https://127.0.0.1/\" }\n",
	             "overlay:5:18: process.db.ready.http: https is not "
	             "supported (the probe speaks plain HTTP: use http://)");
	proc_refused("alive = { http = \"127.0.0.1:80/health\" }\n",
	             "overlay:5:18: process.db.alive.http: expected a URL "
	             "starting with http://host (e.g. "
	             "\"http://127.0.0.1:${port.http}/health\"), found "
	             "\"127.0.0.1:80/health\"");
}

Test(manifest, a_bad_port_element)
{
	proc_refused(
	    "ports = [\"a\", 1]\n",
	    "overlay:5:15: process.db.ports: expected array of strings "
	    "and tables, found integer in it");
	proc_refused("ports = [{ listen = true }]\n",
	             "overlay:5:10: process.db.ports: a port table without a "
	             "name (e.g. { name = \"http\", listen = true })");
	proc_refused("ports = [{ name = \"a\", listn = true }]\n",
	             "overlay:5:32: unknown key \"process.db.ports.listn\"");
	proc_refused(
	    "ports = [{ name = \"A\" }]\n",
	    "overlay:5:19: process.db.ports: bad port name \"A\" (1 to "
	    "32 of a-z 0-9 _)");
	proc_refused(
	    "ports = [\"a\", { name = \"a\", listen = true }]\n",
	    "overlay:5:24: process.db.ports: duplicate port name \"a\" "
	    "(also process db's)");
}

Test(manifest, a_bad_idle_timeout)
{
	refused(POD "idle_timeout = \"0s\"\n",
	        "overlay:3:16: pod.idle_timeout: must be more than 0s (leave "
	        "it out to never stop when idle)");
	manifest_free(&m);
	podconfig_free(&cfg);
	refused(POD "idle_timeout = \"15\"\n",
	        "overlay:3:16: pod.idle_timeout: bad duration \"15\" (use "
	        "250ms, 5s, 2m, 1h, 1m30s; at most 30d)");
	manifest_free(&m);
	podconfig_free(&cfg);
	refused(POD "idle_timeout = 15\n",
	        "overlay:3:16: pod.idle_timeout: expected string, found "
	        "integer");
}

/* A resumed session reads its recorded config (the merged tree, written
 * by toml_write into session.toml) as a layer: the new keys and the new
 * shape of ports come back whole. */
Test(manifest, probes_ports_and_idle_timeout_survive_the_recorded_config)
{
	struct podconfig_args a = {NULL, NULL, NULL, NULL};
	struct toml_value *session;
	char *text;
	size_t len;

	ok(POD
	   "idle_timeout = \"15m\"\n" PROC
	   "ports = [{ name = \"http\", listen = true }]\n"
	   "ready = { notify = true, timeout = \"10s\" }\n"
	   "alive = { http = \"http://127.0.0.1:${port.http}/\", failures = 5 "
	   "}\n"
	   "[process.web]\ncommand = [\"y\"]\n"
	   "ports = [\"admin\", { name = \"rpc\", listen = true }]\n"
	   "ready = { exec = [\"test\", \"-e\", \"f\"], interval = \"2s\" }\n"
	   "alive = { watchdog = \"3s\" }\n");
	text = toml_write(cfg.tree, &len);
	cr_assert_not_null(text);
	session = toml_parse(text, len, "session 1", NULL, &err);
	cr_assert_not_null(session, "%s\n%s", err.message, text);
	manifest_free(&m);
	podconfig_free(&cfg);
	a.cwd = dir;
	a.session = session;
	cr_assert_eq(podconfig_load(&a, &cfg, &err), 0, "%s\n%s", err.message,
	             text);
	cr_assert_eq(manifest_load(cfg.tree, "/", &m, &err), 0, "%s\n%s",
	             err.message, text);
	toml_free(session);
	free(text);
	cr_assert_eq(cfg.idle_timeout_ms, 900000);
	cr_assert_eq(m.procs[0].nlisten, 1);
	cr_assert(m.procs[0].listen[0]);
	cr_assert_eq(m.procs[0].ready.kind, PROBE_NOTIFY);
	cr_assert_eq(m.procs[0].ready.timeout_ms, 10000);
	cr_assert_eq(m.procs[0].alive.kind, PROBE_HTTP);
	cr_assert_eq(m.procs[0].alive.failures, 5);
	cr_assert_eq(m.procs[1].nports, 2);
	cr_assert_not(m.procs[1].listen[0]);
	cr_assert(m.procs[1].listen[1]);
	cr_assert_eq(m.procs[1].ready.kind, PROBE_EXEC);
	cr_assert_eq(m.procs[1].ready.argc, 3);
	cr_assert_eq(m.procs[1].ready.interval_ms, 2000);
	cr_assert_eq(m.procs[1].alive.kind, PROBE_WATCHDOG);
	cr_assert_eq(m.procs[1].alive.interval_ms, 3000);
}

/* The overlay cannot swap a manifest's kind for another: the tables
 * merge key by key, and the error says so. */
Test(manifest, two_kinds_from_two_layers_name_both_layers)
{
	cr_assert_eq(load("[process.db]\ncommand = [\"x\"]\n"
	                  "ready = { notify = true }\n",
	                  POD "[process.db.ready]\nfd = 3\n"),
	             -1);
	cr_assert(strstr(err.message, "overlay:4:6: process.db.ready: two "
	                              "kinds, notify and fd (one per table; "
	                              "notify is from project manifest "),
	          "%s", err.message);
	cr_assert(strstr(err.message, "/proj/.insomnia/manifest.toml, fd from "
	                              "overlay: layers merge key by key, so "
	                              "one cannot replace another's kind)"),
	          "%s", err.message);
}
