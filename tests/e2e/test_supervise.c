/* test_supervise.c: the real pod running real processes (issue 10):
 * redis and python's http.server in dependency order, a crash loop, a
 * process that ignores SIGTERM, a double-forked daemon, a SIGKILLed pod
 * and reap, and a flood of log lines.  Every wait is on an event: the
 * pod's event stream, a log line followed with `logs`, a reply. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <insomnia/control.h>
#include <insomnia/reap.h>
#include <insomnia/spawn.h>
#include <insomnia/stop.h>

#include "harness.h"
#include "podctl_run.h"

static void use_real_pod(void)
{
	e2e_setup();
	cr_assert_not_null(getenv("INSOMNIA_TEST_POD"));
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

TestSuite(supervise, .init = use_real_pod, .fini = e2e_teardown, .timeout = 60);

/* ---- helpers ---------------------------------------------------------- */

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

static pid_t spawn_ok(const char *name, const char *procs,
                      struct insomnia_spawn_result *res)
{
	struct insomnia_error err;

	cr_assert_eq(spawn_with(name, procs, res, &err), 0, "%s\n%s",
	             err.message, err.detail);
	return res->pid;
}

/* Call method and return the result as JSON (asserting success). */
static json_t *call(const char *pod, const char *method, const char *params)
{
	struct insomnia_error err;
	struct insomnia_control *c = insomnia_control_open(pod, &err);
	char *text = NULL;
	json_t *v;

	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(insomnia_control_call_wait(c, method, params, 30000, &text,
	                                        NULL, &err),
	             0, "%s %s: %s (%s)", method, params ? params : "",
	             err.message, err.detail);
	insomnia_control_close(c);
	v = json_loads(text, 0, NULL);
	cr_assert_not_null(v, "%s", text);
	free(text);
	return v;
}

static json_t *ps_entry(json_t *ps, const char *name)
{
	json_t *procs = json_object_get(ps, "processes"), *p;
	size_t i;

	json_array_foreach(procs, i, p)
	{
		if (!strcmp(json_string_value(json_object_get(p, "name")),
		            name))
			return p;
	}
	cr_assert_fail("no process %s in ps", name);
	return NULL;
}

static const char *state_of(json_t *p)
{
	return json_string_value(json_object_get(p, "state"));
}

/* Follow a stream until want() says so. */
struct follow {
	int (*want)(json_t *data, const char *name, void *arg);
	void *arg;
	json_t *events; /* every event, as {"event","data"} */
};

static int on_event(const char *name, const char *data, size_t len, void *arg)
{
	struct follow *f = arg;
	json_t *d = json_loadb(data, len, 0, NULL);

	cr_assert_not_null(d, "%.*s", (int)len, data);
	json_array_append_new(f->events,
	                      json_pack("{s:s,s:O}", "event", name, "data", d));
	if (f->want(d, name, f->arg)) {
		json_decref(d);
		return 1;
	}
	json_decref(d);
	return 0;
}

/* Subscribe (async), and once the stream is open call act_method on
 * another connection, then follow until want: nothing act causes can be
 * missed.  Returns every event seen (caller decrefs). */
struct watch {
	const char *pod, *act_method, *act_params;
	json_t *act_result;
	struct follow f;
	bool done;
	struct insomnia_error end;
	bool ended;
};

static void watch_started(struct insomnia_control *c,
                          const struct insomnia_control_reply *r, void *arg)
{
	struct watch *w = arg;

	cr_assert_eq(r->status, INSOMNIA_CONTROL_RESULT, "%s",
	             r->err ? r->err->message : "");
	if (w->act_method)
		w->act_result = call(w->pod, w->act_method, w->act_params);
}

static void watch_event(struct insomnia_control *c, const char *name,
                        const char *data, size_t len, void *arg)
{
	struct watch *w = arg;

	if (!w->done && on_event(name, data, len, &w->f))
		w->done = true;
}

