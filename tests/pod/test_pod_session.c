/* Sessions: the session dir, its journal, resuming, and the read API of
 * common/session.h that podctl uses. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fdio.h"
#include "harness.h"
#include "session.h"
#include "toml.h"

TestSuite(pod_session, .init = th_setup, .fini = th_teardown);

/* ---- helpers ----------------------------------------------------------- */

static const char *session_path(const char *id, const char *file)
{
	static char path[TH_PATH_MAX];

	th_fmt(path, sizeof path, "%s/sessions/%s%s%s", th.home, id,
	       *file ? "/" : "", file);
	return path;
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s missing", path);
	return st.st_mode;
}

/* The session id a running pod reports in state.json. */
static void id_of(const char *name, char *id)
{
	json_t *st = json_loads(
	    th_read_file(th_rundir_file(name, "state.json")), 0, NULL);
	const char *s = json_string_value(json_object_get(st, "session_id"));

	cr_assert_not_null(s);
	cr_assert_eq(strlen(s), SESSION_ID_LEN);
	strcpy(id, s);
	json_decref(st);
}

/* Start a pod with an overlay (may be NULL) and, when id is not NULL,
 * --session id; asserts it became ready. */
static void start(struct th_pod *p, const char *overlay, const char *id)
{
	const char *args[5] = {NULL};
	int n = 0;

	if (overlay) {
		args[n++] = "--overlay";
		args[n++] = overlay;
	}
	if (id) {
		args[n++] = "--session";
		args[n++] = id;
	}
	cr_assert(th_start(p, NULL, args), "pod did not become ready:\n%s",
	          p->err);
}

/* Start with --session id, expect a refusal with code. */
static void refused(struct th_pod *p, const char *id, int code)
{
	const char *args[] = {"--session", id, NULL};

	cr_assert_not(th_start(p, NULL, args), "pod became ready");
	cr_assert_eq(th_wait(p), code, "exit %d; stderr:\n%s", p->status,
	             p->err);
}

/* A new session for a pod called name, served once and stopped; its id
 * goes to id. */
static void one_run(const char *name, char *id)
{
	struct th_pod p;

	th_start_named(&p, name);
	id_of(name, id);
	th_stop(&p);
	th_pod_free(&p);
}

#define MAX_RECORDS 32

/* The journal's records, in order.  Every line must be a record, except
 * that allow_bad lines are skipped (torn ones a test made). */
static size_t records(const char *id, json_t **recs, const char *allow_bad)
{
	char *text = th_read_file(session_path(id, SESSION_JOURNAL));
	size_t n = 0;

	cr_assert(*text == '\0' || text[strlen(text) - 1] == '\n',
	          "journal does not end in a newline:\n%s", text);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *rec = json_loads(line, 0, NULL);
		if (!rec && allow_bad && strcmp(line, allow_bad) == 0)
			continue;
		cr_assert(json_is_object(rec), "not a record: %s", line);
		cr_assert_lt(n, MAX_RECORDS);
		recs[n++] = rec;
	}
	return n;
}

static void free_records(json_t **recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_decref(recs[i]);
}

static const char *field(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	cr_assert_not_null(s, "record lacks %s", key);
	return s;
}

/* "started ready stopping stopped ...", for one assertion on order. */
static void assert_events(json_t **recs, size_t n, const char *want)
{
	char got[512] = "";

	for (size_t i = 0; i < n; i++) {
		strcat(got, i ? " " : "");
		strcat(got, field(recs[i], "event"));
	}
	cr_assert_str_eq(got, want);
}

/* "2024-05-01T12:00:00.123Z" */
static void assert_timestamp(const char *ts)
{
	cr_assert_eq(strlen(ts), 24, "%s", ts);
	cr_assert(ts[10] == 'T' && ts[19] == '.' && ts[23] == 'Z', "%s", ts);
}

