/* End-to-end: the blocking spawn against a mock pod that misbehaves on
 * demand.  Each test has its own INSOMNIA_HOME and checks what is left. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "rundir.h"

TestSuite(spawn, .init = e2e_setup, .fini = e2e_teardown, .timeout = 20);

/* A failed spawn leaves its log and the record of the failure
 * (state.json, state "failed"), and keeps `lock` as a clean stop does. */
static const char *const failed_dir[] = {"lock", "stderr.log", "state.json",
                                         NULL};

struct captured {
	char lines[16][256];
	int count;
};

static void capture(const char *line, void *arg)
{
	struct captured *c = arg;
	if (c->count < 16)
		snprintf(c->lines[c->count], sizeof c->lines[0], "%s", line);
	c->count++;
}

static bool launched_a_pod(enum insomnia_error_kind kind)
{
	return kind == INSOMNIA_ERR_EXITED_EARLY ||
	       kind == INSOMNIA_ERR_CONFIG ||
	       kind == INSOMNIA_ERR_MALFORMED_READY ||
	       kind == INSOMNIA_ERR_NAME_MISMATCH ||
	       kind == INSOMNIA_ERR_SOCKET_REFUSED ||
	       kind == INSOMNIA_ERR_TIMEOUT;
}

/* Spawn expecting failure; returns the error, checks the cleanup. */
static struct insomnia_error spawn_fails(const char *name,
                                         const char *mock_args, int timeout_ms,
                                         enum insomnia_error_kind kind)
{
	struct insomnia_spawn_options o = e2e_options(name, mock_args);
	struct insomnia_spawn_result r;
	struct insomnia_error err;
	int fds = e2e_fd_count();

	if (timeout_ms)
		o.timeout_ms = timeout_ms;
	cr_assert_eq(insomnia_spawn(&o, &r, &err), -1, "spawn succeeded");
	cr_assert_eq(err.kind, kind, "kind %s, message: %s",
	             insomnia_error_kind_name(err.kind), err.message);
	cr_assert_eq(e2e_fd_count(), fds, "the client leaked descriptors");
	/* a pod this spawn launched is gone with its whole group (killed,
	 * and reaped by us, its subreaper, or by the launch monitor) */
	if (launched_a_pod(kind) && e2e_logged_pid(name) > 0)
		e2e_assert_group_gone(e2e_logged_pid(name));
	return err;
}

static struct insomnia_spawn_result spawn_ok(const char *name,
                                             const char *mock_args)
{
	struct insomnia_spawn_options o = e2e_options(name, mock_args);
	struct insomnia_spawn_result r;
	struct insomnia_error err;
	int fds = e2e_fd_count();

	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s: %s\n%s",
	             insomnia_error_kind_name(err.kind), err.message,
	             err.detail);
	cr_assert_eq(e2e_fd_count(), fds, "the client leaked descriptors");
	return r;
}

Test(spawn, ready_pod_reports_name_socket_pid_and_accepts)
{
	struct insomnia_spawn_result r = spawn_ok("web", NULL);
	char *pidfile;

	cr_assert_str_eq(r.name, "web");
	cr_assert_str_eq(r.socket, e2e_rundir("web", "sock"));
	cr_assert(e2e_socket_accepts(r.socket));
	pidfile = e2e_read(e2e_rundir("web", "pid"));
	cr_assert_not_null(pidfile);
	cr_assert_eq(atol(pidfile), r.pid);
	free(pidfile);
	cr_assert_eq(getsid(r.pid), r.pid, "pod is not in its own session");
	cr_assert_eq(getpgid(r.pid), r.pid, "pod leads no process group");
	cr_assert_not(r.reused);
	e2e_stop(r.pid);
	e2e_assert_group_gone(r.pid);
}