static void watch_ended(struct insomnia_control *c,
                        const struct insomnia_error *err, void *arg)
{
	struct watch *w = arg;

	w->ended = true;
	if (err)
		w->end = *err;
}

static json_t *watch_while(const char *pod, const char *sub_params,
                           const char *act_method, const char *act_params,
                           int (*want)(json_t *, const char *, void *),
                           void *arg, json_t **act_result)
{
	struct event_base *base = event_base_new();
	struct insomnia_error err;
	struct insomnia_control *c = insomnia_control_connect(base, pod, &err);
	struct watch w = {
	    pod,   act_method, act_params, NULL, {want, arg, json_array()},
	    false, {0},        false};
	struct insomnia_control_stream st = {watch_started, watch_event,
	                                     watch_ended, &w};

	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(
	    insomnia_control_subscribe(c, "subscribe", sub_params, &st, &err),
	    0, "%s", err.message);
	while (!w.done && !w.ended)
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	cr_assert(w.done, "the stream ended first: %s", w.end.message);
	insomnia_control_close(c);
	event_base_free(base);
	if (act_result)
		*act_result = w.act_result;
	else
		json_decref(w.act_result);
	return w.f.events;
}

/* A log line of process proc containing text. */
struct log_want {
	const char *proc, *text;
};

static int want_log(json_t *d, const char *name, void *arg)
{
	struct log_want *w = arg;
	const char *p = json_string_value(json_object_get(d, "process"));
	const char *t = json_string_value(json_object_get(d, "text"));

	return !strcmp(name, "log") && p && t && !strcmp(p, w->proc) &&
	       strstr(t, w->text);
}

/* Wait until proc has logged a line containing text (in the reply's
 * recent lines, or as a followed line later: one request, no gap). */
struct log_wait {
	struct log_want want;
	bool done, ended;
};

static void logs_started(struct insomnia_control *c,
                         const struct insomnia_control_reply *r, void *arg)
{
	struct log_wait *lw = arg;
	json_t *v, *l;
	size_t i;

	cr_assert_eq(r->status, INSOMNIA_CONTROL_RESULT, "logs: %s",
	             r->err ? r->err->message : "");
	v = json_loadb(r->json, r->len, 0, NULL);
	json_array_foreach(json_object_get(v, "lines"), i, l)
	{
		const char *t = json_string_value(json_object_get(l, "text"));
		if (t && strstr(t, lw->want.text))
			lw->done = true;
	}
	json_decref(v);
}

static void logs_event(struct insomnia_control *c, const char *name,
                       const char *data, size_t len, void *arg)
{
	struct log_wait *lw = arg;
	json_t *d = json_loadb(data, len, 0, NULL);

	if (d && want_log(d, name, &lw->want))
		lw->done = true;
	json_decref(d);
}

static void logs_ended(struct insomnia_control *c,
                       const struct insomnia_error *err, void *arg)
{
	((struct log_wait *)arg)->ended = true;
}

static void wait_log(const char *pod, const char *proc, const char *text)
{
	struct event_base *base = event_base_new();
	struct insomnia_error err;
	struct insomnia_control *c = insomnia_control_connect(base, pod, &err);
	struct log_wait lw = {{proc, text}, false, false};
	struct insomnia_control_stream st = {logs_started, logs_event,
	                                     logs_ended, &lw};
	char params[256];

	snprintf(params, sizeof params,
	         "{\"names\":[\"%s\"],\"lines\":100000,\"follow\":true}", proc);
	cr_assert_not_null(c, "%s", err.message);
	cr_assert_eq(insomnia_control_subscribe(c, "logs", params, &st, &err),
	             0, "%s", err.message);
	while (!lw.done && !lw.ended)
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	cr_assert(lw.done, "%s never logged \"%s\"", proc, text);
	insomnia_control_close(c);
	event_base_free(base);
}

/* A process event reaching state. */
struct state_want {
	const char *proc, *state;
};

