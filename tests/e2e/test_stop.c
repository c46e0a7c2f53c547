/* Stopping a pod: where the signals go, the grace kept whatever the pod
 * does with the request, and busy sockets (a full accept queue).
 *
 * The pods here are this test binary itself, exec'd with FAKE_POD set: it
 * then runs fake_pod() from a constructor, before Criterion's main, and
 * behaves as FAKE_POD says: "NAME SOCK TERM [child]" where SOCK is
 *   close   accept connections and close them without a word,
 *   silent  accept them, read, never answer,
 *   busy    listen with a full accept queue and never accept;
 * TERM is
 *   exit    on SIGTERM clean up and exit 0,
 *   stay    note SIGTERM and go on until SIGKILL;
 * and "child" leaves a child in its process group.  With FAKE_POD_NOTES
 * set it appends "request" (a line read from a client) and "TERM" (the
 * signal) to that file, in the order it saw them. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "paths.h"
#include "fdio.h"
#include "harness.h"
#include "podctl_run.h"
#include "livelock.h"
#include <insomnia/pods.h>
#include <insomnia/stop.h>
#include "ready.h"
#include "rundir.h"
#include "safedir.h"
#include "unixsock.h"

/* ---- the fake pod ---------------------------------------------------- */

enum fake_sock { FAKE_CLOSE, FAKE_SILENT, FAKE_BUSY };

#define FAKE_CONNS 16

struct fake {
	char name[64];
	enum fake_sock sock;
	bool term_exits, child;
	const char *notes;
	char path[INSOMNIA_PATH_MAX];
	int dirfd, listen_fd, sfd;
	int conns[FAKE_CONNS];
};

static void fake_note(const struct fake *f, const char *what)
{
	int fd;

	if (!f->notes)
		return;
	fd = open(f->notes, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		fd_write_all(fd, what, strlen(what));
		close(fd);
	}
}

static void fake_parse(struct fake *f, const char *spec)
{
	char sock[16] = "", term[16] = "", extra[16] = "";

	if (sscanf(spec, "%63s %15s %15s %15s", f->name, sock, term, extra) < 3)
		_exit(64);
	f->sock = !strcmp(sock, "busy")     ? FAKE_BUSY
	          : !strcmp(sock, "silent") ? FAKE_SILENT
	                                    : FAKE_CLOSE;
	f->term_exits = strcmp(term, "exit") == 0;
	f->child = strcmp(extra, "child") == 0;
	f->notes = getenv("FAKE_POD_NOTES");
	for (int i = 0; i < FAKE_CONNS; i++)
		f->conns[i] = -1;
}

/* The pod's lock, taken as a pod takes it (livelock.h). */
static void fake_lock(int dirfd)
{
	int fd = livelock_open(dirfd, RUNDIR_LOCK, true);

	if (fd < 0 || livelock_try(fd) != 0)
		_exit(3);
}

static void fake_write_at(int dirfd, const char *name, const char *text)
{
	int fd =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || fd_write_all(fd, text, strlen(text)) < 0)
		_exit(4);
	close(fd);
}

/* pid and state.json as a pod started in its starter's group records
 * them: the group number is whatever group it found itself in. */
static void fake_publish(const struct fake *f)
{
	char pid[32];
	json_t *st =
	    json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", f->name, "pid",
	              (json_int_t)getpid(), "pgid", (json_int_t)getpgid(0),
	              "socket", f->path, "state", "running");
	char *text = st ? json_dumps(st, 0) : NULL;

	if (!text)
		_exit(4);
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	fake_write_at(f->dirfd, RUNDIR_PID, pid);
	fake_write_at(f->dirfd, RUNDIR_STATE, text);
	free(text);
	json_decref(st);
}

/* Connect to ourselves until the accept queue is full (plain syscalls,
 * not the code under test); the queued connections stay open for the
 * pod's life. */
static void fake_fill_queue(const struct fake *f)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(f->path) >= sizeof addr.sun_path)
		_exit(5);
	strcpy(addr.sun_path, f->path);
	for (int i = 0; i < 64; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            0);
		if (fd < 0)
			_exit(5);
		if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
			close(fd);
			if (errno != EAGAIN)
				_exit(5);
			return;
		}
	}
	_exit(5);
}

