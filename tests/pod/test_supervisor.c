/* The supervisor on a real loop with real children (sh -c scripts):
 * every test synchronises on the supervisor's hooks and events, or on a
 * FIFO a child writes, never on time.  The event stream is recorded here
 * (this file is the events module the supervisor talks to). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "compat.h"
#include "events.h"
#include "manifest.h"
#include "ports.h"
#include "proc.h"
#include "procrec.h"
#include "proctree.h"
#include "supervisor.h"

/* ---- the recorded event stream --------------------------------------- */

#define MAX_EVENTS 512

struct rec {
	char process[64];
	char state[16];
	long long delay_ms; /* -1 when absent */
	int restarts;
	pid_t pid;
	char exit[32]; /* "code 3", "signal KILL", "" */
	char reason[256];
	struct timespec at;
};

static struct rec recs[MAX_EVENTS];
static size_t nrecs;

/* A pidfd to look at when a backoff event comes: was it dead by then? */
static int watch_fd = -1;
static int dead_at_backoff = -1;

void events_publish(struct events *ev, enum event_kind kind,
                    const char *process, json_t *data)
{
	struct rec *r = &recs[nrecs < MAX_EVENTS ? nrecs++ : MAX_EVENTS - 1];
	json_t *x, *e;

	memset(r, 0, sizeof *r);
	snprintf(r->process, sizeof r->process, "%s",
	         json_string_value(json_object_get(data, "process")));
	snprintf(r->state, sizeof r->state, "%s",
	         json_string_value(json_object_get(data, "state")));
	x = json_object_get(data, "delay_ms");
	r->delay_ms = x ? json_integer_value(x) : -1;
	r->restarts =
	    (int)json_integer_value(json_object_get(data, "restarts"));
	r->pid = (pid_t)json_integer_value(json_object_get(data, "pid"));
	e = json_object_get(data, "exit");
	if ((x = json_object_get(e, "code")))
		snprintf(r->exit, sizeof r->exit, "code %lld",
		         (long long)json_integer_value(x));
	else if ((x = json_object_get(e, "signal")))
		snprintf(r->exit, sizeof r->exit, "signal %s",
		         json_string_value(x));
	if ((x = json_object_get(data, "reason")))
		snprintf(r->reason, sizeof r->reason, "%s",
		         json_string_value(x));
	clock_gettime(CLOCK_MONOTONIC, &r->at);
	if (watch_fd >= 0 && !strcmp(r->state, "backoff")) {
		struct pollfd pfd = {.fd = watch_fd, .events = POLLIN};
		dead_at_backoff = poll(&pfd, 1, 0) == 1;
	}
	if (getenv("SUPERVISOR_TRACE")) {
		char *line = json_dumps(data, JSON_COMPACT);
		fprintf(stderr, "event %d %s\n", (int)getpid(), line);
		free(line);
	}
	json_decref(data);
}

bool events_wanted(const struct events *ev, enum event_kind kind,
                   const char *process)
{
	return false;
}

/* Index of the first event of process in state from start (reason
 * containing what, when given), or -1. */
static long find_from(size_t start, const char *process, const char *state,
                      const char *what)
{
	for (size_t i = start; i < nrecs; i++)
		if (!strcmp(recs[i].process, process) &&
		    !strcmp(recs[i].state, state) &&
		    (!what || strstr(recs[i].reason, what)))
			return (long)i;
	return -1;
}

static long find(const char *process, const char *state)
{
	return find_from(0, process, state, NULL);
}

static size_t count(const char *process, const char *state)
{
	size_t n = 0;

	for (size_t i = 0; i < nrecs; i++)
		n += !strcmp(recs[i].process, process) &&
		     !strcmp(recs[i].state, state);
	return n;
}

/* ---- a manifest by hand ---------------------------------------------- */

static struct proc_spec specs[128];
static size_t order[128];
static struct manifest man = {specs, 0, order};

static char **strv(const char *a, const char *b, const char *c)
{
	char **v = calloc(4, sizeof *v);

	v[0] = strdup(a);
	v[1] = b ? strdup(b) : NULL;
	v[2] = c ? strdup(c) : NULL;
	return v;
}

/* A process running script under /bin/sh; added in dependency order. */
static struct proc_spec *add(const char *name, const char *script)
{
	struct proc_spec *p = &specs[man.nprocs];

	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	p->argv = strv("/bin/sh", "-c", script);
	p->argc = 3;
	p->shell = true;
	p->env = calloc(1, sizeof *p->env);
	p->ports = calloc(1, sizeof *p->ports);
	p->autostart = true;
	p->restart = (struct restart_conf){RESTART_NO, 100, 30000, 5, 60000};
	p->stop = (struct stop_conf){SIGTERM, 5000};
	p->logs = (struct logs_conf){10000000, 3};
	order[man.nprocs] = man.nprocs;
	man.nprocs++;
	return p;
}

static void depend(struct proc_spec *p, size_t on, enum dep_condition c)
{
	p->deps = realloc(p->deps, (p->ndeps + 1) * sizeof *p->deps);
	p->deps[p->ndeps++] = (struct proc_dep){on, c};
}

static void free_strv(char **v)
{
	for (size_t k = 0; v && v[k]; k++)
		free(v[k]);
	free(v);
}

static void free_probe(struct probe_conf *c)
{
	free(c->pattern);
	free(c->target);
	free_strv(c->argv);
	memset(c, 0, sizeof *c);
}

static void free_manifest(void)
{
	for (size_t i = 0; i < man.nprocs; i++) {
		free_probe(&specs[i].ready);
		free_probe(&specs[i].alive);
		free(specs[i].listen);
		free(specs[i].cwd);
		free(specs[i].cwd_base);
		for (size_t k = 0; specs[i].argv[k]; k++)
			free(specs[i].argv[k]);
		free(specs[i].argv);
		free_strv(specs[i].env);
		free_strv(specs[i].ports);
		free(specs[i].deps);
	}
	man.nprocs = 0;
}

/* ---- the pod around it ----------------------------------------------- */

static char tmp[] = "/tmp/test-supervisor-XXXXXX";
static char fifo[sizeof tmp + 16];
static int tmpfd = -1;
static bool tmp_removed;
static size_t fds_at_start;
static struct event_base *base;
static struct event *deadline;
static struct supervisor *sup;
static bool got_ready, got_stopped, timed_out;
static struct insomnia_error failed_why;
static bool got_failed;
static int64_t settle_ms = -1; /* -1: the default */

static void on_ready(void *arg)
{
	got_ready = true;
}

static void on_start_failed(void *arg, const struct insomnia_error *why)
{
	got_failed = true;
	failed_why = *why;
}

static void on_stopped(void *arg)
{
	got_stopped = true;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	timed_out = true;
}

static size_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void setup(void)
{
	struct timeval tv = {30, 0};

	nrecs = 0;
	settle_ms = -1;
	got_ready = got_stopped = got_failed = timed_out = false;
	cr_assert(mkdtemp(tmp));
	tmpfd = open(tmp, O_DIRECTORY | O_CLOEXEC);
	snprintf(fifo, sizeof fifo, "%s/fifo", tmp);
	cr_assert(mkfifo(fifo, 0600) == 0);
	base = event_base_new();
	/* A safety net only: every wait below ends on an event. */
	deadline = evtimer_new(base, on_deadline, NULL);
	evtimer_add(deadline, &tv);
	tmp_removed = false;
	fds_at_start = open_fds();
}

/* Remove the temporary dir and the logs the processes wrote in it; true
 * when nothing else was there (the process records gone, say). */
static bool remove_tmp(void)
{
	char path[sizeof tmp + 16];
	struct dirent *de;
	int logs = openat(tmpfd, "logs", O_DIRECTORY | O_CLOEXEC);
	DIR *d = logs >= 0 ? fdopendir(logs) : NULL;
	bool ok;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(logs, de->d_name, 0);
	if (d)
		closedir(d);
	unlink(fifo);
	snprintf(path, sizeof path, "%s/logs", tmp);
	rmdir(path);
	/* Each notify process's socket dir (the sockets are gone). */
	snprintf(path, sizeof path, "%s/notify", tmp);
	rmdir(path);
	snprintf(path, sizeof path, "%s/ready-file", tmp);
	unlink(path);
	ok = rmdir(tmp) == 0;
	tmp_removed = true;
	return ok;
}

