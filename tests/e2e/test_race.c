/* End-to-end stress: listers and reapers racing spawns and resumes
 * (docs/runtime-dir.md, "The liveness lock" and "Reaping").
 *
 * A crew of forked processes loops a library call (insomnia_pods_each,
 * session_list, insomnia_reap) until the test closes a pipe; meanwhile the
 * test spawns, resumes and stops pods in a loop.  Every spawn must
 * succeed (a probe never makes the pod's take fail; a dir reaped under a
 * spawner is made anew), every ready pod must still own its dir, and
 * never do two pods of one name run. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "harness.h"
#include <insomnia/pods.h>
#include <insomnia/reap.h>
#include "ready.h"
#include "session.h"

TestSuite(race, .init = e2e_setup, .fini = e2e_teardown, .timeout = 170);

#define CREW_MAX 8

/* An ASan build runs everything several times slower: fewer rounds keep
 * it within the suite's time. */
#ifdef __SANITIZE_ADDRESS__
#define RACE_SLOWDOWN 4
#else
#define RACE_SLOWDOWN 1
#endif

/* Rounds as given, times INSOMNIA_STRESS_SCALE when set (a longer run by
 * hand: INSOMNIA_STRESS_SCALE=10 build/tests/e2e/test-race). */
static int rounds(int n)
{
	const char *scale = getenv("INSOMNIA_STRESS_SCALE");

	n = n / RACE_SLOWDOWN;
	return scale && atoi(scale) > 0 ? n * atoi(scale) : n;
}

struct crew {
	pid_t pids[CREW_MAX];
	int n;
	int stop_fd; /* closing it tells every member to finish */
};

static bool told_to_stop(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};

	return poll(&p, 1, 0) != 0; /* EOF (or an error): stop */
}

/* n processes, each looping action until crew_stop. */
static void crew_start(struct crew *c, int n, void (*action)(void))
{
	int pipefd[2];

	cr_assert_leq(n, CREW_MAX);
	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	c->n = n;
	c->stop_fd = pipefd[1];
	for (int i = 0; i < n; i++) {
		c->pids[i] = fork();
		cr_assert_geq(c->pids[i], 0);
		if (c->pids[i] == 0) {
			close(pipefd[1]);
			while (!told_to_stop(pipefd[0]))
				action();
			_exit(0);
		}
	}
	close(pipefd[0]);
}

static void crew_stop(struct crew *c)
{
	int status;

	close(c->stop_fd);
	for (int i = 0; i < c->n; i++) {
		cr_assert_eq(waitpid(c->pids[i], &status, 0), c->pids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		          "crew member %d failed (status %#x)", i, status);
	}
}