Test(spawn, progress_lines_before_ready_reach_the_callback_in_order)
{
	struct captured c = {0};
	struct insomnia_spawn_options o = e2e_options("web", "--lines 5");
	struct insomnia_spawn_result r;
	struct insomnia_error err;

	o.progress = capture;
	o.arg = &c;
	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s", err.message);
	cr_assert_eq(c.count, 6); /* the mock's pid line, then 5 */
	cr_assert(strncmp(c.lines[0], "mock-pod: pid ", 14) == 0);
	cr_assert_str_eq(c.lines[1], "mock-pod: progress line 1 of 5");
	cr_assert_str_eq(c.lines[5], "mock-pod: progress line 5 of 5");
	e2e_stop(r.pid);
}

Test(spawn, early_exit_reports_status_and_tail_at_once, .timeout = 5)
{
	struct insomnia_error err = spawn_fails(
	    "web",
	    "--lines 9 --exit 2 --message config:_line_3:_expected_=", 30000,
	    INSOMNIA_ERR_CONFIG); /* exit 2 is a pod's config error */

	cr_assert_eq(err.exit_status, 2);
	cr_assert(strstr(err.message, "exit 2"), "%s", err.message);
	cr_assert(strstr(err.message, "config:_line_3:_expected_="), "%s",
	          err.message);
	/* the tail is the last 10 lines (LOGTAIL_KEEP): the pid line and
	 * progress 1..9 are 10, the message makes 11 */
	cr_assert(strstr(err.detail, "progress line 1 of 9"), "%s", err.detail);
	cr_assert_null(strstr(err.detail, "mock-pod: pid"), "%s", err.detail);
	cr_assert(strstr(err.detail, "config:_line_3"), "%s", err.detail);
	e2e_assert_dir_holds("web", failed_dir);
}

Test(spawn, death_by_signal_is_reported_with_the_signal, .timeout = 5)
{
	struct insomnia_error err =
	    spawn_fails("web", "--signal 9", 30000, INSOMNIA_ERR_EXITED_EARLY);

	cr_assert_eq(err.term_signal, 9);
	cr_assert(strstr(err.message, "signal 9"), "%s", err.message);
	e2e_assert_dir_holds("web", failed_dir);
}

Test(spawn, malformed_ready_line_is_an_error_and_the_pod_is_stopped,
     .timeout = 5)
{
	struct insomnia_error err = spawn_fails("web", "--malformed", 30000,
	                                        INSOMNIA_ERR_MALFORMED_READY);

	cr_assert(strstr(err.message, "no socket field"), "%s", err.message);
	e2e_assert_dir_holds("web", failed_dir);
}

Test(spawn, ready_line_with_another_name_is_a_mismatch, .timeout = 5)
{
	struct insomnia_error err = spawn_fails("web", "--announce db", 30000,
	                                        INSOMNIA_ERR_NAME_MISMATCH);

	cr_assert(strstr(err.message, "\"db\""), "%s", err.message);
	e2e_assert_dir_holds("web", failed_dir);
}

Test(spawn, ready_without_listening_socket_is_refused, .timeout = 5)
{
	spawn_fails("web", "--no-listen", 30000, INSOMNIA_ERR_SOCKET_REFUSED);
	e2e_assert_dir_holds("web", failed_dir);
}

/* The mock announces, then waits for a SIGUSR1 that never comes before
 * it listens: refused whatever the machine's speed. */
Test(spawn, ready_before_listening_is_refused, .timeout = 5)
{
	spawn_fails("web", "--listen-delay -1", 30000,
	            INSOMNIA_ERR_SOCKET_REFUSED);
	e2e_assert_dir_holds("web", failed_dir);
}

Test(spawn, pod_ignoring_sigterm_is_killed_after_the_grace, .timeout = 5)
{
	struct insomnia_error err =
	    spawn_fails("web", "--ignore-term --malformed", 30000,
	                INSOMNIA_ERR_MALFORMED_READY);

	cr_assert_eq(err.kind, INSOMNIA_ERR_MALFORMED_READY);
	e2e_assert_dir_holds("web", failed_dir);
}

