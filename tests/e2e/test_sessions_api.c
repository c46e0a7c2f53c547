/* The sessions API (insomnia/sessions.h) and spawns resolved by
 * client/spawnopts.c: a session id alone, a name alone. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <insomnia/sessions.h>
#include <insomnia/spawn.h>

#include "harness.h"

TestSuite(sessions_api, .init = e2e_setup, .fini = e2e_teardown);

static void use_real_pod(void)
{
	cr_assert_not_null(getenv("INSOMNIA_TEST_POD"));
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

/* A directory of our own under the test's home, for a pod's cwd. */
static const char *make_dir(const char *leaf)
{
	static char path[512];

	snprintf(path, sizeof path, "%s/%s", e2e_home, leaf);
	cr_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
	return path;
}

/* Spawn a real pod named name in cwd with no overlay at all (name alone
 * must be enough); returns its result. */
static struct insomnia_spawn_result spawn_named(const char *name,
                                                const char *cwd)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_error err;

	o.name = name;
	o.cwd = cwd;
	o.timeout_ms = 30000;
	o.grace_ms = 300;
	insomnia_error_clear(&err);
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "spawn %s: %s: %s", name,
	             insomnia_error_kind_name(err.kind), err.message);
	return r;
}

/* A stopped session of name; its id into id. */
static void ended_session(const char *name, const char *cwd, char *id)
{
	struct insomnia_spawn_result r = spawn_named(name, cwd);

	cr_assert_eq(strlen(r.session_id), 36);
	strcpy(id, r.session_id);
	e2e_stop(r.pid);
}

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static const char *sessions_dir(void)
{
	static char path[512];

	snprintf(path, sizeof path, "%s/sessions", e2e_home);
	return path;
}

/* ---- spawn: name alone -------------------------------------------------- */

Test(sessions_api, a_name_alone_starts_a_pod_without_any_overlay)
{
	struct insomnia_spawn_result r;

	use_real_pod();
	r = spawn_named("solo", NULL);
	cr_assert_str_eq(r.name, "solo");
	cr_assert(e2e_socket_accepts(r.socket));
	e2e_stop(r.pid);
}

Test(sessions_api, a_name_alone_with_an_overlay_that_does_not_name_the_pod)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_error err;
	char *toml;

	use_real_pod();
	o.name = "described";
	o.overlay = "[pod]\ndescription = \"no name here\"\n";
	o.timeout_ms = 30000;
	insomnia_error_clear(&err);
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s", err.message);
	cr_assert_str_eq(r.name, "described");
	e2e_stop(r.pid);
	/* the overlay's own key reached the pod's effective config */
	{
		char path[600];
		snprintf(path, sizeof path, "%s/sessions/%s/session.toml",
		         e2e_home, r.session_id);
		toml = e2e_read(path);
	}
	cr_assert_not_null(toml);
	cr_assert(strstr(toml, "no name here") != NULL, "%s", toml);
	cr_assert(strstr(toml, "name = \"described\"") != NULL, "%s", toml);
	free(toml);
}

Test(sessions_api, an_overlay_naming_another_pod_is_refused_before_start)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_error err;

	use_real_pod();
	o.name = "asked";
	o.overlay = "[pod]\nname = \"other\"\n";
	insomnia_error_clear(&err);
	cr_assert_eq(insomnia_spawn(&o, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG, "%s: %s",
	             insomnia_error_kind_name(err.kind), err.message);
	cr_assert(strstr(err.message, "\"other\"") &&
	              strstr(err.message, "\"asked\""),
	          "%s", err.message);
	/* refused before any file: no pod dir, no session */
	cr_assert_eq(count_entries(e2e_rundir("asked", NULL)), 0);
	cr_assert_eq(count_entries(e2e_rundir("other", NULL)), 0);
	cr_assert_eq(count_entries(sessions_dir()), 0);
}

