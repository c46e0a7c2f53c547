/* childstart.h: starting a child process correctly, the one way the
 * client (its launch monitor, which starts the pod) and the pod (which
 * starts its processes) both do it.
 *
 * The child gets exactly the descriptors it is given (every other one is
 * closed), default signal dispositions and an empty signal mask whatever
 * the caller did, its own process group or session, optionally a parent-
 * death signal, a working directory and an environment.  Starting costs
 * the same whatever the caller's size (no page tables are copied: the
 * child shares the caller's memory until it execs, as vfork and
 * posix_spawn do).  A failure before exec (chdir, exec itself) is
 * reported as such, naming the step and errno, never as an exit status. */
#ifndef INSOMNIA_CHILDSTART_H
#define INSOMNIA_CHILDSTART_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

enum childstart_group {
	CHILDSTART_NEW_SESSION, /* setsid(): session, group id == pid */
	CHILDSTART_NEW_GROUP,   /* setpgid(0, 0): group id == pid */
};

/* What failed before the child could exec (childstart()'s *step). */
enum childstart_step {
	CHILDSTART_STEP_NONE,
	CHILDSTART_STEP_CLONE, /* in the caller: no child */
	CHILDSTART_STEP_SETUP, /* session/group, fds, signals, death signal */
	CHILDSTART_STEP_CHDIR,
	CHILDSTART_STEP_EXEC,
	/* in the caller, want_pidfd: no pidfd could be had (Linux < 5.3);
	 * the child was killed with its group and reaped */
	CHILDSTART_STEP_PIDFD,
};

struct childstart_spec {
	/* Executable: a path, or a bare name searched in PATH (of envp when
	 * given, else the caller's), as execvp does. */
	const char *path;
	char *const *argv; /* NULL-terminated */
	char *const *envp; /* the whole environment; NULL: the caller's */
	const char *cwd;   /* NULL: the caller's */
	/* The child's descriptors 0..nfds-1: fds[i] becomes fd i (the
	 * caller's descriptor is left open in the caller); -1 puts
	 * /dev/null there (read-only for 0, write-only otherwise).  fds 0-2
	 * beyond nfds are /dev/null too; everything else is closed. */
	const int *fds;
	size_t nfds;
	enum childstart_group group;
	/* PR_SET_PDEATHSIG, or 0.  Sent when the calling THREAD ends. */
	int death_signal;
	bool want_pidfd; /* fill *pidfd (close-on-exec) */
	/* NULL, or one of envp's strings, "NAME=" followed by room for
	 * CHILDSTART_PID_DIGITS digits and a NUL: the child writes its own
	 * pid there just before exec (LISTEN_PID, which only the child
	 * knows in time).  The child shares the caller's memory until it
	 * execs (CLONE_VM), so it writes the CALLER's buffer: the caller
	 * owns it, and it may not be shared with another childstart running
	 * at the same time (another thread); after childstart returns it
	 * holds the child's pid, or whatever the child wrote before
	 * failing. */
	char *pid_env;
};

/* Room pid_env needs after its '=' (the longest 64-bit number), NUL
 * not counted. */
#define CHILDSTART_PID_DIGITS 20

/* Remember, for every child started after this call, the umask and the
 * soft RLIMIT_NOFILE the process has now, and give them back to each
 * child: a daemon (the pod) that tightens its own umask and raises its
 * own descriptor limit once at start-up still starts its children with
 * what it was started with.  Call it first thing in main(), before any
 * thread; a process that never calls it starts children with its current
 * umask and limits, as exec would.  (Process-wide on purpose: these two
 * are process-wide too.) */
void childstart_remember_inherited(void);

/* Start the child.  0 with *pid (and *pidfd when asked); -1 with err:
 * INSOMNIA_ERR_LAUNCH_FAILED, message naming the step and the program
 * ("cannot execute redis-server: No such file or directory", "cannot use
 * working directory /x: ..."), err->errnum the errno.  *step (may be NULL)
 * tells which step failed.  A child that failed is already reaped. */
int childstart(const struct childstart_spec *spec, pid_t *pid, int *pidfd,
               enum childstart_step *step, struct insomnia_error *err);

#endif
