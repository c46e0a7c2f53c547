/* test_probe.c: pod/probe.c's single tries (tcp, http, exec) on a real
 * libevent loop with the pod's reaper, against sockets and a tiny HTTP
 * server the test owns on the same loop, and real children.  Every wait
 * is on a done callback, the reaper or a server event, never a sleep;
 * each test ends with no descriptor, child or zombie left. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/tmpdir.h"
#include "probe.h"
#include "reaper.h"

struct result {
	int calls;
	bool ok;
	char why[256];
};

static struct event_base *base;
static struct probes *ps;
static struct reaper *reaper;
static struct event *guard;
static bool guard_fired;
static int fds_at_start;
static int probe_pids;  /* reaped children the probes claimed */
static pid_t probe_pid; /* the last of them */
static int other_pids;  /* reaped children that were not theirs */

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void on_reaped(void *arg, pid_t pid, int status)
{
	(void)arg;
	if (probes_reaped(ps, pid, status)) {
		probe_pids++;
		probe_pid = pid;
	} else {
		other_pids++;
	}
}

static void on_done(void *arg, bool ok, const char *why)
{
	struct result *r = arg;

	r->calls++;
	r->ok = ok;
	cr_assert_not_null(why);
	snprintf(r->why, sizeof r->why, "%s", why);
	event_base_loopbreak(base);
}

/* A hung loop fails the test instead of meeting the suite's timeout. */
static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	guard_fired = true;
	event_base_loopbreak(base);
}

static void setup(void)
{
	struct insomnia_error err;
	struct timeval tv = {.tv_sec = 20};

	base = event_base_new();
	cr_assert_not_null(base);
	ps = probes_new(base);
	cr_assert_not_null(ps);
	reaper = reaper_new(base, on_reaped, NULL, &err);
	cr_assert_not_null(reaper, "%s", err.message);
	guard = evtimer_new(base, on_guard, NULL);
	cr_assert_not_null(guard);
	evtimer_add(guard, &tv);
	fds_at_start = open_fds();
}

static void teardown(void)
{
	probes_free(ps);
	ps = NULL;
	reaper_free(reaper);
	event_free(guard);
	event_base_free(base);
}

TestSuite(probe, .init = setup, .fini = teardown);

/* Run the loop until *counter reaches n. */
static void run_until(const int *counter, int n)
{
	while (*counter < n) {
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0,
		             "nothing left to wait for");
		cr_assert(!guard_fired, "no event within 20s");
	}
}

/* The end of each test (Criterion does not fail a test on an assertion
 * in .fini): every descriptor closed, no child or zombie left. */
static void nothing_left(void)
{
	probes_free(ps);
	ps = NULL;
	cr_assert_eq(open_fds(), fds_at_start);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1);
	cr_assert_eq(errno, ECHILD);
}

static struct probe *start(enum probe_kind kind, const char *target,
                           char *const *argv, int64_t timeout_ms,
                           struct result *r)
{
	struct insomnia_error err;
	struct probe *p = probe_start(ps, kind, target, argv, NULL, NULL,
	                              timeout_ms, on_done, r, &err);

	cr_assert_not_null(p, "%s", err.message);
	cr_assert_eq(r->calls, 0, "done called inside probe_start");
	return p;
}

/* Start one try and wait for its result. */
static void try_once(enum probe_kind kind, const char *target,
                     char *const *argv, int64_t timeout_ms, struct result *r)
{
	start(kind, target, argv, timeout_ms, r);
	run_until(&r->calls, 1);
}

/* ---- sockets ---- */

