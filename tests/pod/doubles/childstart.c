/* Test double of common/childstart.c: fork, own session, exec; exec
 * errors through a close-on-exec pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "childstart.h"
#include "compat.h"

static void child(const struct childstart_spec *sp, int wfd)
{
	int e, fds[3] = {-1, -1, -1};
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	if (sp->group == CHILDSTART_NEW_SESSION)
		setsid();
	else
		setpgid(0, 0);
	if (sp->death_signal)
		prctl(PR_SET_PDEATHSIG, sp->death_signal);
	for (size_t i = 0; i < 3; i++)
		fds[i] = i < sp->nfds && sp->fds[i] >= 0
		             ? fcntl(sp->fds[i], F_DUPFD_CLOEXEC, 10)
		             : open("/dev/null", i ? O_WRONLY : O_RDONLY);
	for (int i = 0; i < 3; i++)
		dup2(fds[i], i);
	if (sp->cwd && chdir(sp->cwd) < 0) {
		e = errno;
		(void)!write(wfd, &e, sizeof e);
		_exit(127);
	}
	if (sp->envp)
		execvpe(sp->path, sp->argv, sp->envp);
	else
		execvp(sp->path, sp->argv);
	e = errno;
	(void)!write(wfd, &e, sizeof e);
	_exit(127);
}

int childstart(const struct childstart_spec *spec, pid_t *pid, int *pidfd,
               enum childstart_step *step, struct insomnia_error *err)
{
	int p[2], e = 0;
	ssize_t r;

	if (pipe2(p, O_CLOEXEC) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_LAUNCH_FAILED,
		                                errno, "pipe");
	*pid = fork();
	if (*pid == 0) {
		close(p[0]);
		child(spec, p[1]);
	}
	close(p[1]);
	do
		r = read(p[0], &e, sizeof e);
	while (r < 0 && errno == EINTR);
	close(p[0]);
	if (r == (ssize_t)sizeof e) {
		waitpid(*pid, NULL, 0);
		return insomnia_error_set_errno(err, INSOMNIA_ERR_LAUNCH_FAILED,
		                                e, "cannot execute %s",
		                                spec->path);
	}
	if (spec->want_pidfd)
		*pidfd = compat_pidfd_open(*pid);
	return 0;
}
