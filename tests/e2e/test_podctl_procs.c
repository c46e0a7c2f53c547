/* End-to-end: podctl's process commands (ps, start, stop POD/PROC,
 * restart, logs, events) against scripted fake pods: a forked child
 * that holds a pod's runtime dir as a live pod does (its `lock` taken,
 * `sock` listening), answers each connection with a canned reply and
 * tells the test every request it read.  What podctl sent (the names
 * grouped per pod, the params) and what it printed and exited with are
 * checked; the real pod's side comes with the supervisor.  Each test
 * synchronises on the fake pod's exit and podctl's, never on time. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <insomnia/error.h>

#include "fdio.h"
#include "harness.h"
#include "podctl_run.h"
#include "proto.h"
#include "rundir.h"
#include "unixsock.h"

TestSuite(podctl_procs, .init = e2e_setup, .fini = e2e_teardown, .timeout = 30);

/* --- The fake pod ---------------------------------------------------------
 */

#define MAX_CONNS 8

struct fake_pod {
	char name[64];
	pid_t pid;
	int dirfd;
	int requests; /* read end: "METHOD PARAMS\n" per request read */
};

/* A reply starting with this is sent without it, and then the fake pod
 * reads until the client hangs up (a stream the client ends). */
#define HOLD "hold:"
/* Between the replies to several requests on one connection. */
#define NEXT "\x1e"

/* Read a request, record it ("METHOD PARAMS\n"); its id. */
static long long take_request(int fd, int record)
{
	struct insomnia_error err;
	json_t *req, *params;
	long long id;
	char *line, *p;
	size_t len;

	if (proto_read_line(fd, &line, &len, &err) < 0)
		_exit(3);
	if (!(req = json_loadb(line, len, 0, NULL)))
		_exit(4);
	params = json_object_get(req, "params");
	p = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS)
	           : strdup("{}");
	if (!p ||
	    dprintf(record, "%s %s\n",
	            json_string_value(json_object_get(req, "method")), p) < 0)
		_exit(5);
	id = (long long)json_integer_value(json_object_get(req, "id"));
	free(p);
	free(line);
	json_decref(req);
	return id;
}

/* One connection: for each reply (several split by NEXT), read a
 * request, record it and send the reply: a printf format whose one
 * %lld is the request's id (more lines, e.g. events, may follow in it).
 * Then close, or with HOLD wait for the client to. */
static void serve_one(int fd, const char *replies, int record)
{
	bool hold = !strncmp(replies, HOLD, strlen(HOLD));
	char *all = strdup(replies + (hold ? strlen(HOLD) : 0)), *save, *out;
	char buf[256];

	for (char *r = strtok_r(all, NEXT, &save); r;
	     r = strtok_r(NULL, NEXT, &save)) {
		if (asprintf(&out, r, take_request(fd, record)) < 0 ||
		    fd_write_all(fd, out, strlen(out)) < 0)
			_exit(6);
		free(out);
	}
	while (hold && read(fd, buf, sizeof buf) > 0)
		;
	free(all);
}

/* A live pod called name that answers one connection per reply, in
 * turn (replies NULL-ended), then exits. */
static void fake_pod_start(struct fake_pod *p, const char *name,
                           const char *const *replies)
{
	char root[1024], path[1100];
	struct insomnia_error err;
	int rootfd, lockfd, lfd, pipefd[2];

	snprintf(p->name, sizeof p->name, "%s", name);
	rootfd = rundir_open_root(true, root, sizeof root, &err);
	cr_assert_geq(rootfd, 0, "%s", err.message);
	snprintf(path, sizeof path, "%s/%s", root, name);
	p->dirfd = -1;
	cr_assert_eq(
	    rundir_take_lock(rootfd, name, path, &p->dirfd, &lockfd, &err), 0,
	    "%s", err.message);
	close(rootfd);
	snprintf(path, sizeof path, "%s/%s/sock", root, name);
	lfd = unixsock_listen_at(p->dirfd, "sock", path, 8, &err);
	cr_assert_geq(lfd, 0, "%s", err.message);
	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	p->pid = fork();
	cr_assert_geq(p->pid, 0);
	if (p->pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		fcntl(lfd, F_SETFL, 0);
		for (int i = 0; replies[i]; i++) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				_exit(2);
			serve_one(fd, replies[i], pipefd[1]);
			close(fd);
		}
		_exit(0); /* the lock goes with the last descriptor */
	}
	close(pipefd[1]);
	close(lfd);
	close(lockfd);
	p->requests = pipefd[0];
}