static int tcp_socket(uint16_t *port, bool listening, int backlog)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	if (listening)
		cr_assert_eq(listen(fd, backlog), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* ---- a tiny HTTP server on the loop: canned answers by path ---- */

#define MAX_CONNS 8

struct conn {
	int fd;
	struct event *ev;
	char buf[2048];
	size_t len;
};

static struct {
	int fd;
	uint16_t port;
	struct event *ev;
	struct conn conns[MAX_CONNS];
	int accepted;
	int requests;         /* whole requests read */
	int closed_by_client; /* EOF seen on a connection held open */
	char last_request[2048];
} srv;

/* 200, then a header of 1 MiB: more than a try may read. */
static const char *huge_headers(void)
{
	static char *text;
	size_t n = 1 << 20;

	if (!text) {
		text = malloc(n + 64);
		cr_assert_not_null(text);
		strcpy(text, "HTTP/1.1 200 OK\r\nX-Big: ");
		memset(text + strlen(text), 'a', n);
		strcpy(text + strlen("HTTP/1.1 200 OK\r\nX-Big: ") + n,
		       "\r\nConnection: close\r\n\r\n");
	}
	return text;
}

static const char *answer(const char *path)
{
	if (strcmp(path, "/huge") == 0)
		return huge_headers();
	if (strcmp(path, "/ok") == 0)
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		       "Connection: close\r\n\r\nok";
	if (strcmp(path, "/moved") == 0)
		return "HTTP/1.1 302 Found\r\nLocation: /ok\r\n"
		       "Content-Length: 0\r\nConnection: close\r\n\r\n";
	if (strcmp(path, "/fail") == 0)
		return "HTTP/1.1 500 Internal Server Error\r\n"
		       "Content-Length: 0\r\nConnection: close\r\n\r\n";
	if (strcmp(path, "/partial") == 0) /* then held open */
		return "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc";
	if (strcmp(path, "/hang") == 0)
		return "";
	if (strcmp(path, "/garbage") == 0)
		return "hello there\r\nConnection: close\r\n\r\n";
	if (strcmp(path, "/close") == 0)
		return NULL;
	return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
	       "Connection: close\r\n\r\n";
}

static void conn_close(struct conn *c)
{
	event_free(c->ev);
	close(c->fd);
	c->fd = -1;
}

static void conn_answer(struct conn *c)
{
	char path[256] = "";
	const char *a;
	size_t off = 0;
	ssize_t n;

	snprintf(srv.last_request, sizeof srv.last_request, "%s", c->buf);
	cr_assert_eq(sscanf(c->buf, "GET %255s HTTP/1.1", path), 1, "%s",
	             c->buf);
	a = answer(path);
	if (!a) {
		conn_close(c);
		return;
	}
	while (off < strlen(a)) {
		n = send(c->fd, a + off, strlen(a) - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			break; /* the probe had read enough (/huge) */
		cr_assert_gt(n, 0);
		off += (size_t)n;
	}
	/* held open unless the answer is whole: the client's closing is
	 * then seen as EOF */
	if (strstr(a, "Connection: close"))
		conn_close(c);
}

static void on_conn(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	(void)what;
	n = read(fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		srv.closed_by_client++;
		conn_close(c);
		event_base_loopbreak(base);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (strstr(c->buf, "\r\n\r\n")) {
		srv.requests++;
		conn_answer(c);
	}
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = &srv.conns[srv.accepted];

	(void)what;
	(void)arg;
	cr_assert_lt(srv.accepted, MAX_CONNS);
	c->fd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	cr_assert_geq(c->fd, 0);
	c->len = 0;
	c->ev = event_new(base, c->fd, EV_READ | EV_PERSIST, on_conn, c);
	cr_assert_not_null(c->ev);
	event_add(c->ev, NULL);
	srv.accepted++;
}

static void server_start(void)
{
	memset(&srv, 0, sizeof srv);
	srv.fd = tcp_socket(&srv.port, true, 8);
	srv.ev = event_new(base, srv.fd, EV_READ | EV_PERSIST, on_accept, NULL);
	cr_assert_not_null(srv.ev);
	event_add(srv.ev, NULL);
}

static void server_stop(void)
{
	for (int i = 0; i < srv.accepted; i++)
		if (srv.conns[i].fd >= 0)
			conn_close(&srv.conns[i]);
	event_free(srv.ev);
	close(srv.fd);
}

static void url(char *buf, size_t size, const char *host, const char *path)
{
	snprintf(buf, size, "http://%s:%u%s", host, srv.port, path);
}

/* ---- tcp ---- */

Test(probe, tcp_connect_to_a_listener_succeeds)
{
	struct result r = {0};
	char target[64];
	uint16_t port;
	int fd = tcp_socket(&port, true, 8);

	snprintf(target, sizeof target, "127.0.0.1:%u", port);
	try_once(PROBE_TCP, target, NULL, 5000, &r);
	cr_assert(r.ok, "%s", r.why);
	close(fd);
	nothing_left();
}

Test(probe, tcp_localhost_is_the_ipv4_loopback)
{
	struct result r = {0};
	char target[64];
	uint16_t port;
	int fd = tcp_socket(&port, true, 8);

	snprintf(target, sizeof target, "localhost:%u", port);
	try_once(PROBE_TCP, target, NULL, 5000, &r);
	cr_assert(r.ok, "%s", r.why);
	close(fd);
	nothing_left();
}

Test(probe, tcp_to_a_port_nobody_listens_on_is_refused)
{
	struct result r = {0};
	char target[64];
	uint16_t port;
	int fd = tcp_socket(&port, false, 0); /* held: nobody else listens */

	snprintf(target, sizeof target, "127.0.0.1:%u", port);
	try_once(PROBE_TCP, target, NULL, 5000, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "connection refused");
	close(fd);
	nothing_left();
}

/* Linux drops a SYN when the listener's accept queue is full (backlog 0
 * holds one connection): the connect hangs until the limit. */
static int fill_backlog(uint16_t port, int *fillers, int n)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                        .sin_port = htons(port)};

	for (int i = 0; i < n; i++) {
		fillers[i] = socket(
		    AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		cr_assert_geq(fillers[i], 0);
		connect(fillers[i], (struct sockaddr *)&a, sizeof a);
	}
	return n;
}

Test(probe, tcp_without_an_answer_fails_at_the_limit)
{
	struct result r = {0};
	char target[64];
	uint16_t port;
	int fd = tcp_socket(&port, true, 0);
	int fillers[2];

	fill_backlog(port, fillers, 2);
	snprintf(target, sizeof target, "127.0.0.1:%u", port);
	try_once(PROBE_TCP, target, NULL, 200, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "no answer within 200ms");
	for (int i = 0; i < 2; i++)
		close(fillers[i]);
	close(fd);
	nothing_left();
}

Test(probe, tcp_over_ipv6_loopback)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
	                         .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof a;
	struct result r = {0};
	char target[64];
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		if (fd >= 0)
			close(fd);
		cr_skip_test("no IPv6 loopback here");
	}
	cr_assert_eq(listen(fd, 8), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	snprintf(target, sizeof target, "[::1]:%u", ntohs(a.sin6_port));
	try_once(PROBE_TCP, target, NULL, 5000, &r);
	cr_assert(r.ok, "%s", r.why);
	close(fd);
	nothing_left();
}

/* ---- http ---- */

static void http_try(const char *path, int64_t timeout_ms, struct result *r)
{
	char u[128];

	url(u, sizeof u, "127.0.0.1", path);
	try_once(PROBE_HTTP, u, NULL, timeout_ms, r);
}

Test(probe, http_200_succeeds_and_sends_the_host_header)
{
	struct result r = {0};
	char host[64];

	server_start();
	http_try("/ok", 5000, &r);
	cr_assert(r.ok, "%s", r.why);
	cr_assert_str_eq(r.why, "HTTP 200");
	snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%u\r\n", srv.port);
	cr_assert_not_null(strstr(srv.last_request, host), "%s",
	                   srv.last_request);
	server_stop();
	nothing_left();
}

Test(probe, http_302_succeeds_without_following)
{
	struct result r = {0};

	server_start();
	http_try("/moved", 5000, &r);
	cr_assert(r.ok, "%s", r.why);
	cr_assert_str_eq(r.why, "HTTP 302");
	cr_assert_eq(srv.accepted, 1);
	server_stop();
	nothing_left();
}

Test(probe, http_500_fails_with_the_status)
{
	struct result r = {0};

	server_start();
	http_try("/fail", 5000, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "HTTP 500");
	server_stop();
	nothing_left();
}

Test(probe, http_404_fails_with_the_status)
{
	struct result r = {0};

	server_start();
	http_try("/nothing/here?x=1", 5000, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "HTTP 404");
	cr_assert_not_null(
	    strstr(srv.last_request, "GET /nothing/here?x=1 HTTP/1.1\r\n"));
	server_stop();
	nothing_left();
}

Test(probe, http_status_is_enough_without_the_body)
{
	struct result r = {0};

	server_start();
	http_try("/partial", 5000, &r);
	cr_assert(r.ok, "%s", r.why);
	run_until(&srv.closed_by_client, 1); /* and it hung up */
	server_stop();
	nothing_left();
}

Test(probe, http_over_ipv6_loopback)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
	                         .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof a;
	struct result r = {0};
	char u[128], host[64];
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		if (fd >= 0)
			close(fd);
		cr_skip_test("no IPv6 loopback here");
	}
	cr_assert_eq(listen(fd, 8), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	memset(&srv, 0, sizeof srv);
	srv.fd = fd;
	srv.port = ntohs(a.sin6_port);
	srv.ev = event_new(base, srv.fd, EV_READ | EV_PERSIST, on_accept, NULL);
	cr_assert_not_null(srv.ev);
	event_add(srv.ev, NULL);
	url(u, sizeof u, "[::1]", "/ok");
	try_once(PROBE_HTTP, u, NULL, 5000, &r);
	cr_assert(r.ok, "%s", r.why);
	snprintf(host, sizeof host, "\r\nHost: [::1]:%u\r\n", srv.port);
	cr_assert_not_null(strstr(srv.last_request, host), "%s",
	                   srv.last_request);
	server_stop();
	nothing_left();
}