static int want_state(json_t *d, const char *name, void *arg)
{
	struct state_want *w = arg;
	const char *p = json_string_value(json_object_get(d, "process"));
	const char *s = json_string_value(json_object_get(d, "state"));

	return !strcmp(name, "process") && p && s && !strcmp(p, w->proc) &&
	       !strcmp(s, w->state);
}

static bool alive(pid_t pid)
{
	char path[64], buf[512], *paren;
	int fd;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* Stop the pod by the shutdown method and wait (as the tests' subreaper)
 * for it to exit. */
static void shutdown_pod(const char *name, pid_t pid)
{
	json_t *r = call(name, "shutdown", NULL);
	int status;

	json_decref(r);
	while (waitpid(pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "pod status %d", status);
	e2e_assert_no_children();
	e2e_assert_dir_holds(name,
	                     (const char *const[]){"lock", "stderr.log", NULL});
}

static char *session_file(const struct insomnia_spawn_result *res,
                          const char *rel)
{
	static char path[1024];

	snprintf(path, sizeof path, "%s/sessions/%s/%s", e2e_home,
	         res->session_id, rel);
	return path;
}

/* ---- redis and http.server ------------------------------------------- */

static bool redis_pings(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[64] = "";
	ssize_t n;

	cr_assert_lt(strlen(path), sizeof sa.sun_path, "%s: too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return false;
	}
	cr_assert_eq(write(fd, "PING\r\n", 6), 6);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 && !strncmp(buf, "+PONG", 5);
}

static char *http_get(int port, const char *path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	static char buf[8192];
	char req[256];
	size_t have = 0;
	ssize_t n;

	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0,
	             "connect to port %d: %s", port, strerror(errno));
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
	         path);
	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while ((n = read(fd, buf + have, sizeof buf - 1 - have)) > 0)
		have += (size_t)n;
	close(fd);
	buf[have] = '\0';
	return buf;
}

Test(supervise, redis_and_an_http_server_start_in_dependency_order)
{
	struct insomnia_spawn_result res;
	char procs[2048], www[512], file[600], sock[512];
	json_t *ps, *web;
	FILE *f;
	int port;

	snprintf(www, sizeof www, "%s/www", e2e_home);
	cr_assert_eq(mkdir(www, 0700), 0);
	snprintf(file, sizeof file, "%s/hello.txt", www);
	f = fopen(file, "w");
	fputs("hello from the pod\n", f);
	fclose(f);
	snprintf(procs, sizeof procs,
	         "[process.db]\n"
	         "command = [\"redis-server\", \"--port\", \"0\", "
	         "\"--unixsocket\", \"${pod.dir}/db.sock\", \"--save\", \"\", "
	         "\"--appendonly\", \"no\"]\n"
	         "[process.web]\n"
	         "command = [\"python3\", \"-u\", \"-m\", \"http.server\", "
	         "\"--bind\", \"127.0.0.1\", \"--directory\", \"%s\", "
	         "\"${port.http}\"]\n"
	         "depends_on = { db = \"ready\" }\n"
	         "ports = [\"http\"]\n",
	         www);
	spawn_ok("web", procs, &res);

	/* the order of the journal: db ready before web starting */
	{
		char *j = e2e_read(session_file(&res, "journal.jsonl"));
		char *db_run, *web_start;

		cr_assert_not_null(j);
		db_run = strstr(j, "\"process\":\"db\",\"state\":\"ready\"");
		web_start =
		    strstr(j, "\"process\":\"web\",\"state\":\"starting\"");
		cr_assert(db_run && web_start && db_run < web_start, "%s", j);
		free(j);
	}

	ps = call("web", "ps", NULL);
	cr_assert_str_eq(state_of(ps_entry(ps, "db")), "ready");
	web = ps_entry(ps, "web");
	cr_assert_str_eq(state_of(web), "ready");
	port = (int)json_integer_value(
	    json_object_get(json_object_get(web, "ports"), "http"));
	cr_assert(port > 0 && port < 65536);
	json_decref(ps);

	/* each says when it serves: follow their logs for that */
	/* redis 6 logs "Ready to accept", redis 7 "now ready to accept" */
	wait_log("web", "db", "eady to accept connections");
	wait_log("web", "web", "Serving HTTP");
	snprintf(sock, sizeof sock, "%s", e2e_rundir("web", "db.sock"));
	cr_assert(redis_pings(sock), "redis did not answer PING on %s", sock);
	cr_assert(strstr(http_get(port, "/hello.txt"), "hello from the pod"),
	          "http.server did not serve the file");
	shutdown_pod("web", res.pid);
}

/* ---- crash loop -------------------------------------------------------- */

Test(supervise, a_crash_loop_backs_off_within_bounds_then_fails)
{
	struct insomnia_spawn_result res;
	struct state_want w = {"crash", "failed"};
	json_t *events, *e, *r;
	size_t i;
	int backoffs = 0, runs = 0;
	char *j, *at;

	spawn_ok("loop",
	         "[process.crash]\n"
	         "shell = \"echo boom; exit 3\"\n"
	         "autostart = false\n"
	         "restart = { policy = \"on-failure\", backoff = "
	         "\"10ms..40ms\", max = 3 }\n",
	         &res);
	/* subscribed first, then started: nothing can be missed */
	events = watch_while("loop", "{\"kinds\":[\"process\"]}", "start",
	                     "{\"names\":[\"crash\"]}", want_state, &w, NULL);
	json_array_foreach(events, i, e)
	{
		json_t *d = json_object_get(e, "data");
		const char *s = state_of(d);

		if (!strcmp(s, "backoff")) {
			json_int_t ms =
			    json_integer_value(json_object_get(d, "delay_ms"));
			cr_assert(ms >= 10 && ms <= 40, "delay %lld",
			          (long long)ms);
			backoffs++;
		}
	}
	json_decref(events);
	cr_assert_eq(backoffs, 3, "3 backoffs evented");
	/* and journalled */
	j = e2e_read(session_file(&res, "journal.jsonl"));
	for (at = j; (at = strstr(at, "\"state\":\"backoff\"")); at++)
		runs++;
	cr_assert_eq(runs, 3, "3 restarts journalled: %s", j);
	cr_assert(strstr(j, "\"process\":\"crash\",\"state\":\"failed\""), "%s",
	          j);
	free(j);
	r = call("loop", "ps", NULL);
	cr_assert_str_eq(state_of(ps_entry(r, "crash")), "failed");
	cr_assert_eq(json_integer_value(
	                 json_object_get(ps_entry(r, "crash"), "restarts")),
	             3);
	json_decref(r);
	shutdown_pod("loop", res.pid);
}

/* ---- grace ------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(supervise, a_process_that_ignores_sigterm_is_killed_after_its_grace)
{
	struct insomnia_spawn_result res;
	json_t *r, *p, *exit;
	pid_t pid;
	double t0, t1;

	spawn_ok("stubborn",
	         "[process.mule]\n"
	         "shell = \"trap '' TERM; echo up; exec sleep 100000\"\n"
	         "stop = { signal = \"TERM\", grace = \"400ms\" }\n",
	         &res);
	wait_log("stubborn", "mule", "up");
	r = call("stubborn", "ps", NULL);
	pid = (pid_t)json_integer_value(
	    json_object_get(ps_entry(r, "mule"), "pid"));
	json_decref(r);
	cr_assert(pid > 0 && alive(pid));
	t0 = now_s();
	r = call("stubborn", "stop", "{\"names\":[\"mule\"]}");
	t1 = now_s();
	p = ps_entry(r, "mule");
	cr_assert_str_eq(state_of(p), "stopped");
	exit = json_object_get(p, "exit");
	/* KILL, not TERM: it ignored TERM and lived through the grace */
	cr_assert_str_eq(json_string_value(json_object_get(exit, "signal")),
	                 "KILL");
	cr_assert(t1 - t0 >= 0.4, "killed after %.3f s, before its grace",
	          t1 - t0);
	cr_assert(!alive(pid));
	json_decref(r);
	shutdown_pod("stubborn", res.pid);
}

