/* reaper.c: SIGCHLD on the loop (reaper.h). */
#include "reaper.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>

struct reaper {
	struct event *sigchld;
	reaper_fn fn;
	void *arg;
};

void reaper_reap(struct reaper *r)
{
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return; /* none exited (0) or no child at all (ECHILD)
			         */
		r->fn(r->arg, pid, status);
	}
}

static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	reaper_reap(arg);
}

struct reaper *reaper_new(struct event_base *base, reaper_fn fn, void *arg,
                          struct insomnia_error *err)
{
	struct reaper *r = calloc(1, sizeof *r);

	if (!r) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "cannot watch child processes");
		return NULL;
	}
	r->fn = fn;
	r->arg = arg;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, errno,
		                         "cannot become a child subreaper");
		goto fail;
	}
	r->sigchld = evsignal_new(base, SIGCHLD, on_sigchld, r);
	if (!r->sigchld || evsignal_add(r->sigchld, NULL) < 0) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "cannot watch SIGCHLD on the loop");
		goto fail;
	}
	return r;
fail:
	reaper_free(r);
	return NULL;
}

void reaper_free(struct reaper *r)
{
	if (!r)
		return;
	if (r->sigchld)
		event_free(r->sigchld);
	free(r);
}