static int count_pod(const struct insomnia_pod_info *info, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void list_pods(void)
{
	int n = 0;

	insomnia_pods_each(count_pod, &n, NULL);
}

static int count_session(const struct session_info *info, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void list_sessions(void)
{
	int fd = session_open_root(false, NULL, 0, NULL), n = 0;
	const struct session_list_fns fns = {count_session, NULL};

	if (fd >= 0) {
		session_list(fd, &fns, &n, NULL);
		close(fd);
	}
}

static void list_both(void)
{
	list_pods();
	list_sessions();
}

static void reap_all(void)
{
	insomnia_reap(NULL, NULL, NULL);
}

/* e2e_options keeps one overlay at a time: each kind gets its own. */
static struct insomnia_spawn_options
options(const char *name, const char *command, char *overlay, size_t size)
{
	struct insomnia_spawn_options o = e2e_options(name, NULL);

	snprintf(overlay, size, "%s", o.overlay);
	o.overlay = overlay;
	o.pod_command = command;
	return o;
}

/* Spawn and check the pod owns its dir: its lock is held and its socket,
 * at the path the dir gives, accepts. */
static void spawn_ok(const struct insomnia_spawn_options *o,
                     struct insomnia_spawn_result *res, int round)
{
	struct insomnia_error err;

	insomnia_error_clear(&err);
	cr_assert_eq(insomnia_spawn(o, res, &err), 0,
	             "round %d: spawn of %s failed: %s: %s", round, o->name,
	             insomnia_error_kind_name(err.kind), err.message);
	cr_assert(e2e_socket_accepts(e2e_rundir(o->name, "sock")),
	          "round %d: pod %s is ready but its socket is gone", round,
	          o->name);
}

/* Mock spawns, and real spawns each followed by a resume of its session. */
static void spawn_and_resume_loop(int mock_rounds, int real_rounds)
{
	char mock_overlay[128], real_overlay[128];
	struct insomnia_spawn_options mock =
	    options("race", NULL, mock_overlay, sizeof mock_overlay);
	struct insomnia_spawn_options real =
	    options("real", getenv("INSOMNIA_TEST_POD"), real_overlay,
	            sizeof real_overlay);
	struct insomnia_spawn_result res;

	for (int i = 0; i < mock_rounds; i++) {
		spawn_ok(&mock, &res, i);
		e2e_stop(res.pid);
	}
	for (int i = 0; i < real_rounds; i++) {
		char id[INSOMNIA_SESSION_ID_MAX];

		real.session_id = NULL;
		spawn_ok(&real, &res, i);
		snprintf(id, sizeof id, "%s", res.session_id);
		e2e_stop(res.pid);
		real.session_id = id;
		spawn_ok(&real, &res, i);
		cr_assert_str_eq(res.session_id, id);
		e2e_stop(res.pid);
	}
}

Test(race, listings_never_make_a_spawn_or_resume_fail)
{
	struct crew c;

	crew_start(&c, 2, list_both);
	spawn_and_resume_loop(rounds(200), rounds(25));
	crew_stop(&c);
}

Test(race, reapers_never_remove_a_live_or_starting_pod)
{
	struct crew c;

	crew_start(&c, 3, reap_all);
	spawn_and_resume_loop(rounds(200), rounds(25));
	crew_stop(&c);
}

/* ---- pods started by hand (no spawner, so no spawn lock) -------------- */

struct hand {
	pid_t pid;
	int err_fd; /* the pod's stderr */
};

static void hand_start(struct hand *h, const char *name)
{
	int pipefd[2];

	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	h->pid = fork();
	cr_assert_geq(h->pid, 0);
	if (h->pid == 0) {
		dup2(pipefd[1], 2);
		execl(getenv("INSOMNIA_TEST_MOCK_POD"), "mock-pod", "--name",
		      name, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	h->err_fd = pipefd[0];
}

/* Read its stderr until the ready line (true) or EOF: it exited. */
static bool hand_ready(struct hand *h)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof buf - 1 &&
	       (n = fd_read_some(h->err_fd, buf + len, sizeof buf - 1 - len)) >
	           0) {
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, READY_PREFIX))
			return true;
	}
	return false;
}

static void hand_end(struct hand *h, bool ready)
{
	int status;

	if (ready)
		kill(h->pid, SIGTERM);
	cr_assert_eq(waitpid(h->pid, &status, 0), h->pid);
	close(h->err_fd);
}

/* Three pods of one name at once, with reapers running: at most one gets
 * ready, and the one that does owns the dir at its name. */
Test(race, never_two_live_pods_of_one_name_with_reapers_running)
{
	struct hand h[3];
	struct crew c;
	bool ready[3];
	int live;

	crew_start(&c, 2, reap_all);
	for (int round = 0; round < rounds(120); round++) {
		live = 0;
		for (int i = 0; i < 3; i++)
			hand_start(&h[i], "hand");
		for (int i = 0; i < 3; i++)
			live += ready[i] = hand_ready(&h[i]);
		cr_assert_leq(live, 1, "round %d: %d pods named hand run",
		              round, live);
		if (live)
			cr_assert(
			    e2e_socket_accepts(e2e_rundir("hand", "sock")),
			    "round %d: the live pod's socket was removed",
			    round);
		for (int i = 0; i < 3; i++)
			hand_end(&h[i], ready[i]);
	}
	crew_stop(&c);
}