/* ---- a double-forked daemon --------------------------------------------- */

static pid_t logged_daemon_pid(const char *pod, const char *proc)
{
	char p2[256];
	json_t *r, *l;
	size_t i;
	pid_t pid = 0;

	wait_log(pod, proc, "daemon ");
	snprintf(p2, sizeof p2, "{\"names\":[\"%s\"],\"lines\":1000}", proc);
	r = call(pod, "logs", p2);
	json_array_foreach(json_object_get(r, "lines"), i, l)
	{
		const char *t = json_string_value(json_object_get(l, "text"));
		if (t && !strncmp(t, "daemon ", 7))
			pid = (pid_t)atol(t + 7);
	}
	json_decref(r);
	cr_assert(pid > 0);
	return pid;
}

#define DAEMON_SHELL                                                           \
	"shell = \"setsid sh -c 'echo daemon $$; exec sleep 100000' "          \
	"</dev/null & wait; exec sleep 100000\"\n"

Test(supervise, stopping_a_process_kills_its_setsid_daemon)
{
	struct insomnia_spawn_result res;
	json_t *r;
	pid_t daemon;

	spawn_ok("dfork", "[process.forker]\n" DAEMON_SHELL, &res);
	daemon = logged_daemon_pid("dfork", "forker");
	cr_assert(alive(daemon));
	r = call("dfork", "stop", "{\"names\":[\"forker\"]}");
	json_decref(r);
	cr_assert(!alive(daemon), "the setsid daemon %ld survived its stop",
	          (long)daemon);
	shutdown_pod("dfork", res.pid);
}