static void append(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(fd_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

static int sessions_fd(void)
{
	struct insomnia_error err;
	int fd = session_open_root(false, NULL, 0, &err);

	cr_assert_geq(fd, 0, "%s", err.message);
	return fd;
}

static void read_info(const char *id, struct session_info *info)
{
	struct insomnia_error err;
	int fd = sessions_fd();

	cr_assert_eq(session_read_info(fd, id, info, &err), 0, "%s",
	             err.message);
	close(fd);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dir exists (a missing dir is a failure, never "holds nothing") and
 * holds exactly the names in want: sorted, each followed by a space. */
static void assert_holds(const char *dir, const char *want)
{
	char *names[64], got[1024] = "";
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d, "%s does not exist", dir);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			cr_assert_lt(n, 64);
			names[n++] = strdup(e->d_name);
		}
	closedir(d);
	qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		strncat(got, names[i], sizeof got - strlen(got) - 2);
		strcat(got, " ");
		free(names[i]);
	}
	cr_assert_str_eq(got, want, "%s holds \"%s\"", dir, got);
}

/* path is gone: removed, as opposed to never made (the caller shows
 * that it was made). */
static void assert_gone(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), -1, "%s still exists", path);
	cr_assert_eq(errno, ENOENT);
}

/* ---- a new session ------------------------------------------------------ */

Test(pod_session,
     new_pod_creates_a_private_session_dir_with_toml_journal_and_lock)
{
	struct th_pod p;
	char id[SESSION_ID_LEN + 1], line[TH_PATH_MAX + 32];

	th_start_named(&p, "web");
	id_of("web", id);
	cr_assert_eq(mode_of(th.home), S_IFDIR | 0700);
	cr_assert_eq(mode_of(session_path("", "")), S_IFDIR | 0700);
	cr_assert_eq(mode_of(session_path(id, "")), S_IFDIR | 0700);
	cr_assert_eq(mode_of(session_path(id, SESSION_TOML)), S_IFREG | 0600);
	cr_assert_eq(mode_of(session_path(id, SESSION_JOURNAL)),
	             S_IFREG | 0600);
	cr_assert_eq(mode_of(session_path(id, SESSION_LOCK)), S_IFREG | 0600);
	assert_holds(session_path(id, ""), "journal.jsonl lock session.toml ");
	th_fmt(line, sizeof line, "pod: session dir %s\n",
	       session_path(id, ""));
	th_assert_err_has(&p, line);
	th_stop(&p);
	assert_holds(session_path(id, ""), "journal.jsonl lock session.toml ");
	th_pod_free(&p);
}

Test(pod_session,
     journal_records_started_ready_stopping_with_reason_and_stopped)
{
	json_t *recs[MAX_RECORDS];
	struct th_pod p;
	char id[SESSION_ID_LEN + 1];
	pid_t pid;
	size_t n;

	th_start_named(&p, "web");
	id_of("web", id);
	pid = p.pid;
	th_stop(&p);
	n = records(id, recs, NULL);
	assert_events(recs, n, "started ready stopping stopped");
	cr_assert_eq(json_integer_value(json_object_get(recs[0], "pid")), pid);
	cr_assert_str_eq(field(recs[0], "name"), "web");
	cr_assert_str_eq(field(recs[2], "reason"), "signal SIGTERM");
	cr_assert_null(json_object_get(recs[3], "error"));
	for (size_t i = 0; i < n; i++)
		assert_timestamp(field(recs[i], "ts"));
	cr_assert_leq(strcmp(field(recs[0], "ts"), field(recs[3], "ts")), 0);
	free_records(recs, n);
	th_pod_free(&p);
}

Test(pod_session, a_shutdown_request_is_journalled_as_such)
{
	json_t *recs[MAX_RECORDS];
	struct th_pod p;
	char id[SESSION_ID_LEN + 1];
	size_t n;
	int fd;

	th_start_named(&p, "quitter");
	id_of("quitter", id);
	fd = th_connect(p.sock);
	json_decref(th_call(fd, "shutdown"));
	cr_assert_eq(th_wait(&p), 0, "%s", p.err);
	close(fd);
	n = records(id, recs, NULL);
	assert_events(recs, n, "started ready stopping stopped");
	cr_assert_str_eq(field(recs[2], "reason"), "shutdown request");
	free_records(recs, n);
	th_pod_free(&p);
}

