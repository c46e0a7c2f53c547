/* The pod's life: ready line, published files, methods, stopping. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "proto.h"

TestSuite(pod_lifecycle, .init = th_setup, .fini = th_teardown);

static mode_t mode_of(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s missing", path);
	return st.st_mode;
}

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	cr_assert_not_null(s, "no string %s", key);
	return s;
}

static json_int_t num(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	cr_assert(json_is_integer(v), "no integer %s", key);
	return json_integer_value(v);
}

static json_int_t ms_between(const struct timespec *a, const struct timespec *b)
{
	return (json_int_t)(b->tv_sec - a->tv_sec) * 1000 +
	       (b->tv_nsec - a->tv_nsec) / 1000000;
}

Test(pod_lifecycle, pod_prints_ready_line_and_publishes_pid_state_and_socket)
{
	struct th_pod p;
	char pid[32];
	json_t *state;

	th_start_named(&p, "alpha");
	cr_assert_str_eq(p.sock, th_rundir_file("alpha", "sock"));
	th_assert_err_has(&p, "pod: listening on ");
	cr_assert_eq(mode_of(th_rundir_file("alpha", "")), S_IFDIR | 0700);
	cr_assert_eq(mode_of(p.sock), S_IFSOCK | 0600);
	snprintf(pid, sizeof pid, "%d\n", (int)p.pid);
	cr_assert_str_eq(th_read_file(th_rundir_file("alpha", "pid")), pid);
	state = json_loads(th_read_file(th_rundir_file("alpha", "state.json")),
	                   0, NULL);
	cr_assert_str_eq(str(state, "name"), "alpha");
	cr_assert_eq(num(state, "pid"), p.pid);
	cr_assert_eq(num(state, "pgid"), getpgid(p.pid));
	cr_assert_eq(strlen(str(state, "session_id")), 36);
	cr_assert_str_eq(str(state, "socket"), p.sock);
	cr_assert_eq(strlen(str(state, "started_at")), 20);
	cr_assert_eq(str(state, "started_at")[19], 'Z');
	cr_assert_str_eq(str(state, "state"), "ready");
	th_assert_dir_holds("alpha", "lock pid sock state.json");
	th_stop(&p);
	th_assert_dir_holds("alpha", "lock");
	json_decref(state);
	th_pod_free(&p);
}

Test(pod_lifecycle, pod_answers_hello_with_protocol_version_and_identity)
{
	struct th_pod p;
	json_t *r;
	int fd;

	th_start_named(&p, "hi");
	fd = th_connect(p.sock);
	r = th_call(fd, "hello");
	cr_assert_eq(num(r, "protocol"), INSOMNIA_PROTOCOL_VERSION);
	cr_assert_str_eq(str(r, "version"), INSOMNIA_VERSION);
	cr_assert_str_eq(str(r, "name"), "hi");
	cr_assert_eq(num(r, "pid"), p.pid);
	cr_assert_eq(strlen(str(r, "session_id")), 36);
	json_decref(r);
	close(fd);
	th_stop(&p);
	th_pod_free(&p);
}

Test(pod_lifecycle, pod_answers_ping_with_pong)
{
	struct th_pod p;
	json_t *r;
	int fd;

	th_start_named(&p, "pinger");
	fd = th_connect(p.sock);
	r = th_call(fd, "ping");
	cr_assert(json_is_true(json_object_get(r, "pong")));
	json_decref(r);
	close(fd);
	th_stop(&p);
	th_pod_free(&p);
}

Test(pod_lifecycle, pod_status_reports_state_uptime_and_connections)
{
	const char *args[] = {"--overlay",
	                      "[pod]\nname = \"st\"\ndescription = \"a pod\"\n",
	                      NULL};
	struct timespec started, now;
	struct th_pod p;
	json_t *r;
	int fd, other;

	clock_gettime(CLOCK_MONOTONIC, &started);
	cr_assert(th_start(&p, NULL, args), "%s", p.err);
	fd = th_connect(p.sock);
	other = th_connect(p.sock);
	json_decref(th_call(other, "ping")); /* surely accepted by now */
	r = th_call(fd, "status");
	cr_assert_str_eq(str(r, "name"), "st");
	cr_assert_eq(num(r, "pid"), p.pid);
	cr_assert_eq(num(r, "pgid"), getpgid(p.pid));
	cr_assert_str_eq(str(r, "socket"), p.sock);
	cr_assert_str_eq(str(r, "state"), "ready");
	cr_assert_str_eq(str(r, "description"), "a pod");
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* not a timing assumption: the pod cannot have been up longer
	 * than since we started it, in milliseconds */
	cr_assert_geq(num(r, "uptime_ms"), 0);
	cr_assert_leq(num(r, "uptime_ms"), ms_between(&started, &now) + 1);
	cr_assert_eq(num(r, "connections"), 2);
	/* no [process] table: nothing to wait for, nothing ready */
	cr_assert_eq(num(json_object_get(r, "processes"), "ready"), 0);
	cr_assert_eq(num(json_object_get(r, "processes"), "total"), 0);
	cr_assert_eq(strlen(str(r, "started_at")), 20);
	cr_assert_eq(strlen(str(r, "session_id")), 36);
	json_decref(r);
	close(fd);
	close(other);
	th_stop(&p);
	th_pod_free(&p);
}

