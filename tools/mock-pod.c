/* mock-pod: a pod that misbehaves on demand, for end-to-end tests and
 * benchmarks.  docs/harness.md is its manual: every knob below, and how
 * to write a harness with it.
 *
 * A client runs it through INSOMNIA_POD_COMMAND (or spawn's pod_command,
 * podctl's --pod-command), which is a bare path, so besides its own argv
 * the mock reads flags from MOCK_POD_ARGS (whitespace-separated).  Its
 * name is, first found: --name, the first `name = "..."` in the --overlay
 * text (deliberately not a TOML parser, so handshake tests do not depend
 * on the real one), INSOMNIA_POD_NAME (what a spawner tells its pod).
 * When INSOMNIA_POD_DIR is set, the dir the path rules give must be that
 * one, or it exits 4 naming both: a harness then checks the library and
 * the pod agree on where the pod lives.
 *
 * When it behaves, it is a minimal compatible pod: it takes `lock`,
 * binds `sock`, writes `pid`, prints the ready line in one write, accepts
 * and closes connections, and on SIGTERM removes sock and pid and exits.
 * It writes no state.json and no session.
 *
 * Knobs (flags, or words of MOCK_POD_ARGS), in the order they act:
 *   --lines N         N progress lines on stderr before anything else
 *   --fork-child      leave a child in its group (a straggler to kill)
 *   --ready-delay MS  wait MS before going on (negative: until SIGUSR1)
 *   --exit CODE       exit CODE before ready, after --message TEXT
 *   --signal SIG      die by signal SIG before ready
 *   --long-line       print 1 MiB without a newline, then hang
 *   --hang            never become ready
 *   --ignore-term     ignore SIGTERM (only SIGKILL ends it)
 *   --announce N      name N on the ready line (a name mismatch)
 *   --malformed       a ready line without its socket field
 *   --ready-twice     print the ready line twice
 *   --no-listen       announce a socket nobody listens on
 *   --listen-delay MS announce first, listen MS later (negative: on
 *                     SIGUSR1)
 * It prints "mock-pod: pid N" first, so a test finds a failed pod's
 * group in stderr.log. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "paths.h"
#include "podcmd.h"
#include "ready.h"
#include "rundir.h"
#include "safedir.h"
#include "unixsock.h"

struct mock {
	char name[INSOMNIA_NAME_MAX + 1];
	const char *announce; /* name printed on the ready line */
	int ready_delay_ms;
	int lines;           /* progress lines before ready */
	int exit_code;       /* >= 0: exit before ready */
	const char *message; /* printed before exiting */
	int die_signal;      /* > 0: raise before ready */
	int listen_delay_ms; /* announce first, listen later */
	bool malformed, no_listen, ignore_term, long_line, ready_twice,
	    fork_child, hang, print_env;
};

static void usage(void)
{
	fputs("usage: mock-pod [--overlay TOML] [--session ID] [--name N]\n"
	      "  [--announce N] [--ready-delay MS] [--lines N]\n"
	      "  [--exit CODE [--message TEXT]] [--signal SIG] [--malformed]\n"
	      "  [--no-listen] [--listen-delay MS] [--ignore-term]\n"
	      "  [--long-line] [--ready-twice] [--fork-child] [--hang]\n"
	      "  [--print-env]\n"
	      "Flags are also read from MOCK_POD_ARGS.\n",
	      stderr);
	exit(64);
}

static void name_from_overlay(struct mock *m, const char *overlay)
{
	const char *p = strstr(overlay, "name");
	const char *q, *end;

	while (p) {
		q = p + 4;
		q += strspn(q, " \t");
		if (*q == '=') {
			q += 1 + strspn(q + 1, " \t");
			if (*q == '"' && (end = strchr(q + 1, '"')) &&
			    (size_t)(end - q - 1) <= INSOMNIA_NAME_MAX) {
				memcpy(m->name, q + 1, (size_t)(end - q - 1));
				m->name[end - q - 1] = '\0';
				return;
			}
		}
		p = strstr(p + 4, "name");
	}
}