Test(pod_session, session_toml_parses_back_with_the_session_and_its_config)
{
	const char *overlay = "[pod]\nname = \"web\"\ndescription = \"a "
	                      "\\\"quoted\\\" pod\"\n";
	struct toml_datetime dt;
	struct toml_value *doc;
	struct th_pod p;
	struct insomnia_error err;
	char id[SESSION_ID_LEN + 1], *text;
	const char *s;

	start(&p, overlay, NULL);
	id_of("web", id);
	th_stop(&p);
	text = th_read_file(session_path(id, SESSION_TOML));
	doc = toml_parse(text, strlen(text), "session.toml", NULL, &err);
	cr_assert_not_null(doc, "%s\n%s", err.message, text);
	cr_assert(toml_as_string(toml_lookup(doc, "session.id"), &s, NULL));
	cr_assert_str_eq(s, id);
	cr_assert(toml_as_string(toml_lookup(doc, "session.name"), &s, NULL));
	cr_assert_str_eq(s, "web");
	cr_assert(toml_as_string(toml_lookup(doc, "session.cwd"), &s, NULL));
	cr_assert_str_eq(s, th.work);
	cr_assert_eq(toml_type(toml_lookup(doc, "session.created_at")),
	             TOML_DATETIME);
	cr_assert(
	    toml_as_datetime(toml_lookup(doc, "session.created_at"), &dt));
	cr_assert(dt.offset_is_z);
	cr_assert(
	    toml_as_string(toml_lookup(doc, "config.pod.name"), &s, NULL));
	cr_assert_str_eq(s, "web");
	cr_assert(toml_as_string(toml_lookup(doc, "config.pod.description"), &s,
	                         NULL));
	cr_assert_str_eq(s, "a \"quoted\" pod");
	toml_free(doc);
	th_pod_free(&p);
}

Test(pod_session, a_pod_refused_its_name_creates_no_session)
{
	struct th_pod first, second;
	const char *args[] = {"--overlay", "[pod]\nname = \"twin\"\n", NULL};
	char id[SESSION_ID_LEN + 1], want[64];

	th_start_named(&first, "twin");
	id_of("twin", id);
	cr_assert_not(th_start(&second, NULL, args));
	cr_assert_eq(th_wait(&second),
	             insomnia_error_exit_code(INSOMNIA_ERR_ALREADY_RUNNING));
	th_fmt(want, sizeof want, "%s ", id);
	assert_holds(session_path("", ""), want);
	th_stop(&first);
	th_pod_free(&first);
	th_pod_free(&second);
}

Test(pod_session, a_config_error_touches_no_data_dir)
{
	const char *args[] = {"--overlay", "[pod]\nname = 1\n", NULL};
	struct th_pod p;

	cr_assert_not(th_start(&p, NULL, args));
	cr_assert_eq(th_wait(&p),
	             insomnia_error_exit_code(INSOMNIA_ERR_CONFIG));
	cr_assert_neq(access(th.home, F_OK), 0, "%s was created", th.home);
	th_pod_free(&p);
}

/* TOML holds only UTF-8: such a cwd is refused by name before any
 * session dir is made, not written and then found unreadable. */
Test(pod_session, a_cwd_that_is_not_utf8_is_refused_and_leaves_no_session)
{
	const char *args[] = {"--overlay", "[pod]\nname = \"latin\"\n", NULL};
	char cwd[TH_PATH_MAX];
	struct th_pod p;

	th_fmt(cwd, sizeof cwd, "%s/caf\xe9", th.work);
	cr_assert_eq(mkdir(cwd, 0700), 0);
	cr_assert_not(th_start(&p, cwd, args));
	cr_assert_eq(th_wait(&p),
	             insomnia_error_exit_code(INSOMNIA_ERR_CONFIG));
	th_assert_err_has(&p, "is not valid UTF-8");
	cr_assert(access(session_path("", ""), F_OK) != 0 ||
	              rmdir(session_path("", "")) == 0,
	          "a session dir was left in %s", session_path("", ""));
	th_pod_free(&p);
}