Test(probe, http_localhost_and_default_path)
{
	struct result r = {0};
	char u[128];

	server_start();
	snprintf(u, sizeof u, "http://localhost:%u", srv.port);
	try_once(PROBE_HTTP, u, NULL, 5000, &r);
	cr_assert_not(r.ok); /* "/" is not a canned page */
	cr_assert_str_eq(r.why, "HTTP 404");
	cr_assert_not_null(strstr(srv.last_request, "GET / HTTP/1.1\r\n"));
	server_stop();
	nothing_left();
}

Test(probe, http_to_a_closed_port_is_refused)
{
	struct result r = {0};
	char u[128];
	uint16_t port;
	int fd = tcp_socket(&port, false, 0);

	snprintf(u, sizeof u, "http://127.0.0.1:%u/", port);
	try_once(PROBE_HTTP, u, NULL, 5000, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "connection refused");
	close(fd);
	nothing_left();
}

Test(probe, http_closed_without_an_answer_fails)
{
	struct result r = {0};

	server_start();
	http_try("/close", 5000, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "connection closed without an answer");
	server_stop();
	nothing_left();
}

Test(probe, http_garbage_answer_fails)
{
	struct result r = {0};

	server_start();
	http_try("/garbage", 5000, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "malformed answer");
	server_stop();
	nothing_left();
}

