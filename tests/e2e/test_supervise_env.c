/* test_supervise_env.c: what the pod's processes inherit from the pod's
 * own start (its umask and soft descriptor limit, not the pod's private
 * umask 077 and raised limit), and what a failed start leaves behind
 * (nothing).  Every wait is on an event: the pod's event stream, a reply,
 * the spawn's outcome. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <insomnia/control.h>
#include <insomnia/reap.h>
#include <insomnia/sessions.h>
#include <insomnia/spawn.h>

#include "harness.h"
#include "session.h"

static void use_real_pod(void)
{
	e2e_setup();
	cr_assert_not_null(getenv("INSOMNIA_TEST_POD"));
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

TestSuite(supervise_env, .init = use_real_pod, .fini = e2e_teardown,
          .timeout = 60);

/* ---- helpers (as in test_supervise.c) ----------------------------------- */

static char overlay_buf[8192];

static int spawn_with(const char *name, const char *procs,
                      struct insomnia_spawn_result *res,
                      struct insomnia_error *err)
{
	struct insomnia_spawn_options o = {0};

	snprintf(overlay_buf, sizeof overlay_buf, "[pod]\nname = \"%s\"\n%s",
	         name, procs);
	o.name = name;
	o.overlay = overlay_buf;
	o.timeout_ms = 20000;
	return insomnia_spawn(&o, res, err);
}

static json_t *call(const char *pod, const char *method, const char *params)
{
	struct insomnia_error err;
	struct insomnia_control *c = insomnia_control_open(pod, &err);
	char *text = NULL;
	json_t *v;

	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(insomnia_control_call_wait(c, method, params, 30000, &text,
	                                        NULL, &err),
	             0, "%s: %s (%s)", method, err.message, err.detail);
	insomnia_control_close(c);
	v = json_loads(text, 0, NULL);
	cr_assert_not_null(v, "%s", text);
	free(text);
	return v;
}

/* Subscribe to process events; once the stream is open, start proc on
 * another connection; follow until proc has exited. */
struct exit_watch {
	const char *pod, *proc;
	bool exited, ended;
};

static void watch_started(struct insomnia_control *c,
                          const struct insomnia_control_reply *r, void *arg)
{
	struct exit_watch *w = arg;
	char params[256];

	cr_assert_eq(r->status, INSOMNIA_CONTROL_RESULT, "%s",
	             r->err ? r->err->message : "");
	snprintf(params, sizeof params, "{\"names\":[\"%s\"]}", w->proc);
	json_decref(call(w->pod, "start", params));
}

static void watch_event(struct insomnia_control *c, const char *name,
                        const char *data, size_t len, void *arg)
{
	struct exit_watch *w = arg;
	json_t *d = json_loadb(data, len, 0, NULL);
	const char *p = json_string_value(json_object_get(d, "process"));
	const char *s = json_string_value(json_object_get(d, "state"));

	if (!strcmp(name, "process") && p && s && !strcmp(p, w->proc) &&
	    !strcmp(s, "exited"))
		w->exited = true;
	json_decref(d);
}

static void watch_ended(struct insomnia_control *c,
                        const struct insomnia_error *err, void *arg)
{
	((struct exit_watch *)arg)->ended = true;
}

static void start_and_wait_exit(const char *pod, const char *proc)
{
	struct event_base *base = event_base_new();
	struct insomnia_error err;
	struct insomnia_control *c = insomnia_control_connect(base, pod, &err);
	struct exit_watch w = {pod, proc, false, false};
	struct insomnia_control_stream st = {watch_started, watch_event,
	                                     watch_ended, &w};

	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(insomnia_control_subscribe(c, "subscribe",
	                                        "{\"kinds\":[\"process\"]}",
	                                        &st, &err),
	             0, "%s", err.message);
	while (!w.exited && !w.ended)
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	cr_assert(w.exited, "the stream ended before %s exited", proc);
	insomnia_control_close(c);
	event_base_free(base);
}