/* ---- resuming --------------------------------------------------------- */

Test(pod_session, resume_keeps_the_id_and_the_journal_holds_both_runs)
{
	json_t *recs[MAX_RECORDS], *r;
	struct th_pod p;
	char id[SESSION_ID_LEN + 1], *toml_before;
	pid_t pid;
	size_t n;
	int fd;

	one_run("web", id);
	toml_before = th_read_file(session_path(id, SESSION_TOML));
	start(&p, NULL, id);
	pid = p.pid;
	fd = th_connect(p.sock);
	r = th_call(fd, "hello");
	cr_assert_str_eq(json_string_value(json_object_get(r, "session_id")),
	                 id);
	json_decref(r);
	r = th_call(fd, "status");
	cr_assert_str_eq(json_string_value(json_object_get(r, "session_id")),
	                 id);
	json_decref(r);
	close(fd);
	th_assert_err_has(&p, "(resumed)");
	th_stop(&p);
	n = records(id, recs, NULL);
	assert_events(recs, n,
	              "started ready stopping stopped "
	              "resumed ready stopping stopped");
	cr_assert_eq(json_integer_value(json_object_get(recs[4], "pid")), pid);
	cr_assert_str_eq(field(recs[4], "name"), "web");
	/* session.toml is the record of the creation: never rewritten. */
	cr_assert_str_eq(th_read_file(session_path(id, SESSION_TOML)),
	                 toml_before);
	free_records(recs, n);
	th_pod_free(&p);
}

Test(pod_session, resume_accepts_the_id_in_upper_case)
{
	struct th_pod p;
	char id[SESSION_ID_LEN + 1], upper[SESSION_ID_LEN + 1], got[64];

	one_run("web", id);
	for (size_t i = 0; i <= SESSION_ID_LEN; i++)
		upper[i] = (char)toupper((unsigned char)id[i]);
	start(&p, NULL, upper);
	id_of("web", got);
	cr_assert_str_eq(got, id);
	th_stop(&p);
	th_pod_free(&p);
}

Test(pod_session, resume_takes_the_name_from_the_session)
{
	struct th_pod p;
	char id[SESSION_ID_LEN + 1];

	one_run("named", id);
	start(&p, NULL, id);
	cr_assert_str_eq(p.sock, th_rundir_file("named", "sock"));
	th_stop(&p);
	th_pod_free(&p);
}

Test(pod_session,
     recorded_config_is_a_layer_between_the_manifests_and_the_overlay)
{
	char id[SESSION_ID_LEN + 1], line[128], manifest[TH_PATH_MAX];
	struct th_pod p;

	th_fmt(manifest, sizeof manifest, "%s/.insomnia/manifest.toml",
	       th.work);
	th_write_file(manifest, "[pod]\nname = \"proj\"\n"
	                        "description = \"from the project\"\n");
	start(&p, "[pod]\nname = \"web\"\ndescription = \"first run\"\n", NULL);
	id_of("web", id);
	th_stop(&p);
	th_pod_free(&p);

	/* Without an overlay, the recorded config beats the project's. */
	start(&p, NULL, id);
	th_fmt(line, sizeof line, "pod: config: session %s\n", id);
	th_assert_err_has(&p, line);
	th_assert_status(&p, "web", "first run");
	th_stop(&p);
	th_pod_free(&p);

	/* An overlay beats the recorded config, for that run. */
	start(&p, "[pod]\ndescription = \"second run\"\n", id);
	th_assert_status(&p, "web", "second run");
	th_stop(&p);
	th_pod_free(&p);
}

