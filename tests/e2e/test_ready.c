/* test_ready.c: readiness and liveness with the real pod and real
 * programs (issue 11; docs/manifest.md, "Readiness and liveness"): redis
 * speaking sd_notify, a stranger's READY=1 dropped, MAINPID, RELOADING=1
 * and STOPPING=1, the s6 readiness fd and its EOF, a dependent on ready,
 * a log line, tcp, http (and a 500 that never becomes ready), exec, a
 * readiness timeout through podctl, a liveness failure and a missed
 * watchdog restarting the process, and socket activation (the port
 * served before the process accepts, and held between its runs).
 *
 * Every wait is on an event: the spawn's callbacks, a FIFO the process
 * writes ("up") or reads ("go") at the point the test controls, the pod's
 * event stream, a reply.  The one wall-clock figure is the hold of a
 * gated start (gate_spawn): after the process said "up", the test keeps
 * it from signalling readiness for a while and checks the pod did not
 * become ready meanwhile; a pod that ignores readiness would be ready as
 * soon as the process runs (a loop turn, or the old settle of 200 ms).
 * The hold can only make a broken pod pass on a very slow machine, never
 * a correct one fail.  The readiness timeouts of the failing cases leave
 * python room to start on a busy machine.
 *
 * The pod's own READY=1/STOPPING=1 under a NOTIFY_SOCKET of its
 * supervisor is tests/pod/test_pod_notify.c; idle shutdown is
 * tests/pod/test_pod_idle.c. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <event2/event.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <insomnia/control.h>
#include <insomnia/spawn.h>

#include "harness.h"
#include "podctl_run.h"

/* Descriptors open when the test began (e2e_fd_count). */
static int fds_at_start;

static void use_real_pod(void)
{
	e2e_setup();
	cr_assert_not_null(getenv("INSOMNIA_TEST_POD"));
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
	fds_at_start = e2e_fd_count();
}

/* A gated spawn still in progress when an assertion ended the test: its
 * pod is still the launch monitor's child, not ours, so the harness's
 * teardown could neither kill it nor stop waiting for it. */
static struct insomnia_spawn *in_flight;

/* Our live children (parent is this process), up to max. */
static int live_children(pid_t *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) && n < max) {
		char path[300], buf[512], *paren;
		long ppid;
		ssize_t len;
		int fd;
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		paren = strrchr(buf, ')');
		if (paren && paren[2] != 'Z' &&
		    sscanf(paren + 2, "%*c %ld", &ppid) == 1 &&
		    ppid == (long)getpid())
			pids[n++] = (pid_t)atol(e->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

/* After a failed assertion a pod may be left with processes that did
 * not die with it (a server forked by a wrapper): kill and reap our
 * children, then what came to us (the subreaper) as they died, a
 * bounded number of passes, so the harness's blocking wait returns. */
static void kill_everything_left(void)
{
	pid_t pids[256];
	int n;

	for (int pass = 0; pass < 16 && (n = live_children(pids, 256)) > 0;
	     pass++)
		for (int i = 0; i < n; i++) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
}

static void teardown(void)
{
	insomnia_spawn_cancel(in_flight);
	in_flight = NULL;
	kill_everything_left();
	e2e_teardown();
}

TestSuite(ready, .init = use_real_pod, .fini = teardown, .timeout = 90);

/* ---- programs the processes run --------------------------------------- */

/* sd.py [KEY=VALUE ...] [-- COMMAND ...]: the assignments as one
 * datagram to $NOTIFY_SOCKET, sent by this very process, then COMMAND
 * exec'd in its place (the pid stays the same) or exit. */
static const char sd_py[] =
    "import os, socket, sys\n"
    "args, cmd = sys.argv[1:], []\n"
    "if '--' in args:\n"
    "    i = args.index('--')\n"
    "    args, cmd = args[:i], args[i + 1:]\n"
    "if args:\n"
    "    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
    "    s.sendto('\\n'.join(args).encode(), os.environ['NOTIFY_SOCKET'])\n"
    "    s.close()\n"
    "if cmd:\n"
    "    os.execvp(cmd[0], cmd)\n";

/* listen.py PORT: a TCP listener on 127.0.0.1:PORT that accepts and
 * closes (so probes never fill its backlog). */
static const char listen_py[] =
    "import socket, sys\n"
    "s = socket.socket()\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
    "s.listen(16)\n"
    "print('listening', flush=True)\n"
    "while True:\n"
    "    s.accept()[0].close()\n";

/* http500.py PORT: every GET answers 500. */
static const char http500_py[] =
    "import http.server, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(500)\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b'broken\\n')\n"
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), "
    "H).serve_forever()\n";

/* sockact.py GO: socket activation (sd_listen_fds(3)'s convention):
 * checks LISTEN_PID is its own pid, waits for a line on the FIFO GO, and
 * only then accepts on fd 3, answering what it was given. */
static const char sockact_py[] =
    "import os, socket, sys\n"
    "pid_ok = os.environ.get('LISTEN_PID') == str(os.getpid())\n"
    "n = os.environ.get('LISTEN_FDS')\n"
    "names = os.environ.get('LISTEN_FDNAMES')\n"
    "s = socket.socket(fileno=3)\n"
    "print('waiting for go', flush=True)\n"
    "with open(sys.argv[1]) as go:\n"
    "    go.readline()\n"
    "while True:\n"
    "    c = s.accept()[0]\n"
    "    c.sendall(('fds=%s names=%s pid=%s\\n' % (n, names, "
    "'ok' if pid_ok else 'wrong')).encode())\n"
    "    c.close()\n";

/* steps.py SAID GO MSG...: for each MSG, send it to $NOTIFY_SOCKET from
 * this process, write a line into the FIFO SAID, and wait for a line on
 * the FIFO GO; then exit 0. */
static const char steps_py[] =
    "import os, socket, sys\n"
    "said, go = sys.argv[1], sys.argv[2]\n"
    "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\n"
    "for msg in sys.argv[3:]:\n"
    "    s.sendto(msg.encode(), os.environ['NOTIFY_SOCKET'])\n"
    "    with open(said, 'w') as f:\n"
    "        f.write('said\\n')\n"
    "    with open(go) as f:\n"
    "        f.readline()\n";

/* Write a program into the test's home; its path in path. */
static void script(const char *name, const char *text, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", e2e_home, name);
	f = fopen(path, "we");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_geq(fputs(text, f), 0);
	cr_assert_eq(fclose(f), 0);
}

/* ---- control, ps, the journal ----------------------------------------- */

static char overlay_buf[16384];

static const char *overlay_of(const char *name, const char *procs)
{
	snprintf(overlay_buf, sizeof overlay_buf, "[pod]\nname = \"%s\"\n%s",
	         name, procs);
	return overlay_buf;
}

static int spawn_with(const char *name, const char *procs,
                      struct insomnia_spawn_result *res,
                      struct insomnia_error *err)
{
	struct insomnia_spawn_options o = {0};

	o.name = name;
	o.overlay = overlay_of(name, procs);
	o.timeout_ms = 20000;
	return insomnia_spawn(&o, res, err);
}

static void spawn_ok(const char *name, const char *procs,
                     struct insomnia_spawn_result *res)
{
	struct insomnia_error err;

	cr_assert_eq(spawn_with(name, procs, res, &err), 0, "%s\n%s",
	             err.message, err.detail);
}

/* A failed spawn's message and detail (the pod's stderr tail) as one
 * text. */
static const char *failure_text(const struct insomnia_error *err)
{
	static char text[sizeof err->message + sizeof err->detail + 2];

	snprintf(text, sizeof text, "%s\n%s", err->message, err->detail);
	return text;
}

/* Call method and return the result (asserting success). */
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

static json_t *ps_entry(json_t *ps, const char *name)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(ps, "processes"), i, p)
	{
		if (!strcmp(json_string_value(json_object_get(p, "name")),
		            name))
			return p;
	}
	cr_assert_fail("no process %s in ps", name);
	return NULL;
}