Test(spawn, silent_pod_times_out_and_is_stopped, .timeout = 10)
{
	struct insomnia_error err =
	    spawn_fails("web", "--lines 1 --hang", 300, INSOMNIA_ERR_TIMEOUT);
	char *log = e2e_read(e2e_rundir("web", "stderr.log"));

	cr_assert(strstr(err.message, "within 300 ms"), "%s", err.message);
	/* whatever the pod wrote before it was killed is in the tail (a
	 * slow machine may kill it before its line: then nothing to show) */
	if (strstr(log, "progress line 1 of 1"))
		cr_assert(strstr(err.detail, "progress line 1 of 1"), "%s",
		          err.detail);
	free(log);
	e2e_assert_dir_holds("web", failed_dir);
}

Test(spawn, megabyte_line_without_newline_costs_no_memory_and_times_out,
     .timeout = 10)
{
	struct insomnia_error err =
	    spawn_fails("web", "--long-line", 500, INSOMNIA_ERR_TIMEOUT);
	char *log = e2e_read(e2e_rundir("web", "stderr.log"));

	/* the cut line is shown if the pod got to write it before the
	 * deadline killed it */
	if (strstr(log, "xxxx")) {
		cr_assert(strstr(err.detail, "xxxx"), "%s", err.detail);
		cr_assert(strstr(err.detail, "[line cut]"), "%s", err.detail);
	}
	free(log);
	cr_assert_lt(strlen(err.detail), 1024);
	e2e_assert_dir_holds("web", failed_dir);
}

Test(spawn, ready_line_printed_twice_is_still_one_success)
{
	struct insomnia_spawn_result r = spawn_ok("web", "--ready-twice");

	cr_assert(e2e_socket_accepts(r.socket));
	e2e_stop(r.pid);
}

Test(spawn, child_left_in_the_group_is_killed_with_the_pod, .timeout = 5)
{
	char *log;
	pid_t child;

	spawn_fails("web", "--fork-child --exit 1", 30000,
	            INSOMNIA_ERR_EXITED_EARLY);
	/* spawn_fails checked the group is empty; the child was in it */
	log = e2e_read(e2e_rundir("web", "stderr.log"));
	cr_assert(strstr(log, "mock-pod: child "), "%s", log);
	child = (pid_t)atol(strstr(log, "mock-pod: child ") + 16);
	free(log);
	cr_assert_gt(child, 0);
	cr_assert_eq(kill(child, 0), -1, "the forked child survived");
	e2e_assert_dir_holds("web", failed_dir);
}

Test(spawn, exec_failure_is_a_launch_error_not_a_timeout, .timeout = 5)
{
	char path[300];
	int fd;

	snprintf(path, sizeof path, "%s/not-a-program", e2e_home);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0700);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd,
	                   "\x7f"
	                   "ELF garbage",
	                   12),
	             12);
	close(fd);
	setenv("INSOMNIA_POD_COMMAND", path, 1);
	struct insomnia_error err =
	    spawn_fails("web", NULL, 30000, INSOMNIA_ERR_LAUNCH_FAILED);
	cr_assert(strstr(err.message, "cannot execute"), "%s", err.message);
	cr_assert(strstr(err.message, path), "%s", err.message);
}

Test(spawn, missing_pod_command_is_a_launch_error)
{
	setenv("INSOMNIA_POD_COMMAND", "/nonexistent/pod", 1);
	struct insomnia_error err =
	    spawn_fails("web", NULL, 0, INSOMNIA_ERR_LAUNCH_FAILED);
	cr_assert(strstr(err.message, "/nonexistent/pod"), "%s", err.message);
}