/* Wait for the fake pod to have served every reply; the requests it
 * read (malloc'd); its files removed. */
static char *fake_pod_finish(struct fake_pod *p)
{
	char *text;
	size_t len;
	int status;

	cr_assert_eq(waitpid(p->pid, &status, 0), p->pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "the fake pod %s failed (status %#x)", p->name, status);
	cr_assert_eq(fd_read_fd(p->requests, 1 << 20, &text, &len), 0);
	close(p->requests);
	cr_assert_eq(unlinkat(p->dirfd, "sock", 0), 0);
	cr_assert_eq(unlinkat(p->dirfd, "lock", 0), 0);
	close(p->dirfd);
	cr_assert_eq(rmdir(e2e_rundir(p->name, NULL)), 0);
	return text;
}

static void finish_expect(struct fake_pod *p, const char *requests)
{
	char *got = fake_pod_finish(p);

	cr_assert_str_eq(got, requests);
	free(got);
}

static int code_of(enum insomnia_error_kind kind)
{
	return insomnia_error_exit_code(kind);
}

/* The "kind" of {"error":{...}} or {"pod":..,"error":{...}} in a line. */
static void assert_error_kind(const char *line, const char *kind)
{
	json_t *v = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);

	cr_assert_not_null(v, "not JSON: %s", line);
	cr_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(v, "error"), "kind")),
	                 kind, "%s", line);
	json_decref(v);
}

#define RESULT(json) "{\"id\":%lld,\"result\":" json "}\n"
#define ERROR(code, msg)                                                       \
	"{\"id\":%lld,\"error\":{\"code\":\"" code "\",\"message\":\"" msg     \
	"\"}}\n"

/* --- ps --------------------------------------------------------------- */

#define PS_REPLY                                                               \
	"{\"processes\":["                                                     \
	"{\"name\":\"db\",\"state\":\"ready\",\"pid\":4242,\"pgid\":4242,"     \
	"\"restarts\":0,\"exit\":null,\"started_at\":\"2020-01-02T03:04:05."   \
	"678Z\",\"ready\":true,\"ports\":{},\"reason\":null,"                  \
	"\"autostart\":true},"                                                 \
	"{\"name\":\"api\",\"state\":\"backoff\",\"pid\":null,\"pgid\":null,"  \
	"\"restarts\":3,\"exit\":{\"code\":3},\"started_at\":null,"            \
	"\"ready\":false,\"ports\":{\"http\":8080,\"db\":8081},"               \
	"\"reason\":\"exited with status 3 (backing "                          \
	"off)\",\"autostart\":true},"                                          \
	"{\"name\":\"worker\",\"state\":\"exited\",\"pid\":null,\"pgid\":"     \
	"null,"                                                                \
	"\"restarts\":0,\"exit\":{\"signal\":\"TERM\"},\"started_at\":null,"   \
	"\"ready\":false,\"ports\":{},\"reason\":null,\"autostart\":false}]}"

