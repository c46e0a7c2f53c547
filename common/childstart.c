/* childstart.c: clone(2) with CLONE_VM|CLONE_VFORK, as posix_spawn does,
 * so that starting costs the same whatever the caller's size.
 *
 * The child runs on a stack of its own (mmap'd here) in the caller's
 * memory until it execs; the calling thread is suspended until then.  So
 * the child may only make async-signal-safe calls, and says what failed
 * by writing into the shared struct child, which the caller reads once
 * it resumes.  Every signal is blocked in the caller around clone: the
 * child inherits that mask, so no handler of the caller's can run on the
 * shared memory before the child has put every disposition back to
 * default; only then, just before exec, does it empty its mask. */
#include "childstart.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000 /* Linux 5.2; older kernels ignore it */
#endif

/* The child's frames and one path buffer, with room to spare. */
#define CHILD_STACK_SIZE (64 * 1024 + PATH_MAX)

/* Without close_range(2) the child closes numbers up to this (listing
 * /proc would need malloc, which the child must not call). */
#define CHILD_CLOSE_MAX 65536

/* The child's code runs on a stack ASan does not know and may never
 * return from its frames (exec): it is left uninstrumented, so no
 * redzone poisoning outlives the stack. */
#if defined(__SANITIZE_ADDRESS__)
#define CHILD_CODE __attribute__((no_sanitize_address, noinline))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHILD_CODE __attribute__((no_sanitize_address, noinline))
#endif
#endif
#ifndef CHILD_CODE
#define CHILD_CODE __attribute__((noinline))
#endif

extern char **environ;

/* What childstart_remember_inherited() saw; read by the child. */
static struct {
	bool set, nofile_set;
	mode_t umask;
	rlim_t nofile;
} inherited;

/* Shared by the caller and the child (CLONE_VM). */
struct child {
	const struct childstart_spec *spec;
	char *const *envp;
	const char *search; /* PATH to search, or NULL: spec->path as is */
	pid_t parent;       /* the caller, for the death-signal check */
	int nfds;           /* at least 3: fds 0-2 always exist */
	int *moved;         /* nfds slots: sources above every target */
	volatile int step;  /* enum childstart_step, set on failure */
	volatile int errnum;
};

/* ---- in the child: async-signal-safe calls only -------------------- */

CHILD_CODE static void child_fail(struct child *c, enum childstart_step step,
                                  int errnum)
{
	c->errnum = errnum ? errnum : EIO;
	c->step = (int)step;
	_exit(127);
}

CHILD_CODE static void child_group(struct child *c)
{
	int rc = c->spec->group == CHILDSTART_NEW_SESSION ? (int)setsid()
	                                                  : setpgid(0, 0);

	if (rc < 0)
		child_fail(c, CHILDSTART_STEP_SETUP, errno);
}

/* A parent dead before the prctl would never send the signal: it is
 * checked after, against the pid captured before clone. */
CHILD_CODE static void child_death_signal(struct child *c)
{
	if (!c->spec->death_signal)
		return;
	if (prctl(PR_SET_PDEATHSIG, c->spec->death_signal) < 0)
		child_fail(c, CHILDSTART_STEP_SETUP, errno);
	if (getppid() != c->parent)
		_exit(127); /* nobody left to report to */
}

CHILD_CODE static void child_signals_default(void)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	/* the C library's reserved ones refuse (EINVAL): exec resets them */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &dfl, NULL);
}

/* /dev/null at fd, read-only for 0, write-only otherwise. */
CHILD_CODE static int child_null_at(int fd)
{
	int n = open("/dev/null", (fd ? O_WRONLY : O_RDONLY) | O_CLOEXEC);

	if (n < 0)
		return -1;
	if (n == fd) /* it was free: only the close-on-exec flag to drop */
		return fcntl(fd, F_SETFD, 0);
	if (dup2(n, fd) < 0)
		return -1;
	close(n);
	return 0;
}

CHILD_CODE static void child_close_from(int lowfd)
{
	struct rlimit rl;
	long max = CHILD_CLOSE_MAX;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)max)
		max = (long)rl.rlim_cur;
	for (long fd = lowfd; fd < max; fd++)
		close((int)fd);
}

/* Every source is first copied above all the targets, so no dup2 of the
 * plan can overwrite a source still to be placed ({5, 4, 3} works). */