Test(spawn, bad_name_is_refused_before_any_file)
{
	struct stat st;
	struct insomnia_error err =
	    spawn_fails("../evil", NULL, 0, INSOMNIA_ERR_BAD_NAME);

	(void)err;
	cr_assert_neq(stat(e2e_rundir("", NULL), &st), 0,
	              "the runtime root was created for a bad name");
}

Test(spawn, live_name_is_refused_with_its_pid_and_its_log_kept)
{
	struct insomnia_spawn_result r = spawn_ok("web", "--lines 2");
	char *before = e2e_read(e2e_rundir("web", "stderr.log")), *after;
	char want[64];

	struct insomnia_error err =
	    spawn_fails("web", NULL, 0, INSOMNIA_ERR_ALREADY_RUNNING);
	snprintf(want, sizeof want, "(pid %d)", r.pid);
	cr_assert(strstr(err.message, want), "%s", err.message);
	after = e2e_read(e2e_rundir("web", "stderr.log"));
	cr_assert_str_eq(after, before, "a live pod's stderr.log was touched");
	cr_assert(strstr(after, "INSOMNIA-READY\tweb\t"));
	free(before);
	free(after);
	cr_assert(e2e_socket_accepts(r.socket));
	e2e_stop(r.pid);
}

Test(spawn, reuse_returns_the_live_pod)
{
	struct insomnia_spawn_result first = spawn_ok("web", NULL), again;
	struct insomnia_spawn_options o = e2e_options("web", NULL);
	struct insomnia_error err;

	o.reuse = true;
	cr_assert_eq(insomnia_spawn(&o, &again, &err), 0, "%s", err.message);
	cr_assert(again.reused);
	cr_assert_eq(again.pid, first.pid);
	cr_assert_str_eq(again.socket, first.socket);
	e2e_stop(first.pid);
}

Test(spawn, stale_dir_of_a_killed_pod_is_spawned_over)
{
	struct insomnia_spawn_result r = spawn_ok("web", NULL);
	int status;

	kill(r.pid, SIGKILL);
	cr_assert_eq(waitpid(r.pid, &status, 0), r.pid);
	r = spawn_ok("web", NULL);
	cr_assert(e2e_socket_accepts(r.socket));
	e2e_stop(r.pid);
}

Test(spawn, unsafe_runtime_dir_is_refused_and_left_alone)
{
	char run[300];

	snprintf(run, sizeof run, "%s/run", e2e_home);
	cr_assert_eq(mkdir(run, 0700), 0);
	cr_assert_eq(chmod(run, 0777), 0);
	struct insomnia_error err =
	    spawn_fails("web", NULL, 0, INSOMNIA_ERR_RUNTIME_DIR);
	cr_assert(strstr(err.message, "writable by group or others"), "%s",
	          err.message);
}

Test(spawn, socket_path_longer_than_sun_path_works)
{
	char deep[512];

	snprintf(deep, sizeof deep,
	         "%s/a-rather-long-directory-name-to-push-the-path/"
	         "and-another-one-beyond-one-hundred-and-eight-bytes",
	         e2e_home);
	setenv("INSOMNIA_RUNTIME_DIR", deep, 1);
	struct insomnia_spawn_result r = spawn_ok("web", NULL);
	cr_assert_gt(strlen(r.socket), 108);
	cr_assert(e2e_socket_accepts(r.socket));
	e2e_stop(r.pid);
}

