/* proctree: start times read whatever a command is named, and processes
 * found by their token wherever they moved, strangers left alone.
 *
 * The test process is a child subreaper, so a daemon that double-forked
 * away comes back to it and its death is seen by waitpid, not by a
 * sleep.  Every token holds this test's pid: other tests and other
 * users' pods on the machine never carry it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proctree.h"
#include "tmpdir.h"

static struct tmpdir tmp;

static void setup(void)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	tmpdir_make(&tmp, "proctree");
}

static void teardown(void)
{
	tmpdir_remove(&tmp);
	/* nothing of ours may be left: a test that left one failed */
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a process was left");
	cr_assert_eq(errno, ECHILD);
}

TestSuite(proctree, .init = setup, .fini = teardown, .timeout = 30);

/* "<test pid>-<tag>/<name>": a token no other test carries. */
static const char *token(const char *tag, const char *name)
{
	static char buf[PROCTREE_TOKEN_MAX];
	char session[64];

	snprintf(session, sizeof session, "t%ld-%s", (long)getpid(), tag);
	proctree_token(buf, sizeof buf, session, "1.1", name);
	return buf;
}

/* Run argv (path: prog) with only PATH and, when tok is not NULL, the
 * token in its environment, and fd 3 the write end out3 (or none).
 * Returns once it has exec'd: a close-on-exec pipe says so. */
static pid_t run(const char *prog, char *const argv[], const char *tok,
                 int out3)
{
	char var[PROCTREE_TOKEN_MAX + 32];
	char *envp[] = {"PATH=/usr/bin:/bin", tok ? var : NULL, NULL};
	int sync[2];
	char c;
	pid_t pid;

	snprintf(var, sizeof var, "%s=%s", PROCTREE_TOKEN_VAR, tok ? tok : "");
	cr_assert_eq(pipe2(sync, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* not Criterion's output pipe: a failed test must not wait
		 * on a process it left */
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		/* dup2 onto itself would keep close-on-exec */
		if (out3 == 3 ? fcntl(3, F_SETFD, 0) < 0
		              : out3 >= 0 && dup2(out3, 3) < 0)
			_exit(127);
		execve(prog, argv, envp);
		_exit(127);
	}
	close(sync[1]);
	cr_assert_eq(read(sync[0], &c, 1), 0, "no exec");
	close(sync[0]);
	return pid;
}

static pid_t run_sleep(const char *tok)
{
	char *argv[] = {"sleep", "1000", NULL};

	return run("/bin/sleep", argv, tok, -1);
}

static void assert_killed(pid_t pid, int sig)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == sig,
	          "pid %d: status 0x%x, not killed by signal %d", pid, status,
	          sig);
}

/* Alive and untouched: a SIGKILL sent earlier would be what ends it,
 * this SIGTERM is. */
static void assert_untouched(pid_t pid)
{
	cr_assert_eq(kill(pid, SIGTERM), 0);
	assert_killed(pid, SIGTERM);
}

static uint64_t now_ticks(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * (uint64_t)sysconf(_SC_CLK_TCK) +
	       (uint64_t)ts.tv_nsec * (uint64_t)sysconf(_SC_CLK_TCK) /
	           1000000000u;
}

/* comm "a) R 1 2 3 4 5": a parser that stops at the first ')' reads the
 * name's fake fields and not the kernel's. */
Test(proctree, start_time_is_read_after_the_last_paren_of_the_name)
{
	const char *name = "a) R 1 2 3 4 5";
	char link[128], comm[64] = "", path[64];
	char *argv[] = {(char *)name, "1000", NULL};
	uint64_t mine, its, again;
	pid_t pid;
	FILE *f;

	snprintf(link, sizeof link, "%s/%s", tmp.path, name);
	cr_assert_eq(symlink("/bin/sleep", link), 0);
	pid = run(link, argv, NULL, -1);
	snprintf(path, sizeof path, "/proc/%d/comm", pid);
	f = fopen(path, "re");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(comm, sizeof comm, f));
	fclose(f);
	cr_assert_str_eq(comm, "a) R 1 2 3 4 5\n", "the trap was not set");

	cr_assert_eq(proctree_start_time(getpid(), &mine), 0);
	cr_assert_eq(proctree_start_time(pid, &its), 0, "%s", strerror(errno));
	cr_assert_eq(proctree_start_time(pid, &again), 0);
	cr_assert_eq(its, again);
	cr_assert(mine <= its && its <= now_ticks(),
	          "start time %llu not between ours %llu and now",
	          (unsigned long long)its, (unsigned long long)mine);
	kill(pid, SIGKILL);
	assert_killed(pid, SIGKILL);
}