static const char *str_of(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* One process's ps entry (caller decrefs *ps). */
static json_t *ps_of(const char *pod, const char *proc, json_t **ps)
{
	*ps = call(pod, "ps", NULL);
	return ps_entry(*ps, proc);
}

static pid_t pid_of(const char *pod, const char *proc)
{
	json_t *ps, *p = ps_of(pod, proc, &ps);
	pid_t pid = (pid_t)json_integer_value(json_object_get(p, "pid"));

	json_decref(ps);
	return pid;
}

static int port_of(const char *pod, const char *proc, const char *port)
{
	json_t *ps, *p = ps_of(pod, proc, &ps);
	int n = (int)json_integer_value(
	    json_object_get(json_object_get(p, "ports"), port));

	json_decref(ps);
	cr_assert(n > 0 && n < 65536, "port %s of %s: %d", port, proc, n);
	return n;
}

static void assert_ready(const char *pod, const char *proc)
{
	json_t *ps, *p = ps_of(pod, proc, &ps);

	cr_assert_str_eq(str_of(p, "state"), "ready", "%s: %s", proc,
	                 json_dumps(p, 0));
	cr_assert(json_is_true(json_object_get(p, "ready")));
	json_decref(ps);
}

static const char *session_file(const struct insomnia_spawn_result *res,
                                const char *rel)
{
	static char path[1024];

	snprintf(path, sizeof path, "%s/sessions/%s/%s", e2e_home,
	         res->session_id, rel);
	return path;
}

/* The session's journal, one record a line, as an array. */
static json_t *journal_of(const struct insomnia_spawn_result *res)
{
	char *text = e2e_read(session_file(res, "journal.jsonl")), *line,
	     *save = NULL;
	json_t *all = json_array();

	cr_assert_not_null(text);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *r = json_loads(line, 0, NULL);
		cr_assert_not_null(r, "torn journal line: %s", line);
		json_array_append_new(all, r);
	}
	free(text);
	return all;
}

/* Index of the first record from `from` on of event (and, when given,
 * process, state, and a reason starting with prefix); -1 when none. */
static int journal_find(json_t *j, int from, const char *event,
                        const char *proc, const char *state, const char *prefix)
{
	for (size_t i = (size_t)from; i < json_array_size(j); i++) {
		json_t *r = json_array_get(j, i);
		const char *reason = str_of(r, "reason");
		if (strcmp(str_of(r, "event"), event) ||
		    (proc && (!str_of(r, "process") ||
		              strcmp(str_of(r, "process"), proc))) ||
		    (state && (!str_of(r, "state") ||
		               strcmp(str_of(r, "state"), state))) ||
		    (prefix &&
		     (!reason || strncmp(reason, prefix, strlen(prefix)))))
			continue;
		return (int)i;
	}
	return -1;
}

/* No process, no descriptor, no file left: the pod exited clean and its
 * dir holds only what a stopped pod leaves (its notify sockets gone with
 * their dir). */
static void assert_nothing_left(const char *name)
{
	e2e_assert_no_children();
	cr_assert_eq(e2e_fd_count(), fds_at_start, "descriptors leaked");
	e2e_assert_dir_holds(name,
	                     (const char *const[]){"lock", "stderr.log", NULL});
}

static void shutdown_pod(const char *name, pid_t pid)
{
	json_t *r = call(name, "shutdown", NULL);
	int status;

	json_decref(r);
	while (waitpid(pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "pod status %#x", status);
	assert_nothing_left(name);
}

/* After a failed start: the pod is gone with its processes, and so are
 * their notify sockets. */
static void assert_failed_start_left_nothing(const char *name)
{
	struct stat st;

	e2e_assert_no_children();
	cr_assert_eq(e2e_fd_count(), fds_at_start, "descriptors leaked");
	cr_assert_neq(lstat(e2e_rundir(name, "notify"), &st), 0,
	              "%s left behind", e2e_rundir(name, "notify"));
}

/* ---- sockets ----------------------------------------------------------- */

static int tcp_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0,
	             "connect to 127.0.0.1:%d: %s", port, strerror(errno));
	return fd;
}