static void fake_setup(struct fake *f)
{
	char root[INSOMNIA_PATH_MAX], dir[INSOMNIA_PATH_MAX],
	    line[READY_LINE_MAX];
	struct insomnia_error err;
	sigset_t set;
	int rootfd, n;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	f->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	rootfd = rundir_open_root(true, root, sizeof root, &err);
	if (f->sfd < 0 || rootfd < 0 ||
	    paths_join(dir, sizeof dir, root, f->name, &err) < 0 ||
	    (f->dirfd = safedir_openat(rootfd, f->name, dir, true, &err)) < 0 ||
	    paths_join(f->path, sizeof f->path, dir, RUNDIR_SOCK, &err) < 0)
		_exit(4);
	fake_lock(f->dirfd);
	unlinkat(f->dirfd, RUNDIR_SOCK, 0);
	f->listen_fd = unixsock_listen_at(f->dirfd, RUNDIR_SOCK, f->path,
	                                  f->sock == FAKE_BUSY ? 0 : 16, &err);
	if (f->listen_fd < 0)
		_exit(4);
	if (f->sock == FAKE_BUSY)
		fake_fill_queue(f);
	fake_publish(f);
	n = ready_format(line, sizeof line, f->name, f->path, &err);
	if (n < 0 || fd_write_all(2, line, (size_t)n) < 0)
		_exit(4);
}

static void fake_read(struct fake *f, int i)
{
	char buf[4096];
	ssize_t n = fd_read_some(f->conns[i], buf, sizeof buf);

	if (n > 0 && memchr(buf, '\n', (size_t)n))
		fake_note(f, "request\n");
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		close(f->conns[i]);
		f->conns[i] = -1;
	}
}

static void fake_accept(struct fake *f)
{
	int c = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (c < 0)
		return;
	if (f->sock == FAKE_CLOSE) {
		close(c);
		return;
	}
	for (int i = 0; i < FAKE_CONNS; i++)
		if (f->conns[i] < 0) {
			f->conns[i] = c;
			fake_read(f, i); /* the request may be there already */
			return;
		}
	close(c);
}

/* Connections first, then the signal: a request sent before SIGTERM is
 * noted before it. */
static void fake_serve(struct fake *f)
{
	struct pollfd fds[2 + FAKE_CONNS];
	struct signalfd_siginfo si;

	for (;;) {
		fds[0] = (struct pollfd){f->sfd, POLLIN, 0};
		fds[1] = (struct pollfd){
		    f->sock == FAKE_BUSY ? -1 : f->listen_fd, POLLIN, 0};
		for (int i = 0; i < FAKE_CONNS; i++)
			fds[2 + i] = (struct pollfd){f->conns[i], POLLIN, 0};
		if (poll(fds, 2 + FAKE_CONNS, -1) < 0)
			continue;
		if (fds[1].revents)
			fake_accept(f);
		for (int i = 0; i < FAKE_CONNS; i++)
			if (fds[2 + i].revents && f->conns[i] >= 0)
				fake_read(f, i);
		if (!fds[0].revents ||
		    fd_read_some(f->sfd, &si, sizeof si) <= 0)
			continue;
		fake_note(f, "TERM\n");
		if (f->term_exits)
			return;
	}
}

static int fake_pod(const char *spec)
{
	struct fake f;

	fake_parse(&f, spec);
	if (f.child && fork() == 0)
		for (;;)
			pause(); /* dies with the group, or stays */
	fake_setup(&f);
	fake_serve(&f);
	unlinkat(f.dirfd, RUNDIR_SOCK, 0);
	unlinkat(f.dirfd, RUNDIR_PID, 0);
	unlinkat(f.dirfd, RUNDIR_STATE, 0);
	return 0;
}

__attribute__((constructor)) static void maybe_be_the_fake_pod(void)
{
	const char *spec = getenv("FAKE_POD");

	if (spec)
		_exit(fake_pod(spec));
}

/* ---- the tests -------------------------------------------------------- */

static char self_exe[PATH_MAX];
static char notes[PATH_MAX];

static void setup(void)
{
	ssize_t n;

	e2e_setup();
	n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
	cr_assert_gt(n, 0);
	self_exe[n] = '\0';
	snprintf(notes, sizeof notes, "%s/notes", e2e_home);
	setenv("FAKE_POD_NOTES", notes, 1);
	setenv("INSOMNIA_POD_COMMAND", self_exe, 1);
	signal(SIGPIPE, SIG_IGN);
}