Test(proctree, start_time_of_no_process_fails_with_enoent)
{
	uint64_t t;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(proctree_start_time(pid, &t), -1);
	cr_assert_eq(errno, ENOENT);
}

/* Read "<pid>\n" from fd. */
static pid_t read_pid(int fd)
{
	char buf[32];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof buf - 1 && (n = read(fd, buf + len, 1)) == 1 &&
	       buf[len] != '\n')
		len++;
	buf[len] = '\0';
	return (pid_t)atol(buf);
}

/* sh double-forks a setsid() daemon that tells its pid on fd 3, then
 * exits: the daemon is in another session and group, its parent gone. */
static pid_t start_daemon(const char *tok, pid_t *sh)
{
	char *argv[] = {"sh", "-c",
	                "(setsid sh -c 'echo $$ >&3; exec sleep 1000' &)",
	                NULL};
	int p[2], status;
	pid_t daemon;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	*sh = run("/bin/sh", argv, tok, p[1]);
	close(p[1]);
	daemon = read_pid(p[0]);
	close(p[0]);
	cr_assert_gt(daemon, 0);
	cr_assert_eq(waitpid(*sh, &status, 0), *sh);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_neq(getsid(daemon), getsid(0), "the daemon did not setsid");
	return daemon;
}

/* Reap the subshell the double fork left (it exits by itself). */
static void reap_rest(void)
{
	while (waitpid(-1, NULL, 0) > 0)
		;
}

Test(proctree, a_setsid_daemon_is_found_by_its_token_and_a_stranger_is_not)
{
	const char *tok = token("d", "web");
	pid_t sh, daemon = start_daemon(tok, &sh);
	pid_t stranger = run_sleep(NULL);
	size_t n = 0;

	cr_assert_eq(proctree_signal_marked(tok, SIGKILL, &n), 0);
	cr_assert_eq(n, 1, "signalled %zu", n);
	assert_killed(daemon, SIGKILL);
	assert_untouched(stranger);
	reap_rest();
}

/* A whole token names one process: "<s>/web" is not "<s>/web2"'s; the
 * session with its '/' names them all, and no other session's. */
Test(proctree, a_token_is_exact_and_a_session_prefix_takes_all_of_it)
{
	char session[PROCTREE_TOKEN_MAX];
	pid_t web = run_sleep(token("p", "web"));
	pid_t web2 = run_sleep(token("p", "web2"));
	pid_t other = run_sleep(token("q", "web"));
	size_t n = 0;

	cr_assert_eq(proctree_signal_marked(token("p", "web"), SIGKILL, &n), 0);
	cr_assert_eq(n, 1);
	assert_killed(web, SIGKILL);

	snprintf(session, sizeof session, "t%ld-p/", (long)getpid());
	cr_assert_eq(proctree_signal_marked(session, SIGKILL, &n), 0);
	cr_assert_eq(n, 1);
	assert_killed(web2, SIGKILL);
	assert_untouched(other);
}

/* Only a value that starts with the prefix: not one merely containing
 * it, nor a variable whose name ends like ours. */
Test(proctree, the_token_must_start_the_value_of_the_variable_itself)
{
	char tok[2 * PROCTREE_TOKEN_MAX], session[PROCTREE_TOKEN_MAX];
	pid_t inside, pid;
	size_t n = 7;

	snprintf(session, sizeof session, "t%ld-x/", (long)getpid());
	snprintf(tok, sizeof tok, "zz%sweb", session);
	inside = run_sleep(tok);
	cr_assert_eq(proctree_signal_marked(session, SIGKILL, &n), 0);
	cr_assert_eq(n, 0);
	assert_untouched(inside);

	/* and the signal sent is the one asked for */
	pid = run_sleep(token("x", "web"));
	cr_assert_eq(proctree_signal_marked(session, SIGTERM, &n), 0);
	cr_assert_eq(n, 1);
	assert_killed(pid, SIGTERM);
}