/* One flag; returns how many argv slots it used. */
static int parse_flag(struct mock *m, char **argv, int left)
{
	const char *f = argv[0], *v = left > 1 ? argv[1] : NULL;

#define WITH_VALUE(flag) (strcmp(f, flag) == 0 && (v || (usage(), 0)))
	if (WITH_VALUE("--overlay"))
		name_from_overlay(m, v);
	else if (WITH_VALUE("--session"))
		;
	else if (WITH_VALUE("--name"))
		snprintf(m->name, sizeof m->name, "%s", v);
	else if (WITH_VALUE("--announce"))
		m->announce = v;
	else if (WITH_VALUE("--ready-delay"))
		m->ready_delay_ms = atoi(v);
	else if (WITH_VALUE("--lines"))
		m->lines = atoi(v);
	else if (WITH_VALUE("--exit"))
		m->exit_code = atoi(v);
	else if (WITH_VALUE("--message"))
		m->message = v;
	else if (WITH_VALUE("--signal"))
		m->die_signal = atoi(v);
	else if (WITH_VALUE("--listen-delay"))
		m->listen_delay_ms = atoi(v);
	else {
		bool *flag = strcmp(f, "--malformed") == 0     ? &m->malformed
		             : strcmp(f, "--no-listen") == 0   ? &m->no_listen
		             : strcmp(f, "--ignore-term") == 0 ? &m->ignore_term
		             : strcmp(f, "--long-line") == 0   ? &m->long_line
		             : strcmp(f, "--ready-twice") == 0 ? &m->ready_twice
		             : strcmp(f, "--fork-child") == 0  ? &m->fork_child
		             : strcmp(f, "--hang") == 0        ? &m->hang
		             : strcmp(f, "--print-env") == 0   ? &m->print_env
		                                               : NULL;
		if (!flag)
			usage();
		*flag = true;
		return 1;
	}
#undef WITH_VALUE
	return 2;
}

/* The flags keep pointers into this copy for the life of the process. */
static char *env_args;

static void parse_args(struct mock *m, int argc, char **argv)
{
	char *env = getenv("MOCK_POD_ARGS"), *words[64], *save = NULL;
	int n = 0;

	for (int i = 1; i < argc;)
		i += parse_flag(m, argv + i, argc - i);
	if (!env)
		return;
	env = env_args = strdup(env);
	for (char *w = strtok_r(env, " \t\n", &save); w && n < 64;
	     w = strtok_r(NULL, " \t\n", &save))
		words[n++] = w;
	for (int i = 0; i < n;)
		i += parse_flag(m, words + i, n - i);
}

static void say(const char *fmt, const char *arg)
{
	fprintf(stderr, fmt, arg);
}

/* A negative delay waits for SIGUSR1 instead (blocked from the start of
 * main), so tests can release the mock by event rather than by time. */
static void nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	sigset_t usr1;
	int sig;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (ms < 0) {
		fprintf(stderr, "mock-pod: waiting for SIGUSR1\n");
		sigwait(&usr1, &sig);
		return;
	}
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void misbehave_before_ready(const struct mock *m)
{
	pid_t child;

	/* tests find a failed pod's group through this line in stderr.log */
	fprintf(stderr, "mock-pod: pid %ld\n", (long)getpid());
	if (m->fork_child) {
		child = fork();
		if (child == 0)
			for (;;)
				pause(); /* outlives its parent, in its group */
		fprintf(stderr, "mock-pod: child %ld\n", (long)child);
	}
	if (m->print_env) /* what the client told us (podcmd.h) */
		fprintf(stderr, "mock-pod: env %s=%s %s=%s\n", PODCMD_ENV_NAME,
		        getenv(PODCMD_ENV_NAME) ? getenv(PODCMD_ENV_NAME) : "",
		        PODCMD_ENV_DIR,
		        getenv(PODCMD_ENV_DIR) ? getenv(PODCMD_ENV_DIR) : "");
	for (int i = 0; i < m->lines; i++)
		fprintf(stderr, "mock-pod: progress line %d of %d\n", i + 1,
		        m->lines);
	if (m->ready_delay_ms)
		nap(m->ready_delay_ms);
	if (m->exit_code >= 0) {
		say("%s\n", m->message ? m->message : "mock-pod: exiting");
		exit(m->exit_code);
	}
	if (m->die_signal > 0) {
		say("%s\n", "mock-pod: about to die by a signal");
		signal(m->die_signal, SIG_DFL);
		raise(m->die_signal);
	}
	if (m->long_line) {
		static char line[1 << 20];
		memset(line, 'x', sizeof line);
		fd_write_all(2, line, sizeof line);
	}
	if (m->hang || m->long_line)
		for (;;)
			pause();
}

/* The dir its spawner told it (INSOMNIA_POD_DIR) is the one the rules
 * give, or it says so and exits 4 (runtime_dir). */
static void check_told_dir(const char *dir)
{
	const char *told = getenv("INSOMNIA_POD_DIR");

	if (told && strcmp(told, dir)) {
		fprintf(stderr,
		        "mock-pod: INSOMNIA_POD_DIR is %s but the rules give "
		        "%s\n",
		        told, dir);
		exit(4);
	}
}

/* The runtime dir side of a well-behaved pod; exits on failure.  The
 * lock is the real pod's (rundir_take_lock), so tests of liveness, reap
 * and listings hold for both. */