/* A subscriber of pod events on p; returns its socket. */
static int subscribe_pod_events(struct th_pod *p)
{
	int fd = th_connect(p->sock);
	json_t *r;

	th_send(fd,
	        "{\"id\":1,\"method\":\"subscribe\","
	        "\"params\":{\"kinds\":[\"pod\"]}}\n",
	        strlen("{\"id\":1,\"method\":\"subscribe\","
	               "\"params\":{\"kinds\":[\"pod\"]}}\n"));
	r = th_read_json_line(fd);
	cr_assert(json_is_true(json_object_get(json_object_get(r, "result"),
	                                       "subscribed")),
	          "not subscribed");
	json_decref(r);
	return fd;
}

/* The next line on fd is the pod event "stopping" with reason; then the
 * stream ends with the pod. */
static void assert_stopping_then_closed(int fd, const char *reason)
{
	json_t *ev = th_read_json_line(fd), *data;

	cr_assert_not_null(ev, "closed without a stopping event");
	data = json_object_get(ev, "data");
	cr_assert_str_eq(str(ev, "event"), "pod");
	cr_assert_str_eq(str(data, "state"), "stopping");
	cr_assert_str_eq(str(data, "reason"), reason);
	json_decref(ev);
	cr_assert_null(th_read_json_line(fd), "events after stopping");
}

Test(pod_lifecycle, shutdown_goes_through_the_stopping_state_then_exits)
{
	struct th_pod p;
	int sub, fd;

	th_start_named(&p, "phases");
	sub = subscribe_pod_events(&p);
	fd = th_connect(p.sock);
	json_decref(th_call(fd, "shutdown"));
	assert_stopping_then_closed(sub, "shutdown request");
	cr_assert_eq(th_wait(&p), 0, "%s", p.err);
	th_assert_err_has(&p, "shutting down: shutdown requested");
	th_assert_dir_holds("phases", "lock");
	close(sub);
	close(fd);
	th_pod_free(&p);
}

Test(pod_lifecycle, sigterm_goes_through_the_stopping_state_then_exits)
{
	struct th_pod p;
	int sub;

	th_start_named(&p, "phases");
	sub = subscribe_pod_events(&p);
	cr_assert_eq(kill(p.pid, SIGTERM), 0);
	assert_stopping_then_closed(sub, "signal SIGTERM");
	cr_assert_eq(th_wait(&p), 0, "%s", p.err);
	close(sub);
	th_pod_free(&p);
}

Test(pod_lifecycle, pod_stops_after_replying_to_shutdown_and_cleans_up)
{
	struct th_pod p;
	json_t *r;
	int fd;

	th_start_named(&p, "quitter");
	fd = th_connect(p.sock);
	r = th_call(fd, "shutdown");
	cr_assert(json_is_true(json_object_get(r, "stopping")));
	cr_assert_eq(th_wait(&p), 0, "%s", p.err);
	th_assert_err_has(&p, "pod: shutting down: shutdown requested");
	th_assert_dir_holds("quitter", "lock");
	json_decref(r);
	close(fd);
	th_pod_free(&p);
}

Test(pod_lifecycle, pod_cleans_up_and_exits_0_on_sigterm)
{
	struct th_pod p;

	th_start_named(&p, "termed");
	th_stop(&p);
	th_assert_err_has(&p, "pod: shutting down: SIGTERM");
	th_assert_dir_holds("termed", "lock");
	th_pod_free(&p);
}

Test(pod_lifecycle, pod_cleans_up_and_exits_0_on_sigint)
{
	struct th_pod p;

	th_start_named(&p, "inted");
	kill(p.pid, SIGINT);
	cr_assert_eq(th_wait(&p), 0, "%s", p.err);
	th_assert_err_has(&p, "pod: shutting down: SIGINT");
	th_assert_dir_holds("inted", "lock");
	th_pod_free(&p);
}