Test(podctl_procs, ps_prints_a_table_and_json_as_the_pod_answered)
{
	static const char *const replies[] = {RESULT(PS_REPLY),
	                                      RESULT(PS_REPLY), NULL};
	struct podctl_run r = {0};
	struct fake_pod pod;
	int fds = e2e_fd_count();
	char *line, *save;
	int n = 0;

	fake_pod_start(&pod, "web", replies);
	podctl_run(&r, "ps", "web", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	for (line = strtok_r(r.out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), n++) {
		cr_assert_leq(strlen(line), 80, "wider than 80: %s", line);
		if (n == 0)
			cr_assert(!strncmp(line, "NAME", 4) &&
			              strstr(line, "STATE") &&
			              strstr(line, "RESTARTS") &&
			              strstr(line, "REASON"),
			          "%s", line);
	}
	cr_assert_eq(n, 4, "a header and three rows: %d", n);
	podctl_run_free(&r);
	podctl_run(&r, "ps", "web", NULL);
	podctl_run_free(&r);
	finish_expect(&pod, "ps {}\nps {}\n");
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

Test(podctl_procs, ps_rows_say_state_pid_exit_ports_and_reason)
{
	static const char *const replies[] = {RESULT(PS_REPLY), NULL};
	struct podctl_run r = {0};
	struct fake_pod pod;
	char *db, *api, *worker;

	fake_pod_start(&pod, "web", replies);
	podctl_run(&r, "ps", "web", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	db = strstr(r.out, "\ndb ");
	api = strstr(r.out, "\napi ");
	worker = strstr(r.out, "\nworker ");
	cr_assert(db && api && worker && db < api && api < worker,
	          "manifest order: %s", r.out);
	/* each row on its own: cut at its newline */
	db++, api++, worker++;
	*strchr(db, '\n') = *strchr(api, '\n') = *strchr(worker, '\n') = '\0';
	/* started in 2020: its age is in days */
	cr_assert(strstr(db, " ready ") && strstr(db, " 4242 ") &&
	              strstr(db, "d "),
	          "%s", db);
	/* the reason is cut to fit 80 columns */
	cr_assert(strstr(api, " backoff ") && strstr(api, " 3 ") &&
	              strstr(api, "http=8080,db=8081") &&
	              strstr(api, "  exited w") && strlen(api) == 80 &&
	              !strcmp(api + 77, "..."),
	          "%s", api);
	cr_assert(strstr(worker, " SIGTERM "), "%s", worker);
	podctl_run_free(&r);
	finish_expect(&pod, "ps {}\n");
}

#define PS_STATUS_REPLY                                                        \
	"{\"processes\":["                                                     \
	"{\"name\":\"db\",\"state\":\"ready\",\"pid\":4242,\"pgid\":4242,"     \
	"\"restarts\":0,\"exit\":null,\"started_at\":null,\"ready\":true,"     \
	"\"ports\":{},\"reason\":null,\"autostart\":true,"                     \
	"\"status\":\"Ready to accept connections tcp and unix, at last\"},"   \
	"{\"name\":\"api\",\"state\":\"failed\",\"pid\":null,\"pgid\":null,"   \
	"\"restarts\":0,\"exit\":null,\"started_at\":null,\"ready\":false,"    \
	"\"ports\":{},\"reason\":\"not ready within 30s\",\"autostart\":true," \
	"\"status\":null}]}"

/* sd_notify's STATUS= text shows in the last column when the process has
 * no reason; the header says the column holds both. */
Test(podctl_procs, ps_shows_the_status_a_process_gave)
{
	static const char *const replies[] = {RESULT(PS_STATUS_REPLY), NULL};
	struct podctl_run r = {0};
	struct fake_pod pod;
	char *db, *api;

	fake_pod_start(&pod, "web", replies);
	podctl_run(&r, "ps", "web", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "  REASON/STATUS\n"), "%s", r.out);
	db = strstr(r.out, "\ndb ");
	api = strstr(r.out, "\napi ");
	cr_assert(db && api, "%s", r.out);
	*strchr(++db, '\n') = *strchr(++api, '\n') = '\0';
	/* cut to fit 80 columns */
	cr_assert(strstr(db, "  Ready to accept connections") &&
	              strlen(db) == 80 && !strcmp(db + 77, "..."),
	          "%s", db);
	cr_assert(strstr(api, "  not ready within 30s"), "%s", api);
	podctl_run_free(&r);
	finish_expect(&pod, "ps {}\n");
}

Test(podctl_procs, ps_json_is_the_pods_text)
{
	static const char *const replies[] = {RESULT(PS_REPLY), NULL};
	struct podctl_run r = {0};
	struct fake_pod pod;

	fake_pod_start(&pod, "web", replies);
	podctl_run(&r, "ps", "web", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, PS_REPLY "\n");
	podctl_run_free(&r);
	finish_expect(&pod, "ps {}\n");
}

Test(podctl_procs, ps_of_a_pod_that_does_not_run)
{
	struct podctl_run r = {0};

	podctl_run(&r, "ps", "web", "--json", NULL);
	cr_assert_eq(r.code, code_of(INSOMNIA_ERR_NOT_RUNNING));
	assert_error_kind(r.out, "not_running");
	podctl_run_free(&r);
}

/* --- targets ------------------------------------------------------------ */

Test(podctl_procs, bad_targets_are_refused_before_any_pod_is_asked)
{
	static const struct {
		const char *cmd, *target;
		enum insomnia_error_kind kind;
	} cases[] = {
	    {"start", "web", INSOMNIA_ERR_USAGE},
	    {"start", "web/db/x", INSOMNIA_ERR_USAGE},
	    {"start", "web/", INSOMNIA_ERR_USAGE},
	    {"start", "/db", INSOMNIA_ERR_USAGE},
	    {"restart", "web/.db", INSOMNIA_ERR_BAD_NAME},
	    {"restart", "w b/db", INSOMNIA_ERR_BAD_NAME},
	    {"stop", "web/-x", INSOMNIA_ERR_BAD_NAME},
	    {"stop", "a/b/c", INSOMNIA_ERR_USAGE},
	    {"ps", "web/db", INSOMNIA_ERR_USAGE},
	    {"logs", "web/x/y", INSOMNIA_ERR_USAGE},
	    {"events", "..", INSOMNIA_ERR_BAD_NAME},
	};
	struct podctl_run r = {0};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		podctl_run(&r, cases[i].cmd, cases[i].target, "--json", NULL);
		cr_assert_eq(r.code, code_of(cases[i].kind), "%s %s: %d %s",
		             cases[i].cmd, cases[i].target, r.code, r.out);
		assert_error_kind(r.out,
		                  insomnia_error_kind_name(cases[i].kind));
		podctl_run_free(&r);
	}
	/* one bad target among good ones: nothing is sent (no pod runs,
	 * yet the error is the target's, not not_running) */
	podctl_run(&r, "start", "web/db", "web", NULL);
	cr_assert_eq(r.code, code_of(INSOMNIA_ERR_USAGE), "%s", r.err);
	cr_assert(strstr(r.err, "\"web\": name a process as POD/PROC"), "%s",
	          r.err);
	podctl_run_free(&r);
}

/* --- start, restart, stop POD/PROC ------------------------------------------
 */

#define DB_READY                                                               \
	"{\"name\":\"db\",\"state\":\"ready\",\"pid\":11,\"pgid\":11,"         \
	"\"restarts\":0,\"exit\":null,\"started_at\":null,\"ready\":true,"     \
	"\"ports\":{},\"reason\":null,\"autostart\":true}"
#define CACHE_READY                                                            \
	"{\"name\":\"cache\",\"state\":\"running\",\"pid\":12,\"pgid\":12,"    \
	"\"restarts\":0,\"exit\":null,\"started_at\":null,\"ready\":false,"    \
	"\"ports\":{},\"reason\":null,\"autostart\":true}"
#define X_STOPPED                                                              \
	"{\"name\":\"x\",\"state\":\"stopped\",\"pid\":null,\"pgid\":null,"    \
	"\"restarts\":0,\"exit\":null,\"started_at\":null,\"ready\":false,"    \
	"\"ports\":{},\"reason\":null,\"autostart\":true}"

Test(podctl_procs, start_sends_one_request_per_pod_with_its_names)
{
	static const char *const web[] = {
	    RESULT("{\"processes\":[" DB_READY "," CACHE_READY "]}"), NULL};
	static const char *const api[] = {
	    RESULT("{\"processes\":[" X_STOPPED "]}"), NULL};
	struct podctl_run r = {0};
	struct fake_pod a, b;

	fake_pod_start(&a, "web", web);
	fake_pod_start(&b, "api", api);
	podctl_run(&r, "start", "web/db", "api/x", "web/cache", "web/db", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "web/db: ready (pid 11)\n"
	                        "web/cache: running (pid 12)\n"
	                        "api/x: stopped\n");
	podctl_run_free(&r);
	finish_expect(&a, "start {\"names\":[\"db\",\"cache\"]}\n");
	finish_expect(&b, "start {\"names\":[\"x\"]}\n");
}

Test(podctl_procs, restart_json_prints_one_line_per_pod)
{
	static const char *const web[] = {
	    RESULT("{\"processes\":[" DB_READY "]}"), NULL};
	struct podctl_run r = {0};
	struct fake_pod a;
	json_t *v;

	fake_pod_start(&a, "web", web);
	podctl_run(&r, "restart", "web/db", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	v = podctl_json(&r);
	cr_assert_str_eq(json_string_value(json_object_get(v, "pod")), "web");
	cr_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(v, "processes"), 0), "state")),
	    "ready");
	json_decref(v);
	podctl_run_free(&r);
	finish_expect(&a, "restart {\"names\":[\"db\"]}\n");
}

