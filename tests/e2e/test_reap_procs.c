/* End-to-end: `reap` after a pod was SIGKILLed kills what its processes
 * left (docs/runtime-dir.md, "Process records"): every group whose
 * recorded leader still lives, every setsid() daemon carrying a token of
 * the pod's session, a process the pod had no time to record; and never
 * a stranger holding a recorded pid, nor another pod's process.
 *
 * The dead pod is simulated the way one is left: its dir with a
 * state.json naming its session, a `lock` nobody holds, and procs/
 * records the test writes for processes it started as the pod would
 * have (own group, token in the environment).  The harness makes the
 * test a child subreaper: every death is seen by waitpid. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "procrec.h"
#include "proctree.h"
#include "rundir.h"
#include "statefile.h"
#include <insomnia/reap.h>

TestSuite(reap_procs, .init = e2e_setup, .fini = e2e_teardown, .timeout = 60);

/* A session id of this test only: processes of other tests never carry
 * it. */
static const char *session(unsigned tag)
{
	static char ids[4][INSOMNIA_SESSION_ID_MAX];

	snprintf(ids[tag], sizeof ids[tag], "%08x-0000-4000-8000-%012x",
	         (unsigned)getpid(), tag);
	return ids[tag];
}

/* Run /bin/sh -c script in a group of its own with (when tok is not
 * NULL) the token in its environment and fd 3 the write end out3 (or
 * none); returns once it has exec'd. */
static pid_t run(const char *script, const char *tok, int out3)
{
	char var[PROCTREE_TOKEN_MAX + 32];
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", tok ? var : NULL, NULL};
	int sync[2], null;
	char c;
	pid_t pid;

	snprintf(var, sizeof var, "%s=%s", PROCTREE_TOKEN_VAR, tok ? tok : "");
	cr_assert_eq(pipe2(sync, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* not Criterion's output pipe: a failed test must not wait
		 * on a process it left */
		null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    setpgid(0, 0) < 0)
			_exit(127);
		/* dup2 onto itself would keep close-on-exec */
		if (out3 == 3 ? fcntl(3, F_SETFD, 0) < 0
		              : out3 >= 0 && dup2(out3, 3) < 0)
			_exit(127);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	close(sync[1]);
	cr_assert_eq(read(sync[0], &c, 1), 0, "no exec");
	close(sync[0]);
	return pid;
}

/* Read "<pid>\n" from fd. */
static pid_t read_pid(int fd)
{
	char buf[32];
	size_t len = 0;

	while (len < sizeof buf - 1 && read(fd, buf + len, 1) == 1 &&
	       buf[len] != '\n')
		len++;
	buf[len] = '\0';
	return (pid_t)atol(buf);
}

/* What a pod's process "web" may leave: its leader, a member of its
 * group without the token (only the group kill reaches it), and a
 * double-forked setsid() daemon in a session of its own. */
struct web {
	pid_t leader, member, daemon;
};

static struct web start_web(const char *tok)
{
	const char *script =
	    "env -u " PROCTREE_TOKEN_VAR " sleep 1000 & echo $! >&3; "
	    "(setsid sh -c 'echo $$ >&3; exec sleep 1000' &); "
	    "exec sleep 1000";
	struct web w;
	int p[2];

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	w.leader = run(script, tok, p[1]);
	close(p[1]);
	w.member = read_pid(p[0]);
	w.daemon = read_pid(p[0]);
	close(p[0]);
	cr_assert(w.member > 0 && w.daemon > 0);
	cr_assert_eq(getpgid(w.member), w.leader);
	cr_assert_neq(getsid(w.daemon), getsid(w.leader),
	              "the daemon did not setsid");
	return w;
}

/* <root>/<name>/ as a SIGKILLed pod leaves it: state.json naming its
 * session (its pid a dead one's), no live `lock` holder.  The dir fd. */
static int make_dead_pod(const char *name, const char *session_id)
{
	struct statefile sf = {.known = STATEFILE_RUNNING};
	struct insomnia_error err;
	char root[4096];
	time_t now = time(NULL);
	int rootfd = rundir_open_root(true, root, sizeof root, &err), dirfd;
	pid_t dead = fork();

	cr_assert_geq(dead, 0);
	if (dead == 0)
		_exit(0);
	cr_assert_eq(waitpid(dead, NULL, 0), dead);
	cr_assert_geq(rootfd, 0, "%s", err.message);
	cr_assert_eq(mkdirat(rootfd, name, 0700), 0);
	dirfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd, 0);
	close(rootfd);
	snprintf(sf.name, sizeof sf.name, "%s", name);
	sf.pid = sf.pgid = dead;
	snprintf(sf.session_id, sizeof sf.session_id, "%s", session_id);
	snprintf(sf.socket, sizeof sf.socket, "%s", e2e_rundir(name, "sock"));
	strftime(sf.started_at, sizeof sf.started_at, "%Y-%m-%dT%H:%M:%SZ",
	         gmtime(&now));
	snprintf(sf.state, sizeof sf.state, "running");
	cr_assert_eq(statefile_write(dirfd, &sf, &err), 0, "%s", err.message);
	return dirfd;
}