Test(sessions_api, no_name_anywhere_is_bad_name)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_error err;

	use_real_pod();
	o.overlay = "[pod]\ndescription = \"x\"\n";
	cr_assert_eq(insomnia_spawn(&o, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_NAME, "%s", err.message);
}

Test(sessions_api, the_overlay_alone_may_name_the_pod)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_error err;

	use_real_pod();
	o.overlay = "[pod]\nname = \"fromoverlay\"\n";
	o.timeout_ms = 30000;
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s", err.message);
	cr_assert_str_eq(r.name, "fromoverlay");
	e2e_stop(r.pid);
}

/* ---- spawn: session id alone ------------------------------------------ */

Test(sessions_api, a_session_id_alone_resumes_with_its_name_and_cwd)
{
	const char *cwd = make_dir("work");
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_session_info info;
	struct insomnia_error err;
	char id[40], link[64], where[600];
	ssize_t n;

	use_real_pod();
	ended_session("web", cwd, id);
	o.session_id = id;
	o.timeout_ms = 30000;
	insomnia_error_clear(&err);
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s: %s",
	             insomnia_error_kind_name(err.kind), err.message);
	cr_assert_str_eq(r.name, "web");
	cr_assert_str_eq(r.session_id, id);
	/* the pod runs in the session's cwd */
	snprintf(link, sizeof link, "/proc/%ld/cwd", (long)r.pid);
	n = readlink(link, where, sizeof where - 1);
	cr_assert_gt(n, 0);
	where[n] = '\0';
	cr_assert_str_eq(where, cwd);
	/* and the session reads as live, with that pid */
	cr_assert_eq(insomnia_session_find(id, &info, &err), 0, "%s",
	             err.message);
	cr_assert(info.live);
	cr_assert_eq(info.state, INSOMNIA_SESSION_LIVE);
	cr_assert_eq(info.pid, r.pid);
	cr_assert_str_eq(info.last_event, "ready");
	e2e_stop(r.pid);
}

Test(sessions_api, a_mismatched_name_is_refused_before_any_pod_starts)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_session_info before, after;
	struct insomnia_error err;
	char id[40], *web_log, *log;
	int web_files;

	use_real_pod();
	ended_session("web", NULL, id);
	cr_assert_eq(insomnia_session_find(id, &before, NULL), 0);
	web_files = count_entries(e2e_rundir("web", NULL));
	web_log = e2e_read(e2e_rundir("web", "stderr.log"));
	o.session_id = id;
	o.name = "api";
	insomnia_error_clear(&err);
	cr_assert_eq(insomnia_spawn(&o, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_NAME_MISMATCH, "%s: %s",
	             insomnia_error_kind_name(err.kind), err.message);
	cr_assert(strstr(err.message, "\"web\"") &&
	              strstr(err.message, "\"api\""),
	          "%s", err.message);
	/* nothing started: no dir for either name, the journal unmoved */
	cr_assert_eq(count_entries(e2e_rundir("api", NULL)), 0);
	cr_assert_eq(count_entries(e2e_rundir("web", NULL)), web_files);
	log = e2e_read(e2e_rundir("web", "stderr.log"));
	cr_assert_str_eq(log ? log : "", web_log ? web_log : "");
	free(log);
	free(web_log);
	cr_assert_eq(insomnia_session_find(id, &after, NULL), 0);
	cr_assert_str_eq(after.last_event_at, before.last_event_at);
	cr_assert_str_eq(after.last_event, "stopped");
}

Test(sessions_api, the_matching_name_given_with_the_id_is_fine)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_error err;
	char id[40];

	use_real_pod();
	ended_session("web", NULL, id);
	o.session_id = id;
	o.name = "web";
	o.timeout_ms = 30000;
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s", err.message);
	e2e_stop(r.pid);
}