Test(podctl_procs, each_error_code_has_its_exit_code)
{
	static const char *const web[] = {
	    ERROR("unknown_process", "unknown process \\\"nope\\\""),
	    ERROR("process_state", "db is already running"),
	    ERROR("process_failed", "db exited with status 1"),
	    ERROR("bad_request", "names must not be empty"), NULL};
	static const struct {
		const char *method;
		enum insomnia_error_kind kind;
	} want[] = {
	    {"start", INSOMNIA_ERR_UNKNOWN_PROCESS},
	    {"start", INSOMNIA_ERR_PROCESS_STATE},
	    {"restart", INSOMNIA_ERR_PROCESS_FAILED},
	    {"stop", INSOMNIA_ERR_PROTOCOL},
	};
	struct podctl_run r = {0};
	struct fake_pod a;

	fake_pod_start(&a, "web", web);
	for (int i = 0; i < 4; i++) {
		podctl_run(&r, want[i].method, "web/db", "--json", NULL);
		cr_assert_eq(r.code, code_of(want[i].kind), "%d: %d %s", i,
		             r.code, r.out);
		assert_error_kind(r.out,
		                  insomnia_error_kind_name(want[i].kind));
		cr_assert(strstr(r.out, "\"pod\":\"web\""), "%s", r.out);
		podctl_run_free(&r);
	}
	finish_expect(&a, "start {\"names\":[\"db\"]}\n"
	                  "start {\"names\":[\"db\"]}\n"
	                  "restart {\"names\":[\"db\"]}\n"
	                  "stop {\"names\":[\"db\"]}\n");
}