/* Endless headers grew the pod by 45 MB/s: a try reads 16 KiB at most. */
Test(probe, http_huge_headers_fail_without_reading_them_all)
{
	struct result r = {0};

	server_start();
	http_try("/huge", 5000, &r);
	cr_assert_not(r.ok, "%s", r.why);
	server_stop();
	nothing_left();
}

Test(probe, http_without_an_answer_fails_at_the_limit_and_hangs_up)
{
	struct result r = {0};

	server_start();
	http_try("/hang", 200, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "no answer within 200ms");
	run_until(&srv.closed_by_client, 1); /* the probe hung up */
	server_stop();
	nothing_left();
}

/* ---- exec ---- */

static char *argv_true[] = {"true", NULL};
static char *argv_false[] = {"false", NULL};
static char *argv_sleep[] = {"sleep", "100", NULL};

Test(probe, exec_exiting_0_succeeds)
{
	struct result r = {0};

	try_once(PROBE_EXEC, NULL, argv_true, 5000, &r);
	cr_assert(r.ok, "%s", r.why);
	cr_assert_eq(probe_pids, 1);
	nothing_left();
}

Test(probe, exec_exiting_1_fails_with_the_status)
{
	struct result r = {0};

	try_once(PROBE_EXEC, NULL, argv_false, 5000, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "exited with status 1");
	nothing_left();
}

Test(probe, exec_killed_by_a_signal_says_which)
{
	char *argv[] = {"sh", "-c", "kill -TERM $$", NULL};
	struct result r = {0};

	try_once(PROBE_EXEC, NULL, argv, 5000, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "killed by signal TERM");
	nothing_left();
}

Test(probe, exec_gets_its_environment_and_directory)
{
	char *argv[] = {"sh", "-c", "[ \"$(pwd)\" = / ] && [ \"$X\" = y ]",
	                NULL};
	char *envp[] = {"X=y", "PATH=/usr/bin:/bin", NULL};
	struct insomnia_error err;
	struct result r = {0};

	cr_assert_not_null(probe_start(ps, PROBE_EXEC, NULL, argv, envp, "/",
	                               5000, on_done, &r, &err),
	                   "%s", err.message);
	run_until(&r.calls, 1);
	cr_assert(r.ok, "%s", r.why);
	nothing_left();
}

