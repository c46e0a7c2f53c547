/* harness.c: see harness.h. */
#include "harness.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "proto.h"
#include "ready.h"
#include "unixsock.h"

/* A deadline, not a sleep: a healthy pod answers in milliseconds, a hung
 * one fails the test instead of hanging it. */
#define TH_DEADLINE_MS 30000
#define TH_MAX_PODS    8

struct th_home th;

/* Pods started by this test, so teardown can kill what a failed
 * assertion left running. */
static pid_t started[TH_MAX_PODS];

/* Buffers th_read_file handed out, freed at teardown so tests can
 * compare them inline. */
#define TH_MAX_OWNED 64
static char *owned[TH_MAX_OWNED];
static size_t nowned;

void th_fmt(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < size, "path too long for the test");
}

static void mkdir_p(const char *path)
{
	char buf[TH_PATH_MAX];

	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		cr_assert(mkdir(buf, 0700) == 0 || errno == EEXIST,
		          "mkdir %s: %s", buf, strerror(errno));
		*p = '/';
	}
	cr_assert(mkdir(buf, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", buf,
	          strerror(errno));
}

static void sub(char *out, const char *name)
{
	th_fmt(out, TH_PATH_MAX, "%s/%s", th.root, name);
}

void th_setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[TH_PATH_MAX];

	memset(started, 0, sizeof started);
	snprintf(th.root, sizeof th.root, "%s/pod-test-XXXXXX",
	         tmp && *tmp ? tmp : "/tmp");
	cr_assert_not_null(mkdtemp(th.root));
	sub(th.home, "home");
	th_fmt(th.run, sizeof th.run, "%s/run", th.home);
	sub(th.work, "work");
	mkdir_p(th.work);
	/* Nothing of the real user's may leak in: no manifest, no dirs. */
	setenv("INSOMNIA_HOME", th.home, 1);
	unsetenv("INSOMNIA_RUNTIME_DIR");
	unsetenv("INSOMNIA_DATA_DIR");
	unsetenv("XDG_RUNTIME_DIR");
	sub(path, "user");
	setenv("HOME", path, 1);
	sub(path, "config");
	setenv("XDG_CONFIG_HOME", path, 1);
	/* A stray SIGPIPE from a pod that hung up must fail no test. */
	signal(SIGPIPE, SIG_IGN);
}

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *ftw)
{
	return remove(path);
}

