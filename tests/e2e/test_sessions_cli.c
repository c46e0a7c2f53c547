/* podctl sessions [prune] and podctl resume over the sessions API. */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <insomnia/error.h>
#include <insomnia/sessions.h>
#include <insomnia/spawn.h>

#include "harness.h"
#include "podctl_run.h"

static void use_real_pod(void)
{
	e2e_setup();
	cr_assert_not_null(getenv("INSOMNIA_TEST_POD"));
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

TestSuite(sessions_cli, .init = use_real_pod, .fini = e2e_teardown,
          .timeout = 60);

/* A pod spawned through the library with its name alone. */
static struct insomnia_spawn_result spawn_named(const char *name)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_error err;

	o.name = name;
	o.timeout_ms = 30000;
	o.grace_ms = 300;
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s", err.message);
	return r;
}

static void ended_session(const char *name, char *id)
{
	struct insomnia_spawn_result r = spawn_named(name);

	strcpy(id, r.session_id);
	e2e_stop(r.pid);
}

static bool exists(const char *id)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof path, "%s/sessions/%s", e2e_home, id);
	return stat(path, &st) == 0;
}

/* Make a fake, ended session created long ago (session.toml only). */
static void fake_session(const char *id, const char *name)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof path, "%s/sessions", e2e_home);
	cr_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof path, "%s/sessions/%s", e2e_home, id);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/sessions/%s/session.toml", e2e_home,
	         id);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "[session]\nid = \"%s\"\nname = \"%s\"\ncwd = \"/\"\n"
	        "created_at = 2020-01-01T00:00:00.000Z\n\n[config]\n"
	        "[config.pod]\nname = \"%s\"\n",
	        id, name, name);
	cr_assert_eq(fclose(f), 0);
}

/* The pid a `resume --json` reported, after checking its session. */
static pid_t resumed(struct podctl_run *r, const char *id)
{
	json_t *v = podctl_json(r);
	pid_t pid;

	cr_assert_str_eq(json_string_value(json_object_get(v, "session_id")),
	                 id, "%s", r->out);
	pid = (pid_t)json_integer_value(json_object_get(v, "pid"));
	json_decref(v);
	return pid;
}