Test(probe, exec_has_dev_null_on_0_to_2)
{
	char *argv[] = {"sh", "-c",
	                "for f in 0 1 2; do "
	                "[ \"$(readlink /proc/$$/fd/$f)\" = /dev/null ] || "
	                "exit 1; done",
	                NULL};
	struct result r = {0};

	try_once(PROBE_EXEC, NULL, argv, 5000, &r);
	cr_assert(r.ok, "%s", r.why);
	nothing_left();
}

Test(probe, exec_over_the_limit_is_killed)
{
	struct result r = {0};

	try_once(PROBE_EXEC, NULL, argv_sleep, 200, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "timed out after 200ms");
	cr_assert_eq(probe_pids, 1);
	cr_assert_eq(kill(-probe_pid, 0), -1); /* its group is gone */
	cr_assert_eq(errno, ESRCH);
	nothing_left();
}

Test(probe, exec_of_a_missing_program_fails_with_the_reason)
{
	char *argv[] = {"/nonexistent/probe-cmd", NULL};
	struct result r = {0};

	try_once(PROBE_EXEC, NULL, argv, 5000, &r);
	cr_assert_not(r.ok);
	cr_assert_str_eq(r.why, "cannot execute /nonexistent/probe-cmd: No "
	                        "such file or directory");
	nothing_left();
}

/* A probe that forks a daemon (setsid, so not in its group) and exits:
 * 93 of them piled up in a pod.  Its token (proc.c gives it one) now
 * kills what it left once it is over. */
Test(probe, exec_leftovers_carrying_its_token_are_killed_when_it_ends)
{
	/* the daemon says it runs, then blocks opening a FIFO nobody
	 * writes: no exec under way when it is looked for */
	char *argv[] = {"sh",
	                "-c",
	                "setsid sh -c 'echo up > \"$0\"; read x < \"$1\"' "
	                "\"$0\" \"$1\" & read x < \"$0\"; exit 0",
	                NULL,
	                NULL,
	                NULL};
	char token[96], *envp[] = {token, "PATH=/usr/bin:/bin", NULL};
	char up[128], never[128];
	struct insomnia_error err;
	struct result r = {0};
	struct tmpdir dir;

	tmpdir_make(&dir, "test-probe");
	snprintf(up, sizeof up, "%s/up", dir.path);
	snprintf(never, sizeof never, "%s/never", dir.path);
	cr_assert_eq(mkfifo(up, 0600), 0);
	cr_assert_eq(mkfifo(never, 0600), 0);
	argv[3] = up;
	argv[4] = never;
	snprintf(token, sizeof token,
	         "INSOMNIA_PROCESS_TOKEN=test-probe/%ld.1/db/probe",
	         (long)getpid());
	cr_assert_not_null(probe_start(ps, PROBE_EXEC, NULL, argv, envp, NULL,
	                               5000, on_done, &r, &err),
	                   "%s", err.message);
	run_until(&r.calls, 1);
	cr_assert(r.ok, "%s", r.why);
	run_until(&other_pids, 1); /* the daemon, killed, came back to us */
	tmpdir_remove(&dir);
	nothing_left();
}

/* ---- cancel and free ---- */

Test(probe, cancel_calls_nothing_and_kills_the_exec_child)
{
	struct result r = {0};

	probe_cancel(start(PROBE_EXEC, NULL, argv_sleep, 5000, &r));
	run_until(&probe_pids, 1); /* still the probes' to reap */
	cr_assert_eq(r.calls, 0);
	cr_assert_eq(kill(-probe_pid, 0), -1);
	cr_assert_eq(errno, ESRCH);
	nothing_left();
}

static int fifo_lines;

static void on_fifo(evutil_socket_t fd, short what, void *arg)
{
	char buf[16];

	(void)what;
	if (read(fd, buf, sizeof buf) > 0)
		fifo_lines++;
	else
		event_del(arg); /* the writer is gone: no more to read */
}

