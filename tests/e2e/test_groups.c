/* End-to-end: signals go only to groups a pod leads (DESIGN.md, "Signals
 * go only where we own them"; docs/runtime-dir.md, "Process groups"). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "harness.h"
#include <insomnia/reap.h>
#include "procsig.h"
#include "ready.h"
#include "rundir.h"

TestSuite(groups, .init = e2e_setup, .fini = e2e_teardown, .timeout = 30);

static long state_pgid(const char *name)
{
	char *text = e2e_read(e2e_rundir(name, "state.json"));
	json_t *st = text ? json_loads(text, 0, NULL) : NULL;
	long pgid = json_integer_value(json_object_get(st, "pgid"));

	json_decref(st);
	free(text);
	return pgid;
}

Test(groups, pod_started_without_job_control_leads_its_own_group)
{
	pid_t pod, pgid;
	int err_fd, status;
	char state;

	pod = e2e_start_pod_by_hand("[pod]\nname = \"solo\"\n", &err_fd);
	e2e_wait_ready(err_fd);
	cr_assert_eq(procsig_stat(pod, &state, &pgid), 0);
	cr_assert_eq(pgid, pod, "the pod stayed in group %d (the test's is %d)",
	             pgid, getpgrp());
	cr_assert_eq(state_pgid("solo"), (long)pod,
	             "state.json records another group");
	kill(pod, SIGTERM);
	cr_assert_eq(waitpid(pod, &status, 0), pod);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(err_fd);
}

/* A group whose leader has exited, holding one process of ours that is
 * not a pod's: what a script's other children look like. */
static pid_t leaderless_group(pid_t *member)
{
	int pipefd[2], status;
	pid_t leader;

	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	leader = fork();
	cr_assert_geq(leader, 0);
	if (leader == 0) {
		pid_t child;
		setpgid(0, 0);
		child = fork();
		if (child == 0)
			for (;;)
				pause();
		fd_write_all(pipefd[1], &child, sizeof child);
		_exit(0);
	}
	close(pipefd[1]);
	cr_assert_eq(read(pipefd[0], member, sizeof *member),
	             (ssize_t)sizeof *member);
	close(pipefd[0]);
	cr_assert_eq(waitpid(leader, &status, 0), leader);
	return leader;
}

/* A dead pod's state.json as one started inside someone else's group
 * leaves it: pid and pgid differ. */
static void write_stale_state(const char *name, pid_t pid, pid_t pgid)
{
	char root[4096], json[256];
	struct insomnia_error err;
	int rootfd = rundir_open_root(true, root, sizeof root, &err), dirfd;

	cr_assert_geq(rootfd, 0, "%s", err.message);
	cr_assert_eq(mkdirat(rootfd, name, 0700), 0);
	dirfd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd, 0);
	snprintf(json, sizeof json,
	         "{\"name\":\"%s\",\"pid\":%ld,\"pgid\":%ld,"
	         "\"state\":\"running\"}",
	         name, (long)pid, (long)pgid);
	int fd =
	    openat(dirfd, RUNDIR_STATE, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fd_write_all(fd, json, strlen(json)), 0);
	close(fd);
	close(dirfd);
	close(rootfd);
}

static pid_t dead_pid(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

static void count_reaped(const struct insomnia_reap_report *r, void *arg)
{
	(*(int *)arg) += r->removed;
}

Test(groups, reap_never_kills_a_group_the_dead_pod_did_not_lead)
{
	pid_t member, group = leaderless_group(&member);
	struct insomnia_error err;
	int removed = 0, status;

	write_stale_state("ghost", dead_pid(), group);
	cr_assert_eq(insomnia_reap(count_reaped, &removed, &err), 0, "%s",
	             err.message);
	cr_assert_eq(removed, 1);
	/* a SIGKILL reap sent would be there first: the status tells */
	kill(member, SIGTERM);
	cr_assert_eq(waitpid(member, &status, 0), member);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
	          "reap killed a group the pod did not lead");
}