Test(sessions_api, a_live_session_is_refused_before_any_pod_starts)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result live, r;
	struct insomnia_error err;
	char *before, *after, path[600];

	use_real_pod();
	live = spawn_named("web", NULL);
	snprintf(path, sizeof path, "%s/sessions/%s/journal.jsonl", e2e_home,
	         live.session_id);
	before = e2e_read(path);
	o.session_id = live.session_id;
	insomnia_error_clear(&err);
	cr_assert_eq(insomnia_spawn(&o, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_LIVE, "%s: %s",
	             insomnia_error_kind_name(err.kind), err.message);
	/* the client refused it: no pod ran, so no stderr tail and no
	 * exit status */
	cr_assert_eq(err.exit_status, -1);
	cr_assert(strstr(err.message, "live in pod web"), "%s", err.message);
	after = e2e_read(path);
	cr_assert_str_eq(after, before);
	free(before);
	free(after);
	e2e_stop(live.pid);
}

Test(sessions_api, an_unknown_or_malformed_session_id_is_refused)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_error err;

	use_real_pod();
	o.session_id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
	cr_assert_eq(insomnia_spawn(&o, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_UNKNOWN, "%s", err.message);
	o.session_id = "not-an-id";
	cr_assert_eq(insomnia_spawn(&o, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_SESSION_ID, "%s", err.message);
	cr_assert_eq(count_entries(sessions_dir()), 0);
}

/* ---- list, find, last -------------------------------------------------- */

struct seen {
	struct insomnia_session_info items[8];
	int n;
};

static int collect(const struct insomnia_session_info *info, void *arg)
{
	struct seen *s = arg;

	cr_assert_lt(s->n, 8);
	s->items[s->n++] = *info;
	return 0;
}

Test(sessions_api, list_is_oldest_first_with_states)
{
	struct insomnia_spawn_result live;
	struct seen s = {.n = 0};
	struct insomnia_error err;
	char first[40];

	use_real_pod();
	ended_session("alpha", NULL, first);
	live = spawn_named("beta", NULL);
	cr_assert_eq(insomnia_sessions_each(collect, &s, &err), 0, "%s",
	             err.message);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.items[0].id, first);
	cr_assert_str_eq(s.items[0].name, "alpha");
	cr_assert_eq(s.items[0].state, INSOMNIA_SESSION_STOPPED);
	cr_assert_str_eq(insomnia_session_state_name(s.items[0].state),
	                 "stopped");
	cr_assert(!s.items[0].live);
	cr_assert_eq(s.items[0].pid, 0);
	cr_assert_gt(s.items[0].ended_ms, 0);
	cr_assert_geq(s.items[0].ended_ms, s.items[0].created_ms);
	cr_assert_str_eq(s.items[1].id, live.session_id);
	cr_assert_eq(s.items[1].state, INSOMNIA_SESSION_LIVE);
	cr_assert_eq(s.items[1].pid, live.pid);
	cr_assert_eq(s.items[1].ended_ms, 0);
	cr_assert_leq(s.items[0].created_ms, s.items[1].created_ms);
	e2e_stop(live.pid);
}

Test(sessions_api, no_sessions_dir_is_an_empty_list)
{
	struct seen s = {.n = 0};

	cr_assert_eq(insomnia_sessions_each(collect, &s, NULL), 0);
	cr_assert_eq(s.n, 0);
	/* a read, never a creation */
	cr_assert_eq(count_entries(sessions_dir()), 0);
}

static int stop_at_first(const struct insomnia_session_info *info, void *arg)
{
	(*(int *)arg)++;
	return 7;
}

Test(sessions_api, a_callback_stops_the_walk_and_its_value_is_returned)
{
	char a[40], b[40];
	int calls = 0;

	use_real_pod();
	ended_session("a", NULL, a);
	ended_session("b", NULL, b);
	cr_assert_eq(insomnia_sessions_each(stop_at_first, &calls, NULL), 7);
	cr_assert_eq(calls, 1);
}