TestSuite(stop, .init = setup, .fini = e2e_teardown, .timeout = 30);

/* Spawn the fake pod (in its own session, as the library starts pods). */
static pid_t spawn_fake(const char *name, const char *behaviour)
{
	struct insomnia_spawn_options o = e2e_options(name, NULL);
	struct insomnia_spawn_result r;
	struct insomnia_error err;
	char spec[128];

	snprintf(spec, sizeof spec, "%s %s", name, behaviour);
	setenv("FAKE_POD", spec, 1);
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s\n%s", err.message,
	             err.detail);
	unsetenv("FAKE_POD");
	cr_assert_gt(r.pid, 0);
	return r.pid;
}

static enum insomnia_stop_how stop(const char *name, int grace_ms)
{
	enum insomnia_stop_how how;
	struct insomnia_error err;
	pid_t pid;

	insomnia_error_clear(&err);
	cr_assert_eq(insomnia_stop(name, grace_ms, &how, &pid, &err), 0, "%s",
	             err.message);
	return how;
}

static const char *notes_text(void)
{
	static char text[256];
	char *all = e2e_read(notes);

	snprintf(text, sizeof text, "%s", all ? all : "");
	free(all);
	return text;
}

static const char *const nothing[] = {NULL};
static const char *const only_log[] = {"stderr.log", NULL};
static const char *const lock_and_log[] = {"lock", "stderr.log", NULL};

Test(stop, a_hang_up_without_reply_is_an_answer_sigterm_follows_at_once)
{
	pid_t pid = spawn_fake("web", "close exit");
	int fds = e2e_fd_count();

	/* a grace longer than the test's timeout: only an answer ends it */
	cr_assert_eq(stop("web", 60000), INSOMNIA_STOPPED_BY_TERM);
	cr_assert_str_eq(notes_text(), "TERM\n");
	cr_assert_eq(e2e_fd_count(), fds, "stop leaked a descriptor");
	e2e_assert_group_gone(pid);
	e2e_assert_dir_holds("web", lock_and_log);
}

Test(stop, a_pod_that_never_answers_gets_the_grace_then_sigterm)
{
	pid_t pid = spawn_fake("web", "silent exit");

	cr_assert_eq(stop("web", 200), INSOMNIA_STOPPED_BY_TERM);
	cr_assert_str_eq(notes_text(), "request\nTERM\n");
	e2e_assert_group_gone(pid);
	e2e_assert_dir_holds("web", lock_and_log);
}

Test(stop, a_pod_that_never_answers_and_ignores_sigterm_gets_sigkill)
{
	pid_t pid = spawn_fake("web", "silent stay");

	cr_assert_eq(stop("web", 200), INSOMNIA_STOPPED_BY_KILL);
	e2e_assert_group_gone(pid);
	/* stop removed what the killed pod could not */
	e2e_assert_dir_holds("web", only_log);
}

Test(stop, grace_0_is_sigkill_at_once_even_for_a_pod_that_never_answers)
{
	pid_t pid = spawn_fake("web", "silent stay");

	cr_assert_eq(stop("web", 0), INSOMNIA_STOPPED_BY_KILL);
	e2e_assert_group_gone(pid);
	e2e_assert_dir_holds("web", only_log);
}

Test(stop, the_group_a_pod_leads_is_signalled_with_it)
{
	pid_t pid = spawn_fake("web", "close exit child");

	cr_assert_eq(stop("web", 60000), INSOMNIA_STOPPED_BY_TERM);
	/* the child would outlive a pod signalled alone */
	e2e_assert_group_gone(pid);
}

/* ---- a pod sharing its starter's group ------------------------------- */

/* Start the fake pod as a script without job control would: a plain
 * child, in our process group.  Returns once it is ready. */
