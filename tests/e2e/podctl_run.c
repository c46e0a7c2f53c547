/* podctl_run.c: running podctl from an end-to-end test. */
#include "podctl_run.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"

/* A memfd, so nothing is left on disk and nothing can block. */
static int memfd_with(const char *name, const char *text, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	cr_assert_geq(fd, 0);
	if (text)
		cr_assert_eq(fd_write_all(fd, text, len), 0);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* A pipe already holding text (which must fit its buffer) and closed:
 * a reader sees the text, then EOF. */
static int pipe_with(const char *text, size_t len)
{
	int p[2];

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	cr_assert_eq(fd_write_all(p[1], text, len), 0);
	close(p[1]);
	return p[0];
}

static char *slurp(int fd)
{
	char *text = NULL;
	size_t len;

	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	cr_assert_eq(fd_read_fd(fd, 16 << 20, &text, &len), 0);
	close(fd);
	return text;
}

static void child(const struct podctl_run *r, const char *const *argv, int in,
                  int out, int err)
{
	if (r->stdout_path)
		out = open(r->stdout_path, O_WRONLY | O_CLOEXEC);
	if (in < 0)
		in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(err, 2) < 0 || (r->cwd && chdir(r->cwd) < 0))
		_exit(126);
	if (r->set_umask)
		umask(r->umask);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

void podctl_runv(struct podctl_run *r, va_list ap)
{
	const char *argv[32];
	int n = 0, in = -1, out, err, status;
	pid_t pid;

	argv[n++] = getenv("INSOMNIA_TEST_PODCTL");
	while (n < 31 && (argv[n] = va_arg(ap, const char *)))
		n++;
	argv[n] = NULL;
	if (r->stdin_text) {
		size_t len =
		    r->stdin_len ? r->stdin_len : strlen(r->stdin_text);
		in = r->stdin_pipe ? pipe_with(r->stdin_text, len)
		                   : memfd_with("stdin", r->stdin_text, len);
	}
	out = memfd_with("stdout", NULL, 0);
	err = memfd_with("stderr", NULL, 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		child(r, argv, in, out, err);
	if (in >= 0)
		close(in);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "podctl died (status %d)", status);
	r->code = WEXITSTATUS(status);
	r->out = slurp(out);
	r->err = slurp(err);
}

void podctl_run(struct podctl_run *r, ...)
{
	va_list ap;

	va_start(ap, r);
	podctl_runv(r, ap);
	va_end(ap);
}

void podctl_run_free(struct podctl_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

json_t *podctl_json(const struct podctl_run *r)
{
	json_error_t e;
	json_t *v = json_loads(r->out, 0, &e);

	cr_assert_not_null(v, "not JSON (%s) [exit %d]: \"%s\" stderr: %s",
	                   e.text, r->code, r->out, r->err);
	cr_assert(json_is_object(v));
	return v;
}
