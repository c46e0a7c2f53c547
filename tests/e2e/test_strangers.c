/* End-to-end: stop and reap never signal a process that is not the pod's
 * (DESIGN.md, "Signals go only where we own them"), even when what the
 * runtime dir says would lead them to one: a held `lock` beside a pid
 * file naming a stranger, or a stale state.json whose group id a
 * stranger's pipeline has since taken. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "harness.h"
#include "livelock.h"
#include <insomnia/reap.h>
#include <insomnia/stop.h>
#include "ready.h"
#include "rundir.h"

TestSuite(strangers, .init = e2e_setup, .fini = e2e_teardown, .timeout = 30);

/* <root>/<name>/, made and opened. */
static int make_pod_dir(const char *name)
{
	char root[4096];
	struct insomnia_error err;
	int rootfd = rundir_open_root(true, root, sizeof root, &err), dirfd;

	cr_assert_geq(rootfd, 0, "%s", err.message);
	cr_assert_eq(mkdirat(rootfd, name, 0700), 0);
	dirfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd, 0);
	close(rootfd);
	return dirfd;
}

static void write_file(int dirfd, const char *name, const char *text)
{
	int fd =
	    openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(fd_write_all(fd, text, strlen(text)), 0);
	close(fd);
}

/* A child of ours that is no pod, leading a group of its own (as a pod
 * would: stop would signal the whole group). */
static pid_t stranger(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		for (;;)
			pause();
	}
	setpgid(pid, pid); /* both sides: no window where it is in ours */
	return pid;
}

/* Still running: not yet waitable.  insomnia_stop waits for the exit of what
 * it signals, so a stranger it killed is waitable by now. */
static bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* Someone (here the test, as a reaper or a spawner would) holds the lock
 * of a pod dir whose pid file names a live stranger. */
Test(strangers, stop_refuses_a_pid_that_does_not_hold_the_lock)
{
	int dirfd = make_pod_dir("held"), lockfd, rc;
	pid_t pid = stranger(), stopped = 0;
	enum insomnia_stop_how how;
	struct insomnia_error err;
	char text[32];

	lockfd = livelock_open(dirfd, RUNDIR_LOCK, true);
	cr_assert_geq(lockfd, 0);
	cr_assert_eq(livelock_try(lockfd), 0);
	snprintf(text, sizeof text, "%ld\n", (long)pid);
	write_file(dirfd, RUNDIR_PID, text);

	rc = insomnia_stop("held", 100, &how, &stopped, &err);

	cr_assert(alive(pid), "stop killed pid %ld, which held no lock",
	          (long)pid);
	cr_assert_eq(rc, -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_NOT_RUNNING, "%s", err.message);
	cr_assert(strstr(err.message, "is not the process holding it"), "%s",
	          err.message);
	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	close(lockfd);
	close(dirfd);
}

struct leaderless {
	pid_t starter; /* a session leader, standing for a login shell */
	pid_t group;   /* its pipeline's group, leader exited */
	pid_t member;  /* the pipeline's process left in that group */
};

/* In the starter, a new session: the pipeline's leader B leads a group,
 * C joins it, B exits.  Reports B and C, then waits to be killed. */
static void run_starter(int report)
{
	pid_t ids[2];
	int status;

	setsid();
	ids[0] = fork();
	if (ids[0] == 0) {
		setpgid(0, 0);
		pause(); /* until its group is set up and it is told to go */
		_exit(0);
	}
	setpgid(ids[0], ids[0]);
	ids[1] = fork();
	if (ids[1] == 0) {
		setpgid(0, ids[0]);
		for (;;)
			pause();
	}
	setpgid(ids[1], ids[0]);
	kill(ids[0], SIGKILL);
	waitpid(ids[0], &status, 0);
	fd_write_all(report, ids, sizeof ids);
	for (;;)
		pause();
}

static struct leaderless leaderless_group(void)
{
	struct leaderless l;
	pid_t ids[2];
	int pipefd[2];

	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	l.starter = fork();
	cr_assert_geq(l.starter, 0);
	if (l.starter == 0)
		run_starter(pipefd[1]);
	close(pipefd[1]);
	cr_assert_eq(read(pipefd[0], ids, sizeof ids), (ssize_t)sizeof ids);
	close(pipefd[0]);
	l.group = ids[0];
	l.member = ids[1];
	return l;
}

static void count_reaped(const struct insomnia_reap_report *r, void *arg)
{
	(*(int *)arg) += r->removed;
}

/* A dead pod's state.json from long ago, recording pid = pgid = P; P has
 * since led a pipeline's group in another session and exited. */