Test(pod_session, an_overlay_may_rename_a_resumed_run)
{
	json_t *recs[MAX_RECORDS];
	struct session_info info;
	struct th_pod p;
	char id[SESSION_ID_LEN + 1];
	size_t n;

	one_run("web", id);
	start(&p, "[pod]\nname = \"renamed\"\n", id);
	cr_assert_str_eq(p.sock, th_rundir_file("renamed", "sock"));
	read_info(id, &info);
	cr_assert_str_eq(info.name, "web");
	cr_assert_str_eq(info.run_name, "renamed");
	th_stop(&p);
	n = records(id, recs, NULL);
	cr_assert_str_eq(field(recs[4], "name"), "renamed");
	free_records(recs, n);
	th_pod_free(&p);
}

Test(pod_session, resume_of_a_live_session_is_refused_naming_pod_and_pid)
{
	struct th_pod live, other;
	char id[SESSION_ID_LEN + 1], msg[160], *journal;

	th_start_named(&live, "web");
	id_of("web", id);
	journal = th_read_file(session_path(id, SESSION_JOURNAL));
	refused(&other, id,
	        insomnia_error_exit_code(INSOMNIA_ERR_SESSION_LIVE));
	th_fmt(msg, sizeof msg, "pod: session %s is live in pod web (pid %d)\n",
	       id, (int)live.pid);
	th_assert_err_has(&other, msg);
	/* Refused before it took the name or wrote anything. */
	th_assert_err_lacks(&other, "runtime dir");
	th_assert_err_lacks(&other, "INSOMNIA-READY");
	cr_assert_str_eq(th_read_file(session_path(id, SESSION_JOURNAL)),
	                 journal);
	th_stop(&live);
	th_pod_free(&live);
	th_pod_free(&other);
}

Test(pod_session, garbage_session_ids_are_refused_before_any_file)
{
	static const char *const bad[] = {
	    "not-a-uuid",
	    "",
	    "0f8fad5b-d9cb-469f-a165-70867728950",
	    "0f8fad5b-d9cb-469f-a165-70867728950e0",
	    "0f8fad5bd9cb-469f-a165-70867728950e0",
	    "{0f8fad5b-d9cb-469f-a165-70867728950e}",
	    "0f8fad5b-d9cb-469f-a165-70867728950g",
	    "../../../../etc/passwd-aaaaaaaaaaaaa",
	};
	struct th_pod p;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		refused(&p, bad[i],
		        insomnia_error_exit_code(INSOMNIA_ERR_BAD_SESSION_ID));
		th_assert_err_has(&p, "is not a UUID");
		th_pod_free(&p);
	}
	cr_assert_neq(access(th.home, F_OK), 0, "%s was created", th.home);
}

Test(pod_session, an_unknown_session_is_refused_before_any_file)
{
	const char *id = "0f8fad5b-d9cb-469f-a165-70867728950e";
	struct th_pod p;
	char other[SESSION_ID_LEN + 1];

	refused(&p, id, insomnia_error_exit_code(INSOMNIA_ERR_SESSION_UNKNOWN));
	th_assert_err_has(&p, "pod: unknown session "
	                      "0f8fad5b-d9cb-469f-a165-70867728950e");
	cr_assert_neq(access(th.home, F_OK), 0, "%s was created", th.home);
	th_pod_free(&p);

	/* With other sessions around, the same. */
	one_run("web", other);
	refused(&p, id, insomnia_error_exit_code(INSOMNIA_ERR_SESSION_UNKNOWN));
	th_assert_err_has(&p, "no directory ");
	cr_assert_neq(access(session_path(id, ""), F_OK), 0);
	th_pod_free(&p);
}

