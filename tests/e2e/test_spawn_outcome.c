/* How a spawn's failure reads, from the library alone: one kind per
 * failure whichever layer catches it (a pod's own exit code is its
 * kind), and a pod dir that tells "failed to start" from "crashed" and
 * "stopped cleanly", with the exit status when known. */
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <insomnia/pods.h>
#include <insomnia/reap.h>
#include <insomnia/watch.h>

#include "harness.h"

TestSuite(spawn_outcome, .init = e2e_setup, .fini = e2e_teardown,
          .timeout = 30);

static void use_real_pod(void)
{
	cr_assert_not_null(getenv("INSOMNIA_TEST_POD"));
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

static struct insomnia_error spawn_must_fail(struct insomnia_spawn_options *o)
{
	struct insomnia_spawn_result r;
	struct insomnia_error err;

	cr_assert_eq(insomnia_spawn(o, &r, &err), -1, "spawn succeeded");
	return err;
}

static struct insomnia_pod_info find(const char *name)
{
	struct insomnia_pod_info info;
	struct insomnia_error err;

	cr_assert_eq(insomnia_pod_find(name, &info, &err), 0, "%s",
	             err.message);
	return info;
}

/* ---- one kind per failure -------------------------------------------- */

/* The real pod finds the schema error (an unknown key) and exits 2, its
 * code for config: the library says config, as podctl does for a TOML
 * syntax error it finds itself, keeping the status and the tail. */
Test(spawn_outcome, the_real_pods_schema_error_is_a_config_error)
{
	struct insomnia_spawn_options o = {.name = "web",
	                                   .overlay = "[pod]\nnmae = 1\n"};
	struct insomnia_error err;

	use_real_pod();
	err = spawn_must_fail(&o);
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG, "%s: %s",
	             insomnia_error_kind_name(err.kind), err.message);
	cr_assert_eq(insomnia_error_exit_code(err.kind), 2);
	cr_assert_eq(err.exit_status, 2);
	cr_assert(strstr(err.message, "exit 2"), "%s", err.message);
	cr_assert(strstr(err.detail, "unknown key \"pod.nmae\""), "%s",
	          err.detail);
}

/* The same in the caller's loop: the failed callback gets config. */
static void never_ready(const struct insomnia_spawn_result *res, void *arg)
{
	(void)res;
	(void)arg;
	cr_assert_fail("a bad overlay became ready");
}

static void keep_error(const struct insomnia_error *err, void *arg)
{
	*(struct insomnia_error *)arg = *err;
}

Test(spawn_outcome, the_async_spawn_gets_the_same_kind)
{
	struct event_base *base = event_base_new();
	struct insomnia_error got, err;
	struct insomnia_spawn_options o = {
	    .name = "web", .overlay = "[pod]\nnmae = 1\n", .arg = &got};

	use_real_pod();
	insomnia_error_clear(&got);
	cr_assert_not_null(
	    insomnia_spawn_start(base, &o, never_ready, keep_error, &err));
	cr_assert_neq(event_base_dispatch(base), -1);
	event_base_free(base);
	cr_assert_eq(got.kind, INSOMNIA_ERR_CONFIG, "%s", got.message);
	cr_assert_eq(got.exit_status, 2);
}

/* A pod command's code that is no pod kind's stays an early exit. */
Test(spawn_outcome, an_exit_code_that_is_no_pod_kind_is_an_early_exit)
{
	struct insomnia_spawn_options o = e2e_options("web", "--exit 1");
	struct insomnia_error err = spawn_must_fail(&o);

	cr_assert_eq(err.kind, INSOMNIA_ERR_EXITED_EARLY, "%s",
	             insomnia_error_kind_name(err.kind));
	cr_assert_eq(err.exit_status, 1);
}

/* The rule is by code, for any pod command: a mock's exit 16 is what
 * the pod means by it (session_live). */
Test(spawn_outcome, any_pod_commands_exit_code_of_a_pod_kind_is_that_kind)
{
	struct insomnia_spawn_options o = e2e_options("web", "--exit 16");
	struct insomnia_error err = spawn_must_fail(&o);

	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_LIVE, "%s",
	             insomnia_error_kind_name(err.kind));
	cr_assert_eq(err.exit_status, 16);
}

/* ---- failed, crashed, stopped ---------------------------------------- */