CHILD_CODE static void child_fds(struct child *c)
{
	const struct childstart_spec *s = c->spec;

	for (int i = 0; i < c->nfds; i++) {
		int src = (size_t)i < s->nfds ? s->fds[i] : -1;
		c->moved[i] = -1;
		if (src >= 0 &&
		    (c->moved[i] = fcntl(src, F_DUPFD_CLOEXEC, c->nfds)) < 0)
			child_fail(c, CHILDSTART_STEP_SETUP, errno);
	}
	for (int i = 0; i < c->nfds; i++) {
		int rc =
		    c->moved[i] >= 0 ? dup2(c->moved[i], i) : child_null_at(i);
		if (rc < 0)
			child_fail(c, CHILDSTART_STEP_SETUP, errno);
	}
	child_close_from(c->nfds);
}

/* The caller's umask and soft descriptor limit from before it changed
 * them (childstart_remember_inherited).  After the descriptors are
 * closed: the fallback close loop goes up to the current limit.  The
 * soft limit never above the hard one, which may have been lowered. */
CHILD_CODE static void child_inherited(struct child *c)
{
	struct rlimit rl;

	if (!inherited.set)
		return;
	umask(inherited.umask);
	if (!inherited.nofile_set)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		child_fail(c, CHILDSTART_STEP_SETUP, errno);
	rl.rlim_cur =
	    inherited.nofile < rl.rlim_max ? inherited.nofile : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		child_fail(c, CHILDSTART_STEP_SETUP, errno);
}

/* execve, or each "dir/name" of the PATH list as execvp does (an empty
 * entry is the working directory); returns with errno set. */
CHILD_CODE static void child_exec(const struct child *c)
{
	const char *name = c->spec->path, *dir = c->search;
	char buf[PATH_MAX];
	size_t len = strlen(name);
	bool denied = false;

	if (!dir) {
		execve(name, c->spec->argv, c->envp);
		return;
	}
	for (;;) {
		const char *end = strchrnul(dir, ':');
		size_t n = (size_t)(end - dir);
		if (n + len + 2 <= sizeof buf) {
			memcpy(buf, dir, n);
			if (n)
				buf[n++] = '/';
			memcpy(buf + n, name, len + 1);
			execve(buf, c->spec->argv, c->envp);
			if (errno == EACCES)
				denied = true;
			else if (errno != ENOENT && errno != ENOTDIR)
				return; /* found, but it cannot run */
		}
		if (!*end)
			break;
		dir = end + 1;
	}
	errno = denied ? EACCES : ENOENT;
}

/* The child's own pid (the system call: a C library may cache the
 * caller's, whose memory this is) in decimal after pid_env's '='. */
CHILD_CODE static void child_put_pid(char *entry)
{
	char digits[CHILDSTART_PID_DIGITS];
	long pid = (long)syscall(SYS_getpid);
	size_t n = 0;

	while (*entry && *entry != '=')
		entry++;
	if (!*entry)
		return;
	entry++;
	do
		digits[n++] = (char)('0' + pid % 10);
	while ((pid /= 10) > 0 && n < sizeof digits);
	while (n > 0)
		*entry++ = digits[--n];
	*entry = '\0';
}

CHILD_CODE static int child_main(void *arg)
{
	struct child *c = arg;
	sigset_t none;

	child_signals_default();
	child_group(c);
	child_death_signal(c);
	child_fds(c);
	child_inherited(c);
	if (c->spec->pid_env)
		child_put_pid(c->spec->pid_env);
	if (c->spec->cwd && chdir(c->spec->cwd) < 0)
		child_fail(c, CHILDSTART_STEP_CHDIR, errno);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(c, CHILDSTART_STEP_SETUP, errno);
	child_exec(c);
	child_fail(c, CHILDSTART_STEP_EXEC, errno);
	return 127;
}

/* ---- in the caller ---------------------------------------------------- */

void childstart_remember_inherited(void)
{
	struct rlimit rl;

	/* umask has no getter: set it to read it, and put it back */
	inherited.umask = umask(077);
	umask(inherited.umask);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		inherited.nofile = rl.rlim_cur;
		inherited.nofile_set = true;
	}
	inherited.set = true;
}

/* Every signal, the C library's own included (as posix_spawn does): a
 * raw mask, since sigfillset leaves those out. */
static void block_all(sigset_t *old)
{
	sigset_t all;

	memset(&all, 0xff, sizeof all);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, old, _NSIG / 8);
}