void th_teardown(void)
{
	for (int i = 0; i < TH_MAX_PODS; i++) {
		if (started[i] <= 0)
			continue;
		kill(started[i], SIGKILL);
		waitpid(started[i], NULL, 0);
	}
	while (nowned > 0)
		free(owned[--nowned]);
	if (th.root[0])
		nftw(th.root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remember(pid_t pid)
{
	for (int i = 0; i < TH_MAX_PODS; i++)
		if (started[i] <= 0) {
			started[i] = pid;
			return;
		}
	cr_assert_fail("too many pods in one test");
}

static void forget(pid_t pid)
{
	for (int i = 0; i < TH_MAX_PODS; i++)
		if (started[i] == pid)
			started[i] = 0;
}

static void exec_pod(int errfd, const char *cwd, const char *const *args)
{
	const char *bin = getenv("POD_BIN");
	const char *argv[32] = {"pod"};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	size_t n = 1;

	for (; args && args[n - 1] && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	if (!bin || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(errfd, 2) < 0 || chdir(cwd) < 0)
		_exit(126);
	execv(bin, (char *const *)argv);
	_exit(127);
}

/* Read what is there (waiting at most until the deadline).  Returns the
 * bytes read, 0 at EOF. */
static ssize_t read_err(struct th_pod *p)
{
	struct pollfd pfd = {p->errfd, POLLIN, 0};
	char buf[4096];
	ssize_t n;

	cr_assert_eq(poll(&pfd, 1, TH_DEADLINE_MS), 1,
	             "the pod wrote nothing for %d ms; stderr so far:\n%s",
	             TH_DEADLINE_MS, p->err);
	n = fd_read_some(p->errfd, buf, sizeof buf);
	cr_assert_geq(n, 0, "reading the pod's stderr: %s", strerror(errno));
	p->err = realloc(p->err, p->err_len + (size_t)n + 1);
	cr_assert_not_null(p->err);
	memcpy(p->err + p->err_len, buf, (size_t)n);
	p->err_len += (size_t)n;
	p->err[p->err_len] = '\0';
	return n;
}

/* Look for the ready line among the complete lines read so far. */
static bool find_ready(struct th_pod *p)
{
	struct ready_line rl;
	struct insomnia_error err;
	const char *line = p->err, *nl;

	while ((nl = strchr(line, '\n'))) {
		size_t len = (size_t)(nl - line);
		if (ready_has_prefix(line, len)) {
			cr_assert_eq(ready_parse(line, len, &rl, &err), 0,
			             "bad ready line: %s", err.message);
			snprintf(p->sock, sizeof p->sock, "%s", rl.socket);
			return true;
		}
		line = nl + 1;
	}
	return false;
}

void th_launch(struct th_pod *p, const char *cwd, const char *const *args)
{
	int fds[2];

	memset(p, 0, sizeof *p);
	p->err = calloc(1, 1);
	cr_assert_not_null(p->err);
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	p->pid = fork();
	cr_assert_geq(p->pid, 0);
	if (p->pid == 0)
		exec_pod(fds[1], cwd ? cwd : th.work, args);
	remember(p->pid);
	close(fds[1]);
	p->errfd = fds[0];
}

bool th_read_until_ready(struct th_pod *p)
{
	while (!(p->ready = find_ready(p)))
		if (read_err(p) == 0)
			break;
	return p->ready;
}

bool th_ready_written(struct th_pod *p)
{
	struct pollfd pfd = {p->errfd, POLLIN, 0};

	while (!(p->ready = find_ready(p)) && poll(&pfd, 1, 0) == 1 &&
	       !(pfd.revents & POLLHUP && !(pfd.revents & POLLIN)))
		if (read_err(p) == 0)
			break;
	return p->ready;
}

bool th_start(struct th_pod *p, const char *cwd, const char *const *args)
{
	th_launch(p, cwd, args);
	return th_read_until_ready(p);
}

void th_start_named(struct th_pod *p, const char *name)
{
	char overlay[256];
	const char *args[] = {"--overlay", overlay, NULL};

	snprintf(overlay, sizeof overlay, "[pod]\nname = \"%s\"\n", name);
	cr_assert(th_start(p, NULL, args), "pod %s did not become ready:\n%s",
	          name, p->err);
}

int th_wait(struct th_pod *p)
{
	int status;

	while (read_err(p) > 0)
		;
	cr_assert_eq(waitpid(p->pid, &status, 0), p->pid);
	forget(p->pid);
	p->pid = 0;
	close(p->errfd);
	p->errfd = -1;
	th_assert_err_lacks(p, "Sanitizer");
	th_assert_err_lacks(p, "runtime error:");
	if (WIFSIGNALED(status))
		p->status = 128 + WTERMSIG(status);
	else
		p->status = WEXITSTATUS(status);
	return p->status;
}

void th_stop(struct th_pod *p)
{
	cr_assert_eq(kill(p->pid, SIGTERM), 0);
	cr_assert_eq(th_wait(p), 0, "pod exited %d; stderr:\n%s", p->status,
	             p->err);
}

void th_pod_free(struct th_pod *p)
{
	free(p->err);
	p->err = NULL;
}

void th_assert_err_has(const struct th_pod *p, const char *text)
{
	cr_assert(strstr(p->err, text), "stderr lacks \"%s\":\n%s", text,
	          p->err);
}

void th_assert_err_lacks(const struct th_pod *p, const char *text)
{
	cr_assert(!strstr(p->err, text), "stderr has \"%s\":\n%s", text,
	          p->err);
}

int th_connect(const char *sock)
{
	struct timeval tv = {TH_DEADLINE_MS / 1000, 0};
	struct insomnia_error err;
	int fd;

	cr_assert_eq(unixsock_connect(sock, &fd, &err), 0, "%s", err.message);
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv),
	             0);
	return fd;
}

json_t *th_call(int fd, const char *method)
{
	static int64_t next_id = 1;
	struct insomnia_error err;
	json_t *result;

	cr_assert_eq(proto_call(fd, next_id++, method, NULL, &result, &err), 0,
	             "%s failed: %s (%s)", method, err.message, err.detail);
	return result;
}

void th_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

json_t *th_read_json_line(int fd)
{
	struct insomnia_error err;
	json_error_t jerr;
	char *line;
	size_t len;
	json_t *obj;

	/* NULL only for a clean end of stream: a line too long or a read
	 * error is not the "connection closed" a test may expect */
	if (proto_read_line(fd, &line, &len, &err) < 0) {
		cr_assert(err.kind == INSOMNIA_ERR_PROTOCOL &&
		              err.errnum == 0 &&
		              strstr(err.message, "connection closed"),
		          "%s", err.message);
		return NULL;
	}
	obj = json_loadb(line, len, 0, &jerr);
	cr_assert_not_null(obj, "not JSON: %s", line);
	free(line);
	return obj;
}

const char *th_rundir_file(const char *name, const char *file)
{
	static char path[TH_PATH_MAX];

	th_fmt(path, sizeof path, "%s/%s%s%s", th.run, name, *file ? "/" : "",
	       file);
	return path;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void th_assert_dir_holds(const char *name, const char *files)
{
	DIR *d = opendir(th_rundir_file(name, ""));
	char found[1024] = "", *names[64];
	struct dirent *e;
	size_t n = 0;

	cr_assert_not_null(d, "no runtime dir for %s", name);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			cr_assert_lt(n, 64, "runtime dir of %s: too many files",
			             name);
			cr_assert_not_null(names[n++] = strdup(e->d_name));
		}
	closedir(d);
	qsort(names, n, sizeof names[0], by_name);
	for (size_t i = 0; i < n; i++) {
		strncat(found, i ? " " : "", sizeof found - strlen(found) - 1);
		strncat(found, names[i], sizeof found - strlen(found) - 1);
		free(names[i]);
	}
	cr_assert_str_eq(found, files, "runtime dir of %s holds \"%s\"", name,
	                 found);
}

void th_write_file(const char *path, const char *text)
{
	char dir[TH_PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	cr_assert_not_null(slash);
	*slash = '\0';
	mkdir_p(dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(fd_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

char *th_read_file(const char *path)
{
	char *text;
	size_t len;

	cr_assert_lt(nowned, TH_MAX_OWNED, "too many files read in one test");
	cr_assert_eq(fd_read_file_at(AT_FDCWD, path, 1 << 20, &text, &len), 0,
	             "%s: %s", path, strerror(errno));
	owned[nowned++] = text;
	return text;
}

void th_assert_status(struct th_pod *p, const char *name,
                      const char *description)
{
	int fd = th_connect(p->sock);
	json_t *r = th_call(fd, "status");

	cr_assert_str_eq(json_string_value(json_object_get(r, "name")), name);
	cr_assert_str_eq(json_string_value(json_object_get(r, "description")),
	                 description);
	json_decref(r);
	close(fd);
}