static json_t *state_json(const char *name)
{
	char *text = e2e_read(e2e_rundir(name, "state.json"));
	json_t *v;

	cr_assert_not_null(text, "no state.json in %s", name);
	v = json_loads(text, 0, NULL);
	cr_assert_not_null(v, "%s", text);
	free(text);
	return v;
}

Test(spawn_outcome, a_failed_spawn_lists_as_failed_with_its_exit_status)
{
	struct insomnia_spawn_options o = {.name = "web",
	                                   .overlay = "[pod]\nnmae = 1\n"};
	struct insomnia_pod_info info;
	json_t *v;

	use_real_pod();
	spawn_must_fail(&o);
	info = find("web");
	cr_assert_not(info.alive);
	cr_assert_str_eq(info.state, "failed");
	cr_assert_eq(info.exit_status, 2);
	cr_assert_eq(info.term_signal, 0);
	/* the record, as state.json's one format says it */
	v = state_json("web");
	cr_assert_str_eq(json_string_value(json_object_get(v, "state")),
	                 "failed");
	cr_assert_eq(json_integer_value(json_object_get(v, "exit_status")), 2);
	cr_assert(json_is_null(json_object_get(v, "signal")));
	json_decref(v);
}

Test(spawn_outcome, a_pod_killed_before_ready_lists_as_failed_with_the_signal)
{
	struct insomnia_spawn_options o = e2e_options("web", "--signal 9");
	struct insomnia_pod_info info;

	spawn_must_fail(&o);
	info = find("web");
	cr_assert_str_eq(info.state, "failed");
	cr_assert_eq(info.term_signal, 9);
	cr_assert_eq(info.exit_status, -1);
}

/* A pod that took `lock` and published its files, then timed out: the
 * spawner stopped it, and the dir says failed, not crashed. */
Test(spawn_outcome, a_spawn_that_timed_out_lists_as_failed_not_crashed)
{
	struct insomnia_spawn_options o = e2e_options("web", "--hang");
	struct insomnia_error err;
	struct insomnia_pod_info info;

	o.timeout_ms = 300;
	err = spawn_must_fail(&o);
	cr_assert_eq(err.kind, INSOMNIA_ERR_TIMEOUT, "%s", err.message);
	info = find("web");
	cr_assert_str_eq(info.state, "failed");
	cr_assert(info.exit_status >= 0 || info.term_signal > 0,
	          "how the stopped pod ended is known");
}

static struct insomnia_spawn_result spawn_real(const char *name)
{
	struct insomnia_spawn_options o = {.name = name};
	struct insomnia_spawn_result r;
	struct insomnia_error err;

	use_real_pod();
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s", err.message);
	return r;
}

Test(spawn_outcome, a_killed_pod_lists_as_stale_with_no_exit_status)
{
	struct insomnia_spawn_result r = spawn_real("web");
	struct insomnia_pod_info info;
	int status;

	cr_assert_eq(kill(r.pid, SIGKILL), 0);
	cr_assert_eq(waitpid(r.pid, &status, 0), r.pid);
	info = find("web");
	cr_assert_not(info.alive);
	cr_assert_str_eq(info.state, "stale");
	cr_assert_eq(info.exit_status, -1);
	cr_assert_eq(info.term_signal, 0);
}

Test(spawn_outcome, a_cleanly_stopped_pod_lists_as_stopped)
{
	struct insomnia_spawn_result r = spawn_real("web");
	struct insomnia_pod_info info;

	e2e_stop(r.pid);
	info = find("web");
	cr_assert_not(info.alive);
	cr_assert_str_eq(info.state, "stopped");
	cr_assert_eq(info.exit_status, -1);
}

static void count_removed(const struct insomnia_reap_report *r, void *arg)
{
	if (r->removed && !strcmp(r->name, "web"))
		++*(int *)arg;
}

Test(spawn_outcome, reap_removes_a_failed_pods_dir)
{
	struct insomnia_spawn_options o = e2e_options("web", "--exit 42");
	struct insomnia_error err;
	struct stat st;
	int removed = 0;

	spawn_must_fail(&o);
	cr_assert_str_eq(find("web").state, "failed");
	cr_assert_eq(insomnia_reap(count_removed, &removed, &err), 0, "%s",
	             err.message);
	cr_assert_eq(removed, 1);
	cr_assert_eq(stat(e2e_rundir("web", NULL), &st), -1);
	cr_assert_eq(errno, ENOENT);
}

/* The next spawn of the name removes the record: the live pod's state
 * is its own, and once it stops cleanly the dir says stopped. */