static void shutdown_pod(const char *name, pid_t pid)
{
	int status;

	json_decref(call(name, "shutdown", NULL));
	while (waitpid(pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "pod status %d", status);
	e2e_assert_no_children();
}

static const char *session_file(const struct insomnia_spawn_result *res,
                                const char *rel)
{
	static char path[1024];

	snprintf(path, sizeof path, "%s/sessions/%s/%s", e2e_home,
	         res->session_id, rel);
	return path;
}

/* The soft and hard descriptor limits of pid, from /proc. */
static void fd_limits_of(pid_t pid, long *soft, long *hard)
{
	char path[64], *text, *line;

	snprintf(path, sizeof path, "/proc/%ld/limits", (long)pid);
	text = e2e_read(path);
	cr_assert_not_null(text);
	line = strstr(text, "Max open files");
	cr_assert_not_null(line, "%s", text);
	cr_assert_eq(sscanf(line, "Max open files %ld %ld", soft, hard), 2,
	             "%s", line);
	free(text);
}

/* ---- what the processes inherit ----------------------------------------- */

Test(supervise_env, processes_get_the_umask_and_fd_limit_the_pod_was_given)
{
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	struct rlimit rl;
	long soft, hard;
	char *log, want[64];

	/* what a user's shell gave the pod: umask 022, a soft limit of 200
	 * (below the hard one, which the pod takes for itself) */
	umask(022);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	cr_assert_gt(rl.rlim_max, 200, "a hard limit above 200 is needed");
	rl.rlim_cur = 200;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	cr_assert_eq(spawn_with("inherit",
	                        "[process.env]\n"
	                        "shell = \"umask; ulimit -n\"\n"
	                        "autostart = false\n",
	                        &res, &err),
	             0, "%s\n%s", err.message, err.detail);
	fd_limits_of(res.pid, &soft, &hard);
	cr_assert_eq(soft, (long)rl.rlim_max, "the pod kept the soft limit");
	start_and_wait_exit("inherit", "env");
	log = e2e_read(session_file(&res, "logs/env.log"));
	cr_assert_not_null(log);
	cr_assert(strstr(log, " out 0022\n"), "umask: %s", log);
	snprintf(want, sizeof want, " out %d\n", 200);
	cr_assert(strstr(log, want), "limit: %s", log);
	free(log);
	shutdown_pod("inherit", res.pid);
}

/* ---- a failed start ------------------------------------------------------ */

/* Entries of <home>/sessions/ (none when it is missing). */
static int sessions_count(void)
{
	char path[512];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof path, "%s/sessions", e2e_home);
	if (!(d = opendir(path))) {
		cr_assert_eq(errno, ENOENT);
		return 0;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

Test(supervise_env, a_failed_start_leaves_no_session_dir)
{
	struct insomnia_spawn_result res;
	struct insomnia_error err;

	cr_assert_eq(spawn_with("doomed",
	                        "[process.api]\n"
	                        "shell = \"echo starting; exit 3\"\n",
	                        &res, &err),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROCESS_FAILED, "%s", err.message);
	e2e_assert_no_children();
	cr_assert_eq(sessions_count(), 0, "a session dir is left");
}

/* ---- reap and prune know a session's logs -------------------------------- */

static const char leftover_id[] = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";

static void make_file_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0, "%s: %s", name, strerror(errno));
	close(fd);
}

/* What a pod killed while its failed start cleaned up leaves: no
 * session.toml, the lock, and logs/ with a rotated log; the dir of logs
 * is returned (caller closes). */
static int make_leftover_with_logs(void)
{
	struct insomnia_error err;
	int rootfd = session_open_root(true, NULL, 0, &err), fd, logs;

	cr_assert_geq(rootfd, 0, "%s", err.message);
	cr_assert_eq(mkdirat(rootfd, leftover_id, 0700), 0);
	fd = openat(rootfd, leftover_id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	make_file_at(fd, SESSION_LOCK);
	cr_assert_eq(mkdirat(fd, SESSION_LOGS, 0700), 0);
	logs = openat(fd, SESSION_LOGS, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(logs, 0);
	make_file_at(logs, "api.log");
	make_file_at(logs, "api.log.1");
	close(fd);
	close(rootfd);
	return logs;
}

static void note_report(const struct insomnia_reap_report *r, void *arg)
{
	*(struct insomnia_reap_report *)arg = *r;
}

static bool session_exists(const char *id)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof path, "%s/sessions/%s", e2e_home, id);
	return lstat(path, &st) == 0;
}

Test(supervise_env, reap_removes_a_leftover_creation_with_its_logs)
{
	struct insomnia_reap_report r = {0};
	struct insomnia_error err;

	close(make_leftover_with_logs());
	cr_assert_eq(insomnia_reap(note_report, &r, &err), 0, "%s",
	             err.message);
	cr_assert(r.removed, "kept: %s", r.note);
	cr_assert(!session_exists(leftover_id));
}

/* Nothing in logs/ is followed: a symlink there is kept, and its target
 * (outside) untouched. */
Test(supervise_env, reap_keeps_a_leftover_whose_logs_hold_a_symlink)
{
	struct insomnia_reap_report r = {0};
	struct insomnia_error err;
	char target[512];
	int logs = make_leftover_with_logs();

	snprintf(target, sizeof target, "%s/precious", e2e_home);
	close(open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	cr_assert_eq(symlinkat(target, logs, "db.log"), 0);
	close(logs);
	cr_assert_eq(insomnia_reap(note_report, &r, &err), 0, "%s",
	             err.message);
	cr_assert(!r.removed);
	cr_assert(strstr(r.note, "logs/db.log"), "note: %s", r.note);
	cr_assert(session_exists(leftover_id));
	cr_assert_eq(access(target, F_OK), 0, "the symlink was followed");
}

/* A session whose processes ran has logs/: prune removes it whole. */
Test(supervise_env, prune_removes_an_ended_session_with_its_logs)
{
	struct insomnia_sessions_prune_options po = {.name = "logged"};
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	struct stat st;

	cr_assert_eq(spawn_with("logged",
	                        "[process.worker]\n"
	                        "command = [\"sleep\", \"100000\"]\n",
	                        &res, &err),
	             0, "%s\n%s", err.message, err.detail);
	shutdown_pod("logged", res.pid);
	cr_assert_eq(stat(session_file(&res, "logs/worker.log"), &st), 0);
	cr_assert_eq(insomnia_sessions_prune(&po, NULL, NULL, &err), 1, "%s",
	             err.message);
	cr_assert(!session_exists(res.session_id));
}