static pid_t start_in_our_group(const char *spec)
{
	char buf[READY_LINE_MAX + 1];
	size_t len = 0;
	int fds[2];
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		setenv("FAKE_POD", spec, 1);
		dup2(fds[1], 2);
		execl(self_exe, self_exe, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (!memchr(buf, '\n', len) &&
	       (n = fd_read_some(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	return memchr(buf, '\n', len) ? pid : -1;
}

/* Exit codes of the script below, for the test's message. */
enum script_result {
	SCRIPT_OK,
	SCRIPT_NO_POD = 10,
	SCRIPT_STOP_FAILED,
	SCRIPT_NOT_BY_KILL,
	SCRIPT_POD_NOT_KILLED,
	SCRIPT_SIBLING_DIED,
};

/* A script in its own session (so that a stop that signals its group
 * kills this and nothing of the test runner's): a sibling and the pod
 * share its group; the pod ignores the request and SIGTERM. */
static int script(void)
{
	enum insomnia_stop_how how;
	struct insomnia_error err;
	pid_t sibling, pod, pid;
	int status;

	if (setsid() < 0)
		return SCRIPT_NO_POD;
	if ((sibling = fork()) == 0)
		for (;;)
			pause();
	if ((pod = start_in_our_group("shared close stay")) < 0)
		return SCRIPT_NO_POD;
	if (insomnia_stop("shared", 100, &how, &pid, &err) < 0)
		return SCRIPT_STOP_FAILED;
	if (how != INSOMNIA_STOPPED_BY_KILL)
		return SCRIPT_NOT_BY_KILL;
	if (waitpid(pod, &status, 0) != pod || !WIFSIGNALED(status) ||
	    WTERMSIG(status) != SIGKILL)
		return SCRIPT_POD_NOT_KILLED;
	if (waitpid(sibling, &status, WNOHANG) != 0)
		return SCRIPT_SIBLING_DIED;
	kill(sibling, SIGKILL);
	waitpid(sibling, &status, 0);
	return SCRIPT_OK;
}

Test(stop, a_pod_in_its_starters_group_is_signalled_alone)
{
	pid_t child = fork();
	int status;

	cr_assert_geq(child, 0);
	if (child == 0)
		_exit(script());
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert_not(WIFSIGNALED(status),
	              "stop signalled its caller's group: the script died "
	              "of signal %d",
	              WTERMSIG(status));
	cr_assert_eq(WEXITSTATUS(status), SCRIPT_OK, "script step %d failed",
	             WEXITSTATUS(status));
	/* started by hand: no stderr.log; stop removed the rest */
	e2e_assert_dir_holds("shared", nothing);
}

/* ---- busy sockets ----------------------------------------------------- */

Test(stop, a_full_accept_queue_is_busy_not_connected)
{
	char path[INSOMNIA_PATH_MAX];
	struct insomnia_error err;
	int dirfd, lfd, fd, queued[64], n = 0;

	snprintf(path, sizeof path, "%s/sock", e2e_home);
	dirfd = open(e2e_home, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd, 0);
	lfd = unixsock_listen_at(dirfd, "sock", path, 0, &err);
	cr_assert_geq(lfd, 0, "%s", err.message);
	while (n < 64 && unixsock_connect_nonblock(path, &queued[n], &err) == 0)
		n++;
	cr_assert_lt(n, 64, "a queue of backlog 0 took 64 connections");
	cr_assert(unixsock_is_busy(&err), "%s", err.message);
	cr_assert(strstr(err.message, "busy"), "%s", err.message);
	cr_assert_eq(unixsock_connect(path, &fd, &err), -1);
	cr_assert(unixsock_is_busy(&err), "%s", err.message);
	/* busy still proves a listener: the handshake counts it as ready */
	cr_assert_eq(unixsock_check_listening(path, &err), 0, "%s",
	             err.message);
	while (n > 0)
		close(queued[--n]);
	close(lfd);
	close(dirfd);
}

Test(stop, a_busy_pod_gets_sigterm_at_once)
{
	pid_t pid = spawn_fake("web", "busy exit");

	cr_assert_eq(stop("web", 60000), INSOMNIA_STOPPED_BY_TERM);
	e2e_assert_group_gone(pid);
	e2e_assert_dir_holds("web", lock_and_log);
}

/* ---- podctl ----------------------------------------------------------- */

/* Run podctl with args (NULL-terminated); its stdout in *out. */
static int podctl(char **out, ...)
{
	struct podctl_run r = {0};
	va_list ap;

	va_start(ap, out);
	podctl_runv(&r, ap);
	va_end(ap);
	free(r.err);
	*out = r.out;
	return r.code;
}

static const char *error_field(json_t *r, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(r, "error"), key));
}

Test(stop, status_of_a_pod_with_a_full_accept_queue_says_busy)
{
	pid_t pid = spawn_fake("web", "busy exit");
	char *out;
	json_t *r;

	cr_assert_eq(podctl(&out, "status", "web", "--json", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_SOCKET_REFUSED),
	             "%s", out);
	r = json_loads(out, 0, NULL);
	cr_assert_not_null(r, "%s", out);
	cr_assert_str_eq(error_field(r, "kind"), "socket_refused");
	cr_assert(strstr(error_field(r, "message"), "busy"), "%s", out);
	json_decref(r);
	free(out);
	e2e_stop(pid);
}

Test(stop, podctl_stop_grace_0_kills_at_once_and_succeeds)
{
	pid_t pid = spawn_fake("web", "silent stay");
	char *out;
	json_t *r;

	cr_assert_eq(
	    podctl(&out, "stop", "web", "--grace", "0", "--json", NULL), 0,
	    "%s", out);
	r = json_loads(out, 0, NULL);
	cr_assert_not_null(r, "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(r, "stopped_by")),
	                 "sigkill");
	json_decref(r);
	free(out);
	e2e_assert_group_gone(pid);
	e2e_assert_dir_holds("web", only_log);
}

/* ---- in the caller's loop ------------------------------------------- */

/* The fake pods' notes arrive on a FIFO the loop reads: an event of the
 * test's own that fires while the stops run.  Opened read-write, so the
 * fakes' open never waits and their closes never read as EOF. */
static int open_notes_fifo(void)
{
	int fd;

	cr_assert_eq(mkfifo(notes, 0600), 0);
	fd = open(notes, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	return fd;
}

/* How many times word occurs in what the FIFO holds now. */
static int count_notes(int fd, const char *word)
{
	char buf[512];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	int count = 0;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (char *p = buf; (p = strstr(p, word)); p += strlen(word))
		count++;
	return count;
}

struct async_stop {
	struct insomnia_stop *handle;
	int calls;
	struct insomnia_stop_result res;
	bool failed;
	struct insomnia_error err;
};

static void record_done(const struct insomnia_stop_result *res,
                        const struct insomnia_error *err, void *arg)
{
	struct async_stop *a = arg;

	a->calls++;
	a->res = *res;
	a->failed = err != NULL;
	if (err)
		a->err = *err;
	/* a cancel from inside done does nothing (ASan: no double free) */
	insomnia_stop_cancel(a->handle);
}

static struct insomnia_stop *start_stop(struct event_base *base,
                                        const char *name, int grace_ms,
                                        struct async_stop *a)
{
	struct insomnia_error err;

	a->handle =
	    insomnia_stop_start(base, name, grace_ms, record_done, a, &err);
	cr_assert_not_null(a->handle, "%s", err.message);
	cr_assert_eq(a->calls, 0, "done called from inside the start");
	return a->handle;
}

struct concurrent {
	int fifo;
	struct event *ev_notes;
	int terms, note_events;
	pid_t pids[2];
	struct async_stop stops[2];
	int terms_at_first_done; /* -1 until a stop is done */
};

/* The pods hang up on the request (SIGTERM at once) and ignore SIGTERM;
 * once both noted theirs, the test ends them itself (SIGKILL of its
 * own), well before the stops' grace ends.  A stop that blocked the
 * loop until its pod exited would never let this run: the grace is
 * longer than the test's timeout. */
static void on_notes(evutil_socket_t fd, short what, void *arg)
{
	struct concurrent *c = arg;

	(void)what;
	c->note_events++;
	c->terms += count_notes(fd, "TERM");
	if (c->terms == 2) {
		kill(c->pids[0], SIGKILL);
		kill(c->pids[1], SIGKILL);
		c->terms++; /* once */
	}
}

static void concurrent_done(const struct insomnia_stop_result *res,
                            const struct insomnia_error *err, void *arg)
{
	struct concurrent *c = arg;
	struct async_stop *a = &c->stops[strcmp(res->name, "a") != 0];

	if (c->terms_at_first_done < 0)
		c->terms_at_first_done = c->terms;
	record_done(res, err, a);
	if (c->stops[0].calls && c->stops[1].calls)
		event_del(c->ev_notes); /* the loop ends with no event left */
}

Test(stop, two_pods_stop_concurrently_in_one_loop_that_keeps_serving)
{
	struct concurrent c = {.terms_at_first_done = -1};
	struct event_base *base = event_base_new();
	struct insomnia_error err;
	int fds;

	c.fifo = open_notes_fifo();
	c.pids[0] = spawn_fake("a", "close stay");
	c.pids[1] = spawn_fake("b", "close stay");
	fds = e2e_fd_count();
	c.ev_notes =
	    event_new(base, c.fifo, EV_READ | EV_PERSIST, on_notes, &c);
	event_add(c.ev_notes, NULL);
	for (int i = 0; i < 2; i++) {
		c.stops[i].handle = insomnia_stop_start(
		    base, i ? "b" : "a", 60000, concurrent_done, &c, &err);
		cr_assert_not_null(c.stops[i].handle, "%s", err.message);
	}

	cr_assert_eq(event_base_dispatch(base), 1, "events left behind");

	/* both in SIGTERM's grace, then the test's kill (counted as a
	 * third) */
	cr_assert_eq(c.terms_at_first_done, 3);
	cr_assert_geq(c.note_events, 1);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(c.stops[i].calls, 1);
		cr_assert_not(c.stops[i].failed, "%s", c.stops[i].err.message);
		cr_assert_eq(c.stops[i].res.how, INSOMNIA_STOPPED_BY_TERM);
		cr_assert_eq(c.stops[i].res.pid, c.pids[i]);
		e2e_assert_group_gone(c.pids[i]);
	}
	cr_assert_eq(e2e_fd_count(), fds, "a stop leaked a descriptor");
	event_free(c.ev_notes);
	event_base_free(base);
	close(c.fifo);
}

struct cancelling {
	struct async_stop stop;
	struct event *ev_notes;
};

static void cancel_on_request(evutil_socket_t fd, short what, void *arg)
{
	struct cancelling *c = arg;

	(void)what;
	if (count_notes(fd, "request") == 0)
		return;
	insomnia_stop_cancel(c->stop.handle);
	event_del(c->ev_notes);
}

Test(stop, a_cancelled_stop_sends_nothing_more_and_leaves_no_event)
{
	struct cancelling c = {0};
	struct event_base *base = event_base_new();
	int fifo = open_notes_fifo(), fds;
	pid_t pid = spawn_fake("web", "silent stay");
	struct insomnia_pod_info info;

	fds = e2e_fd_count();
	c.ev_notes =
	    event_new(base, fifo, EV_READ | EV_PERSIST, cancel_on_request, &c);
	event_add(c.ev_notes, NULL);
	start_stop(base, "web", 60000, &c.stop);

	/* returns once no event is left: the cancel removed all of its own */
	cr_assert_eq(event_base_dispatch(base), 1);

	cr_assert_eq(c.stop.calls, 0, "done called after a cancel");
	cr_assert_eq(e2e_fd_count(), fds, "a cancelled stop leaked");
	cr_assert_eq(count_notes(fifo, "TERM"), 0, "signalled after cancel");
	cr_assert_eq(insomnia_pod_find("web", &info, NULL), 0);
	cr_assert(info.alive);
	/* the blocking stop with every optional output NULL */
	cr_assert_eq(insomnia_stop("web", 0, NULL, NULL, NULL), 0);
	e2e_assert_group_gone(pid);
	e2e_assert_dir_holds("web", only_log);
	event_free(c.ev_notes);
	event_base_free(base);
	close(fifo);
}

Test(stop, a_stop_cancelled_before_the_loop_runs_does_nothing)
{
	struct event_base *base = event_base_new();
	pid_t pid = spawn_fake("web", "silent stay");
	struct async_stop a = {0};
	int fds = e2e_fd_count();

	insomnia_stop_cancel(start_stop(base, "web", 0, &a));
	cr_assert_eq(event_base_dispatch(base), 1);
	cr_assert_eq(a.calls, 0);
	cr_assert_eq(e2e_fd_count(), fds);
	cr_assert_str_eq(notes_text(), "");
	cr_assert_eq(kill(pid, 0), 0, "grace 0 killed it all the same");
	cr_assert_eq(insomnia_stop("web", 0, NULL, NULL, NULL), 0);
	e2e_assert_group_gone(pid);
	event_base_free(base);
}

Test(stop, in_the_loop_a_pod_ignoring_request_and_sigterm_is_killed)
{
	struct event_base *base = event_base_new();
	pid_t pid = spawn_fake("web", "silent stay");
	struct async_stop a = {0};

	start_stop(base, "web", 100, &a);
	cr_assert_eq(event_base_dispatch(base), 1);
	cr_assert_eq(a.calls, 1);
	cr_assert_not(a.failed, "%s", a.err.message);
	cr_assert_eq(a.res.how, INSOMNIA_STOPPED_BY_KILL);
	cr_assert_eq(a.res.pid, pid);
	cr_assert_str_eq(notes_text(), "request\nTERM\n");
	e2e_assert_group_gone(pid);
	e2e_assert_dir_holds("web", only_log);
	event_base_free(base);
}

Test(stop, in_the_loop_a_busy_pod_gets_sigterm_at_once)
{
	struct event_base *base = event_base_new();
	pid_t pid = spawn_fake("web", "busy exit");
	struct async_stop a = {0};

	start_stop(base, "web", 60000, &a);
	cr_assert_eq(event_base_dispatch(base), 1);
	cr_assert_eq(a.res.how, INSOMNIA_STOPPED_BY_TERM);
	e2e_assert_group_gone(pid);
	event_base_free(base);
}

Test(stop, a_pod_not_running_is_reported_through_done_not_at_start)
{
	struct event_base *base = event_base_new();
	struct async_stop a = {0};
	struct insomnia_error err;

	start_stop(base, "nobody", 100, &a);
	cr_assert_eq(event_base_dispatch(base), 1);
	cr_assert_eq(a.calls, 1);
	cr_assert(a.failed);
	cr_assert_eq(a.err.kind, INSOMNIA_ERR_NOT_RUNNING, "%s", a.err.message);
	cr_assert_str_eq(a.res.name, "nobody");
	/* refused at once: no handle, no callback */
	cr_assert_null(
	    insomnia_stop_start(base, "-bad", 100, record_done, &a, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_NAME);
	cr_assert_null(
	    insomnia_stop_start(base, "web", -1, record_done, &a, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_USAGE);
	cr_assert_eq(insomnia_stop("nobody", 100, NULL, NULL, NULL), -1);
	event_base_free(base);
}

struct chain {
	struct async_stop first, second;
	struct event_base *base;
};

/* done starts the next stop in the same loop. */
static void start_next(const struct insomnia_stop_result *res,
                       const struct insomnia_error *err, void *arg)
{
	struct chain *c = arg;

	record_done(res, err, &c->first);
	start_stop(c->base, "b", 60000, &c->second);
}

Test(stop, done_may_start_another_stop_in_the_same_loop)
{
	struct chain c = {.base = event_base_new()};
	pid_t a = spawn_fake("a", "close exit"),
	      b = spawn_fake("b", "close exit");
	struct insomnia_error err;

	c.first.handle =
	    insomnia_stop_start(c.base, "a", 60000, start_next, &c, &err);
	cr_assert_not_null(c.first.handle, "%s", err.message);
	cr_assert_eq(event_base_dispatch(c.base), 1);
	cr_assert_eq(c.first.calls, 1);
	cr_assert_eq(c.second.calls, 1);
	cr_assert_eq(c.first.res.how, INSOMNIA_STOPPED_BY_TERM);
	cr_assert_eq(c.second.res.how, INSOMNIA_STOPPED_BY_TERM);
	e2e_assert_group_gone(a);
	e2e_assert_group_gone(b);
	event_base_free(c.base);
}

/* ---- podctl stop with several pods ------------------------------------ */

/* Wait (blocking reads: the FIFO's own event) until word was noted
 * count times. */
static void wait_notes(int fifo, const char *word, int count)
{
	struct pollfd p = {fifo, POLLIN, 0};
	int seen = 0;

	while (seen < count) {
		cr_assert_eq(poll(&p, 1, -1), 1);
		seen += count_notes(fifo, word);
	}
}

/* podctl with stdout into a file, not waited for. */
static pid_t podctl_start(const char *out_path, char *const argv[])
{
	pid_t pid = fork();
	int fd;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		execv(getenv("INSOMNIA_TEST_PODCTL"), argv);
		_exit(127);
	}
	return pid;
}

Test(stop, podctl_stops_several_pods_at_once)
{
	char out_path[PATH_MAX], *out;
	char *argv[] = {"podctl", "stop", "a", "b", "--grace", "60", NULL};
	int fifo = open_notes_fifo(), status;
	pid_t a = spawn_fake("a", "close stay"),
	      b = spawn_fake("b", "close stay");
	pid_t ctl;

	snprintf(out_path, sizeof out_path, "%s/out", e2e_home);
	ctl = podctl_start(out_path, argv);
	/* both in SIGTERM's grace at once: one stop after the other would
	 * wait out a's 60 s grace before touching b */
	wait_notes(fifo, "TERM", 2);
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	cr_assert_eq(waitpid(ctl, &status, 0), ctl);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%#x", status);
	out = e2e_read(out_path);
	cr_assert_str_eq(out, "a: stopped (sigterm)\nb: stopped (sigterm)\n");
	free(out);
	e2e_assert_group_gone(a);
	e2e_assert_group_gone(b);
	close(fifo);
}

Test(stop, podctl_stop_exits_with_the_first_failure_and_stops_the_rest)
{
	pid_t a = spawn_fake("a", "close exit"),
	      b = spawn_fake("b", "close exit");
	char *out, *line2;
	json_t *r;

	cr_assert_eq(podctl(&out, "stop", "a", "nobody", "b", "--json", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_NOT_RUNNING), "%s",
	             out);
	/* one line per pod, in the order given */
	line2 = strchr(out, '\n');
	cr_assert_not_null(line2);
	r = json_loads(line2 + 1, JSON_DISABLE_EOF_CHECK, NULL);
	cr_assert_not_null(r, "%s", out);
	cr_assert_str_eq(json_string_value(json_object_get(r, "name")),
	                 "nobody");
	cr_assert_str_eq(error_field(r, "kind"), "not_running");
	json_decref(r);
	cr_assert(strstr(out, "{\"name\":\"a\",\"pid\""), "%s", out);
	cr_assert(strstr(out, "{\"name\":\"b\",\"pid\""), "%s", out);
	free(out);
	e2e_assert_group_gone(a);
	e2e_assert_group_gone(b);
}

Test(stop, podctl_stop_all_stops_every_running_pod_and_only_those)
{
	pid_t a = spawn_fake("a", "close exit"),
	      b = spawn_fake("b", "close exit");
	char *out;

	cr_assert_eq(insomnia_stop("b", 60000, NULL, NULL, NULL), 0);
	e2e_assert_group_gone(b);
	/* b's dir stays (stopped): --all takes the running ones only */
	cr_assert_eq(podctl(&out, "stop", "--all", NULL), 0, "%s", out);
	cr_assert_str_eq(out, "a: stopped (sigterm)\n");
	free(out);
	e2e_assert_group_gone(a);
	cr_assert_eq(podctl(&out, "stop", "--all", NULL), 0, "%s", out);
	cr_assert_str_eq(out, "");
	free(out);
	cr_assert_eq(podctl(&out, "stop", "--all", "a", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_USAGE));
	free(out);
	/* a bad name among good ones stops nothing */
	a = spawn_fake("a", "close exit");
	cr_assert_eq(podctl(&out, "stop", "a", "../x", NULL),
	             insomnia_error_exit_code(INSOMNIA_ERR_BAD_NAME));
	free(out);
	cr_assert_eq(kill(a, 0), 0);
	cr_assert_eq(insomnia_stop("a", 60000, NULL, NULL, NULL), 0);
	e2e_assert_group_gone(a);
}

Test(stop, a_way_out_of_range_has_a_name_too)
{
	cr_assert_str_eq(insomnia_stop_how_name(INSOMNIA_STOPPED_BY_KILL),
	                 "sigkill");
	cr_assert_str_eq(insomnia_stop_how_name((enum insomnia_stop_how)99),
	                 "unknown");
	cr_assert_str_eq(insomnia_stop_how_name((enum insomnia_stop_how) - 1),
	                 "unknown");
}