Test(spawn_outcome, a_later_spawn_of_the_name_replaces_the_failed_record)
{
	struct insomnia_spawn_options bad = {.name = "web",
	                                     .overlay = "[pod]\nnmae = 1\n"};
	struct insomnia_spawn_result r;
	struct insomnia_pod_info info;

	use_real_pod();
	spawn_must_fail(&bad);
	r = spawn_real("web");
	info = find("web");
	cr_assert(info.alive);
	cr_assert_str_eq(info.state, "ready");
	cr_assert_eq(info.exit_status, -1);
	cr_assert_eq(info.pid, r.pid);
	e2e_stop(r.pid);
	cr_assert_str_eq(find("web").state, "stopped");
}

/* A cancelled spawn is no failure of the pod: nothing is recorded. */
static void cancel_at_first_line(const char *line, void *arg)
{
	(void)line;
	insomnia_spawn_cancel(*(struct insomnia_spawn **)arg);
}

static void never_called(const struct insomnia_error *err, void *arg)
{
	(void)arg;
	cr_assert_fail("a cancelled spawn failed: %s", err->message);
}

Test(spawn_outcome, a_cancelled_spawn_records_no_failure)
{
	struct event_base *base = event_base_new();
	struct insomnia_spawn *s = NULL;
	struct insomnia_spawn_options o =
	    e2e_options("web", "--lines 3 --hang");
	struct insomnia_error err;

	o.progress = cancel_at_first_line;
	o.arg = &s;
	s = insomnia_spawn_start(base, &o, never_ready, never_called, &err);
	cr_assert_not_null(s, "%s", err.message);
	cr_assert_neq(event_base_dispatch(base), -1);
	event_base_free(base);
	cr_assert_str_eq(find("web").state, "stopped");
}

/* ---- what a watcher makes of a failed spawn --------------------------- */

struct watched {
	int n;
	enum insomnia_watch_kind kind[16];
	char name[16][INSOMNIA_NAME_MAX + 1];
	char state[16][INSOMNIA_POD_STATE_MAX];
};

static void collect(const struct insomnia_watch_event *ev, void *arg)
{
	struct watched *w = arg;

	cr_assert_lt(w->n, 16);
	w->kind[w->n] = ev->kind;
	snprintf(w->name[w->n], sizeof w->name[0], "%s",
	         ev->name ? ev->name : "");
	snprintf(w->state[w->n], sizeof w->state[0], "%s",
	         ev->info ? ev->info->state : "");
	w->n++;
}

/* Turn base until the watcher has reported n events. */
static void wait_events(struct event_base *base, struct watched *w, int n)
{
	while (w->n < n)
		cr_assert_geq(event_base_loop(base, EVLOOP_ONCE), 0);
}

/* A pod that failed before it took `lock` had no life: its dir appears
 * (reading "failed"), and neither DIED nor STOPPED follows, the
 * spawner's record of the failure included.  The marker dir made after
 * it comes later in the one inotify queue, so once it is reported every
 * event of the failed spawn has been handled. */
Test(spawn_outcome, a_failed_start_is_no_death_to_a_watcher)
{
	struct insomnia_spawn_options o = {.name = "web",
	                                   .overlay = "[pod]\nnmae = 1\n"};
	struct event_base *base = event_base_new();
	struct insomnia_watch *watch;
	struct insomnia_error err;
	struct watched w = {0};

	use_real_pod();
	watch = insomnia_watch_start(base, collect, &w, &err);
	cr_assert_not_null(watch, "%s", err.message);
	wait_events(base, &w, 1);
	cr_assert_eq(w.kind[0], INSOMNIA_WATCH_SYNCED);
	spawn_must_fail(&o);
	cr_assert_eq(mkdir(e2e_rundir("zz-marker", NULL), 0700), 0);
	wait_events(base, &w, 3);
	cr_assert_eq(w.kind[1], INSOMNIA_WATCH_APPEARED);
	cr_assert_str_eq(w.name[1], "web");
	cr_assert_str_eq(w.state[1], "failed");
	cr_assert_eq(w.kind[2], INSOMNIA_WATCH_APPEARED, "%s %s",
	             insomnia_watch_kind_name(w.kind[2]), w.name[2]);
	cr_assert_str_eq(w.name[2], "zz-marker");
	insomnia_watch_free(watch);
	event_base_free(base);
	cr_assert_eq(rmdir(e2e_rundir("zz-marker", NULL)), 0);
}