/* Our children and their commands, for a message. */
static const char *children(void)
{
	static char out[1024];
	char path[64], pids[512], cmd[128], *at, *end;
	size_t off = 0;
	ssize_t n;
	int fd;

	out[0] = '\0';
	snprintf(path, sizeof path, "/proc/self/task/%d/children", gettid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, pids, sizeof pids - 1) : -1;
	if (fd >= 0)
		close(fd);
	pids[n > 0 ? n : 0] = '\0';
	for (at = pids;; at = end) {
		long pid = strtol(at, &end, 10);
		if (end == at || off >= sizeof out)
			break;
		snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd >= 0 ? read(fd, cmd, sizeof cmd - 1) : -1;
		if (fd >= 0)
			close(fd);
		cmd[n > 0 ? n : 0] = '\0';
		for (ssize_t i = 0; i + 1 < n; i++)
			if (!cmd[i])
				cmd[i] = ' ';
		off += (size_t)snprintf(out + off, sizeof out - off,
		                        "%ld (%s) ", pid, cmd);
	}
	return out;
}

/* The end of every test, in its body (Criterion ignores assertions in
 * .fini): nothing left behind, no process, no descriptor, no file. */
static void end_test(void)
{
	supervisor_free(sup);
	sup = NULL;
	cr_expect(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD,
	          "a child process was left behind: %s", children());
	cr_expect_eq(open_fds(), fds_at_start, "a descriptor was left open");
	cr_expect(remove_tmp(), "the temporary dir held more: %s",
	          strerror(errno));
}

static void teardown(void)
{
	supervisor_free(sup);
	sup = NULL;
	event_free(deadline);
	event_base_free(base);
	free_manifest();
	if (!tmp_removed)
		remove_tmp();
	close(tmpfd);
	memcpy(tmp + sizeof tmp - 7, "XXXXXX", 6);
}

static void start(void)
{
	/* The session id names the tokens: one per test process, as each
	 * pod has its own, or parallel tests would kill each other's. */
	char sid[32];
	struct supervisor_env env = {"web", tmp, tmpfd, sid, tmp, tmpfd};
	struct supervisor_hooks hooks = {on_ready, on_start_failed, on_stopped,
	                                 NULL};
	struct insomnia_error err;

	static char recorder; /* events_publish above is the events module */

	snprintf(sid, sizeof sid, "test-session-%d", (int)getpid());

	sup = supervisor_new(base, &man, &env, (struct events *)&recorder,
	                     &hooks, &err);
	cr_assert(sup, "%s", err.message);
	if (settle_ms >= 0)
		supervisor_set_settle(sup, settle_ms);
	cr_assert(supervisor_start(sup, &err) == 0, "%s", err.message);
}