Test(probe, cancel_kills_the_whole_group)
{
	/* the shell leads the group; once both sleeps run it says so */
	char *argv[] = {"sh", "-c",
	                "sleep 100 & sleep 100 & echo x > \"$0\"; wait", NULL,
	                NULL};
	struct result r = {0};
	struct probe *p;
	struct tmpdir dir;
	struct event *ev;
	char fifo[128];
	int fd;

	tmpdir_make(&dir, "test-probe");
	snprintf(fifo, sizeof fifo, "%s/fifo", dir.path);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	ev = event_new(base, fd, EV_READ | EV_PERSIST, on_fifo,
	               event_self_cbarg());
	event_add(ev, NULL);
	argv[3] = fifo;
	p = start(PROBE_EXEC, NULL, argv, 20000, &r);
	run_until(&fifo_lines, 1); /* both sleeps run */
	probe_cancel(p);
	run_until(&probe_pids, 1); /* the shell, still the probes' to reap */
	run_until(&other_pids, 2); /* its orphaned sleeps, killed with it */
	cr_assert_eq(r.calls, 0);
	cr_assert_eq(kill(-probe_pid, 0), -1);
	cr_assert_eq(errno, ESRCH);
	event_free(ev);
	close(fd);
	tmpdir_remove(&dir);
	nothing_left();
}

Test(probe, cancel_hangs_up_an_http_request_and_calls_nothing)
{
	struct result r = {0};
	struct probe *p;
	char u[128];

	server_start();
	url(u, sizeof u, "127.0.0.1", "/hang");
	p = start(PROBE_HTTP, u, NULL, 5000, &r);
	run_until(&srv.requests, 1); /* the request is in the server */
	probe_cancel(p);
	run_until(&srv.closed_by_client, 1);
	cr_assert_eq(r.calls, 0);
	server_stop();
	nothing_left();
}

Test(probe, free_hangs_up_an_http_request)
{
	struct result r = {0};
	char u[128];

	server_start();
	url(u, sizeof u, "127.0.0.1", "/hang");
	start(PROBE_HTTP, u, NULL, 5000, &r);
	run_until(&srv.requests, 1);
	probes_free(ps);
	ps = NULL;
	run_until(&srv.closed_by_client, 1);
	cr_assert_eq(r.calls, 0);
	server_stop();
	nothing_left();
}

Test(probe, cancel_of_a_pending_connect_calls_nothing)
{
	struct result r = {0}, ok = {0};
	char target[64];
	uint16_t port;
	int fd = tcp_socket(&port, true, 0);
	int fillers[2];

	fill_backlog(port, fillers, 2);
	snprintf(target, sizeof target, "127.0.0.1:%u", port);
	probe_cancel(start(PROBE_TCP, target, NULL, 100, &r));
	/* a second try's limit passes the first's: nothing came of it */
	try_once(PROBE_TCP, target, NULL, 200, &ok);
	cr_assert_eq(r.calls, 0);
	for (int i = 0; i < 2; i++)
		close(fillers[i]);
	close(fd);
	nothing_left();
}

Test(probe, free_reaps_a_running_exec_child)
{
	struct result r = {0};

	start(PROBE_EXEC, NULL, argv_sleep, 5000, &r);
	probes_free(ps);
	ps = NULL;
	cr_assert_eq(r.calls, 0);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1); /* no zombie either */
	cr_assert_eq(errno, ECHILD);
	cr_assert_eq(open_fds(), fds_at_start);
}

/* ---- refused targets ---- */

static void refused(enum probe_kind kind, const char *target, char *const *argv)
{
	struct insomnia_error err;
	struct result r = {0};

	cr_assert_null(probe_start(ps, kind, target, argv, NULL, NULL, 1000,
	                           on_done, &r, &err),
	               "%s accepted", target ? target : "argv");
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG, "%s: %s", target,
	             err.message);
	cr_assert_eq(r.calls, 0);
}

Test(probe, bad_targets_are_refused_at_start)
{
	char *no_command[] = {NULL};

	refused(PROBE_TCP, "example.com:80", NULL);
	refused(PROBE_TCP, "127.0.0.1", NULL);
	refused(PROBE_TCP, "127.0.0.1:0", NULL);
	refused(PROBE_TCP, "127.0.0.1:65536", NULL);
	refused(PROBE_TCP, "127.0.0.1:80x", NULL);
	refused(PROBE_TCP, "::1:80", NULL);
	refused(PROBE_TCP, "", NULL);
	refused(PROBE_HTTP, "https://127.0.0.1/", NULL);
	refused(PROBE_HTTP, "http://example.com/", NULL);
	refused(PROBE_HTTP, "http:///x", NULL);
	refused(PROBE_HTTP, "not a url", NULL);
	refused(PROBE_HTTP, "http://127.0.0.1:0/", NULL);
	refused(PROBE_EXEC, NULL, NULL);
	refused(PROBE_EXEC, NULL, no_command);
	refused(PROBE_NOTIFY, NULL, NULL);
	nothing_left();
}