Test(sessions_cli, resume_takes_a_unique_prefix)
{
	struct podctl_run r = {0};
	char id[40], prefix[9];

	ended_session("web", id);
	memcpy(prefix, id, 8);
	prefix[8] = '\0';
	podctl_run(&r, "resume", prefix, "--json", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	e2e_stop(resumed(&r, id));
	podctl_run_free(&r);
}

Test(sessions_cli, resume_of_an_ambiguous_prefix_names_the_candidates)
{
	struct podctl_run r = {0};

	fake_session("aaaa1111-0000-4000-8000-000000000001", "one");
	fake_session("aaaa2222-0000-4000-8000-000000000002", "two");
	podctl_run(&r, "resume", "aaaa", NULL);
	cr_assert_eq(r.code,
	             insomnia_error_exit_code(INSOMNIA_ERR_SESSION_AMBIGUOUS),
	             "%s%s", r.out, r.err);
	cr_assert(strstr(r.err, "aaaa1111-0000-4000-8000-000000000001"), "%s",
	          r.err);
	cr_assert(strstr(r.err, "aaaa2222-0000-4000-8000-000000000002"), "%s",
	          r.err);
	podctl_run_free(&r);
}

Test(sessions_cli, resume_last_takes_the_session_of_that_name_used_last)
{
	struct podctl_run r = {0};
	char first[40], second[40], other[40];

	ended_session("web", first);
	ended_session("web", second);
	ended_session("api", other);
	podctl_run(&r, "resume", "--last", "web", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	e2e_stop(resumed(&r, second));
	podctl_run_free(&r);
	podctl_run(&r, "resume", "--last", "nobody", NULL);
	cr_assert_eq(r.code,
	             insomnia_error_exit_code(INSOMNIA_ERR_SESSION_UNKNOWN),
	             "%s", r.err);
	podctl_run_free(&r);
	podctl_run(&r, "resume", "--last", "web", first, NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_USAGE));
	podctl_run_free(&r);
}

/* One exit code whichever layer catches it. */
Test(sessions_cli, spawn_session_and_resume_of_a_live_id_exit_alike)
{
	struct insomnia_spawn_result live = spawn_named("web");
	int want = insomnia_error_exit_code(INSOMNIA_ERR_SESSION_LIVE);
	struct podctl_run r = {0}, s = {0};

	podctl_run(&r, "resume", live.session_id, NULL);
	podctl_run(&s, "spawn", "--name", "web", "--session", live.session_id,
	           NULL);
	cr_assert_eq(r.code, want, "resume: %s", r.err);
	cr_assert_eq(s.code, want, "spawn: %s", s.err);
	cr_assert(strstr(s.err, "live in pod web"), "%s", s.err);
	podctl_run_free(&r);
	podctl_run_free(&s);
	e2e_stop(live.pid);
}

/* spawn --session ID is the session's pod: not the one a manifest in
 * podctl's cwd names, and --name is checked against it, never a
 * rename. */
Test(sessions_cli, spawn_session_takes_the_sessions_name)
{
	char id[40], dir[600], manifest[700];
	struct podctl_run r = {0};
	FILE *f;

	ended_session("web", id);
	snprintf(dir, sizeof dir, "%s/elsewhere", e2e_home);
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(manifest, sizeof manifest, "%s/.insomnia", dir);
	cr_assert_eq(mkdir(manifest, 0700), 0);
	snprintf(manifest, sizeof manifest, "%s/.insomnia/manifest.toml", dir);
	cr_assert_not_null(f = fopen(manifest, "w"));
	fputs("[pod]\nname = \"other\"\n", f);
	fclose(f);

	r.cwd = dir;
	podctl_run(&r, "spawn", "--session", id, "--name", "other", NULL);
	cr_assert_eq(r.code,
	             insomnia_error_exit_code(INSOMNIA_ERR_NAME_MISMATCH),
	             "%s%s", r.out, r.err);
	podctl_run_free(&r);

	r = (struct podctl_run){.cwd = dir};
	podctl_run(&r, "spawn", "--json", "--session", id, NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"name\":\"web\""), "%s", r.out);
	podctl_run_free(&r);
	r = (struct podctl_run){0};
	podctl_run(&r, "stop", "web", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	podctl_run_free(&r);
}

Test(sessions_cli, sessions_lists_state_and_liveness)
{
	struct insomnia_spawn_result live;
	struct podctl_run r = {0};
	char ended[40], want[64];
	json_t *v, *list;

	ended_session("old", ended);
	live = spawn_named("web");
	podctl_run(&r, "sessions", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	snprintf(want, sizeof want, "live (pid %ld)", (long)live.pid);
	cr_assert(strstr(r.out, want), "%s", r.out);
	cr_assert(strstr(r.out, "stopped"), "%s", r.out);
	podctl_run_free(&r);
	podctl_run(&r, "sessions", "--json", NULL);
	v = podctl_json(&r);
	list = json_object_get(v, "sessions");
	cr_assert_eq(json_array_size(list), 2, "%s", r.out);
	cr_assert_str_eq(json_string_value(
	                     json_object_get(json_array_get(list, 0), "state")),
	                 "stopped");
	cr_assert(json_is_integer(
	    json_object_get(json_array_get(list, 0), "ended_ms")));
	cr_assert_str_eq(json_string_value(
	                     json_object_get(json_array_get(list, 1), "state")),
	                 "live");
	cr_assert_eq(
	    json_integer_value(json_object_get(json_array_get(list, 1), "pid")),
	    live.pid);
	json_decref(v);
	podctl_run_free(&r);
	e2e_stop(live.pid);
}

Test(sessions_cli, prune_by_name_prints_what_it_removed)
{
	struct insomnia_spawn_result live;
	struct podctl_run r = {0};
	char ended[40], other[40];

	ended_session("web", ended);
	ended_session("api", other);
	live = spawn_named("web");
	podctl_run(&r, "sessions", "prune", "--name", "web", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	cr_assert(strstr(r.out, ended), "%s", r.out);
	cr_assert_null(strstr(r.out, live.session_id), "%s", r.out);
	cr_assert(!exists(ended));
	cr_assert(exists(other));
	cr_assert(exists(live.session_id));
	podctl_run_free(&r);
	e2e_stop(live.pid);
}

Test(sessions_cli, prune_older_than_with_json)
{
	struct podctl_run r = {0};
	char young[40];
	json_t *v, *removed;

	ended_session("web", young);
	fake_session("aaaa1111-0000-4000-8000-000000000001", "old");
	podctl_run(&r, "sessions", "prune", "--older-than", "7d", "--json",
	           NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	v = podctl_json(&r);
	removed = json_object_get(v, "removed");
	cr_assert_eq(json_array_size(removed), 1, "%s", r.out);
	cr_assert_str_eq(json_string_value(
	                     json_object_get(json_array_get(removed, 0), "id")),
	                 "aaaa1111-0000-4000-8000-000000000001");
	cr_assert(exists(young));
	json_decref(v);
	podctl_run_free(&r);
	/* both: the old one of another name stays */
	fake_session("aaaa2222-0000-4000-8000-000000000002", "old");
	podctl_run(&r, "sessions", "prune", "--older-than", "1s", "--name",
	           "web", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(exists("aaaa2222-0000-4000-8000-000000000002"));
	podctl_run_free(&r);
}

Test(sessions_cli, prune_refuses_bad_or_missing_filters)
{
	static const char *const bad[] = {"7", "d", "7x", "-1d", "0s", ""};
	struct podctl_run r = {0};
	char id[40];

	ended_session("web", id);
	podctl_run(&r, "sessions", "prune", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_USAGE), "%s",
	             r.err);
	podctl_run_free(&r);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		podctl_run(&r, "sessions", "prune", "--older-than", bad[i],
		           NULL);
		cr_assert_eq(r.code,
		             insomnia_error_exit_code(INSOMNIA_ERR_USAGE),
		             "\"%s\": %s", bad[i], r.err);
		podctl_run_free(&r);
	}
	cr_assert(exists(id));
	/* the units parse */
	podctl_run(&r, "sessions", "prune", "--older-than", "500ms", "--name",
	           "nobody", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "no session removed"), "%s", r.out);
	podctl_run_free(&r);
	podctl_run(&r, "sessions", "prune", "--older-than", "2m", "--name",
	           "nobody", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	podctl_run_free(&r);
}

/* resume --timeout takes a duration with a unit. */
Test(sessions_cli, resume_timeout_takes_a_duration)
{
	struct podctl_run r = {0};
	char id[40];

	ended_session("web", id);
	podctl_run(&r, "resume", id, "--timeout", "1m30s", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	e2e_stop(resumed(&r, id));
	podctl_run_free(&r);
	podctl_run(&r, "resume", id, "-t", "2d", NULL);
	cr_assert_eq(r.code, insomnia_error_exit_code(INSOMNIA_ERR_USAGE));
	cr_assert(strstr(r.err, "at most 1d"), "%s", r.err);
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

/* Names of any length keep the columns, as in ls. */
Test(sessions_cli, sessions_columns_fit_any_name)
{
	static const char *const cols[] = {"NAME", "CREATED", "STATE", "LAST",
	                                   "CWD"};
	char longname[INSOMNIA_NAME_MAX + 1];
	struct podctl_run r = {0};
	char *lines[4] = {NULL}, *save = NULL;
	int n = 0;

	memset(longname, 'x', INSOMNIA_NAME_MAX);
	longname[INSOMNIA_NAME_MAX] = '\0';
	fake_session("aaaa1111-0000-4000-8000-000000000001", "web");
	fake_session("aaaa2222-0000-4000-8000-000000000002", longname);
	podctl_run(&r, "sessions", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	for (char *l = strtok_r(r.out, "\n", &save); l && n < 4;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	cr_assert_eq(n, 3, "%s", r.out);
	for (int i = 1; i < 3; i++)
		for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++)
			assert_aligned(lines[0], lines[i], cols[c]);
	cr_assert(strstr(lines[2], longname), "%s", lines[2]);
	podctl_run_free(&r);
}

/* What a session does not know is null in JSON, never 0 or "". */
Test(sessions_cli, sessions_json_unknowns_are_null)
{
	struct podctl_run r = {0};
	json_t *v, *s;

	fake_session("aaaa1111-0000-4000-8000-000000000001", "web");
	podctl_run(&r, "sessions", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	v = podctl_json(&r);
	s = json_array_get(json_object_get(v, "sessions"), 0);
	cr_assert(json_is_null(json_object_get(s, "pid")), "%s", r.out);
	cr_assert(json_is_null(json_object_get(s, "last_event")), "%s", r.out);
	cr_assert(json_is_null(json_object_get(s, "last_event_at")), "%s",
	          r.out);
	cr_assert(json_is_false(json_object_get(s, "live")), "%s", r.out);
	cr_assert_str_eq(json_string_value(json_object_get(s, "name")), "web");
	json_decref(v);
	podctl_run_free(&r);
}

/* An age takes weeks, and more than the 30 days of a timeout. */
Test(sessions_cli, prune_older_than_takes_weeks_and_long_ages)
{
	struct podctl_run r = {0};

	fake_session("aaaa1111-0000-4000-8000-000000000001", "old");
	podctl_run(&r, "sessions", "prune", "--older-than", "520w", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(exists("aaaa1111-0000-4000-8000-000000000001"));
	podctl_run_free(&r);
	podctl_run(&r, "sessions", "prune", "--older-than", "52w", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "aaaa1111-0000-4000-8000-000000000001"), "%s",
	          r.out);
	cr_assert(!exists("aaaa1111-0000-4000-8000-000000000001"));
	podctl_run_free(&r);
}
