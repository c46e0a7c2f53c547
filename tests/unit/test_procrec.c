/* procrec: the process records of a runtime dir, and a reaper's kill of
 * what a dead pod's processes left, never a stranger's.
 *
 * The test process is a child subreaper, so group members whose leader
 * died come back to it and their deaths are seen by waitpid. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "procrec.h"
#include "rundir.h"
#include "tmpdir.h"

static struct tmpdir tmp;

static void setup(void)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	tmpdir_make(&tmp, "procrec");
}

static void teardown(void)
{
	tmpdir_remove(&tmp);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a process was left");
	cr_assert_eq(errno, ECHILD);
}

TestSuite(procrec, .init = setup, .fini = teardown, .timeout = 30);

static struct procrec record(const char *name, pid_t pid, pid_t pgid,
                             uint64_t start)
{
	struct procrec r = {.pid = pid, .pgid = pgid, .start_time = start};
	char session[64];

	snprintf(r.name, sizeof r.name, "%s", name);
	snprintf(session, sizeof session, "t%ld", (long)getpid());
	proctree_token(r.token, sizeof r.token, session, "1.1", name);
	return r;
}

static int collect(const struct procrec *r, void *arg)
{
	struct procrec *out = arg;

	out[0] = *r;
	out[1].pid++; /* the count */
	return 0;
}