/* ---- SIGKILL the pod, then reap ----------------------------------------- */

static void no_report(const struct insomnia_reap_report *r, void *arg)
{
	(void)r;
	(void)arg;
}

Test(supervise, reap_after_a_sigkilled_pod_leaves_no_process)
{
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	json_t *r;
	pid_t daemon, main_pid;
	int status;

	spawn_ok("victim",
	         "[process.forker]\n" DAEMON_SHELL "[process.plain]\n"
	         "command = [\"sleep\", \"100000\"]\n",
	         &res);
	daemon = logged_daemon_pid("victim", "forker");
	r = call("victim", "ps", NULL);
	main_pid = (pid_t)json_integer_value(
	    json_object_get(ps_entry(r, "plain"), "pid"));
	json_decref(r);
	cr_assert(main_pid > 0);
	cr_assert_eq(kill(res.pid, SIGKILL), 0);
	while (waitpid(res.pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR);
	cr_assert_eq(insomnia_reap(no_report, NULL, &err), 0, "%s",
	             err.message);
	/* the test is everyone's subreaper: collect what died */
	while (waitpid(-1, &status, WNOHANG) > 0)
		;
	cr_assert(!alive(daemon), "the daemon survived the reap");
	cr_assert(!alive(main_pid), "process plain survived the reap");
	e2e_assert_no_children();
}

/* ---- logs ---------------------------------------------------------------- */

Test(supervise, a_hundred_thousand_lines_are_all_logged_in_order)
{
	struct insomnia_spawn_result res;
	struct state_want w = {"spam", "exited"};
	json_t *ev;
	char *log, *line, *save = NULL;
	long expect = 1;

	spawn_ok("spam",
	         "[process.spam]\n"
	         "command = [\"seq\", \"1\", \"100000\"]\n"
	         "autostart = false\n",
	         &res);
	ev = watch_while("spam", "{\"kinds\":[\"process\"]}", "start",
	                 "{\"names\":[\"spam\"]}", want_state, &w, NULL);
	json_decref(ev);
	log = e2e_read(session_file(&res, "logs/spam.log"));
	cr_assert_not_null(log);
	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *text = strstr(line, " out ");
		if (!text)
			continue; /* the pod's own notes are "err" */
		cr_assert_eq(atol(text + 5), expect, "line %ld: %s", expect,
		             line);
		expect++;
	}
	cr_assert_eq(expect, 100001, "only %ld lines", expect - 1);
	free(log);
	shutdown_pod("spam", res.pid);
}