Test(podctl_procs, an_error_in_prose_names_the_pod)
{
	static const char *const web[] = {
	    ERROR("process_state", "db is already stopped"), NULL};
	struct podctl_run r = {0};
	struct fake_pod a;

	fake_pod_start(&a, "web", web);
	podctl_run(&r, "stop", "web/db", NULL);
	cr_assert_eq(r.code, code_of(INSOMNIA_ERR_PROCESS_STATE));
	cr_assert_str_eq(r.err, "podctl: pod web: db is already stopped\n");
	cr_assert_str_eq(r.out, "");
	podctl_run_free(&r);
	finish_expect(&a, "stop {\"names\":[\"db\"]}\n");
}

Test(podctl_procs, stop_mixes_processes_and_pods)
{
	static const char *const web[] = {
	    RESULT("{\"processes\":[" X_STOPPED "]}"), NULL};
	struct podctl_run r = {0};
	struct fake_pod a;

	fake_pod_start(&a, "web", web);
	/* "other" runs nowhere: the whole-pod stop fails, the process
	 * stop is done and reported first */
	podctl_run(&r, "stop", "other", "web/x", NULL);
	cr_assert_eq(r.code, code_of(INSOMNIA_ERR_NOT_RUNNING), "%s", r.err);
	cr_assert_str_eq(r.out, "web/x: stopped\n");
	cr_assert(strstr(r.err, "other"), "%s", r.err);
	podctl_run_free(&r);
	finish_expect(&a, "stop {\"names\":[\"x\"]}\n");
}