Test(pod_session, resuming_under_a_taken_name_leaves_the_session_untouched)
{
	struct th_pod holder, p;
	char id[SESSION_ID_LEN + 1], *journal;
	struct session_info info;
	const char *args[3] = {"--session", NULL, NULL};

	one_run("web", id);
	journal = th_read_file(session_path(id, SESSION_JOURNAL));
	th_start_named(&holder, "web"); /* another session, same name */
	args[1] = id;
	cr_assert_not(th_start(&p, NULL, args));
	cr_assert_eq(th_wait(&p),
	             insomnia_error_exit_code(INSOMNIA_ERR_ALREADY_RUNNING),
	             "%s", p.err);
	cr_assert_str_eq(th_read_file(session_path(id, SESSION_JOURNAL)),
	                 journal);
	read_info(id, &info);
	cr_assert_not(info.live, "the refused pod kept the session lock");
	th_stop(&holder);
	th_pod_free(&holder);
	th_pod_free(&p);
}

Test(pod_session, a_new_pod_that_fails_after_taking_its_name_leaves_no_session)
{
	const char *args[] = {"--overlay", "[pod]\nname = \"web\"\n", NULL};
	struct th_pod p;

	/* Not a socket where the socket goes: listen fails, after the
	 * session was made. */
	char made[TH_PATH_MAX], *at, *nl;

	th_write_file(th_rundir_file("web", "sock"), "not a socket");
	cr_assert_not(th_start(&p, NULL, args));
	cr_assert_eq(th_wait(&p),
	             insomnia_error_exit_code(INSOMNIA_ERR_RUNTIME_DIR), "%s",
	             p.err);
	/* The session was made (the pod names its dir)... */
	at = strstr(p.err, "pod: session dir ");
	cr_assert_not_null(at, "no session was made:\n%s", p.err);
	th_fmt(made, sizeof made, "%s", at + strlen("pod: session dir "));
	nl = strchr(made, '\n');
	cr_assert_not_null(nl);
	*nl = '\0';
	cr_assert_eq(
	    strncmp(made, session_path("", ""), strlen(session_path("", ""))),
	    0, "%s", made);
	/* ...and removed again, leaving sessions/ itself empty. */
	assert_gone(made);
	assert_holds(session_path("", ""), "");
	th_pod_free(&p);
}

Test(pod_session, a_resumed_pod_that_fails_to_start_journals_the_error)
{
	json_t *recs[MAX_RECORDS];
	struct th_pod p;
	char id[SESSION_ID_LEN + 1];
	size_t n;

	one_run("web", id);
	th_write_file(th_rundir_file("web", "sock"), "not a socket");
	refused(&p, id, insomnia_error_exit_code(INSOMNIA_ERR_RUNTIME_DIR));
	n = records(id, recs, NULL);
	assert_events(recs, n,
	              "started ready stopping stopped resumed stopped");
	cr_assert(strstr(field(recs[5], "error"), "is not a socket"), "%s",
	          field(recs[5], "error"));
	free_records(recs, n);
	th_pod_free(&p);
}

/* ---- crashes ----------------------------------------------------------- */

Test(pod_session, a_torn_last_line_is_skipped_and_the_next_record_starts_a_line)
{
	const char *torn = "{\"ts\":\"2024-05-01T12:00:00.000Z\",\"eve";
	json_t *recs[MAX_RECORDS];
	struct session_info info;
	struct th_pod p;
	char id[SESSION_ID_LEN + 1], *text, *at;
	size_t n;

	one_run("web", id);
	append(session_path(id, SESSION_JOURNAL), torn);
	read_info(id, &info);
	cr_assert_str_eq(info.last_event, "stopped");
	start(&p, NULL, id);
	th_stop(&p);
	text = th_read_file(session_path(id, SESSION_JOURNAL));
	at = strstr(text, torn);
	cr_assert_not_null(at);
	cr_assert_eq(at[-1], '\n');
	cr_assert_eq(at[strlen(torn)], '\n', "the torn line was continued");
	n = records(id, recs, torn);
	assert_events(recs, n,
	              "started ready stopping stopped "
	              "resumed ready stopping stopped");
	free_records(recs, n);
	th_pod_free(&p);
}

Test(pod_session, an_invalid_last_line_is_skipped_by_readers)
{
	struct session_info info;
	char id[SESSION_ID_LEN + 1];

	one_run("web", id);
	append(session_path(id, SESSION_JOURNAL), "{\"ts\":1}\nnot json\n\n");
	read_info(id, &info);
	cr_assert_str_eq(info.last_event, "stopped");
	assert_timestamp(info.last_event_at);
}