static void restore_mask(const sigset_t *old)
{
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, _NSIG / 8);
}

/* The PATH that names without a slash are searched in, else NULL. */
static const char *search_path(const char *path, char *const *envp)
{
	if (strchr(path, '/'))
		return NULL;
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	return "/bin:/usr/bin"; /* execvp's default */
}

static pid_t clone_child(struct child *c, bool want_pidfd, int *pidfd)
{
	int flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
	char *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	sigset_t old;
	pid_t pid;
	int saved;

	if (stack == MAP_FAILED)
		return -1;
	block_all(&old);
	pid = clone(child_main, stack + CHILD_STACK_SIZE,
	            flags | (want_pidfd ? CLONE_PIDFD : 0), c, pidfd);
	if (pid < 0 && want_pidfd && errno == EINVAL) /* Linux < 5.2 */
		pid = clone(child_main, stack + CHILD_STACK_SIZE, flags, c);
	saved = errno;
	restore_mask(&old);
	munmap(stack, CHILD_STACK_SIZE);
	errno = saved;
	return pid;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int failed(const struct childstart_spec *spec, enum childstart_step what,
                  int errnum, enum childstart_step *step,
                  struct insomnia_error *err)
{
	if (step)
		*step = what;
	switch (what) {
	case CHILDSTART_STEP_CHDIR:
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_LAUNCH_FAILED, errnum,
		    "cannot use working directory %s", spec->cwd);
	case CHILDSTART_STEP_EXEC:
		return insomnia_error_set_errno(err, INSOMNIA_ERR_LAUNCH_FAILED,
		                                errnum, "cannot execute %s",
		                                spec->path);
	case CHILDSTART_STEP_SETUP:
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_LAUNCH_FAILED, errnum,
		    "cannot prepare to start %s", spec->path);
	case CHILDSTART_STEP_PIDFD:
		return insomnia_error_set_errno(
		    err, INSOMNIA_ERR_LAUNCH_FAILED, errnum,
		    "cannot follow %s: pidfd_open "
		    "(Linux 5.3 or later is needed)",
		    spec->path);
	default:
		return insomnia_error_set_errno(err, INSOMNIA_ERR_LAUNCH_FAILED,
		                                errnum, "cannot start %s",
		                                spec->path);
	}
}

/* A pidfd the clone did not give (a kernel before 5.2): opened after.
 * Without one the child, whose pid still names it (unreaped), is killed
 * with its group and reaped. */
static int pidfd_after(pid_t pid, int *pidfd)
{
	int saved;

	if (*pidfd >= 0 || (*pidfd = compat_pidfd_open(pid)) >= 0)
		return 0;
	saved = errno;
	kill(-pid, SIGKILL); /* it leads its group */
	reap(pid);
	errno = saved;
	return -1;
}

int childstart(const struct childstart_spec *spec, pid_t *pid, int *pidfd,
               enum childstart_step *step, struct insomnia_error *err)
{
	struct child c = {spec,
	                  spec->envp ? spec->envp : environ,
	                  NULL,
	                  getpid(),
	                  3,
	                  NULL,
	                  CHILDSTART_STEP_NONE,
	                  0};
	int fd = -1;
	pid_t child;

	if (step)
		*step = CHILDSTART_STEP_NONE;
	if (spec->nfds > (size_t)INT_MAX / 2)
		return failed(spec, CHILDSTART_STEP_SETUP, EMFILE, step, err);
	if (spec->nfds > 3)
		c.nfds = (int)spec->nfds;
	c.search = search_path(spec->path, c.envp);
	if (!(c.moved = calloc((size_t)c.nfds, sizeof *c.moved)))
		return failed(spec, CHILDSTART_STEP_CLONE, ENOMEM, step, err);
	child = clone_child(&c, spec->want_pidfd, &fd);
	free(c.moved);
	if (child < 0)
		return failed(spec, CHILDSTART_STEP_CLONE, errno, step, err);
	if (c.errnum) {
		if (fd >= 0)
			close(fd);
		reap(child);
		return failed(spec, (enum childstart_step)c.step, c.errnum,
		              step, err);
	}
	if (spec->want_pidfd && pidfd_after(child, &fd) < 0)
		return failed(spec, CHILDSTART_STEP_PIDFD, errno, step, err);
	*pid = child;
	if (spec->want_pidfd)
		*pidfd = fd;
	return 0;
}