/* Everything the peer sends until it closes. */
static char *read_all(int fd)
{
	static char buf[8192];
	size_t have = 0;
	ssize_t n;

	while ((n = read(fd, buf + have, sizeof buf - 1 - have)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			have += (size_t)n;
	buf[have] = '\0';
	close(fd);
	return buf;
}

static char *http_get(int port, const char *path)
{
	int fd = tcp_connect(port);
	char req[256];
	int n = snprintf(req, sizeof req,
	                 "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);

	cr_assert_eq(write(fd, req, (size_t)n), n);
	return read_all(fd);
}

/* redis's PING on its unix socket, with a raw RESP inline command (no
 * redis-cli needed). */
static bool redis_pings(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[64] = "";
	ssize_t n;

	cr_assert_lt(strlen(path), sizeof sa.sun_path, "%s: too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		cr_log_error("connect %s: %s", path, strerror(errno));
		close(fd);
		return false;
	}
	cr_assert_eq(write(fd, "PING\r\n", 6), 6);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	return n > 0 && !strncmp(buf, "+PONG", 5);
}

/* One datagram to a unix datagram socket, from the test process. */
static void send_datagram(const char *path, const char *text)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_lt(strlen(path), sizeof sa.sun_path, "%s: too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	cr_assert_eq(sendto(fd, text, strlen(text), 0, (struct sockaddr *)&sa,
	                    sizeof sa),
	             (ssize_t)strlen(text), "sendto %s: %s", path,
	             strerror(errno));
	close(fd);
}

/* ---- the environment of a live process --------------------------------- */

/* The value of var in /proc/<pid>/environ, or NULL (static buffer). */
static const char *environ_of(pid_t pid, const char *var)
{
	static char buf[65536];
	char path[64];
	size_t len = strlen(var);
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (!strncmp(p, var, len) && p[len] == '=')
			return p + len + 1;
	return NULL;
}

static const char *comm_of(pid_t pid)
{
	static char comm[64];
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return "";
	n = read(fd, comm, sizeof comm - 1);
	close(fd);
	comm[n > 0 ? n - 1 : 0] = '\0';
	return comm;
}

/* ---- a gated start ----------------------------------------------------- */

/* The process writes a line into the FIFO `up` once it runs, and may
 * wait for one on the FIFO `go` before it does what makes it ready.  The
 * spawn runs in a loop of the test's (insomnia_spawn_start) so the test
 * can act while the pod is starting. */
struct gate {
	char up[512], go[512];
	int up_fd, go_fd;
	/* on the process's "up" (default: arm the hold) */
	void (*on_up)(struct gate *g);
	/* what lets the process become ready (default: "go" into go) */
	void (*release)(struct gate *g);
	const char *pod;
	const char *file; /* for release_by_file */
	int hold_ms;
	struct event_base *base;
	struct event *up_ev, *hold_ev;
	bool up_seen, released, done;
	int rc;
	struct insomnia_spawn_result res;
	struct insomnia_error err;
};

static void make_fifo(const char *pod, const char *what, char *path,
                      size_t size)
{
	snprintf(path, size, "%s/%s.%s", e2e_home, pod, what);
	cr_assert_eq(mkfifo(path, 0600), 0, "%s: %s", path, strerror(errno));
}

/* FIFOs in the home; up read without blocking (no writer yet), go held
 * read-write so the process's open never blocks and the test's write
 * never fails. */
static void gate_init(struct gate *g, const char *pod)
{
	memset(g, 0, sizeof *g);
	g->pod = pod;
	g->hold_ms = 600;
	make_fifo(pod, "up", g->up, sizeof g->up);
	make_fifo(pod, "go", g->go, sizeof g->go);
	g->up_fd = open(g->up, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	g->go_fd = open(g->go, O_RDWR | O_CLOEXEC);
	cr_assert(g->up_fd >= 0 && g->go_fd >= 0);
}

static void gate_close(struct gate *g)
{
	close(g->up_fd);
	close(g->go_fd);
	unlink(g->up);
	unlink(g->go);
}

static void release_by_go(struct gate *g)
{
	cr_assert_eq(write(g->go_fd, "go\n", 3), 3);
}

static void release_by_file(struct gate *g)
{
	int fd = open(g->file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0, "%s: %s", g->file, strerror(errno));
	close(fd);
}

static void on_hold_over(evutil_socket_t fd, short what, void *arg)
{
	struct gate *g = arg;

	cr_assert(!g->done, "the pod was ready before %s was", "the process");
	g->released = true;
	(g->release ? g->release : release_by_go)(g);
}

static void hold(struct gate *g)
{
	struct timeval tv = {g->hold_ms / 1000, (g->hold_ms % 1000) * 1000};

	g->hold_ev = evtimer_new(g->base, on_hold_over, g);
	cr_assert_not_null(g->hold_ev);
	evtimer_add(g->hold_ev, &tv);
}

static void on_up(evutil_socket_t fd, short what, void *arg)
{
	struct gate *g = arg;
	char buf[64];
	ssize_t n = read(fd, buf, sizeof buf);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* once is enough; a closed writer would keep the FIFO readable */
	event_del(g->up_ev);
	cr_assert_gt(n, 0, "the up FIFO closed without a line");
	g->up_seen = true;
	(g->on_up ? g->on_up : hold)(g);
}

static void gate_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct gate *g = arg;

	g->res = *res;
	g->rc = 0;
	g->done = true;
	in_flight = NULL; /* freed once this returns */
}

static void gate_failed(const struct insomnia_error *err, void *arg)
{
	struct gate *g = arg;

	g->err = *err;
	g->rc = -1;
	g->done = true;
	in_flight = NULL;
}

/* Spawn pod with procs and run the loop until the spawn is over. */
static int gate_spawn(struct gate *g, const char *procs)
{
	struct insomnia_spawn_options o = {0};
	struct insomnia_error err;

	g->base = event_base_new();
	cr_assert_not_null(g->base);
	g->up_ev = event_new(g->base, g->up_fd, EV_READ | EV_PERSIST, on_up, g);
	cr_assert_not_null(g->up_ev);
	event_add(g->up_ev, NULL);
	o.name = g->pod;
	o.overlay = overlay_of(g->pod, procs);
	o.timeout_ms = 20000;
	o.arg = g;
	in_flight =
	    insomnia_spawn_start(g->base, &o, gate_ready, gate_failed, &err);
	cr_assert_not_null(in_flight, "%s", err.message);
	while (!g->done)
		cr_assert_eq(event_base_loop(g->base, EVLOOP_ONCE), 0);
	event_free(g->up_ev);
	if (g->hold_ev)
		event_free(g->hold_ev);
	event_base_free(g->base);
	return g->rc;
}

/* A gated start that must succeed only after the release. */
static void gate_spawn_ok(struct gate *g, const char *procs)
{
	cr_assert_eq(gate_spawn(g, procs), 0, "%s\n%s", g->err.message,
	             g->err.detail);
	cr_assert(g->up_seen, "the process never said up");
	cr_assert(g->released, "the pod was ready before the process was");
}

/* ---- following events -------------------------------------------------- */

/* Subscribe to process events, run act once the stream is open (so
 * nothing it causes is missed), and follow until want says so. */
struct follow {
	int (*want)(json_t *data, const char *event, void *arg);
	void *arg;
	void (*act)(void *act_arg);
	void *act_arg;
	bool done, ended, late;
	struct insomnia_error end;
};

/* How long a followed stream may take: well under the suite's limit, so
 * a pod that never gets there fails the test with its teardown. */
#define FOLLOW_LIMIT_S 30

static void follow_too_late(evutil_socket_t fd, short what, void *arg)
{
	((struct follow *)arg)->late = true;
}

static void follow_started(struct insomnia_control *c,
                           const struct insomnia_control_reply *r, void *arg)
{
	struct follow *f = arg;

	cr_assert_eq(r->status, INSOMNIA_CONTROL_RESULT, "%s",
	             r->err ? r->err->message : "");
	if (f->act)
		f->act(f->act_arg);
}

static void follow_event(struct insomnia_control *c, const char *name,
                         const char *data, size_t len, void *arg)
{
	struct follow *f = arg;
	json_t *d = json_loadb(data, len, 0, NULL);

	cr_assert_not_null(d, "%.*s", (int)len, data);
	if (!f->done && f->want(d, name, f->arg))
		f->done = true;
	json_decref(d);
}

static void follow_ended(struct insomnia_control *c,
                         const struct insomnia_error *err, void *arg)
{
	struct follow *f = arg;

	f->ended = true;
	if (err)
		f->end = *err;
}

static void follow(const char *pod, int (*want)(json_t *, const char *, void *),
                   void *arg, void (*act)(void *), void *act_arg)
{
	struct event_base *base = event_base_new();
	struct insomnia_error err;
	struct insomnia_control *c = insomnia_control_connect(base, pod, &err);
	struct follow f = {want, arg, act, act_arg, false, false, false, {0}};
	struct insomnia_control_stream st = {follow_started, follow_event,
	                                     follow_ended, &f};
	struct timeval limit = {FOLLOW_LIMIT_S, 0};
	struct event *timer = evtimer_new(base, follow_too_late, &f);

	cr_assert_not_null(c, "%s", err.message);
	cr_assert_not_null(timer);
	evtimer_add(timer, &limit);
	cr_assert_eq(insomnia_control_subscribe(
	                 c, "subscribe", "{\"kinds\":[\"process\",\"status\"]}",
	                 &st, &err),
	             0, "%s", err.message);
	while (!f.done && !f.ended && !f.late)
		cr_assert_eq(event_base_loop(base, EVLOOP_ONCE), 0);
	insomnia_control_close(c);
	event_free(timer);
	event_base_free(base);
	cr_assert(!f.late, "not there within %d s", FOLLOW_LIMIT_S);
	cr_assert(f.done, "the stream ended first: %s", f.end.message);
}

/* A process event of proc with a reason starting with prefix, then a new
 * run of it (running, with a pid other than first). */
struct restart_want {
	const char *proc, *prefix;
	pid_t first;
	char reason[256];
	pid_t again;
};

static int want_restart(json_t *d, const char *event, void *arg)
{
	struct restart_want *w = arg;
	const char *p = str_of(d, "process"), *s = str_of(d, "state"),
	           *why = str_of(d, "reason");
	pid_t pid = (pid_t)json_integer_value(json_object_get(d, "pid"));

	if (strcmp(event, "process") || !p || strcmp(p, w->proc) || !s)
		return 0;
	if (why && !strncmp(why, w->prefix, strlen(w->prefix)) && !w->reason[0])
		snprintf(w->reason, sizeof w->reason, "%s", why);
	if (w->reason[0] && !strcmp(s, "running") && pid > 0 && pid != w->first)
		w->again = pid;
	return w->again > 0;
}

/* A process event of proc reaching one of the states in want[]. */
struct state_want {
	const char *proc;
	const char *const *states;
	char reached[32];
};

static int want_state(json_t *d, const char *event, void *arg)
{
	struct state_want *w = arg;
	const char *p = str_of(d, "process"), *s = str_of(d, "state");

	if (strcmp(event, "process") || !p || strcmp(p, w->proc) || !s)
		return 0;
	for (size_t i = 0; w->states[i]; i++)
		if (!strcmp(s, w->states[i])) {
			snprintf(w->reached, sizeof w->reached, "%s", s);
			return 1;
		}
	return 0;
}

/* ---- notify: redis ----------------------------------------------------- */

Test(ready, redis_is_ready_when_it_says_ready_and_ps_shows_its_status)
{
	struct insomnia_spawn_result res;
	struct podctl_run r = {0};
	json_t *j, *v, *db;
	int running, ready, pod_ready;

	spawn_ok("redis",
	         "[process.db]\n"
	         "command = [\"redis-server\", \"--port\", \"0\", "
	         "\"--unixsocket\", \"${pod.dir}/redis.sock\", "
	         "\"--supervised\", \"systemd\", \"--save\", \"\", "
	         "\"--appendonly\", \"no\"]\n"
	         "ready = { notify = true, timeout = \"10s\" }\n",
	         &res);
	/* right away: the spawn returned once redis said READY=1, which it
	 * does once it accepts */
	cr_assert(redis_pings(e2e_rundir("redis", "redis.sock")),
	          "redis did not answer PING right after the spawn");

	/* the order: db running, db ready (its READY=1), then the pod */
	j = journal_of(&res);
	running = journal_find(j, 0, "process", "db", "running", NULL);
	ready = journal_find(j, 0, "process", "db", "ready", NULL);
	pod_ready = journal_find(j, 0, "ready", NULL, NULL, NULL);
	cr_assert(running >= 0 && ready > running && pod_ready > ready,
	          "running %d, ready %d, pod ready %d: %s", running, ready,
	          pod_ready, json_dumps(j, JSON_INDENT(1)));
	json_decref(j);

	/* redis 7 says STATUS=Ready to accept connections: podctl ps shows
	 * the last STATUS= */
	podctl_run(&r, "ps", "redis", "--json", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	v = podctl_json(&r);
	db = ps_entry(v, "db");
	cr_assert_str_eq(str_of(db, "state"), "ready");
	cr_assert_not_null(str_of(db, "status"), "no status: %s", r.out);
	cr_assert(strstr(str_of(db, "status"), "Ready to accept connections"),
	          "%s", str_of(db, "status"));
	json_decref(v);
	podctl_run_free(&r);
	shutdown_pod("redis", res.pid);
}

/* ---- notify: a stranger's datagram ------------------------------------- */

/* The test (no descendant of the process) says READY=1 on the process's
 * socket, then lets the process say STATUS=witness, and waits for it to
 * say (through the FIFO witness_fifo) that it has.  Datagrams on one
 * socket are read in order, so once ps shows the witness the stranger's
 * READY=1 has been read, and dropped if the process is still not
 * ready. */
static char witness_fifo[512];

/* A line in the FIFO at path within limit_s (poll: an event, bounded). */
static void wait_fifo_line(const char *path, int limit_s)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct pollfd pfd = {fd, POLLIN, 0};
	char buf[64];
	int n;

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	while ((n = poll(&pfd, 1, limit_s * 1000)) < 0 && errno == EINTR)
		;
	cr_assert_eq(n, 1, "nothing in %s within %d s", path, limit_s);
	cr_assert_gt(read(fd, buf, sizeof buf), 0);
	close(fd);
}

static void stranger_says_ready(struct gate *g)
{
	json_t *ps = NULL, *p = NULL;

	cr_assert_not_null(environ_of(pid_of(g->pod, "quiet"), "NOTIFY_SOCKET"),
	                   "no NOTIFY_SOCKET");
	cr_assert_str_eq(environ_of(pid_of(g->pod, "quiet"), "NOTIFY_SOCKET"),
	                 e2e_rundir(g->pod, "notify/quiet"));
	send_datagram(e2e_rundir(g->pod, "notify/quiet"), "READY=1");
	release_by_go(g);
	g->released = true;
	wait_fifo_line(witness_fifo, 20);
	/* queued before this connection: the pod reads it first, or at
	 * worst in the same turn of its loop as the request */
	for (int i = 0; i < 10; i++) {
		json_decref(ps);
		ps = call(g->pod, "ps", "{\"names\":[\"quiet\"]}");
		p = ps_entry(ps, "quiet");
		if (str_of(p, "status") &&
		    !strcmp(str_of(p, "status"), "witness"))
			break;
	}
	cr_assert_not_null(str_of(p, "status"),
	                   "the process's own STATUS= never showed");
	cr_assert_str_eq(str_of(p, "status"), "witness");
	cr_assert_str_eq(str_of(p, "state"), "running",
	                 "a stranger's READY=1 was taken");
	cr_assert(json_is_false(json_object_get(p, "ready")));
	json_decref(ps);
}

Test(ready, a_strangers_ready_datagram_is_dropped)
{
	struct gate g;
	char sd[512], procs[4096];

	script("sd.py", sd_py, sd, sizeof sd);
	gate_init(&g, "stranger");
	make_fifo("stranger", "witness", witness_fifo, sizeof witness_fifo);
	g.on_up = stranger_says_ready;
	/* the readiness timeout leaves room for python's start on a busy
	 * machine: the witness must come before it */
	snprintf(procs, sizeof procs,
	         "[process.quiet]\n"
	         "shell = \"echo up > %s; read x < %s; exec python3 %s "
	         "STATUS=witness -- sh -c 'echo sent > %s; exec sleep "
	         "100000'\"\n"
	         "ready = { notify = true, timeout = \"8s\" }\n",
	         g.up, g.go, sd, witness_fifo);
	cr_assert_eq(gate_spawn(&g, procs), -1,
	             "the spawn succeeded on a stranger's READY=1");
	cr_assert(g.released, "the witness was never asked for");
	cr_assert_eq(g.err.kind, INSOMNIA_ERR_PROCESS_FAILED, "%s",
	             failure_text(&g.err));
	cr_assert(strstr(failure_text(&g.err), "quiet"), "%s",
	          failure_text(&g.err));
	cr_assert(strstr(failure_text(&g.err), "not ready within 8s"), "%s",
	          failure_text(&g.err));
	gate_close(&g);
	unlink(witness_fifo);
	assert_failed_start_left_nothing("stranger");
}

/* ---- notify: a descendant, with systemd-notify ------------------------- */

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char dir[4096], file[4200];

	while (path && *path) {
		size_t len = strcspn(path, ":");
		snprintf(dir, sizeof dir, "%.*s", (int)len, path);
		snprintf(file, sizeof file, "%s/%s", dir[0] ? dir : ".", prog);
		if (access(file, X_OK) == 0)
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

Test(ready, systemd_notify_from_a_child_of_the_process_is_heard)
{
	struct insomnia_spawn_result res;
	json_t *ps, *p;

	/* not among .ci/install-deps' packages: present with systemd */
	if (!on_path("systemd-notify"))
		cr_skip_test("systemd-notify is not installed");
	/* a child of the shell, not the run's pid; it waits (its barrier)
	 * until the pod has handled its datagram, so it is alive when
	 * checked */
	spawn_ok("sdnotify",
	         "[process.unit]\n"
	         "shell = \"systemd-notify --ready --status='from a child'; "
	         "exec sleep 100000\"\n"
	         "ready = { notify = true, timeout = \"20s\" }\n",
	         &res);
	p = ps_of("sdnotify", "unit", &ps);
	cr_assert_str_eq(str_of(p, "state"), "ready");
	cr_assert_not_null(str_of(p, "status"));
	cr_assert_str_eq(str_of(p, "status"), "from a child");
	json_decref(ps);
	shutdown_pod("sdnotify", res.pid);
}

/* ---- notify: MAINPID ---------------------------------------------------- */

static void kill_pid(void *arg)
{
	cr_assert_eq(kill(*(pid_t *)arg, SIGTERM), 0);
}

Test(ready, mainpid_makes_the_pod_watch_the_forked_server)
{
	struct insomnia_spawn_result res;
	struct state_want w = {
	    "forker",
	    (const char *const[]){"exited", "failed", "backoff", NULL}, ""};
	char sd[512], procs[2048];
	json_t *ps, *p;
	pid_t pid;

	/* the wrapper forks the server, says MAINPID=<server> and READY=1
	 * from its own pid (exec keeps it), and exits */
	script("sd.py", sd_py, sd, sizeof sd);
	snprintf(procs, sizeof procs,
	         "[process.forker]\n"
	         "shell = \"sleep 100000 & exec python3 %s MAINPID=$! "
	         "READY=1\"\n"
	         "ready = { notify = true, timeout = \"10s\" }\n",
	         sd);
	spawn_ok("mainpid", procs, &res);
	p = ps_of("mainpid", "forker", &ps);
	cr_assert_str_eq(str_of(p, "state"), "ready",
	                 "the wrapper's exit was taken for the process's");
	pid = (pid_t)json_integer_value(json_object_get(p, "pid"));
	json_decref(ps);
	cr_assert_gt(pid, 0);
	cr_assert_str_eq(comm_of(pid), "sleep",
	                 "ps shows pid %ld (%s), not the forked server",
	                 (long)pid, comm_of(pid));

	/* the pod watches it: its end is the process's end */
	follow("mainpid", want_state, &w, kill_pid, &pid);
	cr_assert_str_eq(w.reached, "exited");
	shutdown_pod("mainpid", res.pid);
}

/* ---- notify: RELOADING=1 and STOPPING=1 ---------------------------------- */

/* The process's next message is out (it wrote SAID): the state ps shows
 * once the pod has read it (queued before the request: the first ps, or
 * the next turn of the pod's loop). */
static void assert_state_after(const char *pod, int said_fd, const char *want)
{
	struct pollfd pfd = {said_fd, POLLIN, 0};
	json_t *ps = NULL, *p = NULL;
	char buf[16];
	int n;

	while ((n = poll(&pfd, 1, 20000)) < 0 && errno == EINTR)
		;
	cr_assert_eq(n, 1, "the process said nothing within 20 s");
	cr_assert_eq(read(said_fd, buf, sizeof buf), 5);
	for (int i = 0; i < 10; i++) {
		json_decref(ps);
		p = ps_of(pod, "svc", &ps);
		if (!strcmp(str_of(p, "state"), want))
			break;
	}
	cr_assert_str_eq(str_of(p, "state"), want);
	json_decref(ps);
}

static void say_go(void *arg)
{
	cr_assert_eq(write(*(int *)arg, "go\n", 3), 3);
}

Test(ready, reloading_and_stopping_are_shown_until_ready_or_exit)
{
	struct insomnia_spawn_result res;
	struct state_want w = {
	    "svc", (const char *const[]){"exited", "failed", "backoff", NULL},
	    ""};
	char steps[512], said[512], go[512], procs[4096];
	int said_fd, go_fd;

	script("steps.py", steps_py, steps, sizeof steps);
	make_fifo("steps", "said", said, sizeof said);
	make_fifo("steps", "go", go, sizeof go);
	said_fd = open(said, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	go_fd = open(go, O_RDWR | O_CLOEXEC);
	cr_assert(said_fd >= 0 && go_fd >= 0);
	snprintf(procs, sizeof procs,
	         "[process.svc]\n"
	         "command = [\"python3\", \"%s\", \"%s\", \"%s\", "
	         "\"READY=1\", \"RELOADING=1\", \"READY=1\", "
	         "\"STOPPING=1\"]\n"
	         "ready = { notify = true }\n",
	         steps, said, go);
	spawn_ok("steps", procs, &res);
	assert_state_after("steps", said_fd, "ready");
	say_go(&go_fd);
	assert_state_after("steps", said_fd, "reloading");
	say_go(&go_fd);
	assert_state_after("steps", said_fd, "ready");
	say_go(&go_fd);
	assert_state_after("steps", said_fd, "stopping");
	/* its exit (status 0, policy no) is handled as any exit */
	follow("steps", want_state, &w, say_go, &go_fd);
	cr_assert_str_eq(w.reached, "exited");
	close(said_fd);
	close(go_fd);
	unlink(said);
	unlink(go);
	shutdown_pod("steps", res.pid);
}

/* ---- fd ------------------------------------------------------------------ */

Test(ready, a_newline_on_the_readiness_fd_makes_it_ready)
{
	struct gate g;
	char procs[2048];

	gate_init(&g, "s6");
	snprintf(procs, sizeof procs,
	         "[process.s6]\n"
	         "shell = \"echo up > %s; read x < %s; echo >&3; "
	         "exec sleep 100000\"\n"
	         "ready = { fd = 3 }\n",
	         g.up, g.go);
	gate_spawn_ok(&g, procs);
	gate_close(&g);
	assert_ready("s6", "s6");
	shutdown_pod("s6", g.res.pid);
}

Test(ready, a_dependent_on_ready_waits_for_the_real_readiness)
{
	struct gate g;
	char procs[2048];
	json_t *j;
	int ready, started;

	/* app may start only once db wrote its newline, not once it runs */
	gate_init(&g, "chain");
	snprintf(procs, sizeof procs,
	         "[process.db]\n"
	         "shell = \"echo up > %s; read x < %s; echo >&3; "
	         "exec sleep 100000\"\n"
	         "ready = { fd = 3 }\n"
	         "[process.app]\n"
	         "command = [\"sleep\", \"100000\"]\n"
	         "depends_on = { db = \"ready\" }\n",
	         g.up, g.go);
	gate_spawn_ok(&g, procs);
	gate_close(&g);
	j = journal_of(&g.res);
	ready = journal_find(j, 0, "process", "db", "ready", NULL);
	started = journal_find(j, 0, "process", "app", "starting", NULL);
	cr_assert(ready >= 0 && started > ready,
	          "db ready at %d, app starting at %d: %s", ready, started,
	          json_dumps(j, JSON_INDENT(1)));
	json_decref(j);
	assert_ready("chain", "app");
	shutdown_pod("chain", g.res.pid);
}

Test(ready, eof_on_the_readiness_fd_fails_the_start_at_once)
{
	struct insomnia_spawn_result res;
	struct insomnia_error err;

	/* a byte, but no newline, then the fd closed while the process runs
	 * on: only the EOF can fail it before the spawn's own 20 s (the
	 * readiness timeout is 60 s) */
	cr_assert_eq(spawn_with("eof",
	                        "[process.liar]\n"
	                        "shell = \"echo no newline from me; printf x "
	                        ">&3; exec 3>&-; exec sleep 100000\"\n"
	                        "ready = { fd = 3, timeout = \"60s\" }\n",
	                        &res, &err),
	             -1, "the spawn succeeded without a newline");
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROCESS_FAILED, "%s",
	             failure_text(&err));
	cr_assert(strstr(failure_text(&err), "liar"), "%s", failure_text(&err));
	cr_assert(
	    strstr(failure_text(&err), "readiness fd closed without a newline"),
	    "%s", failure_text(&err));
	cr_assert(strstr(failure_text(&err), "no newline from me"), "%s",
	          failure_text(&err));
	assert_failed_start_left_nothing("eof");
}

/* ---- log, tcp, http, exec ------------------------------------------------ */

Test(ready, a_matching_output_line_makes_it_ready)
{
	struct gate g;
	char procs[2048];

	/* a line that does not match first; the one that does on stderr */
	gate_init(&g, "logline");
	snprintf(procs, sizeof procs,
	         "[process.logger]\n"
	         "shell = \"echo accepting soon; echo up > %s; read x < %s; "
	         "echo accepting on 4242 >&2; exec sleep 100000\"\n"
	         "ready = { log = \"^accepting on [0-9]+$\" }\n",
	         g.up, g.go);
	gate_spawn_ok(&g, procs);
	gate_close(&g);
	assert_ready("logline", "logger");
	shutdown_pod("logline", g.res.pid);
}

Test(ready, a_tcp_connect_makes_it_ready)
{
	struct gate g;
	char listen[512], procs[2048];

	script("listen.py", listen_py, listen, sizeof listen);
	gate_init(&g, "tcp");
	snprintf(procs, sizeof procs,
	         "[process.listener]\n"
	         "shell = \"echo up > %s; read x < %s; exec python3 %s "
	         "${port.x}\"\n"
	         "ports = [\"x\"]\n"
	         "ready = { tcp = \"127.0.0.1:${port.x}\", interval = "
	         "\"100ms\" }\n",
	         g.up, g.go, listen);
	gate_spawn_ok(&g, procs);
	gate_close(&g);
	assert_ready("tcp", "listener");
	close(tcp_connect(port_of("tcp", "listener", "x")));
	shutdown_pod("tcp", g.res.pid);
}

Test(ready, an_http_answer_makes_it_ready)
{
	struct gate g;
	char procs[2048], www[512], file[600];
	FILE *f;

	snprintf(www, sizeof www, "%s/www", e2e_home);
	cr_assert_eq(mkdir(www, 0700), 0);
	snprintf(file, sizeof file, "%s/index.html", www);
	f = fopen(file, "we");
	fputs("served\n", f);
	fclose(f);
	gate_init(&g, "http");
	snprintf(procs, sizeof procs,
	         "[process.web]\n"
	         "shell = \"echo up > %s; read x < %s; exec python3 -m "
	         "http.server --bind 127.0.0.1 --directory %s "
	         "${port.http}\"\n"
	         "ports = [\"http\"]\n"
	         "ready = { http = \"http://127.0.0.1:${port.http}/\", "
	         "interval = \"100ms\" }\n",
	         g.up, g.go, www);
	gate_spawn_ok(&g, procs);
	gate_close(&g);
	assert_ready("http", "web");
	cr_assert(
	    strstr(http_get(port_of("http", "web", "http"), "/"), "served"));
	shutdown_pod("http", g.res.pid);
}

Test(ready, a_server_answering_500_never_becomes_ready)
{
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	char s500[512], procs[2048];

	script("http500.py", http500_py, s500, sizeof s500);
	snprintf(procs, sizeof procs,
	         "[process.broken]\n"
	         "command = [\"python3\", \"%s\", \"${port.http}\"]\n"
	         "ports = [\"http\"]\n"
	         "ready = { http = \"http://127.0.0.1:${port.http}/\", "
	         "interval = \"100ms\", timeout = \"5s\" }\n",
	         s500);
	cr_assert_eq(spawn_with("h500", procs, &res, &err), -1,
	             "a server answering 500 was taken as ready");
	cr_assert_eq(err.kind, INSOMNIA_ERR_PROCESS_FAILED, "%s",
	             failure_text(&err));
	cr_assert(strstr(failure_text(&err), "broken"), "%s",
	          failure_text(&err));
	cr_assert(strstr(failure_text(&err), "not ready within 5s"), "%s",
	          failure_text(&err));
	cr_assert(strstr(failure_text(&err), "HTTP 500"), "%s",
	          failure_text(&err));
	assert_failed_start_left_nothing("h500");
}

Test(ready, an_exec_check_exiting_0_makes_it_ready)
{
	struct gate g;
	char procs[2048], file[512];

	gate_init(&g, "exec");
	snprintf(file, sizeof file, "%s/exec.flag", e2e_home);
	g.file = file;
	g.release = release_by_file;
	snprintf(procs, sizeof procs,
	         "[process.waiter]\n"
	         "shell = \"echo up > %s; exec sleep 100000\"\n"
	         "ready = { exec = [\"test\", \"-e\", \"%s\"], interval = "
	         "\"100ms\" }\n",
	         g.up, file);
	gate_spawn_ok(&g, procs);
	gate_close(&g);
	assert_ready("exec", "waiter");
	shutdown_pod("exec", g.res.pid);
}

/* ---- a readiness timeout, through podctl ----------------------------------
 */

Test(ready, a_readiness_timeout_fails_the_spawn_naming_the_process)
{
	struct podctl_run r = {0};

	podctl_run(&r, "spawn", "--overlay",
	           overlay_of("late",
	                      "[process.slow]\n"
	                      "shell = \"echo first words; echo 'the last "
	                      "words' >&2; exec sleep 100000\"\n"
	                      "ready = { notify = true, timeout = \"1s\" }\n"),
	           NULL);
	cr_assert_eq(r.code, 19, "exit %d, stderr: %s", r.code, r.err);
	cr_assert(strstr(r.err, "slow"), "%s", r.err);
	cr_assert(strstr(r.err, "not ready within 1s"), "%s", r.err);
	cr_assert(strstr(r.err, "the last words"), "no output tail: %s", r.err);
	podctl_run_free(&r);
	assert_failed_start_left_nothing("late");
}

/* ---- liveness -------------------------------------------------------------
 */

static void remove_file(void *arg)
{
	cr_assert_eq(unlink(arg), 0, "%s: %s", (char *)arg, strerror(errno));
}

Test(ready, a_liveness_failure_restarts_the_process)
{
	struct insomnia_spawn_result res;
	struct restart_want w = {"worker", "liveness:", 0, "", 0};
	char procs[2048], file[512];
	json_t *j;
	int fd;

	snprintf(file, sizeof file, "%s/alive.flag", e2e_home);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(procs, sizeof procs,
	         "[process.worker]\n"
	         "command = [\"sleep\", \"100000\"]\n"
	         "alive = { exec = [\"test\", \"-e\", \"%s\"], interval = "
	         "\"100ms\", failures = 2 }\n"
	         "restart = { policy = \"on-failure\", backoff = "
	         "\"10ms..10ms\", max = 100 }\n",
	         file);
	spawn_ok("live", procs, &res);
	w.first = pid_of("live", "worker");
	/* subscribed, then the check starts failing */
	follow("live", want_restart, &w, remove_file, file);
	cr_assert(strstr(w.reason, "2 failures"), "%s", w.reason);
	j = journal_of(&res);
	cr_assert_geq(
	    journal_find(j, 0, "process", "worker", NULL, "liveness:"), 0,
	    "no liveness reason journalled: %s", json_dumps(j, JSON_INDENT(1)));
	json_decref(j);
	shutdown_pod("live", res.pid);
}

Test(ready, a_missed_watchdog_restarts_the_process)
{
	struct insomnia_spawn_result res;
	struct restart_want w = {"pet", "watchdog:", 0, "", 0};
	char sd[512], procs[2048];
	json_t *j;

	/* READY=1 and one WATCHDOG=1, then nothing */
	script("sd.py", sd_py, sd, sizeof sd);
	snprintf(procs, sizeof procs,
	         "[process.pet]\n"
	         "command = [\"python3\", \"%s\", \"READY=1\", "
	         "\"WATCHDOG=1\", \"--\", \"sleep\", \"100000\"]\n"
	         "ready = { notify = true }\n"
	         "alive = { watchdog = \"2s\" }\n"
	         "restart = { policy = \"on-failure\", backoff = "
	         "\"10ms..10ms\", max = 100 }\n",
	         sd);
	spawn_ok("wdog", procs, &res);
	w.first = pid_of("wdog", "pet");
	cr_assert_not_null(environ_of(w.first, "WATCHDOG_USEC"),
	                   "no WATCHDOG_USEC");
	cr_assert_str_eq(environ_of(w.first, "WATCHDOG_USEC"), "2000000");
	/* the first run may have missed its deadline already: each run
	 * misses it, so a reason and a restart come anyway */
	follow("wdog", want_restart, &w, NULL, NULL);
	cr_assert(strstr(w.reason, "no WATCHDOG=1 within 2s"), "%s", w.reason);
	j = journal_of(&res);
	cr_assert_geq(journal_find(j, 0, "process", "pet", NULL, "watchdog:"),
	              0, "no watchdog reason journalled");
	json_decref(j);
	shutdown_pod("wdog", res.pid);
}

/* ---- socket activation ------------------------------------------------------
 */

/* Binding 127.0.0.1:port fails: someone (the pod) holds it. */
static void assert_port_held(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), -1,
	             "port %d was free for anyone", port);
	cr_assert_eq(errno, EADDRINUSE, "%s", strerror(errno));
	close(fd);
}