Test(proctree, an_empty_prefix_is_refused)
{
	size_t n = 3;

	cr_assert_eq(proctree_signal_marked("", SIGKILL, &n), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(n, 0);
}

/* A large environment (read in pieces) with the token last; each entry
 * under the kernel's 128 KiB limit for one string. */
#define BIG_ENTRY 60000
Test(proctree, the_token_is_found_after_a_large_environment)
{
	char *big = malloc(BIG_ENTRY), var[PROCTREE_TOKEN_MAX + 32];
	char *argv[] = {"sleep", "1000", NULL};
	char *envp[] = {big, big, big, big, var, NULL};
	int sync[2];
	size_t n = 0;
	char c;
	pid_t pid;

	cr_assert_not_null(big);
	memcpy(big, "BIG=", 4);
	memset(big + 4, 'x', BIG_ENTRY - 5);
	big[BIG_ENTRY - 1] = '\0';
	snprintf(var, sizeof var, "%s=%s", PROCTREE_TOKEN_VAR,
	         token("b", "web"));
	cr_assert_eq(pipe2(sync, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(1); /* not Criterion's output pipe */
		close(2);
		execve("/bin/sleep", argv, envp);
		_exit(127);
	}
	free(big);
	close(sync[1]);
	cr_assert_eq(read(sync[0], &c, 1), 0);
	close(sync[0]);
	cr_assert_eq(proctree_signal_marked(token("b", "web"), SIGKILL, &n), 0);
	cr_assert_eq(n, 1);
	assert_killed(pid, SIGKILL);
}

/* ---- one process: its parent, its token ---------------------------- */

/* comm "x) R 77 ": the parent is read after the last paren; a child of
 * ours has us, and the daemon a double fork left is reparented to us,
 * the subreaper. */
Test(proctree, the_parent_is_read_after_the_name_and_follows_reparenting)
{
	const char *name = "x) R 77 ";
	char link[128];
	char *argv[] = {(char *)name, "1000", NULL};
	pid_t child, sh, daemon;

	snprintf(link, sizeof link, "%s/%s", tmp.path, name);
	cr_assert_eq(symlink("/bin/sleep", link), 0);
	child = run(link, argv, NULL, -1);
	cr_assert_eq(proctree_parent(child), getpid());

	daemon = start_daemon(NULL, &sh);
	cr_assert_eq(proctree_parent(daemon), getpid(),
	             "the daemon's parent is %d", proctree_parent(daemon));
	kill(daemon, SIGKILL);
	assert_killed(daemon, SIGKILL);
	kill(child, SIGKILL);
	assert_killed(child, SIGKILL);
	reap_rest();
}

Test(proctree, a_gone_process_has_no_parent)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	cr_assert_eq(proctree_parent(pid), 0);
	cr_assert_eq(proctree_parent(0), 0);
	cr_assert_eq(proctree_parent(1), 0, "pid 1 has no parent");
}

/* The whole value: a prefix of it, or a longer one, is another token. */
Test(proctree, a_token_is_carried_only_when_the_whole_value_matches)
{
	char longer[PROCTREE_TOKEN_MAX + 8], shorter[PROCTREE_TOKEN_MAX];
	const char *tok = token("h", "web");
	pid_t marked = run_sleep(tok), plain = run_sleep(NULL);

	snprintf(longer, sizeof longer, "%s2", tok);
	snprintf(shorter, sizeof shorter, "%.*s", (int)strlen(tok) - 1, tok);
	cr_assert(proctree_has_token(marked, tok));
	cr_assert_not(proctree_has_token(marked, longer));
	cr_assert_not(proctree_has_token(marked, shorter));
	cr_assert_not(proctree_has_token(marked, ""));
	cr_assert_not(proctree_has_token(plain, tok));
	kill(marked, SIGKILL);
	assert_killed(marked, SIGKILL);
	cr_assert_not(proctree_has_token(marked, tok), "a gone process");
	assert_untouched(plain);
}