static int take_dir(const struct mock *m, char *sock_path, size_t size)
{
	char root[INSOMNIA_PATH_MAX], dir[INSOMNIA_PATH_MAX];
	struct insomnia_error err;
	int rootfd, dirfd = -1, lockfd, rc;

	rootfd = rundir_open_root(true, root, sizeof root, &err);
	if (rootfd < 0 || paths_join(dir, sizeof dir, root, m->name, &err) < 0)
		goto fail;
	check_told_dir(dir);
	rc = rundir_take_lock(rootfd, m->name, dir, &dirfd, &lockfd, &err);
	if (rc == 1) {
		fprintf(stderr, "mock-pod: pod %s is already running\n",
		        m->name);
		exit(3);
	}
	if (rc < 0)
		goto fail;
	unlinkat(dirfd, RUNDIR_SOCK, 0);
	if (paths_join(sock_path, size, dir, RUNDIR_SOCK, &err) < 0)
		goto fail;
	return dirfd; /* lockfd stays open, holding the lock until exit */
fail:
	fprintf(stderr, "mock-pod: %s\n", err.message);
	exit(4);
}

static void write_pid(int dirfd)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	int fd = openat(dirfd, RUNDIR_PID,
	                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		fd_write_all(fd, buf, (size_t)n);
		close(fd);
	}
}

static void announce(const struct mock *m, const char *sock_path)
{
	char line[READY_LINE_MAX + 64];
	int n;

	if (m->malformed)
		n = snprintf(line, sizeof line, "%s%s\n", READY_PREFIX,
		             m->name);
	else
		n = snprintf(line, sizeof line, "%s%s\t%s\n", READY_PREFIX,
		             m->announce ? m->announce : m->name, sock_path);
	fd_write_all(2, line, (size_t)n); /* one write: never torn */
	if (m->ready_twice)
		fd_write_all(2, line, (size_t)n);
}

static int bind_socket(int dirfd, const char *sock_path, int backlog)
{
	struct insomnia_error err;
	int fd =
	    unixsock_listen_at(dirfd, RUNDIR_SOCK, sock_path, backlog, &err);

	if (fd < 0) {
		fprintf(stderr, "mock-pod: %s\n", err.message);
		exit(4);
	}
	return fd;
}

/* The stop signals, blocked from the start: one that arrives between
 * the ready line and the serving loop must still end in a clean stop. */
static void block_stop_signals(const struct mock *m, sigset_t *set)
{
	sigemptyset(set);
	if (!m->ignore_term)
		sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigprocmask(SIG_BLOCK, set, NULL);
}

/* Accept and close connections until SIGTERM/SIGINT, then clean up. */
static void serve(const sigset_t *set, int dirfd, int listen_fd)
{
	struct pollfd fds[2];

	fds[0] = (struct pollfd){signalfd(-1, set, SFD_CLOEXEC), POLLIN, 0};
	fds[1] = (struct pollfd){listen_fd, POLLIN, 0};
	for (;;) {
		if (poll(fds, listen_fd >= 0 ? 2 : 1, -1) < 0)
			continue;
		if (fds[0].revents)
			break;
		if (fds[1].revents) {
			int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				close(c);
		}
	}
	unlinkat(dirfd, RUNDIR_SOCK, 0);
	unlinkat(dirfd, RUNDIR_PID, 0);
	fprintf(stderr, "mock-pod: stopping\n");
	exit(0);
}

int main(int argc, char **argv)
{
	struct mock m = {.exit_code = -1};
	char sock_path[INSOMNIA_PATH_MAX];
	int dirfd, listen_fd = -1;
	sigset_t stop_signals, usr1;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL); /* see nap() */
	parse_args(&m, argc, argv);
	if (!m.name[0] && getenv("INSOMNIA_POD_NAME"))
		snprintf(m.name, sizeof m.name, "%s",
		         getenv("INSOMNIA_POD_NAME"));
	if (!m.name[0]) {
		fputs("mock-pod: no name (give --name, name = \"...\" in "
		      "--overlay, or INSOMNIA_POD_NAME)\n",
		      stderr);
		return 2;
	}
	if (m.ignore_term)
		signal(SIGTERM, SIG_IGN);
	misbehave_before_ready(&m);
	block_stop_signals(&m, &stop_signals);
	dirfd = take_dir(&m, sock_path, sizeof sock_path);
	write_pid(dirfd);
	if (!m.no_listen && !m.listen_delay_ms)
		listen_fd = bind_socket(dirfd, sock_path, 128);
	announce(&m, sock_path);
	if (m.listen_delay_ms) {
		nap(m.listen_delay_ms);
		listen_fd = bind_socket(dirfd, sock_path, 128);
	}
	serve(&stop_signals, dirfd, listen_fd);
}