static void start_proc(void *arg)
{
	json_decref(call(arg, "start", "{\"names\":[\"echo\"]}"));
}

Test(ready, a_listen_port_is_served_before_the_process_and_between_runs)
{
	struct insomnia_spawn_result res;
	char sockact[512], go[512], procs[2048];
	int go_fd, early, late, port;
	char *answer;

	script("sockact.py", sockact_py, sockact, sizeof sockact);
	make_fifo("sockact", "go", go, sizeof go);
	go_fd = open(go, O_RDWR | O_CLOEXEC);
	cr_assert_geq(go_fd, 0);
	snprintf(procs, sizeof procs,
	         "[process.echo]\n"
	         "command = [\"python3\", \"%s\", \"%s\"]\n"
	         "ports = [{ name = \"http\", listen = true }, \"other\"]\n"
	         "autostart = false\n",
	         sockact, go);
	spawn_ok("sockact", procs, &res);
	port = port_of("sockact", "echo", "http");

	/* before the process even exists: the pod holds the socket */
	early = tcp_connect(port);
	start_proc("sockact");
	/* it runs, and waits for go before its first accept */
	late = tcp_connect(port);
	cr_assert_eq(write(go_fd, "go\n", 3), 3);
	answer = read_all(early);
	cr_assert_str_eq(answer, "fds=1 names=http pid=ok\n");
	answer = read_all(late);
	cr_assert_str_eq(answer, "fds=1 names=http pid=ok\n");

	/* stopped, the process is gone but the port is not: nobody else
	 * can bind it, and a connection waits for the next run */
	json_decref(call("sockact", "stop", "{\"names\":[\"echo\"]}"));
	assert_port_held(port);
	late = tcp_connect(port);
	start_proc("sockact");
	cr_assert_eq(write(go_fd, "go\n", 3), 3);
	answer = read_all(late);
	cr_assert_str_eq(answer, "fds=1 names=http pid=ok\n");
	close(go_fd);
	unlink(go);
	shutdown_pod("sockact", res.pid);
}