Test(spawn, pod_inherits_no_descriptor_of_the_client)
{
	char path[300], link[300], target[300];
	int leaked;

	snprintf(path, sizeof path, "%s/client-secret", e2e_home);
	leaked = open(path, O_WRONLY | O_CREAT, 0600); /* no O_CLOEXEC */
	cr_assert_geq(leaked, 0);
	struct insomnia_spawn_result r = spawn_ok("web", NULL);
	for (int fd = 0; fd < 64; fd++) {
		ssize_t n;
		snprintf(link, sizeof link, "/proc/%d/fd/%d", r.pid, fd);
		n = readlink(link, target, sizeof target - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		cr_assert_str_neq(target, path, "pod inherited fd %d", fd);
	}
	close(leaked);
	e2e_stop(r.pid);
}

Test(spawn, client_has_no_child_or_zombie_after_spawn)
{
	pid_t client = fork();
	int status;

	cr_assert_geq(client, 0);
	if (client == 0) {
		/* not a subreaper: the pod must not be our child */
		struct insomnia_spawn_options o = e2e_options("web", NULL);
		struct insomnia_spawn_result r;
		if (insomnia_spawn(&o, &r, NULL) < 0)
			_exit(10);
		if (waitpid(-1, NULL, WNOHANG) != -1)
			_exit(11); /* a child or zombie remains */
		_exit(0);
	}
	cr_assert_eq(waitpid(client, &status, 0), client);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "client status %d",
	             WEXITSTATUS(status));
	pid_t pid;
	int dirfd = open(e2e_rundir("web", NULL), O_RDONLY | O_DIRECTORY);
	cr_assert_eq(rundir_read_pid(dirfd, &pid), 0);
	close(dirfd);
	e2e_stop(pid);
}

Test(spawn, twenty_concurrent_spawns_of_one_name_make_one_pod, .timeout = 30)
{
	enum { N = 20 };
	pid_t clients[N];
	int won = 0, lost = 0, status;
	char *log;

	e2e_options("web", "--ready-delay 50");
	for (int i = 0; i < N; i++) {
		clients[i] = fork();
		cr_assert_geq(clients[i], 0);
		if (clients[i] == 0) {
			struct insomnia_spawn_options o =
			    e2e_options("web", NULL);
			struct insomnia_spawn_result r;
			struct insomnia_error err;
			setenv("MOCK_POD_ARGS", "--ready-delay 50", 1);
			if (insomnia_spawn(&o, &r, &err) == 0)
				_exit(0);
			_exit(err.kind == INSOMNIA_ERR_ALREADY_RUNNING ? 3 : 1);
		}
	}
	for (int i = 0; i < N; i++) {
		cr_assert_eq(waitpid(clients[i], &status, 0), clients[i]);
		cr_assert(WIFEXITED(status));
		if (WEXITSTATUS(status) == 0)
			won++;
		else if (WEXITSTATUS(status) == 3)
			lost++;
	}
	cr_assert_eq(won, 1, "%d spawns won", won);
	cr_assert_eq(lost, N - 1);
	log = e2e_read(e2e_rundir("web", "stderr.log"));
	cr_assert_not_null(log);
	cr_assert(strstr(log, "INSOMNIA-READY\tweb\t"), "winner's log: %s",
	          log);
	free(log);
	pid_t pid;
	int dirfd = open(e2e_rundir("web", NULL), O_RDONLY | O_DIRECTORY);
	cr_assert_eq(rundir_read_pid(dirfd, &pid), 0);
	close(dirfd);
	e2e_stop(pid);
}