Test(podctl_procs, a_pod_that_does_not_run_fails_only_its_own_processes)
{
	static const char *const web[] = {
	    RESULT("{\"processes\":[" DB_READY "]}"), NULL};
	struct podctl_run r = {0};
	struct fake_pod a;
	char *second;

	fake_pod_start(&a, "web", web);
	podctl_run(&r, "start", "gone/db", "web/db", "--json", NULL);
	cr_assert_eq(r.code, code_of(INSOMNIA_ERR_NOT_RUNNING), "%s", r.err);
	second = strchr(r.out, '\n');
	cr_assert_not_null(second, "%s", r.out);
	assert_error_kind(r.out, "not_running");
	cr_assert(strstr(r.out, "\"pod\":\"gone\""), "%s", r.out);
	cr_assert(strstr(second, "\"pod\":\"web\",\"processes\":["), "%s",
	          second);
	podctl_run_free(&r);
	finish_expect(&a, "start {\"names\":[\"db\"]}\n");
}

/* --- logs --------------------------------------------------------------- */

#define LINES_REPLY                                                            \
	"{\"lines\":["                                                         \
	"{\"process\":\"db\",\"time\":\"2026-12-02T05:21:28.123Z\","           \
	"\"stream\":\"out\",\"text\":\"hello\"},"                              \
	"{\"process\":\"api\",\"time\":\"2026-12-02T05:21:28.124Z\","          \
	"\"stream\":\"err\",\"text\":\"oops \\ufffd\"}]}"

Test(podctl_procs, logs_prints_time_process_stream_and_text)
{
	static const char *const web[] = {RESULT(LINES_REPLY),
	                                  RESULT(LINES_REPLY), NULL};
	struct podctl_run r = {0};
	struct fake_pod a;

	setenv("TZ", "UTC", 1);
	fake_pod_start(&a, "web", web);
	podctl_run(&r, "logs", "web", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "05:21:28.123 db  | hello\n"
	                        "05:21:28.124 api ! oops \xef\xbf\xbd\n");
	podctl_run_free(&r);
	podctl_run(&r, "logs", "web/db", "-n", "0", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	/* the pod's text (\ufffd as the library decoded it: UTF-8) */
	cr_assert(strstr(r.out, "\"oops \xef\xbf\xbd\"}]}\n"), "%s", r.out);
	cr_assert(!strncmp(r.out, "{\"lines\":[{\"process\":\"db\"", 22), "%s",
	          r.out);
	podctl_run_free(&r);
	finish_expect(
	    &a, "logs {\"follow\":false,\"lines\":10}\n"
	        "logs {\"follow\":false,\"lines\":0,\"names\":[\"db\"]}\n");
}

/* A process that wrote a NUL: the pod sends \u0000, and the library
 * took the whole line for malformed JSON, so no log could be read. */
#define NUL_REPLY                                                              \
	"{\"lines\":["                                                         \
	"{\"process\":\"db\",\"time\":\"2026-12-02T05:21:28.123Z\","           \
	"\"stream\":\"out\",\"text\":\"nul\\u0000byte\"}]}"

Test(podctl_procs, logs_of_a_process_that_wrote_a_nul)
{
	static const char *const web[] = {RESULT(NUL_REPLY), NULL};
	struct podctl_run r = {0};
	struct fake_pod a;

	fake_pod_start(&a, "web", web);
	podctl_run(&r, "logs", "web", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"nul\\u0000byte\""), "%s", r.out);
	podctl_run_free(&r);
	finish_expect(&a, "logs {\"follow\":false,\"lines\":10}\n");
}

Test(podctl_procs, logs_lines_are_checked)
{
	struct podctl_run r = {0};

	podctl_run(&r, "logs", "web", "-n", "100001", NULL);
	cr_assert_eq(r.code, code_of(INSOMNIA_ERR_USAGE));
	podctl_run_free(&r);
	podctl_run(&r, "logs", "web", "-n", "-1", NULL);
	cr_assert_eq(r.code, code_of(INSOMNIA_ERR_USAGE));
	podctl_run_free(&r);
}

#define LOG_EVENT(text)                                                        \
	"{\"event\":\"log\",\"data\":{\"process\":\"db\",\"time\":"            \
	"\"2026-12-02T05:21:29.000Z\",\"stream\":\"out\",\"text\":\"" text     \
	"\"}}\n"