static void write_record(int dirfd, const char *name, const char *session_id,
                         pid_t pid, int start_skew)
{
	struct procrec r = {.pid = pid, .pgid = pid};
	struct insomnia_error err;
	uint64_t start;

	cr_assert_eq(proctree_start_time(pid, &start), 0);
	r.start_time = start + (uint64_t)start_skew;
	snprintf(r.name, sizeof r.name, "%s", name);
	proctree_token(r.token, sizeof r.token, session_id, "7.7", name);
	cr_assert_eq(procrec_write(dirfd, &r, &err), 0, "%s", err.message);
}

static void assert_killed(pid_t pid, int sig, const char *what)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid, "%s", what);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == sig,
	          "%s: status 0x%x, not killed by signal %d", what, status,
	          sig);
}

/* Alive and untouched: a SIGKILL sent earlier would be what ends it,
 * this SIGTERM is. */
static void assert_untouched(pid_t pid, const char *what)
{
	cr_assert_eq(kill(pid, SIGTERM), 0, "%s is gone", what);
	assert_killed(pid, SIGTERM, what);
}

static void count_removed(const struct insomnia_reap_report *r, void *arg)
{
	(*(int *)arg) += r->removed;
}

static char token_buf[4][PROCTREE_TOKEN_MAX];

static const char *token(int i, const char *session_id, const char *name)
{
	proctree_token(token_buf[i], sizeof token_buf[i], session_id, "7.7",
	               name);
	return token_buf[i];
}

Test(reap_procs, reap_kills_what_a_killed_pods_processes_left_and_no_more)
{
	const char *sid = session(1), *other_sid = session(2);
	struct web web = start_web(token(0, sid, "web"));
	/* the pod died before it could record this one */
	pid_t api = run("exec sleep 1000", token(1, sid, "api"), -1);
	/* the pid recorded for db now names a stranger (same pid, another
	 * start time) carrying no token */
	pid_t stranger = run("exec sleep 1000", NULL, -1);
	/* another pod's process, the same process name */
	pid_t other = run("exec sleep 1000", token(2, other_sid, "web"), -1);
	/* a later pod of the same session (a resume, live under another
	 * name): same session, same process name, another instance */
	char later_token[PROCTREE_TOKEN_MAX];
	pid_t later;

	proctree_token(later_token, sizeof later_token, sid, "8.8", "web");
	later = run("exec sleep 1000", later_token, -1);
	int dirfd = make_dead_pod("dead", sid), removed = 0, fds;
	struct insomnia_error err;
	struct stat st;

	write_record(dirfd, "web", sid, web.leader, 0);
	write_record(dirfd, "db", sid, stranger, 1);
	close(dirfd);
	fds = e2e_fd_count();

	cr_assert_eq(insomnia_reap(count_removed, &removed, &err), 0, "%s",
	             err.message);
	cr_assert_eq(removed, 1, "the dead pod's dir was not removed");
	cr_assert_eq(stat(e2e_rundir("dead", NULL), &st), -1);
	cr_assert_eq(e2e_fd_count(), fds, "a descriptor leaked");

	assert_killed(web.leader, SIGKILL, "web's leader");
	assert_killed(web.member, SIGKILL, "web's member without token");
	assert_killed(web.daemon, SIGKILL, "web's setsid daemon");
	assert_killed(api, SIGKILL, "api, unrecorded");
	assert_untouched(stranger, "the stranger");
	assert_untouched(other, "another pod's process");
	assert_untouched(later, "a later pod's process of the same session");
	/* the subshell of the double fork, a zombie of web's group */
	while (waitpid(-1, NULL, 0) > 0)
		;
	cr_assert_eq(kill(-web.leader, 0), -1, "web's group is left");
	cr_assert_eq(errno, ESRCH);
}

/* A pod that left no records (killed before its first) and a state.json
 * whose session is empty: reap removes the dir and kills nothing, not
 * even a process whose token has that empty session ("/web"). */
Test(reap_procs, reap_of_a_pod_without_records_or_session_kills_nothing)
{
	pid_t marked = run("exec sleep 1000", token(0, "", "web"), -1);
	int dirfd = make_dead_pod("bare", ""), removed = 0;
	struct insomnia_error err;

	close(dirfd);
	cr_assert_eq(insomnia_reap(count_removed, &removed, &err), 0, "%s",
	             err.message);
	cr_assert_eq(removed, 1);
	assert_untouched(marked, "a process of another session");
}