Test(spawn, concurrent_spawns_with_reuse_all_get_the_one_pod, .timeout = 30)
{
	enum { N = 8 };
	int pipes[2], status;
	pid_t clients[N], first = 0;

	cr_assert_eq(pipe(pipes), 0);
	for (int i = 0; i < N; i++) {
		clients[i] = fork();
		if (clients[i] == 0) {
			struct insomnia_spawn_options o =
			    e2e_options("web", NULL);
			struct insomnia_spawn_result r;
			setenv("MOCK_POD_ARGS", "--ready-delay 50", 1);
			o.reuse = true;
			if (insomnia_spawn(&o, &r, NULL) < 0)
				_exit(1);
			if (write(pipes[1], &r.pid, sizeof r.pid) !=
			    sizeof r.pid)
				_exit(2);
			_exit(0);
		}
	}
	close(pipes[1]);
	for (int i = 0; i < N; i++) {
		pid_t pid;
		cr_assert_eq(waitpid(clients[i], &status, 0), clients[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		cr_assert_eq(read(pipes[0], &pid, sizeof pid), sizeof pid);
		if (!first)
			first = pid;
		cr_assert_eq(pid, first, "two different pods");
	}
	close(pipes[0]);
	e2e_stop(first);
}

Test(spawn, client_killed_right_after_ready_leaves_a_healthy_pod)
{
	pid_t client = fork();
	int status;
	pid_t pid;

	if (client == 0) {
		struct insomnia_spawn_options o = e2e_options("web", NULL);
		struct insomnia_spawn_result r;
		if (insomnia_spawn(&o, &r, NULL) == 0)
			raise(SIGKILL);
		_exit(1);
	}
	cr_assert_eq(waitpid(client, &status, 0), client);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	int dirfd = open(e2e_rundir("web", NULL), O_RDONLY | O_DIRECTORY);
	cr_assert_eq(rundir_is_live(dirfd, NULL), 1);
	cr_assert_eq(rundir_read_pid(dirfd, &pid), 0);
	close(dirfd);
	cr_assert(e2e_socket_accepts(e2e_rundir("web", "sock")));
	e2e_stop(pid);
}

/* The client follows stderr.log through the launch monitor's reports:
 * an uncontended spawn creates no inotify instance of its own (whose
 * teardown a one-spawn process such as podctl would wait for at exit). */
Test(spawn, uncontended_spawns_hold_no_inotify_instance_in_the_client)
{
	struct captured c = {0};
	char name[16];
	pid_t pids[5];

	for (int i = 0; i < 5; i++) {
		struct insomnia_spawn_options o;
		struct insomnia_spawn_result r;
		struct insomnia_error err;

		snprintf(name, sizeof name, "pod-%d", i);
		o = e2e_options(name, "--lines 2");
		o.progress = capture;
		o.arg = &c;
		cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s",
		             err.message);
		pids[i] = r.pid;
	}
	cr_assert_eq(c.count, 15, "the log was not followed line by line");
	cr_assert_eq(e2e_inotify_count(), 0,
	             "%d inotify instances in the client after 5 spawns",
	             e2e_inotify_count());
	for (int i = 0; i < 5; i++)
		e2e_stop(pids[i]);
}

/* The caller's signal state is not the pod's monitor's: with SIGCHLD
 * ignored (children vanish without status) and every signal blocked,
 * the pod's exit status still comes back. */
Test(spawn, caller_ignoring_sigchld_with_signals_blocked_gets_the_exit_status,
     .timeout = 10)
{
	struct sigaction ignore = {.sa_handler = SIG_IGN}, saved;
	struct insomnia_spawn_options o = e2e_options("web", "--exit 42");
	struct insomnia_spawn_result r;
	struct insomnia_error err;
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	cr_assert_eq(sigaction(SIGCHLD, &ignore, &saved), 0);
	cr_assert_eq(sigprocmask(SIG_BLOCK, &all, &old), 0);
	rc = insomnia_spawn(&o, &r, &err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGCHLD, &saved, NULL);
	cr_assert_eq(rc, -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_EXITED_EARLY, "%s: %s",
	             insomnia_error_kind_name(err.kind), err.message);
	cr_assert_eq(err.exit_status, 42);
	cr_assert(strstr(err.message, "exited before becoming ready (exit 42)"),
	          "%s", err.message);
	e2e_assert_dir_holds("web", failed_dir);
}

Test(spawn, missing_working_directory_is_named_not_the_pod_command)
{
	struct insomnia_spawn_options o = e2e_options("web", NULL);
	struct insomnia_spawn_result r;
	struct insomnia_error err;
	int fds = e2e_fd_count();

	o.cwd = "/nonexistent/insomnia-cwd";
	cr_assert_eq(insomnia_spawn(&o, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_LAUNCH_FAILED, "%s",
	             insomnia_error_kind_name(err.kind));
	cr_assert_str_eq(
	    err.message,
	    "cannot use working directory "
	    "/nonexistent/insomnia-cwd: No such file or directory");
	cr_assert_eq(e2e_fd_count(), fds, "the client leaked descriptors");
}

Test(spawn, working_directory_that_is_a_file_is_named, .timeout = 10)
{
	struct insomnia_spawn_options o = e2e_options("web", NULL);
	struct insomnia_spawn_result r;
	struct insomnia_error err;
	char path[300];
	int fd;

	snprintf(path, sizeof path, "%s/a-file", e2e_home);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	o.cwd = path;
	cr_assert_eq(insomnia_spawn(&o, &r, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_LAUNCH_FAILED);
	cr_assert(strstr(err.message, "cannot use working directory"), "%s",
	          err.message);
	cr_assert(strstr(err.message, "Not a directory"), "%s", err.message);
}

/* A FIFO named stderr.log would block the client's open for writing
 * forever: it is refused, named, and left alone. */
Test(spawn, fifo_as_stderr_log_is_refused_not_waited_on, .timeout = 10)
{
	char path[300];
	struct stat st;

	cr_assert_eq(mkdir(e2e_rundir("", NULL), 0700), 0);
	cr_assert_eq(mkdir(e2e_rundir("web", NULL), 0700), 0);
	snprintf(path, sizeof path, "%s", e2e_rundir("web", "stderr.log"));
	cr_assert_eq(mkfifo(path, 0600), 0);
	struct insomnia_error err =
	    spawn_fails("web", NULL, 2000, INSOMNIA_ERR_RUNTIME_DIR);
	cr_assert(strstr(err.message, path), "%s", err.message);
	cr_assert(strstr(err.message, "not a regular file"), "%s", err.message);
	cr_assert_eq(lstat(path, &st), 0);
	cr_assert(S_ISFIFO(st.st_mode));
}

Test(spawn, missing_launch_monitor_is_named)
{
	setenv("INSOMNIA_LAUNCH_MONITOR", "/nonexistent/pod-launch-monitor", 1);
	struct insomnia_error err =
	    spawn_fails("web", NULL, 0, INSOMNIA_ERR_LAUNCH_FAILED);
	cr_assert(strstr(err.message, "cannot start the launch monitor "
	                              "/nonexistent/pod-launch-monitor"),
	          "%s", err.message);
	e2e_assert_dir_holds("web", failed_dir);
}

/* pidfd_open made to fail with ENOSYS, as on a kernel older than 5.3: a
 * seccomp filter in a forked client, inherited by the monitor. */
static void deny_pidfd_open(void)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	             offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {sizeof code / sizeof code[0], code};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		_exit(20);
}

Test(spawn, kernel_without_pidfd_open_is_reported_not_a_silent_death,
     .timeout = 10)
{
	pid_t client = fork();
	int status;

	cr_assert_geq(client, 0);
	if (client == 0) {
		struct insomnia_spawn_options o = e2e_options("web", NULL);
		struct insomnia_spawn_result r;
		struct insomnia_error err;

		deny_pidfd_open();
		if (insomnia_spawn(&o, &r, &err) == 0)
			_exit(10);
		fprintf(stderr, "%s: %s\n", insomnia_error_kind_name(err.kind),
		        err.message);
		_exit(err.kind == INSOMNIA_ERR_LAUNCH_FAILED &&
		              strstr(err.message, "pidfd_open") &&
		              strstr(err.message, "Linux 5.3")
		          ? 0
		          : 11);
	}
	cr_assert_eq(waitpid(client, &status, 0), client);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0,
	             "client status %d (its stderr says why)",
	             WEXITSTATUS(status));
	if (e2e_logged_pid("web") > 0)
		e2e_assert_group_gone(e2e_logged_pid("web"));
	e2e_assert_dir_holds("web", failed_dir);
}