static bool exists(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

Test(procrec, a_record_reads_back_as_written_from_a_private_dir)
{
	struct procrec r = record("web", 42, 41, 123456789012ull), got[2] = {0};
	struct insomnia_error err;
	struct stat st;
	char *text;

	cr_assert_eq(procrec_write(tmp.fd, &r, &err), 0, "%s", err.message);
	cr_assert_eq(fstatat(tmp.fd, PROCREC_DIR, &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	cr_assert_eq(procrec_each(tmp.fd, collect, got), 0);
	cr_assert_eq(got[1].pid, 1, "%d records", got[1].pid);
	cr_assert_str_eq(got[0].name, "web");
	cr_assert_eq(got[0].pid, 42);
	cr_assert_eq(got[0].pgid, 41);
	cr_assert_eq(got[0].start_time, 123456789012ull);
	cr_assert_str_eq(got[0].token, r.token);
	/* the format docs/runtime-dir.md gives, byte for byte */
	cr_assert_eq(fd_read_file_at(tmp.fd, "procs/web", 4096, &text, NULL),
	             0);
	cr_assert(strstr(text, "\"start_time\":123456789012"), "%s", text);
	free(text);

	procrec_remove(tmp.fd, "web");
	got[1].pid = 0;
	cr_assert_eq(procrec_each(tmp.fd, collect, got), 0);
	cr_assert_eq(got[1].pid, 0, "the record was not removed");
	procrec_remove_all(tmp.fd);
	cr_assert_not(exists(tmp.fd, PROCREC_DIR));
}

Test(procrec, no_procs_dir_means_no_record)
{
	struct procrec got[2] = {0};

	cr_assert_eq(procrec_each(tmp.fd, collect, got), 0);
	cr_assert_eq(got[1].pid, 0);
}

/* A name with a path in it is refused before anything is written. */
Test(procrec, a_hostile_name_is_refused)
{
	struct procrec r = record("web", 42, 42, 1);
	struct insomnia_error err;

	snprintf(r.name, sizeof r.name, "../lock");
	snprintf(r.token, sizeof r.token, "s/../lock");
	cr_assert_eq(procrec_write(tmp.fd, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_NAME);
	cr_assert_not(exists(tmp.fd, PROCREC_DIR));
	cr_assert_not(exists(tmp.fd, "lock"));
}

static void put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(fd_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

/* Files a pod never writes are skipped: a name it would refuse, a token
 * that is not "<session>/<its name>" (an empty one would match every
 * pod's processes), a value out of range, a FIFO (never waited on). */
Test(procrec, records_a_pod_never_writes_are_skipped)
{
	struct procrec r = record("ok", 42, 42, 1), got[2] = {0};
	struct insomnia_error err;
	int dirfd;

	cr_assert_eq(procrec_write(tmp.fd, &r, &err), 0, "%s", err.message);
	dirfd = openat(tmp.fd, PROCREC_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd, 0);
	put(dirfd, "..x",
	    "{\"pid\":5,\"pgid\":5,\"start_time\":1,\"token\":\"s/..x\"}");
	put(dirfd, "empty",
	    "{\"pid\":5,\"pgid\":5,\"start_time\":1,"
	    "\"token\":\"\"}");
	put(dirfd, "other",
	    "{\"pid\":5,\"pgid\":5,\"start_time\":1,"
	    "\"token\":\"s/web\"}");
	put(dirfd, "nosess",
	    "{\"pid\":5,\"pgid\":5,\"start_time\":1,"
	    "\"token\":\"/nosess\"}");
	put(dirfd, "neg",
	    "{\"pid\":-1,\"pgid\":5,\"start_time\":1,"
	    "\"token\":\"s/neg\"}");
	put(dirfd, "nul",
	    "{\"pid\":5,\"pgid\":5,\"start_time\":1,"
	    "\"token\":\"s/\\u0000/nul\"}");
	put(dirfd, "junk", "not json");
	cr_assert_eq(mkfifoat(dirfd, "fifo", 0600), 0);
	cr_assert_eq(procrec_each(tmp.fd, collect, got), 0);
	cr_assert_eq(got[1].pid, 1, "%d records read", got[1].pid);
	cr_assert_str_eq(got[0].name, "ok");
	close(dirfd);
}

/* A symlink where the dir goes points elsewhere: refused, not followed. */
Test(procrec, a_symlinked_procs_dir_is_refused)
{
	struct procrec r = record("web", 42, 42, 1), got[2] = {0};
	struct insomnia_error err;

	cr_assert_eq(mkdirat(tmp.fd, "elsewhere", 0700), 0);
	cr_assert_eq(symlinkat("elsewhere", tmp.fd, PROCREC_DIR), 0);
	cr_assert_eq(procrec_write(tmp.fd, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_RUNTIME_DIR, "%s", err.message);
	cr_assert_not(exists(tmp.fd, "elsewhere/web"));
	put(tmp.fd, "elsewhere/web",
	    "{\"pid\":5,\"pgid\":5,\"start_time\":1,\"token\":\"s/web\"}");
	cr_assert_eq(procrec_each(tmp.fd, collect, got), 0);
	cr_assert_eq(got[1].pid, 0, "a record read through a symlink");
}

/* A group leader (own group) with a member that waits; both wait
 * forever.  The member's pid comes back through a pipe. */
static pid_t start_group(pid_t *member)
{
	int p[2];
	pid_t leader;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	leader = fork();
	cr_assert_geq(leader, 0);
	if (leader == 0) {
		pid_t child;
		close(1); /* not Criterion's output pipe */
		close(2);
		if (setpgid(0, 0) < 0)
			_exit(1);
		child = fork();
		if (child == 0)
			for (;;)
				pause();
		fd_write_all(p[1], &child, sizeof child);
		for (;;)
			pause();
	}
	close(p[1]);
	cr_assert_eq(read(p[0], member, sizeof *member),
	             (ssize_t)sizeof *member);
	close(p[0]);
	return leader;
}

static void assert_killed(pid_t pid, int sig)
{
	int status;

	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == sig,
	          "pid %d: status 0x%x, not killed by signal %d", pid, status,
	          sig);
}

Test(procrec, kill_remains_kills_the_group_its_recorded_leader_leads)
{
	pid_t member, leader = start_group(&member);
	struct insomnia_error err;
	struct procrec r;
	uint64_t start;

	cr_assert_eq(proctree_start_time(leader, &start), 0);
	r = record("web", leader, leader, start);
	cr_assert_eq(procrec_write(tmp.fd, &r, &err), 0, "%s", err.message);
	procrec_kill_remains(tmp.fd, &r);
	assert_killed(leader, SIGKILL);
	/* the member carries no token: only the group kill reached it */
	assert_killed(member, SIGKILL);
	cr_assert_not(exists(tmp.fd, "procs/web"), "the record stayed");
}

/* The recorded pid, alive, but started at another time: a stranger that
 * reused the pid.  Neither it nor its group is touched. */
Test(procrec, kill_remains_spares_a_stranger_with_the_recorded_pid)
{
	pid_t member, leader = start_group(&member);
	struct insomnia_error err;
	struct procrec r;
	uint64_t start;

	cr_assert_eq(proctree_start_time(leader, &start), 0);
	r = record("web", leader, leader, start + 1);
	cr_assert_eq(procrec_write(tmp.fd, &r, &err), 0, "%s", err.message);
	procrec_kill_remains(tmp.fd, &r);
	cr_assert_not(exists(tmp.fd, "procs/web"), "the record stayed");
	/* a SIGKILL sent earlier would end them first; this SIGTERM does */
	cr_assert_eq(kill(-leader, SIGTERM), 0);
	assert_killed(leader, SIGTERM);
	assert_killed(member, SIGTERM);
}

/* sh -c script in a group of its own, the token in its environment, fd 3
 * the write end out3; returns once it has exec'd. */
static pid_t run_sh(const char *script, const char *tok, int out3)
{
	char var[PROCTREE_TOKEN_MAX + 32];
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", var, NULL};
	int sync[2], null;
	char c;
	pid_t pid;

	snprintf(var, sizeof var, "%s=%s", PROCTREE_TOKEN_VAR, tok);
	cr_assert_eq(pipe2(sync, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* not Criterion's output pipe */
		null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    setpgid(0, 0) < 0)
			_exit(127);
		/* dup2 onto itself would keep close-on-exec */
		if (out3 == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(out3, 3) < 0)
			_exit(127);
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	close(sync[1]);
	cr_assert_eq(read(sync[0], &c, 1), 0, "no exec");
	close(sync[0]);
	return pid;
}

/* Read two pids sent as "<tag><pid>\n" in any order: the one tagged
 * 'p' into *plain, 'm' into *marked. */
static void read_pids(int fd, pid_t *plain, pid_t *marked)
{
	char buf[32];
	size_t len;

	*plain = *marked = 0;
	for (int i = 0; i < 2; i++) {
		len = 0;
		while (len < sizeof buf - 1 && read(fd, buf + len, 1) == 1 &&
		       buf[len] != '\n')
			len++;
		buf[len] = '\0';
		if (buf[0] == 'p')
			*plain = (pid_t)atol(buf + 1);
		else if (buf[0] == 'm')
			*marked = (pid_t)atol(buf + 1);
	}
	cr_assert(*plain > 0 && *marked > 0);
}

/* The recorded leader is gone: its group's id may be anyone's pipeline's
 * soon, so no group kill; only the member carrying the token dies. */
Test(procrec, a_leaderless_group_loses_only_its_members_with_the_token)
{
	/* the plain member tells its pid only once it runs without
	 * the token: before its exec it still carried it */
	const char *script = "env -u " PROCTREE_TOKEN_VAR
	                     " sh -c 'echo p$$ >&3; exec sleep 1000' & "
	                     "sleep 1000 & echo m$! >&3";
	struct procrec r = record("web", 1, 1, 0);
	pid_t leader, plain, marked;
	struct insomnia_error err;
	int p[2], status;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	leader = run_sh(script, r.token, p[1]);
	close(p[1]);
	read_pids(p[0], &plain, &marked);
	close(p[0]);
	cr_assert_eq(proctree_start_time(leader, &r.start_time), 0);
	r.pid = r.pgid = leader;
	cr_assert_eq(waitpid(leader, &status, 0), leader);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(getpgid(plain), leader, "not in the group");
	cr_assert_eq(procrec_write(tmp.fd, &r, &err), 0, "%s", err.message);
	procrec_kill_remains(tmp.fd, &r);
	assert_killed(marked, SIGKILL);
	cr_assert_eq(kill(plain, SIGTERM), 0);
	assert_killed(plain, SIGTERM);
}

/* What is not a record keeps the dir (rundir then keeps the pod's dir
 * and says why); records and a crash's temporaries go. */
Test(procrec, remove_all_keeps_a_dir_holding_what_is_not_a_record)
{
	struct procrec r = record("web", 42, 42, 1);
	struct insomnia_error err;
	int dirfd;

	cr_assert_eq(procrec_write(tmp.fd, &r, &err), 0, "%s", err.message);
	dirfd = openat(tmp.fd, PROCREC_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd, 0);
	put(dirfd, ".web.tmp.1.2", "");
	cr_assert_eq(mkdirat(dirfd, "theirs", 0700), 0);
	cr_assert_eq(rundir_remove_entry(tmp.fd, PROCREC_DIR), -1);
	cr_assert_eq(errno, ENOTEMPTY);
	cr_assert_not(exists(dirfd, "web"));
	cr_assert_not(exists(dirfd, ".web.tmp.1.2"));
	cr_assert(exists(dirfd, "theirs"));
	cr_assert_eq(unlinkat(dirfd, "theirs", AT_REMOVEDIR), 0);
	close(dirfd);
	cr_assert_eq(rundir_remove_entry(tmp.fd, PROCREC_DIR), 0);
	cr_assert_not(exists(tmp.fd, PROCREC_DIR));
}