/* ---- notify: STATUS= as an event ---------------------------------------- */

/* The status events of one process, in order: "one", "two", then null
 * once a restart began a new run. */
struct status_seq {
	const char *pod, *go;
	int seen; /* how many of the expected ones came, in order */
	char unexpected[256];
};

static void write_go(const char *fifo)
{
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);

	cr_assert_geq(fd, 0, "%s: %s", fifo, strerror(errno));
	cr_assert_eq(write(fd, "go\n", 3), 3);
	close(fd);
}

static void status_go(void *arg)
{
	write_go(((struct status_seq *)arg)->go);
}

static int want_status_seq(json_t *d, const char *event, void *arg)
{
	struct status_seq *w = arg;
	const json_t *st = json_object_get(d, "status");
	const char *want[] = {"one", "two", NULL};

	if (strcmp(event, "status"))
		return 0;
	if (w->seen < 2 && json_is_string(st) &&
	    !strcmp(json_string_value(st), want[w->seen])) {
		if (++w->seen == 1)
			write_go(w->go);
		else
			json_decref(
			    call(w->pod, "restart", "{\"names\":[\"p\"]}"));
		return 0;
	}
	if (w->seen == 2 && json_is_null(st))
		return ++w->seen;
	snprintf(w->unexpected, sizeof w->unexpected, "status %s after %d",
	         json_is_string(st) ? json_string_value(st) : "null", w->seen);
	return 1;
}

Test(ready, status_text_is_an_event_and_a_new_run_clears_it)
{
	struct insomnia_spawn_result res;
	struct status_seq w = {.pod = "status"};
	char sd[512], go[512], procs[4096];

	script("sd.py", sd_py, sd, sizeof sd);
	make_fifo("status", "go", go, sizeof go);
	w.go = go;
	snprintf(procs, sizeof procs,
	         "[process.p]\n"
	         "shell = \"python3 %s READY=1; read x < %s; python3 %s "
	         "STATUS=one; read x < %s; python3 %s STATUS=two; exec sleep "
	         "100000\"\n"
	         "ready = { notify = true }\n",
	         sd, go, sd, go, sd);
	spawn_ok("status", procs, &res);
	follow("status", want_status_seq, &w, status_go, &w);
	cr_assert_str_empty(w.unexpected, "%s", w.unexpected);
	cr_assert_eq(w.seen, 3);
	shutdown_pod("status", res.pid);
	unlink(go);
}