Test(pod_session, a_killed_pod_leaves_its_session_free_to_resume)
{
	json_t *recs[MAX_RECORDS];
	struct session_info info;
	struct th_pod dead, p;
	char id[SESSION_ID_LEN + 1];
	pid_t pid;
	size_t n;

	th_start_named(&dead, "web");
	id_of("web", id);
	pid = dead.pid;
	kill(dead.pid, SIGKILL);
	cr_assert_eq(th_wait(&dead), 128 + SIGKILL);
	read_info(id, &info);
	cr_assert_not(info.live);
	cr_assert_str_eq(info.last_event, "ready");
	cr_assert_eq(info.pid, pid);
	start(&p, NULL, id);
	read_info(id, &info);
	cr_assert(info.live);
	cr_assert_eq(info.pid, p.pid);
	th_stop(&p);
	n = records(id, recs, NULL);
	assert_events(recs, n, "started ready resumed ready stopping stopped");
	free_records(recs, n);
	th_pod_free(&dead);
	th_pod_free(&p);
}

/* ---- the read API ------------------------------------------------------ */

Test(pod_session, read_info_reports_a_live_session_and_then_a_stopped_one)
{
	struct session_info info;
	struct th_pod p;
	char id[SESSION_ID_LEN + 1];

	th_start_named(&p, "web");
	id_of("web", id);
	read_info(id, &info);
	cr_assert_str_eq(info.id, id);
	cr_assert_str_eq(info.name, "web");
	cr_assert_str_eq(info.run_name, "web");
	cr_assert_str_eq(info.cwd, th.work);
	assert_timestamp(info.created_at);
	cr_assert_str_eq(info.last_event, "ready");
	assert_timestamp(info.last_event_at);
	cr_assert(info.live);
	cr_assert_eq(info.pid, p.pid);
	th_stop(&p);
	read_info(id, &info);
	cr_assert_not(info.live);
	cr_assert_str_eq(info.last_event, "stopped");
	th_pod_free(&p);
}