Test(strangers, reap_never_kills_a_leaderless_group_of_another_session)
{
	struct leaderless l = leaderless_group();
	int dirfd = make_pod_dir("ghost"), removed = 0, status;
	struct insomnia_error err;
	char json[256];

	snprintf(json, sizeof json,
	         "{\"name\":\"ghost\",\"pid\":%ld,\"pgid\":%ld,"
	         "\"state\":\"running\"}",
	         (long)l.group, (long)l.group);
	write_file(dirfd, RUNDIR_STATE, json);
	close(dirfd);

	cr_assert_eq(insomnia_reap(count_reaped, &removed, &err), 0, "%s",
	             err.message);

	cr_assert_eq(removed, 1);
	/* C is the starter's child: the starter's death re-parents C to us
	 * (the subreaper), whose wait then tells what killed it */
	kill(l.starter, SIGKILL);
	cr_assert_eq(waitpid(l.starter, NULL, 0), l.starter);
	kill(l.member, SIGTERM);
	cr_assert_eq(waitpid(l.member, &status, 0), l.member);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	          "reap killed a group of another session");
}

/* The first event about `pid` in the queue: its mask, or 0. */
static uint32_t first_pid_event(int ino)
{
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *e;
	ssize_t n = read(ino, buf, sizeof buf);

	for (char *p = buf; n > 0 && p < buf + n; p += sizeof *e + e->len) {
		e = (const struct inotify_event *)p;
		if (e->len && strcmp(e->name, RUNDIR_PID) == 0)
			return e->mask;
	}
	return 0;
}

/* A dead pod's pid file beside a live lock would name a stranger for as
 * long as the new pod takes to publish its own: it removes the old one
 * first thing after taking the lock, before its own replaces it. */
Test(strangers, a_pod_removes_a_dead_predecessors_pid_on_taking_its_lock)
{
	int dirfd = make_pod_dir("heir"), ino, err_fd, status;
	pid_t pod;

	write_file(dirfd, RUNDIR_PID, "1\n");
	write_file(dirfd, RUNDIR_STATE, "{}");
	ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	cr_assert_geq(ino, 0);
	cr_assert_geq(inotify_add_watch(ino, e2e_rundir("heir", NULL),
	                                IN_DELETE | IN_MOVED_TO),
	              0);

	pod = e2e_start_pod_by_hand("[pod]\nname = \"heir\"\n", &err_fd);
	e2e_wait_ready(err_fd);

	cr_assert_eq(first_pid_event(ino), IN_DELETE,
	             "the stale pid file was only replaced when the pod "
	             "published its own");
	kill(pod, SIGTERM);
	cr_assert_eq(waitpid(pod, &status, 0), pod);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(err_fd);
	close(ino);
	close(dirfd);
}

/* The shape a dead pod's stragglers have: A led its own session, C was
 * left in it, A is gone.  Returns A; *member is C (our child now: we are
 * the subreaper). */
static pid_t dead_leader_with_member(pid_t *member)
{
	int pipefd[2];
	pid_t a, c;

	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	a = fork();
	cr_assert_geq(a, 0);
	if (a == 0) {
		setsid();
		c = fork();
		if (c == 0)
			for (;;)
				pause();
		fd_write_all(pipefd[1], &c, sizeof c);
		_exit(0);
	}
	close(pipefd[1]);
	cr_assert_eq(read(pipefd[0], member, sizeof *member),
	             (ssize_t)sizeof *member);
	close(pipefd[0]);
	cr_assert_eq(waitpid(a, NULL, 0), a);
	return a;
}

static int reap_ghost_started_at(const char *started_at, pid_t *member)
{
	pid_t a = dead_leader_with_member(member);
	int dirfd = make_pod_dir("ghost"), removed = 0, status;
	struct insomnia_error err;
	char json[256];

	snprintf(json, sizeof json,
	         "{\"name\":\"ghost\",\"pid\":%ld,\"pgid\":%ld,"
	         "\"started_at\":\"%s\",\"state\":\"running\"}",
	         (long)a, (long)a, started_at);
	write_file(dirfd, RUNDIR_STATE, json);
	close(dirfd);
	cr_assert_eq(insomnia_reap(count_reaped, &removed, &err), 0, "%s",
	             err.message);
	cr_assert_eq(removed, 1);
	kill(*member, SIGTERM); /* a no-op when reap killed it already */
	cr_assert_eq(waitpid(*member, &status, 0), *member);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* A persistent runtime root keeps a state.json across reboots; the
 * numbers it holds then name processes of this boot, never the pod's. */
Test(strangers, reap_never_kills_for_a_pod_from_before_this_boot)
{
	pid_t member;

	cr_assert_eq(reap_ghost_started_at("2000-01-01T00:00:00Z", &member),
	             SIGTERM, "reap killed a group for a pod of another boot");
}

/* The same shape from this boot is the dead pod's own: killed. */
Test(strangers, reap_kills_the_stragglers_of_a_pod_from_this_boot)
{
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	pid_t member;

	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	cr_assert_eq(reap_ghost_started_at(now, &member), SIGKILL,
	             "reap left a dead pod's straggler running");
}