Test(pod_lifecycle, pod_resumes_the_session_it_is_given_in_any_case)
{
	struct th_pod first, p;
	char id[40], upper[40];
	json_t *r;
	int fd;

	th_start_named(&first, "sess");
	fd = th_connect(first.sock);
	r = th_call(fd, "hello");
	snprintf(id, sizeof id, "%s", str(r, "session_id"));
	json_decref(r);
	close(fd);
	th_stop(&first);
	for (size_t i = 0; i < sizeof id; i++)
		upper[i] = (char)toupper((unsigned char)id[i]);
	const char *args[] = {"--session", upper, NULL};
	cr_assert(th_start(&p, NULL, args), "%s", p.err);
	fd = th_connect(p.sock);
	r = th_call(fd, "hello");
	cr_assert_str_eq(str(r, "session_id"), id);
	cr_assert_str_eq(str(r, "name"), "sess");
	json_decref(r);
	close(fd);
	th_stop(&p);
	th_pod_free(&first);
	th_pod_free(&p);
}

Test(pod_lifecycle, pod_refuses_a_session_id_that_is_not_a_uuid)
{
	const char *args[] = {"--overlay", "[pod]\nname = \"sess\"\n",
	                      "--session", "not-a-uuid", NULL};
	struct th_pod p;

	cr_assert_not(th_start(&p, NULL, args));
	cr_assert_eq(th_wait(&p),
	             insomnia_error_exit_code(INSOMNIA_ERR_BAD_SESSION_ID));
	th_assert_err_has(&p, "pod: --session: \"not-a-uuid\" is not a UUID");
	th_pod_free(&p);
}

Test(pod_lifecycle, pod_serves_a_socket_path_longer_than_sun_path)
{
	char home[TH_PATH_MAX];
	struct th_pod p;
	json_t *r;
	int fd;

	th_fmt(home, sizeof home, "%s/%s/%s", th.root,
	       "a-rather-long-directory-name-to-push-the-socket-path",
	       "past-the-one-hundred-and-eight-bytes-of-sun-path");
	setenv("INSOMNIA_HOME", home, 1);
	th_fmt(th.run, sizeof th.run, "%s/run", home);
	th_start_named(&p, "a-long-pod-name-as-well");
	cr_assert_gt(strlen(p.sock), 108, "%s", p.sock);
	cr_assert_str_eq(p.sock,
	                 th_rundir_file("a-long-pod-name-as-well", "sock"));
	fd = th_connect(p.sock);
	r = th_call(fd, "ping");
	json_decref(r);
	close(fd);
	th_stop(&p);
	th_assert_dir_holds("a-long-pod-name-as-well", "lock");
	th_pod_free(&p);
}

/* Runs POD_BIN with one option; returns its stdout, asserts exit 0. */
static char *run_for_stdout(const char *option)
{
	static char out[8192];
	char cmd[TH_PATH_MAX + 64];
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", getenv("POD_BIN"), option);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	cr_assert_eq(pclose(f), 0, "%s: %s", option, out);
	return out;
}

Test(pod_lifecycle, pod_prints_help_and_version_and_exits_0)
{
	cr_assert_str_eq(run_for_stdout("--version"),
	                 "pod " INSOMNIA_VERSION "\n");
	cr_assert(strstr(run_for_stdout("--help"),
	                 "Usage: pod [--overlay TOML] [--session UUID] "
	                 "[--manifest PATH]\n"));
}

Test(pod_lifecycle, pod_refuses_an_unknown_option_with_the_usage_exit_code)
{
	const char *args[] = {"--frobnicate", NULL};
	struct th_pod p;

	cr_assert_not(th_start(&p, NULL, args));
	cr_assert_eq(th_wait(&p), insomnia_error_exit_code(INSOMNIA_ERR_USAGE));
	th_assert_err_has(&p, "pod: unknown or incomplete option "
	                      "\"--frobnicate\"");
	th_pod_free(&p);
}

Test(pod_lifecycle, pod_closes_descriptors_it_inherited)
{
	struct th_pod p;
	struct pollfd pfd;
	int leak[2];

	/* No O_CLOEXEC on purpose: a careless starter's pipe. */
	cr_assert_eq(pipe(leak), 0);
	th_start_named(&p, "tidy");
	close(leak[1]);
	/* The pod closed its copy before the ready line: EOF right away. */
	pfd = (struct pollfd){leak[0], POLLIN, 0};
	cr_assert_eq(poll(&pfd, 1, 0), 1, "the pod still holds the pipe");
	cr_assert(pfd.revents & POLLHUP);
	close(leak[0]);
	th_stop(&p);
	th_pod_free(&p);
}