/* Make a fake, ended session with the given id (session.toml only). */
static void fake_session(const char *id, const char *name)
{
	char path[600], text[512];
	FILE *f;

	cr_assert(mkdir(sessions_dir(), 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof path, "%s/%s", sessions_dir(), id);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/%s/session.toml", sessions_dir(), id);
	snprintf(text, sizeof text,
	         "[session]\nid = \"%s\"\nname = \"%s\"\ncwd = \"/\"\n"
	         "created_at = 2020-01-01T00:00:00.000Z\n\n[config]\n"
	         "[config.pod]\nname = \"%s\"\n",
	         id, name, name);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
	chmod(path, 0600);
}

Test(sessions_api, find_by_full_id_and_by_unique_prefix)
{
	struct insomnia_session_info info;
	struct insomnia_error err;
	char upper[40];

	fake_session("aaaa1111-0000-4000-8000-000000000001", "one");
	fake_session("aaaa2222-0000-4000-8000-000000000002", "two");
	cr_assert_eq(insomnia_session_find(
	                 "aaaa1111-0000-4000-8000-000000000001", &info, &err),
	             0, "%s", err.message);
	cr_assert_str_eq(info.name, "one");
	cr_assert_eq(info.state, INSOMNIA_SESSION_NEW);
	cr_assert_eq(info.created_ms, 1577836800000LL);
	cr_assert_eq(insomnia_session_find("aaaa2", &info, &err), 0, "%s",
	             err.message);
	cr_assert_str_eq(info.id, "aaaa2222-0000-4000-8000-000000000002");
	/* either case */
	strcpy(upper, "AAAA1");
	cr_assert_eq(insomnia_session_find(upper, &info, &err), 0, "%s",
	             err.message);
	cr_assert_str_eq(info.name, "one");
}

Test(sessions_api, an_ambiguous_prefix_names_the_candidates)
{
	struct insomnia_session_info info;
	struct insomnia_error err;

	fake_session("aaaa1111-0000-4000-8000-000000000001", "one");
	fake_session("aaaa2222-0000-4000-8000-000000000002", "two");
	cr_assert_eq(insomnia_session_find("aaaa", &info, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_AMBIGUOUS, "%s",
	             err.message);
	cr_assert(strstr(err.message, "aaaa1111-0000-4000-8000-000000000001"),
	          "%s", err.message);
	cr_assert(strstr(err.message, "aaaa2222-0000-4000-8000-000000000002"),
	          "%s", err.message);
}

Test(sessions_api, unknown_and_invalid_ids_have_their_own_kinds)
{
	struct insomnia_session_info info;
	struct insomnia_error err;

	cr_assert_eq(insomnia_session_find("abc", &info, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_UNKNOWN, "%s", err.message);
	fake_session("aaaa1111-0000-4000-8000-000000000001", "one");
	cr_assert_eq(insomnia_session_find("bbb", &info, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_UNKNOWN, "%s", err.message);
	cr_assert_eq(insomnia_session_find(
	                 "bbbb1111-0000-4000-8000-000000000001", &info, &err),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_UNKNOWN, "%s", err.message);
	cr_assert_eq(insomnia_session_find("", &info, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_SESSION_ID);
	cr_assert_eq(insomnia_session_find("aaaa1111x", &info, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_SESSION_ID);
	cr_assert_eq(insomnia_session_find("aaaa1111-0000-4000-8000-"
	                                   "0000000000011",
	                                   &info, &err),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_SESSION_ID);
	/* a creation in progress (no session.toml) is no candidate */
	{
		char path[600];
		snprintf(path, sizeof path,
		         "%s/cccc0000-0000-4000-8000-000000000000",
		         sessions_dir());
		cr_assert_eq(mkdir(path, 0700), 0);
	}
	cr_assert_eq(insomnia_session_find("cccc", &info, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_UNKNOWN, "%s", err.message);
}

Test(sessions_api, last_is_the_session_of_that_name_used_last)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_session_info info;
	struct insomnia_error err;
	char first[40], second[40], other[40];

	use_real_pod();
	ended_session("web", NULL, first);
	ended_session("web", NULL, second);
	ended_session("api", NULL, other);
	cr_assert_eq(insomnia_session_last("web", &info, &err), 0, "%s",
	             err.message);
	cr_assert_str_eq(info.id, second);
	/* resuming the first makes it the last one used */
	o.session_id = first;
	o.timeout_ms = 30000;
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s", err.message);
	e2e_stop(r.pid);
	cr_assert_eq(insomnia_session_last("web", &info, &err), 0);
	cr_assert_str_eq(info.id, first);
	cr_assert_eq(insomnia_session_last("api", &info, &err), 0);
	cr_assert_str_eq(info.id, other);
	cr_assert_eq(insomnia_session_last("none", &info, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_UNKNOWN);
	cr_assert_eq(insomnia_session_last("bad/name", &info, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_NAME);
}

/* ---- prune ------------------------------------------------------------- */

struct removed {
	char ids[8][40];
	struct insomnia_session_info last;
	int n;
};

static void note_removed(const struct insomnia_session_info *info, void *arg)
{
	struct removed *r = arg;

	cr_assert_lt(r->n, 8);
	strcpy(r->ids[r->n++], info->id);
	r->last = *info;
}

static bool exists(const char *id)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", sessions_dir(), id);
	return stat(path, &st) == 0;
}

Test(sessions_api, prune_by_name_removes_ended_ones_never_a_live_one)
{
	struct insomnia_sessions_prune_options po = {.name = "web"};
	struct insomnia_spawn_result live;
	struct removed rm = {.n = 0};
	struct insomnia_error err;
	char ended[40], other[40];

	use_real_pod();
	ended_session("web", NULL, ended);
	ended_session("api", NULL, other);
	live = spawn_named("web", NULL);
	cr_assert_eq(insomnia_sessions_prune(&po, note_removed, &rm, &err), 1,
	             "%s", err.message);
	cr_assert_eq(rm.n, 1);
	cr_assert_str_eq(rm.ids[0], ended);
	/* reported as it was: ended, not as live under the pruner's lock */
	cr_assert_eq(rm.last.state, INSOMNIA_SESSION_STOPPED);
	cr_assert(!rm.last.live);
	cr_assert_gt(rm.last.ended_ms, 0);
	cr_assert(!exists(ended));
	cr_assert(exists(other));
	cr_assert(exists(live.session_id));
	e2e_stop(live.pid);
	/* once ended, it goes too */
	cr_assert_eq(insomnia_sessions_prune(&po, NULL, NULL, &err), 1);
	cr_assert(!exists(live.session_id));
	cr_assert(exists(other));
}

Test(sessions_api, prune_by_age_keeps_the_young)
{
	struct insomnia_sessions_prune_options po = {.older_than_ms = 86400000};
	struct removed rm = {.n = 0};
	struct insomnia_error err;
	char young[40];

	use_real_pod();
	ended_session("web", NULL, young);
	fake_session("aaaa1111-0000-4000-8000-000000000001", "old");
	cr_assert_eq(insomnia_sessions_prune(&po, note_removed, &rm, &err), 1,
	             "%s", err.message);
	cr_assert_str_eq(rm.ids[0], "aaaa1111-0000-4000-8000-000000000001");
	cr_assert(exists(young));
	/* name and age together: both must hold */
	fake_session("aaaa2222-0000-4000-8000-000000000002", "old");
	po.name = "web";
	cr_assert_eq(insomnia_sessions_prune(&po, NULL, NULL, &err), 0);
	cr_assert(exists("aaaa2222-0000-4000-8000-000000000002"));
}

Test(sessions_api, prune_without_a_filter_is_refused)
{
	struct insomnia_sessions_prune_options po = {0};
	struct insomnia_error err;
	char id[40];

	use_real_pod();
	ended_session("web", NULL, id);
	cr_assert_eq(insomnia_sessions_prune(&po, NULL, NULL, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_USAGE);
	cr_assert(exists(id));
}

Test(sessions_api, prune_leaves_a_dir_holding_a_strangers_file_whole)
{
	struct insomnia_sessions_prune_options po = {.name = "old"};
	struct insomnia_error err;
	char path[600];
	int fd;

	fake_session("aaaa1111-0000-4000-8000-000000000001", "old");
	snprintf(path, sizeof path, "%s/%s/notes.txt", sessions_dir(),
	         "aaaa1111-0000-4000-8000-000000000001");
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(insomnia_sessions_prune(&po, NULL, NULL, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR, "%s", err.message);
	cr_assert(strstr(err.message, "notes.txt"), "%s", err.message);
	snprintf(path, sizeof path, "%s/%s/session.toml", sessions_dir(),
	         "aaaa1111-0000-4000-8000-000000000001");
	cr_assert_eq(access(path, F_OK), 0);
}

/* A lock held by someone (as a starting pod holds it) keeps the session:
 * prune decides under the lock, never from the listing alone. */
Test(sessions_api, prune_never_removes_a_session_whose_lock_is_held)
{
	struct insomnia_sessions_prune_options po = {.name = "old"};
	struct insomnia_error err;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[600];
	int fd;

	fake_session("aaaa1111-0000-4000-8000-000000000001", "old");
	snprintf(path, sizeof path, "%s/%s/lock", sessions_dir(),
	         "aaaa1111-0000-4000-8000-000000000001");
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	cr_assert_eq(insomnia_sessions_prune(&po, NULL, NULL, &err), 0, "%s",
	             err.message);
	cr_assert(exists("aaaa1111-0000-4000-8000-000000000001"));
	close(fd);
	cr_assert_eq(insomnia_sessions_prune(&po, NULL, NULL, &err), 1, "%s",
	             err.message);
	cr_assert(!exists("aaaa1111-0000-4000-8000-000000000001"));
}

/* An overlay may rename a resumed run; the name given must then be the
 * overlay's, not the session's. */
Test(sessions_api, a_resume_renamed_by_its_overlay_checks_the_new_name)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result r;
	struct insomnia_session_info info;
	struct insomnia_error err;
	char id[40];

	use_real_pod();
	ended_session("web", NULL, id);
	o.session_id = id;
	o.overlay = "[pod]\nname = \"renamed\"\n";
	o.name = "web";
	o.timeout_ms = 30000;
	cr_assert_eq(insomnia_spawn(&o, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_NAME_MISMATCH, "%s", err.message);
	o.name = NULL;
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s", err.message);
	cr_assert_str_eq(r.name, "renamed");
	cr_assert_eq(insomnia_session_find(id, &info, &err), 0);
	cr_assert_str_eq(info.name, "web");
	cr_assert_str_eq(info.run_name, "renamed");
	e2e_stop(r.pid);
}

/* What a session dir may hold besides its two files: a temporary of
 * session.toml and the lock; all of it goes, and the dir with it. */
Test(sessions_api, prune_removes_the_whole_dir_temporaries_included)
{
	struct insomnia_sessions_prune_options po = {.name = "old"};
	struct insomnia_error err;
	static const char *const extra[] = {".session.toml.tmp.123", "lock",
	                                    "journal.jsonl"};
	char path[600];

	fake_session("aaaa1111-0000-4000-8000-000000000001", "old");
	for (size_t i = 0; i < 3; i++) {
		int fd;
		snprintf(path, sizeof path, "%s/%s/%s", sessions_dir(),
		         "aaaa1111-0000-4000-8000-000000000001", extra[i]);
		fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		cr_assert_geq(fd, 0);
		close(fd);
	}
	cr_assert_eq(insomnia_sessions_prune(&po, NULL, NULL, &err), 1, "%s",
	             err.message);
	cr_assert(!exists("aaaa1111-0000-4000-8000-000000000001"));
	cr_assert_eq(count_entries(sessions_dir()), 0);
}