Test(podctl_procs, logs_follow_prints_new_lines_until_the_pod_ends)
{
	static const char *const web[] = {
	    RESULT(LINES_REPLY) LOG_EVENT("one") LOG_EVENT("two"),
	    RESULT("{\"lines\":[]}") LOG_EVENT("three"), NULL};
	struct podctl_run r = {0};
	struct fake_pod a;
	int fds = e2e_fd_count();

	setenv("TZ", "UTC", 1);
	fake_pod_start(&a, "web", web);
	podctl_run(&r, "logs", "-f", "web/db", "-n", "2", NULL);
	cr_assert_eq(r.code, 0, "the pod ended: a success (%s)", r.err);
	cr_assert_str_eq(r.out, "05:21:28.123 db  | hello\n"
	                        "05:21:28.124 api ! oops \xef\xbf\xbd\n"
	                        "05:21:29.000 db  | one\n"
	                        "05:21:29.000 db  | two\n");
	podctl_run_free(&r);
	podctl_run(&r, "logs", "web", "--follow", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out,
	                 "{\"process\":\"db\",\"time\":\"2026-12-02T05:21:29."
	                 "000Z\",\"stream\":\"out\",\"text\":\"three\"}\n");
	podctl_run_free(&r);
	finish_expect(&a,
	              "logs {\"follow\":true,\"lines\":2,\"names\":[\"db\"]}\n"
	              "logs {\"follow\":true,\"lines\":10}\n");
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

Test(podctl_procs, logs_of_an_unknown_process)
{
	static const char *const web[] = {
	    ERROR("unknown_process", "no process \\\"nope\\\""),
	    ERROR("unknown_process", "no process \\\"nope\\\""), NULL};
	struct podctl_run r = {0};
	struct fake_pod a;

	fake_pod_start(&a, "web", web);
	podctl_run(&r, "logs", "web/nope", "--json", NULL);
	cr_assert_eq(r.code, code_of(INSOMNIA_ERR_UNKNOWN_PROCESS));
	assert_error_kind(r.out, "unknown_process");
	podctl_run_free(&r);
	podctl_run(&r, "logs", "web/nope", "-f", NULL);
	cr_assert_eq(r.code, code_of(INSOMNIA_ERR_UNKNOWN_PROCESS));
	cr_assert_str_eq(r.err, "podctl: no process \"nope\"\n");
	podctl_run_free(&r);
	finish_expect(
	    &a, "logs {\"follow\":false,\"lines\":10,\"names\":[\"nope\"]}\n"
	        "logs {\"follow\":true,\"lines\":10,\"names\":[\"nope\"]}\n");
}

/* --- events ------------------------------------------------------------- */

#define EVENTS                                                                 \
	"{\"event\":\"process\",\"data\":{\"process\":\"db\",\"state\":"       \
	"\"backoff\",\"exit\":{\"code\":3},\"delay_ms\":400,\"restarts\":2}}"  \
	"\n"                                                                   \
	"{\"event\":\"pod\",\"data\":{\"state\":\"stopping\"}}\n"              \
	"{\"event\":\"log\",\"data\":{\"process\":\"db\",\"time\":\"2026-12-"  \
	"02T05:21:29.000Z\",\"stream\":\"err\",\"text\":\"bye\"}}\n"

Test(podctl_procs, events_json_passes_the_lines_through)
{
	static const char *const web[] = {
	    RESULT("{\"subscribed\":true}") EVENTS, NULL};
	struct podctl_run r = {0};
	struct fake_pod a;

	fake_pod_start(&a, "web", web);
	podctl_run(&r, "events", "web", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, EVENTS);
	podctl_run_free(&r);
	finish_expect(&a, "subscribe {}\n");
}

Test(podctl_procs, events_one_line_each_for_a_person)
{
	static const char *const web[] = {
	    RESULT("{\"subscribed\":true}") EVENTS
	    "{\"event\":\"overflow\",\"data\":{\"lost\":7}}\n",
	    NULL};
	struct podctl_run r = {0};
	struct fake_pod a;

	fake_pod_start(&a, "web", web);
	podctl_run(&r, "events", "web/db", NULL);
	cr_assert_eq(r.code, code_of(INSOMNIA_ERR_IO), "lost events: %s",
	             r.err);
	cr_assert_str_eq(r.out, "process db backoff exit 3 retry in 400ms "
	                        "restarts 2\n"
	                        "pod stopping\n"
	                        "log db ! bye\n"
	                        "overflow 7 lost\n");
	cr_assert(strstr(r.err, "events were lost"), "%s", r.err);
	podctl_run_free(&r);
	finish_expect(&a, "subscribe {\"names\":[\"db\"]}\n");
}

/* --- help --------------------------------------------------------------- */

Test(podctl_procs, help_of_each_new_command)
{
	const char *cmds[] = {"ps", "start", "restart", "logs", "events"};
	struct podctl_run a = {0}, b = {0};

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		podctl_run(&a, "help", cmds[i], NULL);
		podctl_run(&b, cmds[i], "--help", NULL);
		cr_assert_eq(a.code, 0, "%s", a.err);
		cr_assert_str_eq(a.out, b.out);
		cr_assert(strstr(a.out, "usage: podctl "), "%s", a.out);
		podctl_run_free(&a);
		podctl_run_free(&b);
	}
}