/* ---- a failed start ------------------------------------------------------ */

Test(supervise, a_process_failing_before_ready_fails_the_spawn_naming_it)
{
	struct insomnia_spawn_result res;
	struct insomnia_error err;

	cr_assert_eq(spawn_with("doomed",
	                        "[process.db]\n"
	                        "command = [\"sleep\", \"100000\"]\n"
	                        "[process.api]\n"
	                        "shell = \"echo starting api; echo "
	                        "'no config' >&2; exit 3\"\n"
	                        "depends_on = { db = \"started\" }\n",
	                        &res, &err),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROCESS_FAILED, "%s", err.message);
	cr_assert_eq(err.exit_status, 19);
	cr_assert(strstr(err.detail, "api"), "%s", err.detail);
	cr_assert(strstr(err.detail, "status 3"), "%s", err.detail);
	cr_assert(strstr(err.detail, "no config"), "%s", err.detail);
	e2e_assert_no_children();
}

/* ---- resume -------------------------------------------------------------- */

Test(supervise, resuming_a_session_starts_its_processes_again)
{
	struct insomnia_spawn_result res, again;
	struct insomnia_spawn_options o = {0};
	struct insomnia_error err;
	json_t *r;
	char id[64];
	pid_t first, second;

	spawn_ok("comeback",
	         "[process.worker]\n"
	         "command = [\"sleep\", \"100000\"]\n",
	         &res);
	snprintf(id, sizeof id, "%s", res.session_id);
	r = call("comeback", "ps", NULL);
	first = (pid_t)json_integer_value(
	    json_object_get(ps_entry(r, "worker"), "pid"));
	json_decref(r);
	shutdown_pod("comeback", res.pid);
	cr_assert(!alive(first));

	/* the id alone: the name and the processes come from the session */
	o.session_id = id;
	o.timeout_ms = 20000;
	cr_assert_eq(insomnia_spawn(&o, &again, &err), 0, "%s\n%s", err.message,
	             err.detail);
	cr_assert_str_eq(again.session_id, id);
	r = call("comeback", "ps", NULL);
	cr_assert_str_eq(state_of(ps_entry(r, "worker")), "ready");
	second = (pid_t)json_integer_value(
	    json_object_get(ps_entry(r, "worker"), "pid"));
	json_decref(r);
	cr_assert(second > 0 && second != first && alive(second));
	shutdown_pod("comeback", again.pid);
}

/* ---- a stop that has to SIGKILL the pod ---------------------------------- */