Test(pod_session, read_info_refuses_bad_and_unknown_ids)
{
	struct session_info info;
	struct insomnia_error err;
	char id[SESSION_ID_LEN + 1];
	int fd;

	one_run("web", id);
	fd = sessions_fd();
	cr_assert_eq(session_read_info(fd, "nope", &info, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_SESSION_ID);
	cr_assert_eq(session_read_info(fd,
	                               "0f8fad5b-d9cb-469f-a165-70867728950e",
	                               &info, &err),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_UNKNOWN);
	close(fd);
}

Test(pod_session, read_info_finds_the_last_start_far_back_in_a_long_journal)
{
	const char *id = "0f8fad5b-d9cb-469f-a165-70867728950e";
	struct session_info info;
	char path[TH_PATH_MAX];

	th_fmt(path, sizeof path, "%s", session_path(id, SESSION_TOML));
	th_write_file(path, "[session]\nid = \"0f8fad5b-d9cb-469f-a165-"
	                    "70867728950e\"\nname = \"old\"\ncwd = \"/x\"\n"
	                    "created_at = 2024-05-01T12:00:00+02:00\n"
	                    "[config]\n");
	th_fmt(path, sizeof path, "%s", session_path(id, SESSION_JOURNAL));
	th_write_file(path, "{\"ts\":\"2024-05-01T10:00:00.000Z\",\"event\":"
	                    "\"resumed\",\"pid\":4242,\"name\":\"web\"}\n");
	for (int i = 0; i < 1000; i++)
		append(path, "{\"ts\":\"2024-05-01T10:00:01.000Z\",\"event\":"
		             "\"ready\"}\n");
	append(path, "{\"ts\":\"2024-05-01T10:00:02.000Z\",\"event\":\"x\"}");
	read_info(id, &info);
	cr_assert_str_eq(info.name, "old");
	cr_assert_str_eq(info.run_name, "web");
	cr_assert_eq(info.pid, 4242);
	cr_assert_str_eq(info.created_at, "2024-05-01T12:00:00+02:00");
	/* A complete record without its newline still counts. */
	cr_assert_str_eq(info.last_event, "x");
	cr_assert_str_eq(info.last_event_at, "2024-05-01T10:00:02.000Z");
	cr_assert_not(info.live);
}

struct seen {
	char ids[4][SESSION_ID_LEN + 1];
	char names[4][INSOMNIA_NAME_MAX + 1];
	int n;
};

static int collect(const struct session_info *info, void *arg)
{
	struct seen *s = arg;

	cr_assert_lt(s->n, 4);
	strcpy(s->ids[s->n], info->id);
	strcpy(s->names[s->n], info->name);
	s->n++;
	return 0;
}

Test(pod_session, session_list_lists_every_session_and_skips_the_rest)
{
	char a[SESSION_ID_LEN + 1], b[SESSION_ID_LEN + 1], path[TH_PATH_MAX];
	struct seen seen = {0};
	struct insomnia_error err;
	int fd, ia;

	one_run("alpha", a);
	one_run("beta", b);
	/* Not sessions: a stray name, an upper-case twin, a file, and a
	 * dir whose creation never finished. */
	th_write_file(session_path("junk", "x"), "");
	th_write_file(session_path("0F8FAD5B-D9CB-469F-A165-70867728950E", "x"),
	              "");
	th_write_file(
	    session_path("1b4e28ba-2fa1-11d2-883f-0016d3cca427", SESSION_LOCK),
	    "");
	th_fmt(path, sizeof path, "%s",
	       session_path("2b4e28ba-2fa1-11d2-883f-0016d3cca427", ""));
	th_write_file(path, "");
	fd = sessions_fd();
	cr_assert_eq(session_list(fd, &(struct session_list_fns){collect, NULL},
	                          &seen, &err),
	             0, "%s", err.message);
	close(fd);
	cr_assert_eq(seen.n, 2);
	ia = strcmp(seen.ids[0], a) == 0 ? 0 : 1;
	cr_assert_str_eq(seen.ids[ia], a);
	cr_assert_str_eq(seen.names[ia], "alpha");
	cr_assert_str_eq(seen.ids[1 - ia], b);
	cr_assert_str_eq(seen.names[1 - ia], "beta");
}

static int stop_at_first(const struct session_info *info, void *arg)
{
	++*(int *)arg;
	return 7;
}

Test(pod_session, session_list_stops_when_the_callback_says_so)
{
	char a[SESSION_ID_LEN + 1], b[SESSION_ID_LEN + 1];
	struct insomnia_error err;
	int fd, calls = 0;

	one_run("alpha", a);
	one_run("beta", b);
	fd = sessions_fd();
	cr_assert_eq(
	    session_list(fd, &(struct session_list_fns){stop_at_first, NULL},
	                 &calls, &err),
	    7);
	cr_assert_eq(calls, 1);
	close(fd);
}

Test(pod_session, session_ids_are_checked_in_canonical_form)
{
	char out[SESSION_ID_LEN + 1];

	cr_assert_eq(
	    session_id_check("1b4e28ba-2fa1-11d2-883f-0016d3cca427", NULL), 0);
	cr_assert_eq(session_id_normalize(
	                 "1B4E28BA-2FA1-11D2-883F-0016D3CCA427", out, NULL),
	             0);
	cr_assert_str_eq(out, "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
	cr_assert_eq(
	    session_id_check("1b4e28ba2fa1-11d2-883f-0016d3cca427-", NULL), -1);
	cr_assert_eq(
	    session_id_check("1b4e28ba-2fa1-11d2-883f-0016d3cca42", NULL), -1);
	cr_assert_eq(
	    session_id_check(" 1b4e28ba-2fa1-11d2-883f-0016d3cca427", NULL),
	    -1);
}