/* --- interrupted ------------------------------------------------------------
 */

/* podctl with its stdout on a pipe (the read end in *out). */
static pid_t podctl_start(int *out, const char *a, const char *b, const char *c)
{
	const char *podctl = getenv("INSOMNIA_TEST_PODCTL");
	int p[2];
	pid_t pid;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (dup2(p[1], 1) < 0)
			_exit(126);
		execl(podctl, podctl, a, b, c, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

/* Read from fd until want has come in full (the reader's event). */
static void read_until(int fd, const char *want)
{
	char buf[4096];
	size_t got = 0;
	ssize_t n;

	while (got < strlen(want)) {
		n = read(fd, buf + got, sizeof buf - 1 - got);
		cr_assert_gt(n, 0, "podctl ended before printing \"%s\"", want);
		got += (size_t)n;
	}
	buf[got] = '\0';
	cr_assert_str_eq(buf, want);
}

static void assert_interrupt_ends_quietly(const char *a, const char *b,
                                          const char *c, const char *first,
                                          int sig)
{
	int out, status;
	pid_t pid = podctl_start(&out, a, b, c);

	read_until(out, first); /* it follows: the stream has started */
	cr_assert_eq(kill(pid, sig), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "stopped by signal %d: a success (status %#x)", sig, status);
	close(out);
}

Test(podctl_procs, following_ends_with_exit_0_on_sigint_and_sigterm)
{
	static const char *const web[] = {
	    HOLD RESULT("{\"lines\":[]}") LOG_EVENT("one"),
	    HOLD RESULT("{\"subscribed\":true}") "{\"event\":\"pod\",\"data\":"
	                                         "{\"state\":\"ready\"}}\n",
	    NULL};
	struct fake_pod a;
	int fds = e2e_fd_count();

	setenv("TZ", "UTC", 1);
	fake_pod_start(&a, "web", web);
	assert_interrupt_ends_quietly("logs", "-f", "web",
	                              "05:21:29.000 db | one\n", SIGINT);
	assert_interrupt_ends_quietly("events", "web", "--json",
	                              "{\"event\":\"pod\",\"data\":{\"state\":"
	                              "\"ready\"}}\n",
	                              SIGTERM);
	/* the fake pod saw each hang up: it has served both */
	finish_expect(&a, "logs {\"follow\":true,\"lines\":10}\n"
	                  "subscribe {}\n");
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");
}

/* --- status ------------------------------------------------------------- */

Test(podctl_procs, status_says_how_many_processes_are_ready)
{
	static const char *const web[] = {
	    RESULT("{\"protocol\":1,\"version\":\"x\"}") NEXT RESULT(
	        "{\"name\":\"web\",\"state\":\"ready\",\"processes\":{"
	        "\"ready\":1,\"total\":3}}"),
	    NULL};
	struct podctl_run r = {0};
	struct fake_pod a;

	fake_pod_start(&a, "web", web);
	podctl_run(&r, "status", "web", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\n  processes    1 ready of 3\n"), "%s",
	          r.out);
	podctl_run_free(&r);
	finish_expect(&a, "hello {}\nstatus {}\n");
}