Test(supervise, a_pod_stopped_by_sigkill_leaves_no_process_of_its_own)
{
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	enum insomnia_stop_how how;
	pid_t daemon, pod;
	int status;

	/* forker ignores TERM and has a minute of grace; the pod is
	 * SIGKILLed at once (a SIGTERM would make it hurry, and exit clean)
	 * with the daemon still alive */
	spawn_ok("slow",
	         "[process.forker]\n"
	         "shell = \"trap '' TERM; setsid sh -c 'echo daemon $$; exec "
	         "sleep 100000' </dev/null & wait; exec sleep 100000\"\n"
	         "stop = { grace = \"1m\" }\n",
	         &res);
	daemon = logged_daemon_pid("slow", "forker");
	cr_assert_eq(insomnia_stop("slow", 0, &how, &pod, &err), 0, "%s",
	             err.message);
	cr_assert_eq(how, INSOMNIA_STOPPED_BY_KILL);
	while (waitpid(res.pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR);
	cr_assert(!alive(daemon), "the daemon of a SIGKILLed pod survived");
	e2e_assert_no_children();
}

/* ---- podctl against the real pod ----------------------------------------- */

Test(supervise, podctl_ps_stop_start_and_their_errors_on_a_real_pod)
{
	struct insomnia_spawn_result res;
	struct podctl_run r = {0};
	json_t *v;

	spawn_ok("cli",
	         "[process.a]\ncommand = [\"sleep\", \"100000\"]\n"
	         "[process.b]\ncommand = [\"sleep\", \"100000\"]\n"
	         "depends_on = { a = \"started\" }\n",
	         &res);
	podctl_run(&r, "ps", "cli", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	v = podctl_json(&r);
	cr_assert_str_eq(state_of(ps_entry(v, "b")), "ready");
	json_decref(v);
	podctl_run_free(&r);

	/* stopping a stops its dependent b first */
	podctl_run(&r, "stop", "cli/a", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	podctl_run_free(&r);
	v = call("cli", "ps", NULL);
	cr_assert_str_eq(state_of(ps_entry(v, "a")), "stopped");
	cr_assert_str_eq(state_of(ps_entry(v, "b")), "stopped");
	json_decref(v);

	podctl_run(&r, "stop", "cli/a", NULL);
	cr_assert_eq(r.code, 21, "already stopped: %d %s", r.code, r.err);
	podctl_run_free(&r);
	podctl_run(&r, "start", "cli/nope", NULL);
	cr_assert_eq(r.code, 20, "unknown process: %d %s", r.code, r.err);
	cr_assert(strstr(r.err, "nope"), "%s", r.err);
	podctl_run_free(&r);

	/* starting b brings its dependency a back first */
	podctl_run(&r, "start", "cli/b", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	podctl_run_free(&r);
	v = call("cli", "ps", NULL);
	cr_assert_str_neq(state_of(ps_entry(v, "a")), "stopped");
	cr_assert_str_neq(state_of(ps_entry(v, "b")), "stopped");
	json_decref(v);
	shutdown_pod("cli", res.pid);
}

/* ---- what carries no token ------------------------------------------------
 */

Test(supervise, a_daemon_without_the_token_does_not_outlive_the_pod)
{
	struct insomnia_spawn_result res;
	pid_t daemon;

	/* env -i: no token; setsid: neither the run's session nor group */
	spawn_ok("notoken",
	         "[process.forker]\n"
	         "shell = \"env -i setsid sh -c 'echo daemon $$; exec sleep "
	         "100000' </dev/null & wait; exec sleep 100000\"\n",
	         &res);
	daemon = logged_daemon_pid("notoken", "forker");
	cr_assert(alive(daemon));
	shutdown_pod("notoken", res.pid);
	cr_assert(!alive(daemon), "the daemon %ld outlived the pod",
	          (long)daemon);
}

Test(supervise, a_group_of_its_own_without_the_token_does_not_outlive_stop)
{
	struct insomnia_spawn_result res;
	json_t *r;
	pid_t child;

	/* env -i: no token; setpgid: out of the run's group, in its
	 * session */
	spawn_ok("ownpgrp",
	         "[process.forker]\n"
	         "shell = \"env -i python3 -c \\\"import os; os.setpgid(0, 0); "
	         "print('daemon', os.getpid(), flush=True); "
	         "os.execv('/bin/sleep', ['sleep', '100000'])\\\" </dev/null & "
	         "wait; exec sleep 100000\"\n",
	         &res);
	child = logged_daemon_pid("ownpgrp", "forker");
	cr_assert(alive(child));
	r = call("ownpgrp", "stop", "{\"names\":[\"forker\"]}");
	cr_assert_str_eq(state_of(ps_entry(r, "forker")), "stopped");
	json_decref(r);
	cr_assert(!alive(child), "the child %ld in its own group survived",
	          (long)child);
	shutdown_pod("ownpgrp", res.pid);
}

/* ---- SIGTERM while stopping: hurry --------------------------------------- */

static int want_pod_stopping(json_t *d, const char *name, void *arg)
{
	const char *s = json_string_value(json_object_get(d, "state"));

	(void)arg;
	return !strcmp(name, "pod") && s && !strcmp(s, "stopping");
}

Test(supervise, sigterm_while_stopping_cuts_the_grace_short_and_exits_clean)
{
	struct insomnia_spawn_result res;
	json_t *ev, *r;
	pid_t pid;
	int status;

	spawn_ok("hurry",
	         "[process.mule]\n"
	         "shell = \"trap '' TERM; echo up; exec sleep 100000\"\n"
	         "stop = { signal = \"TERM\", grace = \"1m\" }\n",
	         &res);
	wait_log("hurry", "mule", "up");
	r = call("hurry", "ps", NULL);
	pid = (pid_t)json_integer_value(
	    json_object_get(ps_entry(r, "mule"), "pid"));
	json_decref(r);
	cr_assert(pid > 0 && alive(pid));
	/* the pod stops, and mule ignores its TERM for a minute */
	ev = watch_while("hurry", "{\"kinds\":[\"pod\"]}", "shutdown", NULL,
	                 want_pod_stopping, NULL, NULL);
	json_decref(ev);
	cr_assert_eq(kill(res.pid, SIGTERM), 0);
	/* well within the grace (the suite's time limit is 60 s) */
	while (waitpid(res.pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "pod status %d", status);
	cr_assert(!alive(pid), "mule outlived the pod");
	e2e_assert_no_children();
	e2e_assert_dir_holds("hurry",
	                     (const char *const[]){"lock", "stderr.log", NULL});
}

/* ---- a relative cwd, resumed ----------------------------------------- */

static void assert_cwd_of(const char *pod, const char *proc, const char *want)
{
	char link[64], cwd[1024];
	json_t *r = call(pod, "ps", NULL);
	pid_t pid = (pid_t)json_integer_value(
	    json_object_get(ps_entry(r, proc), "pid"));
	ssize_t n;

	json_decref(r);
	snprintf(link, sizeof link, "/proc/%ld/cwd", (long)pid);
	n = readlink(link, cwd, sizeof cwd - 1);
	cr_assert_gt(n, 0);
	cwd[n] = '\0';
	cr_assert_str_eq(cwd, want);
}

Test(supervise, a_relative_cwd_means_the_same_after_a_resume)
{
	struct insomnia_spawn_result res, again;
	struct insomnia_spawn_options o = {0};
	struct insomnia_error err;
	char dir[512], work[600], manifest[600], id[64];
	FILE *f;

	/* the manifest's dir is not the pod's cwd: "work" is relative to
	 * the manifest's dir, also when the session is resumed */
	snprintf(dir, sizeof dir, "%s/m", e2e_home);
	snprintf(work, sizeof work, "%s/work", dir);
	snprintf(manifest, sizeof manifest, "%s/manifest.toml", dir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(mkdir(work, 0700), 0);
	f = fopen(manifest, "w");
	fputs("[pod]\nname = \"rel\"\n[process.w]\n"
	      "command = [\"sleep\", \"100000\"]\ncwd = \"work\"\n",
	      f);
	fclose(f);
	o.name = "rel";
	o.manifest = manifest;
	o.cwd = e2e_home;
	o.timeout_ms = 20000;
	cr_assert_eq(insomnia_spawn(&o, &res, &err), 0, "%s\n%s", err.message,
	             err.detail);
	assert_cwd_of("rel", "w", work);
	snprintf(id, sizeof id, "%s", res.session_id);
	shutdown_pod("rel", res.pid);

	memset(&o, 0, sizeof o);
	o.session_id = id;
	o.timeout_ms = 20000;
	cr_assert_eq(insomnia_spawn(&o, &again, &err), 0, "%s\n%s", err.message,
	             err.detail);
	assert_cwd_of("rel", "w", work);
	shutdown_pod("rel", again.pid);
}
