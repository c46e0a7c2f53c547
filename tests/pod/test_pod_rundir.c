/* The pod's runtime directory: the lock, stale sockets, leftovers. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "harness.h"

TestSuite(pod_rundir, .init = th_setup, .fini = th_teardown);

Test(pod_rundir, second_pod_of_same_name_exits_3_naming_first_pid)
{
	struct th_pod first, second;
	const char *args[] = {"--overlay", "[pod]\nname = \"twin\"\n", NULL};
	char *pid_before, *state_before, msg[128];
	json_t *r;
	int fd;

	th_start_named(&first, "twin");
	pid_before = th_read_file(th_rundir_file("twin", "pid"));
	state_before = th_read_file(th_rundir_file("twin", "state.json"));
	cr_assert_not(th_start(&second, NULL, args));
	cr_assert_eq(th_wait(&second),
	             insomnia_error_exit_code(INSOMNIA_ERR_ALREADY_RUNNING),
	             "%s", second.err);
	th_fmt(msg, sizeof msg, "pod: pod twin is already running (pid %d)\n",
	       (int)first.pid);
	th_assert_err_has(&second, msg);
	/* The first pod's files and socket are untouched. */
	cr_assert_str_eq(th_read_file(th_rundir_file("twin", "pid")),
	                 pid_before);
	cr_assert_str_eq(th_read_file(th_rundir_file("twin", "state.json")),
	                 state_before);
	fd = th_connect(first.sock);
	r = th_call(fd, "ping");
	json_decref(r);
	close(fd);
	th_stop(&first);
	th_assert_dir_holds("twin", "lock");
	th_pod_free(&first);
	th_pod_free(&second);
}

Test(pod_rundir, pod_replaces_the_stale_socket_of_a_killed_pod)
{
	struct th_pod dead, p;
	json_t *r;
	int fd;

	th_start_named(&dead, "phoenix");
	kill(dead.pid, SIGKILL);
	cr_assert_eq(th_wait(&dead), 128 + SIGKILL);
	th_assert_dir_holds("phoenix", "lock pid sock state.json");
	th_start_named(&p, "phoenix");
	fd = th_connect(p.sock);
	r = th_call(fd, "ping");
	json_decref(r);
	close(fd);
	th_stop(&p);
	th_assert_dir_holds("phoenix", "lock");
	th_pod_free(&dead);
	th_pod_free(&p);
}

Test(pod_rundir, pod_refuses_to_remove_a_regular_file_named_sock)
{
	const char *args[] = {"--overlay", "[pod]\nname = \"squat\"\n", NULL};
	struct th_pod p;
	struct stat st;
	char msg[TH_PATH_MAX + 64];

	th_write_file(th_rundir_file("squat", "sock"), "precious");
	chmod(th.home, 0700);
	chmod(th.run, 0700);
	cr_assert_not(th_start(&p, NULL, args));
	cr_assert_eq(th_wait(&p),
	             insomnia_error_exit_code(INSOMNIA_ERR_RUNTIME_DIR), "%s",
	             p.err);
	th_fmt(msg, sizeof msg, "pod: %s exists and is not a socket",
	       th_rundir_file("squat", "sock"));
	th_assert_err_has(&p, msg);
	cr_assert_eq(lstat(th_rundir_file("squat", "sock"), &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_str_eq(th_read_file(th_rundir_file("squat", "sock")),
	                 "precious");
	th_assert_dir_holds("squat", "lock sock");
	th_pod_free(&p);
}

Test(pod_rundir, pod_tightens_a_world_readable_runtime_dir)
{
	struct th_pod p;
	struct stat st;

	th_write_file(th_rundir_file("loose", ".keep"), "");
	unlink(th_rundir_file("loose", ".keep"));
	chmod(th_rundir_file("loose", ""), 0755);
	th_start_named(&p, "loose");
	cr_assert_eq(stat(th_rundir_file("loose", ""), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	th_stop(&p);
	th_pod_free(&p);
}

Test(pod_rundir, pod_refuses_a_group_writable_runtime_dir)
{
	const char *args[] = {"--overlay", "[pod]\nname = \"open\"\n", NULL};
	struct th_pod p;

	th_write_file(th_rundir_file("open", ".keep"), "");
	unlink(th_rundir_file("open", ".keep"));
	chmod(th_rundir_file("open", ""), 0770);
	cr_assert_not(th_start(&p, NULL, args));
	cr_assert_eq(th_wait(&p),
	             insomnia_error_exit_code(INSOMNIA_ERR_RUNTIME_DIR), "%s",
	             p.err);
	th_assert_err_has(&p, "writable by group or others");
	th_assert_dir_holds("open", "");
	th_pod_free(&p);
}