static void run_until(const bool *flag)
{
	while (!*flag && !timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert(!timed_out, "timed out waiting");
}

static bool has_event(const char *process, const char *state)
{
	return find(process, state) >= 0;
}

static void run_until_event(const char *process, const char *state)
{
	while (!has_event(process, state) && !timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert(!timed_out, "timed out waiting for %s %s", process, state);
}

static void stop_and_wait(void)
{
	supervisor_stop_all(sup);
	run_until(&got_stopped);
}

/* A line a child wrote to the FIFO (the open blocks until it opens it). */
static void read_fifo(char *buf, size_t size)
{
	int fd = open(fifo, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	cr_assert(fd >= 0);
	n = read(fd, buf, size - 1);
	close(fd);
	cr_assert(n > 0);
	buf[n] = '\0';
}

static char *script(const char *fmt)
{
	static char buf[1024];

	snprintf(buf, sizeof buf, fmt, fifo);
	return buf;
}

TestSuite(supervisor, .init = setup, .fini = teardown, .timeout = 60);

/* ---- start ----------------------------------------------------------- */

Test(supervisor, dependents_start_after_their_dependency_independents_at_once)
{
	add("db", "exec sleep 1000");
	add("cache", "exec sleep 1000");
	depend(add("api", "exec sleep 1000"), 0, DEP_READY);
	depend(add("web", "exec sleep 1000"), 2, DEP_STARTED);
	start();
	run_until(&got_ready);

	/* api waited for db's ready, web for api's running. */
	cr_expect(find("api", "waiting") >= 0);
	cr_expect(find("api", "starting") > find("db", "ready"));
	cr_expect(find("web", "starting") > find("api", "running"));
	/* db and cache both run before either is ready. */
	cr_expect(find("cache", "running") < find("db", "ready"));
	cr_expect(find("db", "running") < find("cache", "ready"));
	stop_and_wait();
	end_test();
}

Test(supervisor, pod_is_ready_with_no_autostart_process)
{
	add("manual", "exec sleep 1000")->autostart = false;
	start();
	run_until(&got_ready);
	cr_expect_eq(count("manual", "starting"), 0);
	stop_and_wait();
	end_test();
}

Test(supervisor, failure_before_ready_names_the_process_and_its_output)
{
	add("sleeper", "exec sleep 1000");
	add("bad", "echo first words; echo last words >&2; exit 3");
	/* The pod cannot be ready before bad has exited. */
	depend(add("after", "exec sleep 1000"), 1, DEP_SUCCEEDED);
	start();
	run_until(&got_stopped);

	cr_assert(got_failed);
	cr_expect(!got_ready);
	cr_expect_eq(failed_why.kind, INSOMNIA_ERR_PROCESS_FAILED);
	cr_expect_str_eq(failed_why.message,
	                 "process bad failed before the pod was ready: "
	                 "exited with status 3");
	cr_expect(strstr(failed_why.detail, "first words\n"));
	cr_expect(strstr(failed_why.detail, "last words\n"));
	cr_expect(find("sleeper", "stopped") > find("bad", "failed"));
	cr_expect_eq(count("after", "starting"), 0);
	end_test();
}

Test(supervisor, a_process_dying_right_after_its_start_fails_the_start)
{
	add("sleeper", "exec sleep 1000");
	add("quick", "echo bad config >&2; exit 2");
	/* A long settle: its exit surely comes first; the wait is on
	 * events, not on the settle. */
	settle_ms = 60000;
	start();
	run_until(&got_stopped);

	cr_assert(got_failed);
	cr_expect(!got_ready);
	cr_expect(find("quick", "ready") >= 0, "it was ready for a moment");
	cr_expect_str_eq(failed_why.message,
	                 "process quick failed before the pod was ready: "
	                 "exited with status 2");
	cr_expect(strstr(failed_why.detail, "bad config"), "%s",
	          failed_why.detail);
	end_test();
}

Test(supervisor, exec_failure_before_ready_fails_the_start)
{
	struct proc_spec *p = add("ghost", "unused");

	free(p->argv[0]);
	p->argv[0] = strdup("/nonexistent/ghost");
	start();
	run_until(&got_stopped);
	cr_assert(got_failed);
	cr_expect(strstr(failed_why.message, "process ghost failed before "
	                                     "the pod was ready: cannot "
	                                     "execute /nonexistent/ghost"),
	          "%s", failed_why.message);
	end_test();
}

static char **env_of(const char *a, const char *b)
{
	char **v = calloc(3, sizeof *v);

	v[0] = strdup(a);
	v[1] = b ? strdup(b) : NULL;
	return v;
}

Test(supervisor, a_process_gets_its_ports_env_cwd_and_token)
{
	char sub[sizeof tmp + 16], line[1024], want[1024], sh[512];
	char instance[PROCTREE_INSTANCE_MAX];
	struct insomnia_error err;
	struct proc_spec *p;
	json_t *ps;
	int port;

	snprintf(sub, sizeof sub, "%s/sub", tmp);
	cr_assert(mkdir(sub, 0700) == 0);
	snprintf(sh, sizeof sh,
	         "echo \"${port.http} $PORT_HTTP $INSOMNIA_PROCESS "
	         "$INSOMNIA_POD_NAME $INSOMNIA_PROCESS_TOKEN $FOO $HOME "
	         "$(pwd)\" > %s; exec sleep 1000",
	         fifo);
	p = add("api", sh);
	free(p->ports);
	p->ports = strv("http", NULL, NULL);
	p->nports = 1;
	free(p->env);
	p->env = env_of("FOO=bar", NULL);
	p->nenv = 1;
	p->env_clear = true;
	p->cwd = strdup("sub");
	p->cwd_base = strdup(tmp);
	start();
	read_fifo(line, sizeof line);
	run_until(&got_ready);
	ps = supervisor_ps(sup, NULL, 0, &err);
	port = (int)json_integer_value(json_object_get(
	    json_object_get(json_array_get(json_object_get(ps, "processes"), 0),
	                    "ports"),
	    "http"));
	json_decref(ps);
	cr_assert(port > 0);
	/* env_clear: no HOME; the token names session, pod and process. */
	proctree_self_instance(instance, sizeof instance);
	snprintf(want, sizeof want,
	         "%d %d api web test-session-%d/%s/api bar  %s\n", port, port,
	         (int)getpid(), instance, sub);
	cr_expect_str_eq(line, want);
	stop_and_wait();
	rmdir(sub);
	end_test();
}

/* ---- restart --------------------------------------------------------- */

static bool op_done;
static struct insomnia_error op_err;
static bool op_failed;
static char op_result[4096];

static void on_done(void *arg, json_t *result, const struct insomnia_error *e)
{
	char *s = json_dumps(result, JSON_COMPACT);

	op_done = true;
	op_failed = e != NULL;
	if (e)
		op_err = *e;
	snprintf(op_result, sizeof op_result, "%s", s ? s : "");
	free(s);
}

static void act(enum supervisor_verb verb, const char *name)
{
	struct insomnia_error err;
	const char *names[] = {name};

	op_done = false;
	cr_assert(supervisor_act(sup, verb, names, 1, on_done, NULL, &err),
	          "%s", err.message);
}

Test(supervisor, crash_loop_backs_off_within_bounds_then_fails_after_max)
{
	struct proc_spec *c;

	add("sleeper", "exec sleep 1000");
	c = add("crash", "exit 3");
	c->autostart = false;
	c->restart = (struct restart_conf){RESTART_ON_FAILURE, 2, 8, 3, 60000};
	start();
	run_until(&got_ready);
	act(SUPERVISOR_START, "crash");
	run_until_event("crash", "failed");

	cr_expect_eq(count("crash", "starting"), 4, "one run and 3 restarts");
	cr_assert_eq(count("crash", "backoff"), 3);
	for (size_t i = 0, n = 0; i < nrecs; i++) {
		long long cap = 2LL << n;
		if (strcmp(recs[i].process, "crash") ||
		    strcmp(recs[i].state, "backoff"))
			continue;
		cr_expect_eq(recs[i].restarts, (int)n + 1);
		cr_expect_str_eq(recs[i].exit, "code 3");
		cr_expect(recs[i].delay_ms >= 2 &&
		              recs[i].delay_ms <= (cap < 8 ? cap : 8),
		          "delay %lld of restart %zu", recs[i].delay_ms, n + 1);
		n++;
	}
	cr_expect(strstr(recs[find("crash", "failed")].reason,
	                 "exited with status 3 after 3 restarts"));
	stop_and_wait();
	end_test();
}

Test(supervisor, restart_resets_the_count)
{
	char flag[sizeof tmp + 16], sh[512];
	struct proc_spec *c;
	int fd;

	snprintf(flag, sizeof flag, "%s/flag", tmp);
	snprintf(sh, sizeof sh, "test -e %s || exit 3; exec sleep 1000", flag);
	add("sleeper", "exec sleep 1000");
	c = add("flaky", sh);
	c->autostart = false;
	c->restart = (struct restart_conf){RESTART_ON_FAILURE, 1, 2, 2, 60000};
	start();
	run_until(&got_ready);
	act(SUPERVISOR_START, "flaky");
	run_until_event("flaky", "failed");
	run_until(&op_done);
	cr_expect_eq(recs[find("flaky", "failed")].restarts, 2);

	fd = open(flag, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	act(SUPERVISOR_RESTART, "flaky");
	run_until(&op_done);
	cr_expect(!op_failed, "%s", op_err.message);
	cr_expect(strstr(op_result, "\"name\":\"flaky\",\"state\":\"ready\""),
	          "%s", op_result);
	cr_expect(strstr(op_result, "\"restarts\":0"), "%s", op_result);
	unlink(flag);
	stop_and_wait();
	end_test();
}

Test(supervisor, a_failed_dependency_blocks_its_dependent_until_restarted)
{
	char flag[sizeof tmp + 16], sh[512];
	struct proc_spec *dep, *user;
	int fd;

	snprintf(flag, sizeof flag, "%s/flag", tmp);
	snprintf(sh, sizeof sh, "test -e %s && exit 0; exit 3", flag);
	add("sleeper", "exec sleep 1000");
	dep = add("migrate", sh);
	dep->autostart = false;
	dep->restart =
	    (struct restart_conf){RESTART_ON_FAILURE, 1, 1, 0, 60000};
	user = add("app", "exec sleep 1000");
	user->autostart = false;
	depend(user, 1, DEP_SUCCEEDED);
	start();
	run_until(&got_ready);
	act(SUPERVISOR_START, "app");
	run_until(&op_done);

	cr_expect(op_failed);
	cr_expect_eq(op_err.kind, INSOMNIA_ERR_PROCESS_FAILED);
	cr_expect(strstr(op_err.message, "dependency migrate failed"), "%s",
	          op_err.message);
	cr_expect(find("app", "blocked") > find("migrate", "failed"));
	cr_expect_str_eq(recs[find("app", "blocked")].reason,
	                 "dependency migrate failed");

	fd = open(flag, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	act(SUPERVISOR_RESTART, "migrate");
	run_until_event("app", "ready");
	cr_expect(find_from((size_t)find("app", "blocked"), "app", "waiting",
	                    NULL) >= 0);
	cr_expect(find("app", "starting") > find("migrate", "exited"));
	unlink(flag);
	stop_and_wait();
	end_test();
}

Test(supervisor, what_an_exited_process_left_is_killed_before_its_restart)
{
	char flag[sizeof tmp + 16], sh[1024], line[64];
	struct proc_spec *c;

	snprintf(flag, sizeof flag, "%s/flag", tmp);
	snprintf(sh, sizeof sh,
	         "test -e %s && exec sleep 1000; touch %s; "
	         "(setsid sleep 1000 & echo $! > %s); exit 3",
	         flag, flag, fifo);
	add("sleeper", "exec sleep 1000");
	c = add("leaky", sh);
	c->autostart = false;
	c->restart = (struct restart_conf){RESTART_ON_FAILURE, 1, 1, 5, 60000};
	start();
	run_until(&got_ready);
	act(SUPERVISOR_START, "leaky");
	read_fifo(line, sizeof line);
	watch_fd = compat_pidfd_open((pid_t)atoi(line));
	cr_assert(watch_fd >= 0, "the daemon runs");
	run_until_event("leaky", "backoff");
	cr_expect_eq(dead_at_backoff, 1, "the daemon outlived its parent");
	run_until(&op_done);
	close(watch_fd);
	watch_fd = -1;
	unlink(flag);
	stop_and_wait();
	end_test();
}

/* ---- stop ------------------------------------------------------------ */

Test(supervisor, stop_goes_in_reverse_dependency_order)
{
	add("db", "exec sleep 1000");
	depend(add("api", "exec sleep 1000"), 0, DEP_STARTED);
	start();
	run_until(&got_ready);
	stop_and_wait();

	cr_expect(find("api", "stopped") >= 0);
	cr_expect(find("api", "stopped") < find("db", "stopping"));
	cr_expect_str_eq(recs[find("db", "stopped")].exit, "signal TERM");
	end_test();
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1000 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

Test(supervisor, a_process_ignoring_term_is_killed_after_its_grace)
{
	char line[64];
	long stopping, grace, stopped;

	add("stubborn", script("trap '' TERM; echo up > %s; exec sleep 1000"))
	    ->stop.grace_ms = 300;
	start();
	read_fifo(line, sizeof line); /* TERM is ignored from now on */
	run_until(&got_ready);
	stop_and_wait();

	stopping = find("stubborn", "stopping");
	grace = find_from(0, "stubborn", "stopping", "grace");
	stopped = find("stubborn", "stopped");
	cr_assert(stopping >= 0 && grace > stopping && stopped > grace,
	          "TERM, then the grace ran out, then it was reaped");
	cr_expect_str_eq(recs[stopped].exit, "signal KILL");
	cr_expect(ms_between(&recs[stopping].at, &recs[grace].at) >= 300);
	end_test();
}

Test(supervisor, a_double_forked_setsid_daemon_does_not_outlive_stop)
{
	char line[64];
	pid_t daemon;
	int pidfd;
	struct pollfd pfd;

	add("forker", script("(setsid sleep 1000 & echo $! > %s); "
	                     "exec sleep 1000"));
	start();
	read_fifo(line, sizeof line);
	daemon = (pid_t)atoi(line);
	cr_assert(daemon > 0);
	pidfd = compat_pidfd_open(daemon);
	cr_assert(pidfd >= 0, "the daemon runs");
	run_until(&got_ready);
	stop_and_wait();

	pfd = (struct pollfd){.fd = pidfd, .events = POLLIN};
	/* Dead (a zombie at least) by the time stopped was told. */
	cr_expect_eq(poll(&pfd, 1, 0), 1, "the daemon outlived the stop");
	close(pidfd);
	end_test();
}

Test(supervisor, stopping_one_process_stops_its_dependents_first)
{
	add("db", "exec sleep 1000");
	depend(add("api", "exec sleep 1000"), 0, DEP_STARTED);
	add("other", "exec sleep 1000");
	start();
	run_until(&got_ready);
	act(SUPERVISOR_STOP, "db");
	run_until(&op_done);

	cr_expect(!op_failed);
	cr_expect(find("api", "stopped") < find("db", "stopping"));
	cr_expect_eq(count("other", "stopping"), 0);
	cr_expect(strstr(op_result, "\"state\":\"stopped\""), "%s", op_result);
	stop_and_wait();
	end_test();
}

/* ---- ps and ops ------------------------------------------------------ */

Test(supervisor, ps_lists_processes_in_manifest_order)
{
	struct insomnia_error err;
	const char *bad[] = {"nope"};
	json_t *ps, *first;

	add("db", "exec sleep 1000");
	add("job", "exec sleep 1000")->autostart = false;
	start();
	run_until(&got_ready);
	ps = supervisor_ps(sup, NULL, 0, &err);
	cr_assert(ps);
	cr_expect_eq(json_array_size(json_object_get(ps, "processes")), 2);
	first = json_array_get(json_object_get(ps, "processes"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(first, "name")),
	                 "db");
	cr_expect_str_eq(json_string_value(json_object_get(first, "state")),
	                 "ready");
	cr_expect(json_is_true(json_object_get(first, "ready")));
	cr_expect(json_integer_value(json_object_get(first, "pid")) > 0);
	cr_expect(json_is_string(json_object_get(first, "started_at")));
	cr_expect(json_is_null(json_object_get(first, "exit")));
	cr_expect(json_is_null(json_object_get(
	    json_array_get(json_object_get(ps, "processes"), 1), "pid")));
	json_decref(ps);

	cr_expect_null(supervisor_ps(sup, bad, 1, &err));
	cr_expect_eq(err.kind, INSOMNIA_ERR_UNKNOWN_PROCESS);
	cr_expect_null(
	    supervisor_act(sup, SUPERVISOR_START, bad, 1, on_done, NULL, &err));
	cr_expect_eq(err.kind, INSOMNIA_ERR_UNKNOWN_PROCESS);
	bad[0] = "db";
	cr_expect_null(
	    supervisor_act(sup, SUPERVISOR_START, bad, 1, on_done, NULL, &err));
	cr_expect_eq(err.kind, INSOMNIA_ERR_PROCESS_STATE);
	stop_and_wait();
	end_test();
}

/* ---- backoff.c ------------------------------------------------------- */

Test(backoff, delays_stay_between_min_and_the_doubled_cap)
{
	for (unsigned n = 0; n < 12; n++) {
		int64_t cap = 100LL << n < 30000 ? 100LL << n : 30000;
		cr_expect_eq(backoff_delay(100, 30000, n, 0), 100);
		cr_expect_eq(backoff_delay(100, 30000, n, (uint64_t)cap - 100),
		             cap);
		cr_expect_eq(backoff_delay(100, 30000, n, UINT64_MAX) <= cap,
		             true);
	}
	cr_expect_eq(backoff_delay(100, 30000, 1000, UINT64_MAX) <= 30000,
	             true);
	cr_expect_eq(backoff_delay(0, 30000, 5, 12345), 0);
}

Test(backoff, gives_up_after_max_restarts_and_a_long_run_resets)
{
	struct restart_conf c = {RESTART_ON_FAILURE, 10, 1000, 2, 5000};
	int restarts = 0;
	int64_t delay = -1;

	cr_expect_eq(backoff_on_exit(&c, &restarts, 10, 0, &delay),
	             BACKOFF_RESTART);
	cr_expect_eq(restarts, 1);
	cr_expect_eq(delay, 10);
	cr_expect_eq(backoff_on_exit(&c, &restarts, 10, 0, &delay),
	             BACKOFF_RESTART);
	cr_expect_eq(restarts, 2);
	cr_expect_eq(backoff_on_exit(&c, &restarts, 4999, 0, &delay),
	             BACKOFF_GIVE_UP);
	/* A run of reset_after was healthy: counting starts again. */
	cr_expect_eq(backoff_on_exit(&c, &restarts, 5000, 0, &delay),
	             BACKOFF_RESTART);
	cr_expect_eq(restarts, 1);
}

Test(ports, distinct_free_loopback_ports)
{
	int ports[16];
	struct insomnia_error err;

	cr_assert(ports_alloc(ports, NULL, NULL, 16, &err) == 0, "%s",
	          err.message);
	for (int i = 0; i < 16; i++) {
		cr_expect(ports[i] > 0 && ports[i] < 65536);
		for (int j = 0; j < i; j++)
			cr_expect_neq(ports[i], ports[j]);
	}
}

Test(ports, listen_ports_are_bound_and_listening_the_others_not_held)
{
	int ports[3], fds[3], on = 0, reuse = 0;
	bool listen[3] = {false, true, false};
	struct sockaddr_in a;
	socklen_t len = sizeof a, olen = sizeof on;
	struct insomnia_error err;

	cr_assert(ports_alloc(ports, listen, fds, 3, &err) == 0, "%s",
	          err.message);
	cr_expect_eq(fds[0], -1);
	cr_expect_eq(fds[2], -1);
	cr_assert(fds[1] >= 0);
	cr_assert(getsockname(fds[1], (struct sockaddr *)&a, &len) == 0);
	cr_expect_eq(ntohs(a.sin_port), ports[1]);
	cr_expect_eq(ntohl(a.sin_addr.s_addr), INADDR_LOOPBACK);
	cr_assert(getsockopt(fds[1], SOL_SOCKET, SO_ACCEPTCONN, &on, &olen) ==
	          0);
	cr_expect(on, "not listening");
	olen = sizeof reuse;
	cr_assert(getsockopt(fds[1], SOL_SOCKET, SO_REUSEADDR, &reuse, &olen) ==
	          0);
	cr_expect(reuse);
	cr_expect(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
	close(fds[1]);
}

Test(backoff, policies)
{
	cr_expect(!backoff_wants_restart(RESTART_NO, 3));
	cr_expect(backoff_wants_restart(RESTART_ON_FAILURE, 3));
	cr_expect(backoff_wants_restart(RESTART_ON_FAILURE, -1));
	cr_expect(!backoff_wants_restart(RESTART_ON_FAILURE, 0));
	cr_expect(backoff_wants_restart(RESTART_ALWAYS, 0));
}

/* ---- racing operations ----------------------------------------------- */

struct opres {
	bool done, failed;
	struct insomnia_error err;
};

static void on_op(void *arg, json_t *result, const struct insomnia_error *e)
{
	struct opres *r = arg;

	r->done = true;
	r->failed = e != NULL;
	if (e)
		r->err = *e;
}

static void act_into(enum supervisor_verb verb, const char *name,
                     struct opres *r)
{
	struct insomnia_error err;
	const char *names[] = {name};

	*r = (struct opres){0};
	cr_assert(supervisor_act(sup, verb, names, 1, on_op, r, &err), "%s",
	          err.message);
}

static void run_until_both(const struct opres *a, const struct opres *b)
{
	while (!(a->done && b->done) && !timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert(!timed_out, "an operation was never answered");
}

Test(supervisor, a_stop_and_a_start_racing_are_both_answered)
{
	struct opres stop, start_op;

	add("a", "exec sleep 1000");
	depend(add("b", "exec sleep 1000"), 0, DEP_STARTED);
	depend(add("c", "exec sleep 1000"), 1, DEP_STARTED);
	start();
	run_until(&got_ready);

	/* Before a got its signal (its dependents stop first). */
	act_into(SUPERVISOR_STOP, "a", &stop);
	act_into(SUPERVISOR_START, "a", &start_op);
	run_until_both(&stop, &start_op);
	cr_expect(stop.failed);
	cr_expect_eq(stop.err.kind, INSOMNIA_ERR_PROCESS_STATE);
	cr_expect(strstr(stop.err.message, "started again by another request"),
	          "%s", stop.err.message);
	cr_expect(!start_op.failed, "%s", start_op.err.message);
	cr_expect_eq(count("a", "stopping"), 0, "a was never stopped");

	/* While a is stopping: the stop is answered at once, the start once
	 * a runs again.  b (stopped by the first stop) is down first, so a
	 * gets its TERM inside supervisor_act: a reaping cannot come in
	 * between. */
	run_until_event("b", "stopped");
	act_into(SUPERVISOR_STOP, "a", &stop);
	cr_assert(has_event("a", "stopping"));
	act_into(SUPERVISOR_START, "a", &start_op);
	run_until_both(&stop, &start_op);
	cr_expect_eq(stop.err.kind, INSOMNIA_ERR_PROCESS_STATE);
	cr_expect(!start_op.failed, "%s", start_op.err.message);
	cr_expect_eq(count("a", "starting"), 2, "a ran again");
	stop_and_wait();
	end_test();
}

Test(supervisor, a_start_still_waiting_when_a_stop_comes_is_answered)
{
	struct opres start_op, stop;
	struct proc_spec *gate, *w;

	add("sleeper", "exec sleep 1000");
	/* gate never exits on its own: w waits for it */
	gate = add("gate", "exec sleep 1000");
	gate->autostart = false;
	w = add("w", "exec sleep 1000");
	w->autostart = false;
	depend(w, 1, DEP_SUCCEEDED);
	start();
	run_until(&got_ready);
	act_into(SUPERVISOR_START, "w", &start_op);
	run_until_event("w", "waiting");
	act_into(SUPERVISOR_STOP, "w", &stop);
	run_until_both(&start_op, &stop);
	cr_expect(start_op.failed);
	cr_expect_eq(start_op.err.kind, INSOMNIA_ERR_PROCESS_STATE);
	cr_expect(strstr(start_op.err.message, "stopped by another request"),
	          "%s", start_op.err.message);
	cr_expect(!stop.failed, "%s", stop.err.message);
	stop_and_wait();
	end_test();
}

Test(supervisor, stop_and_restart_are_refused_while_the_pod_starts)
{
	struct insomnia_error err;
	const char *names[] = {"db"};

	add("db", "exec sleep 1000");
	settle_ms = 60000; /* the pod stays starting: no ready hook yet */
	start();
	run_until_event("db", "ready");
	cr_expect_null(supervisor_act(sup, SUPERVISOR_STOP, names, 1, on_done,
	                              NULL, &err));
	cr_expect_eq(err.kind, INSOMNIA_ERR_PROCESS_STATE);
	cr_expect_str_eq(err.message, "the pod is still starting");
	cr_expect_null(supervisor_act(sup, SUPERVISOR_RESTART, names, 1,
	                              on_done, NULL, &err));
	cr_expect_eq(err.kind, INSOMNIA_ERR_PROCESS_STATE);
	cr_expect_eq(count("db", "stopping"), 0);
	stop_and_wait();
	end_test();
}

/* ---- many processes -------------------------------------------------- */

Test(supervisor, a_ladder_of_dependencies_starts_without_walking_every_path)
{
	char name[16];

	/* Each depends on the two before it: the paths from the top are
	 * as many as Fibonacci's 60th number, the processes 60. */
	for (size_t i = 0; i < 60; i++) {
		struct proc_spec *p;
		snprintf(name, sizeof name, "p%zu", i);
		p = add(name, "exec sleep 1000");
		p->autostart = i == 59;
		if (i >= 1)
			depend(p, i - 1, DEP_STARTED);
		if (i >= 2)
			depend(p, i - 2, DEP_STARTED);
	}
	start();
	run_until(&got_ready);
	cr_expect(has_event("p0", "ready"));
	stop_and_wait();
	end_test();
}

Test(supervisor, ports_of_different_processes_are_all_distinct)
{
	static const char *const pnames[] = {"a", "b", "c", "d", "e",
	                                     "f", "g", "h", "i", "j"};
	struct insomnia_error err;
	static int seen[800];
	size_t n = 0, i;
	char name[16];
	json_t *ps, *one;

	/* 800 ports (held at once: under the usual limit of 1024 fds):
	 * found one process at a time (the sockets closed in between) some
	 * would be the same all but surely. */
	for (i = 0; i < 80; i++) {
		struct proc_spec *p;
		snprintf(name, sizeof name, "p%zu", i);
		p = add(name, "exec sleep 1000");
		p->autostart = false;
		free(p->ports);
		p->ports = calloc(11, sizeof *p->ports);
		for (size_t j = 0; j < 10; j++)
			p->ports[j] = strdup(pnames[j]);
		p->nports = 10;
	}
	start();
	run_until(&got_ready);
	ps = supervisor_ps(sup, NULL, 0, &err);
	cr_assert(ps, "%s", err.message);
	json_array_foreach(json_object_get(ps, "processes"), i, one)
	{
		const char *key;
		json_t *v;
		json_object_foreach(json_object_get(one, "ports"), key, v)
		{
			int port = (int)json_integer_value(v);
			cr_assert(port > 0 && n < 800);
			for (size_t k = 0; k < n; k++)
				cr_assert_neq(seen[k], port, "port %d twice",
				              port);
			seen[n++] = port;
		}
	}
	cr_expect_eq(n, 800);
	json_decref(ps);
	stop_and_wait();
	end_test();
}

/* ---- proc.c ---------------------------------------------------------- */

Test(proc, a_draining_run_shows_as_stopping_not_ready)
{
	struct proc_spec spec = {.name = "api"};
	struct proc p = {.spec = &spec, .state = PROC_READY, .pidfd = -1};
	json_t *one;

	p.draining = true; /* reaped; what it left is being killed */
	one = proc_ps_json(&p);
	cr_assert(one);
	cr_expect_str_eq(json_string_value(json_object_get(one, "state")),
	                 "stopping");
	cr_expect(json_is_false(json_object_get(one, "ready")));
	cr_expect(json_is_null(json_object_get(one, "pid")));
	json_decref(one);
}

/* ---- readiness and liveness (issue 11) ------------------------------- */

/* A ready or alive table as manifest.c fills it (its defaults). */
static struct probe_conf *probe(struct probe_conf *c, enum probe_kind kind)
{
	free_probe(c);
	c->kind = kind;
	c->timeout_ms = 30000;
	c->interval_ms = 1000;
	c->failures = 3;
	return c;
}

static void ready_fd(struct proc_spec *p, int fd, int64_t timeout_ms)
{
	probe(&p->ready, PROBE_FD)->fd = fd;
	p->ready.timeout_ms = timeout_ms;
}

/* exec {a, b, c}: test -e <tmp>/ready-file, say. */
static void exec_probe(struct probe_conf *c, const char *a, const char *b,
                       const char *d)
{
	probe(c, PROBE_EXEC);
	c->argv = strv(a, b, d);
	c->argc = d ? 3 : b ? 2 : 1;
}

static char *ready_file(void)
{
	static char path[sizeof tmp + 16];

	snprintf(path, sizeof path, "%s/ready-file", tmp);
	return path;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	cr_assert(fd >= 0);
	close(fd);
}

/* Let the child reading the FIFO go on (the open waits for it). */
static void write_fifo(const char *text)
{
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);

	cr_assert(fd >= 0);
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/* Turn the loop until process reaches state from index start on. */
static long run_until_from(size_t start, const char *process, const char *state,
                           const char *what)
{
	long i;

	while ((i = find_from(start, process, state, what)) < 0 && !timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert(!timed_out, "timed out waiting for %s %s", process, state);
	return i;
}

/* Turn the loop as long as something is ready to run now (no wait):
 * whatever the process did so far has been seen. */
static void run_pending(void)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

/* ps's entry of one process (a new reference). */
static json_t *ps_one(const char *name)
{
	struct insomnia_error err;
	const char *names[] = {name};
	json_t *ps = supervisor_ps(sup, names, 1, &err), *one;

	cr_assert(ps, "%s", err.message);
	one = json_array_get(json_object_get(ps, "processes"), 0);
	json_incref(one);
	json_decref(ps);
	return one;
}

Test(supervisor, fd_readiness_waits_for_the_newline)
{
	/* Running first; ready only once the test lets it write. */
	ready_fd(add("db", script("read x < %s; echo >&3; exec sleep 1000")), 3,
	         30000);
	start();
	run_until_event("db", "running");
	run_pending();
	cr_expect(!has_event("db", "ready"), "ready before its newline");
	size_t before = nrecs;
	write_fifo("go\n");
	run_until(&got_ready);
	cr_expect(find_from(before, "db", "ready", NULL) >= 0);
	stop_and_wait();
	end_test();
}

Test(supervisor, fd_closed_without_a_newline_fails_at_once)
{
	/* A minute's timeout: the test's own 30 s limit proves it was not
	 * waited for. */
	ready_fd(add("db", "echo closing; exec 3>&-; exec sleep 1000"), 3,
	         60000);
	start();
	run_until(&got_stopped);
	cr_assert(got_failed);
	cr_expect(!got_ready);
	cr_expect_str_eq(failed_why.message,
	                 "process db failed before the pod was ready: "
	                 "readiness fd closed without a newline");
	cr_expect(strstr(failed_why.detail, "closing"), "%s",
	          failed_why.detail);
	end_test();
}

Test(supervisor, log_readiness_waits_for_a_matching_line)
{
	struct proc_spec *p =
	    add("web", script("echo starting; echo 'listening? no' >&2; "
	                      "read x < %s; echo >&2 'listening on 8080'; "
	                      "exec sleep 1000"));

	probe(&p->ready, PROBE_LOG)->pattern = strdup("^listening on [0-9]+$");
	start();
	run_until_event("web", "running");
	run_pending();
	cr_expect(!has_event("web", "ready"));
	write_fifo("go\n");
	run_until(&got_ready);
	stop_and_wait();
	end_test();
}

Test(supervisor, readiness_timeout_fails_the_start_with_name_and_output)
{
	/* fd 5 is never written: the deadline (300 ms) decides. */
	ready_fd(add("slow", "echo warming up; exec sleep 1000"), 5, 300);
	add("other", "exec sleep 1000");
	start();
	run_until(&got_stopped);
	cr_assert(got_failed);
	cr_expect(!got_ready);
	cr_expect_str_eq(failed_why.message,
	                 "process slow failed before the pod was ready: "
	                 "not ready within 300ms");
	cr_expect(strstr(failed_why.detail, "warming up"), "%s",
	          failed_why.detail);
	/* It was stopped (TERM), not left running. */
	cr_expect(find("slow", "stopping") >= 0);
	end_test();
}

Test(supervisor, depends_on_ready_waits_for_real_readiness)
{
	ready_fd(add("db", script("read x < %s; echo >&3; exec sleep 1000")), 3,
	         30000);
	depend(add("api", "exec sleep 1000"), 0, DEP_READY);
	start();
	run_until_event("db", "running");
	run_pending();
	cr_expect(!has_event("api", "starting"), "api started before db "
	                                         "was ready");
	write_fifo("go\n");
	run_until(&got_ready);
	cr_expect(find("api", "starting") > find("db", "ready"));
	stop_and_wait();
	end_test();
}

/* Timers pending on the loop, the test's own safety net left out. */
static int count_timer(const struct event_base *b, const struct event *ev,
                       void *arg)
{
	size_t *n = arg;

	/* A pure timer has no event flags: pending says it is armed. */
	if (ev != deadline && event_pending(ev, EV_TIMEOUT, NULL))
		(*n)++;
	return 0;
}

static size_t pending_timers(void)
{
	size_t n = 0;

	event_base_foreach_event(base, count_timer, &n);
	return n;
}

Test(supervisor, exec_readiness_polls_until_the_command_succeeds)
{
	struct proc_spec *p = add("web", "exec sleep 1000");
	char test[] = "test";

	exec_probe(&p->ready, test, "-e", ready_file());
	p->ready.interval_ms = 50;
	start();
	run_until_event("web", "running");
	run_pending();
	cr_expect(!has_event("web", "ready"));
	touch(ready_file());
	run_until(&got_ready);
	stop_and_wait();
	end_test();
}

Test(supervisor, tcp_readiness_against_a_listener_the_process_opens)
{
	struct proc_spec *p = add(
	    "web",
	    script("read x < %s; exec python3 -c 'import os, socket; "
	           "s = socket.socket(); "
	           "s.bind((\"127.0.0.1\", int(os.environ[\"PORT_HTTP\"]))); "
	           "s.listen(); s.accept()'"));

	free(p->ports);
	p->ports = strv("http", NULL, NULL);
	p->nports = 1;
	probe(&p->ready, PROBE_TCP)->target = strdup("127.0.0.1:${port.http}");
	p->ready.interval_ms = 50;
	start();
	run_until_event("web", "running");
	run_pending();
	cr_expect(!has_event("web", "ready"));
	write_fifo("go\n");
	run_until(&got_ready);
	stop_and_wait();
	end_test();
}

Test(supervisor, a_liveness_failure_restarts_the_process)
{
	/* It exits 0 on TERM: the run still counts as failed. */
	struct proc_spec *p =
	    add("web", "trap 'exit 0' TERM; sleep 1000 & wait");

	touch(ready_file());
	exec_probe(&p->alive, "test", "-e", ready_file());
	p->alive.interval_ms = 50;
	p->alive.timeout_ms = 1000;
	p->alive.failures = 2;
	p->restart.policy = RESTART_ON_FAILURE;
	start();
	run_until(&got_ready);
	/* Alive while the file is there; then two failures end the run. */
	unlink(ready_file());
	long i = run_until_from(0, "web", "backoff", NULL);
	cr_expect(strstr(recs[i].reason, "liveness: exec test: "), "%s",
	          recs[i].reason);
	cr_expect(strstr(recs[i].reason, "(2 failures)"), "%s", recs[i].reason);
	/* Stopped as a stop is (TERM), then restarted by its policy. */
	cr_expect(find("web", "stopping") < i);
	cr_expect_str_eq(recs[i].exit, "code 0");
	run_until_from((size_t)i, "web", "running", NULL);
	stop_and_wait();
	end_test();
}

Test(supervisor, socket_activation_serves_before_the_process_accepts)
{
	struct proc_spec *p = add(
	    "web",
	    script("read x < %s; exec python3 -c 'import os, socket; "
	           "s = socket.socket(fileno=3); c, _ = s.accept(); "
	           "e = os.environ; "
	           "c.sendall(\" \".join([e[\"LISTEN_PID\"], str(os.getpid()), "
	           "e[\"LISTEN_FDS\"], e[\"LISTEN_FDNAMES\"]]).encode()); "
	           "c.close(); s.accept()'"));
	struct sockaddr_in a = {.sin_family = AF_INET};
	char got[128] = "", want[128];
	json_t *one;
	int fd;

	free(p->ports);
	p->ports = strv("admin", "http", NULL);
	p->nports = 2;
	p->listen = calloc(2, sizeof *p->listen);
	p->listen[1] = true;
	p->nlisten = 1;
	start();
	run_until(&got_ready);
	one = ps_one("web");
	a.sin_port = htons((uint16_t)json_integer_value(
	    json_object_get(json_object_get(one, "ports"), "http")));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The process has not accepted (it waits for the FIFO): the
	 * pod's socket takes the connection. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "%s",
	          strerror(errno));
	write_fifo("go\n");
	cr_assert(read(fd, got, sizeof got - 1) > 0);
	close(fd);
	snprintf(want, sizeof want, "%lld %lld 1 http",
	         (long long)json_integer_value(json_object_get(one, "pid")),
	         (long long)json_integer_value(json_object_get(one, "pid")));
	cr_expect_str_eq(got, want);
	json_decref(one);
	stop_and_wait();
	end_test();
}

/* A run that shut its passed socket down left it dead for every later
 * run, and the port free for anyone: the next run gets it listening
 * again. */
Test(supervisor, a_listen_socket_shut_down_by_a_run_listens_again)
{
	char text[1024];
	struct proc_spec *p;
	struct sockaddr_in a = {.sin_family = AF_INET};
	char got[16] = "";
	json_t *one;
	int fd;

	snprintf(text, sizeof text,
	         "if [ -e %s ]; then echo down; exec python3 -c 'import "
	         "socket; c, _ = socket.socket(fileno=3).accept(); "
	         "c.sendall(b\"ok\"); c.close(); import time; "
	         "time.sleep(1000)'; fi; touch %s; python3 -c 'import socket; "
	         "socket.socket(fileno=3).shutdown(socket.SHUT_RDWR)'; "
	         "echo down; exec sleep 1000",
	         ready_file(), ready_file());
	p = add("web", text);
	probe(&p->ready, PROBE_LOG)->pattern = strdup("^down$");
	free(p->ports);
	p->ports = strv("http", NULL, NULL);
	p->nports = 1;
	p->listen = calloc(1, sizeof *p->listen);
	p->listen[0] = true;
	p->nlisten = 1;
	start();
	run_until(&got_ready);
	act(SUPERVISOR_RESTART, "web");
	run_until(&op_done);
	one = ps_one("web");
	a.sin_port = htons((uint16_t)json_integer_value(
	    json_object_get(json_object_get(one, "ports"), "http")));
	json_decref(one);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "%s",
	          strerror(errno));
	cr_assert(read(fd, got, sizeof got - 1) > 0);
	close(fd);
	cr_expect_str_eq(got, "ok");
	stop_and_wait();
	end_test();
}

/* ---- sd_notify ------------------------------------------------------- */

/* A shell function n 'A=1|B=2': one datagram "A=1\nB=2" to
 * NOTIFY_SOCKET, sent by a child of the process's shell. */
#define NOTIFY_FN                                                              \
	"n() { python3 -c \"import os, socket, sys; "                          \
	"socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto("             \
	"sys.argv[1].replace('|', '\\n').encode(), "                           \
	"os.environ['NOTIFY_SOCKET'])\" \"$1\"; }; "

/* body: each %s is the FIFO (up to three). */
static struct proc_spec *add_notify(const char *name, const char *body)
{
	char fmt[1024], text[1024];
	struct proc_spec *p;

	snprintf(fmt, sizeof fmt, NOTIFY_FN "%s", body);
	snprintf(text, sizeof text, fmt, fifo, fifo, fifo);
	p = add(name, text);
	probe(&p->ready, PROBE_NOTIFY);
	return p;
}

Test(supervisor, notify_ready_makes_it_ready_and_status_is_shown)
{
	json_t *one;

	add_notify("db", "n 'STATUS=warming up'; read x < %s; "
	                 "n 'STATUS=serving|READY=1'; exec sleep 1000");
	start();
	run_until_event("db", "running");
	run_pending();
	cr_expect(!has_event("db", "ready"));
	write_fifo("go\n");
	run_until(&got_ready);
	one = ps_one("db");
	cr_expect_str_eq(json_string_value(json_object_get(one, "status")),
	                 "serving");
	cr_expect_str_eq(json_string_value(json_object_get(one, "state")),
	                 "ready");
	json_decref(one);
	stop_and_wait();
	end_test();
}

Test(supervisor, reloading_then_ready_then_stopping_are_shown)
{
	add_notify("db", "n 'READY=1'; read x < %s; n 'RELOADING=1'; "
	                 "read x < %s; n 'READY=1'; read x < %s; "
	                 "n 'STOPPING=1'; exec sleep 1000");
	start();
	run_until(&got_ready);
	write_fifo("1\n");
	long i = run_until_from(0, "db", "reloading", NULL);
	write_fifo("2\n");
	i = run_until_from((size_t)i, "db", "ready", NULL);
	write_fifo("3\n");
	run_until_from((size_t)i, "db", "stopping", NULL);
	json_t *one = ps_one("db");
	cr_expect_str_eq(json_string_value(json_object_get(one, "state")),
	                 "stopping");
	json_decref(one);
	stop_and_wait();
	end_test();
}

/* RELOADING=1 before the pod is ready held its start for good (the
 * process's readiness deadline was over): now it is not taken then. */
Test(supervisor, reloading_before_the_pod_is_ready_does_not_hold_it)
{
	add_notify("db", "n 'READY=1|RELOADING=1'; exec sleep 1000");
	start();
	run_until(&got_ready);
	cr_expect(!has_event("db", "reloading"));
	stop_and_wait();
	end_test();
}

/* Turn the loop until the pod reaped pid (waitid without reaping). */
static void run_until_reaped(pid_t pid)
{
	siginfo_t si;

	while (!timed_out) {
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) <
		    0)
			return; /* ECHILD: reaped */
		event_base_loop(base, EVLOOP_ONCE);
	}
	cr_assert(!timed_out, "timed out waiting for %d's end", (int)pid);
}

Test(supervisor, mainpid_is_followed_when_the_wrapper_exits)
{
	char path[64], cmd[64] = "";
	json_t *one;
	pid_t wrapper, main_pid;
	int fd;

	add_notify("db", "sleep 1000 & n \"MAINPID=$!|READY=1\"; exit 0");
	start();
	run_until(&got_ready);
	wrapper = recs[find("db", "running")].pid;
	run_until_reaped(wrapper);
	run_pending();
	one = ps_one("db");
	main_pid = (pid_t)json_integer_value(json_object_get(one, "pid"));
	cr_expect_str_eq(json_string_value(json_object_get(one, "state")),
	                 "ready");
	json_decref(one);
	cr_assert(main_pid > 0 && main_pid != wrapper, "pid %d", main_pid);
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)main_pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_assert(read(fd, cmd, sizeof cmd - 1) > 0);
	close(fd);
	cr_expect_str_eq(cmd, "sleep");
	cr_expect_eq(count("db", "exited"), 0);
	stop_and_wait();
	end_test();
}

Test(supervisor, a_missed_watchdog_restarts_the_process)
{
	struct proc_spec *p =
	    add_notify("db", "n \"STATUS=$WATCHDOG_USEC|READY=1|WATCHDOG=1\"; "
	                     "exec sleep 1000");
	json_t *one;

	probe(&p->alive, PROBE_WATCHDOG)->interval_ms = 300;
	p->alive.failures = 1;
	p->restart.policy = RESTART_ON_FAILURE;
	start();
	run_until(&got_ready);
	/* It was told its deadline (WATCHDOG_USEC) and said it back. */
	one = ps_one("db");
	cr_expect_str_eq(json_string_value(json_object_get(one, "status")),
	                 "300000");
	json_decref(one);
	long i = run_until_from(0, "db", "backoff", NULL);
	cr_expect_str_eq(recs[i].reason,
	                 "watchdog: no WATCHDOG=1 within 300ms");
	run_until_from((size_t)i, "db", "running", NULL);
	stop_and_wait();
	end_test();
}

Test(supervisor, a_ready_pod_without_polled_probes_arms_no_timer)
{
	ready_fd(add("a", "echo >&3; exec sleep 1000"), 3, 30000);
	probe(&add("b", "echo up; exec sleep 1000")->ready, PROBE_LOG)
	    ->pattern = strdup("up");
	add_notify("c", "n 'READY=1'; exec sleep 1000");
	start();
	run_until(&got_ready);
	run_pending();
	cr_expect_eq(pending_timers(), 0, "a timer would wake the pod");
	stop_and_wait();
	end_test();
}

Test(supervisor, http_readiness_against_python_http_server)
{
	struct proc_spec *p = add(
	    "web", "cd \"$INSOMNIA_POD_DIR\" && exec python3 -m http.server "
	           "--bind 127.0.0.1 \"$PORT_HTTP\" 2>&1");

	free(p->ports);
	p->ports = strv("http", NULL, NULL);
	p->nports = 1;
	probe(&p->ready, PROBE_HTTP)->target =
	    strdup("http://127.0.0.1:${port.http}/");
	p->ready.interval_ms = 50;
	start();
	run_until(&got_ready);
	cr_expect(find("web", "ready") > find("web", "running"));
	stop_and_wait();
	end_test();
}

Test(supervisor, not_ready_in_time_after_the_pod_is_ready_restarts_by_policy)
{
	/* Started after the pod is ready: its failed readiness is a failed
	 * run for its policy, not a failed start. */
	struct proc_spec *p = add("late", "exec sleep 1000");

	ready_fd(p, 3, 200);
	p->autostart = false;
	p->restart.policy = RESTART_ON_FAILURE;
	start();
	run_until(&got_ready);
	act(SUPERVISOR_START, "late");
	long i = run_until_from(0, "late", "backoff", NULL);
	cr_expect_str_eq(recs[i].reason, "not ready within 200ms");
	cr_expect(find("late", "stopping") < i);
	cr_expect(!got_failed);
	run_until_from((size_t)i, "late", "running", NULL);
	stop_and_wait();
	end_test();
}

Test(supervisor, a_polled_readiness_timeout_says_what_the_last_try_saw)
{
	struct proc_spec *p = add("web", "exec sleep 1000");

	exec_probe(&p->ready, "sh", "-c", "exit 7");
	p->ready.interval_ms = 50;
	p->ready.timeout_ms = 300;
	start();
	run_until(&got_stopped);
	cr_assert(got_failed);
	cr_expect(strstr(failed_why.message, "not ready within 300ms (last "
	                                     "try: "),
	          "%s", failed_why.message);
	cr_expect(strstr(failed_why.message, "7"), "%s", failed_why.message);
	end_test();
}

Test(supervisor, a_liveness_reason_names_the_target_as_tried)
{
	struct proc_spec *p = add("web", "exec sleep 1000");
	char want[128];
	json_t *one;
	long i;

	free(p->ports);
	p->ports = strv("http", NULL, NULL);
	p->nports = 1;
	/* Nobody listens there: every try fails. */
	probe(&p->alive, PROBE_TCP)->target = strdup("127.0.0.1:${port.http}");
	p->alive.interval_ms = 50;
	p->alive.timeout_ms = 50;
	p->alive.failures = 2;
	/* Started once the pod is ready: its failure is no failed start. */
	p->autostart = false;
	start();
	run_until(&got_ready);
	act(SUPERVISOR_START, "web");
	run_until_event("web", "ready");
	one = ps_one("web");
	snprintf(want, sizeof want, "liveness: tcp 127.0.0.1:%lld: ",
	         (long long)json_integer_value(
	             json_object_get(json_object_get(one, "ports"), "http")));
	json_decref(one);
	/* Policy no: the failed run leaves it exited, the reason kept. */
	i = run_until_from(0, "web", "exited", NULL);
	cr_expect(strstr(recs[i].reason, want), "%s (want %s)", recs[i].reason,
	          want);
	cr_expect(strstr(recs[i].reason, "(2 failures)"), "%s", recs[i].reason);
	stop_and_wait();
	end_test();
}

/* The main pid's (a MAINPID) pid from ps, in its current run. */
static pid_t main_pid_of(const char *name)
{
	json_t *one = ps_one(name);
	pid_t pid = (pid_t)json_integer_value(json_object_get(one, "pid"));

	json_decref(one);
	return pid;
}

/* Run until ps shows name's pid changed from wrapper (the MAINPID). */
static pid_t run_until_main_pid(const char *name, pid_t wrapper)
{
	pid_t pid;

	while ((pid = main_pid_of(name)) == wrapper && !timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert(!timed_out, "no MAINPID for %s", name);
	return pid;
}

Test(supervisor, a_main_pid_reaped_by_its_living_parent_ends_the_run)
{
	/* The wrapper stays and reaps its child itself: no SIGCHLD for the
	 * pod, only the pidfd tells. */
	struct proc_spec *p =
	    add_notify("db", "sleep 100000 & n \"MAINPID=$!|READY=1\"; "
	                     "wait; exec sleep 100000");
	long i;
	pid_t main_pid;

	p->restart.policy = RESTART_ON_FAILURE;
	start();
	run_until(&got_ready);
	main_pid = run_until_main_pid("db", recs[find("db", "running")].pid);
	cr_assert(kill(main_pid, SIGKILL) == 0);
	/* It left ready: on-failure sees an unknown status as a failure. */
	i = run_until_from(0, "db", "backoff", NULL);
	i = run_until_from((size_t)i, "db", "running", NULL);
	run_until_from((size_t)i, "db", "ready", NULL);
	/* The new run's main pid is stopped by a stop, which completes. */
	main_pid = run_until_main_pid("db", recs[i].pid);
	act(SUPERVISOR_STOP, "db");
	run_until(&op_done);
	cr_expect(!op_failed, "%s", op_err.message);
	cr_expect(kill(main_pid, 0) < 0 && errno == ESRCH);
	stop_and_wait();
	end_test();
}

Test(supervisor, a_restart_of_a_probed_process_answers_once_it_is_ready)
{
	ready_fd(add("db", script("read x < %s; echo >&3; exec sleep 1000")), 3,
	         30000);
	start();
	write_fifo("boot\n");
	run_until(&got_ready);
	act(SUPERVISOR_RESTART, "db");
	long i = run_until_from((size_t)find("db", "ready") + 1, "db",
	                        "running", NULL);
	run_pending();
	cr_expect(!op_done, "answered before the readiness newline");
	write_fifo("again\n");
	run_until(&op_done);
	cr_expect(!op_failed, "%s", op_err.message);
	cr_expect(find_from((size_t)i, "db", "ready", NULL) > i);
	cr_expect(strstr(op_result, "\"state\":\"ready\""), "%s", op_result);
	stop_and_wait();
	end_test();
}

Test(supervisor, a_start_whose_run_fails_readiness_fails_naming_it)
{
	struct proc_spec *p = add("db", "exec 3>&-; exec sleep 1000");

	ready_fd(p, 3, 30000);
	p->autostart = false;
	start();
	run_until(&got_ready);
	act(SUPERVISOR_START, "db");
	run_until(&op_done);
	cr_assert(op_failed, "%s", op_result);
	cr_expect_eq(op_err.kind, INSOMNIA_ERR_PROCESS_FAILED);
	cr_expect(strstr(op_err.message, "process db exited: readiness fd "
	                                 "closed without a newline"),
	          "%s", op_err.message);
	stop_and_wait();
	end_test();
}

Test(supervisor, a_readiness_fd_flood_does_not_hold_the_loop)
{
	/* flood writes to its fd 3 without end and never a newline: the
	 * others are still seen ready meanwhile. */
	ready_fd(add("flood", "exec tr -d '\\n' < /dev/zero >&3"), 3, 30000);
	ready_fd(add("mib", "head -c 1048576 /dev/zero >&3; echo >&3; "
	                    "exec sleep 1000"),
	         3, 30000);
	probe(&add("log", "echo up; exec sleep 1000")->ready, PROBE_LOG)
	    ->pattern = strdup("up");
	start();
	run_until_event("log", "ready");
	run_until_event("mib", "ready");
	cr_expect(!has_event("flood", "ready"));
	stop_and_wait();
	end_test();
}

static int take_record(const struct procrec *r, void *arg)
{
	if (strcmp(r->name, "db"))
		return 0;
	*(struct procrec *)arg = *r;
	return 1;
}

Test(supervisor, the_record_names_the_main_pid_after_mainpid)
{
	struct procrec r = {.pid = 0};
	uint64_t start_time;
	pid_t main_pid;

	add_notify("db", "sleep 1000 & n \"MAINPID=$!|READY=1\"; wait");
	start();
	run_until(&got_ready);
	main_pid = run_until_main_pid("db", recs[find("db", "running")].pid);
	cr_assert(procrec_each(tmpfd, take_record, &r) == 1, "no record");
	cr_expect_eq(r.pid, main_pid);
	cr_assert(proctree_start_time(main_pid, &start_time) == 0);
	cr_expect_eq(r.start_time, start_time);
	stop_and_wait();
	end_test();
}
