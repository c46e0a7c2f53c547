/* harness.h: what every end-to-end test needs: its own INSOMNIA_HOME, the
 * mock pod as INSOMNIA_POD_COMMAND, and checks that nothing is left
 * behind (process, descriptor, file).
 *
 * The test process makes itself a child subreaper, so detached pods are
 * re-parented to it: it can then wait for them by event (waitpid) instead
 * of sleeping, whatever PID 1 does. */
#ifndef E2E_HARNESS_H
#define E2E_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include <insomnia/spawn.h>

extern char e2e_home[256];

/* TestSuite .init / .fini. */
void e2e_setup(void);
void e2e_teardown(void);

/* Options for a mock pod named name, misbehaving as mock_args says. */
struct insomnia_spawn_options e2e_options(const char *name,
                                          const char *mock_args);

/* Path of <runtime root>/<name>[/<file>]. */
const char *e2e_rundir(const char *name, const char *file);

/* SIGTERM a pod we spawned and wait (as its subreaper) for its exit. */
void e2e_stop(pid_t pid);

/* Reap every member of the group that is our child, then assert that no
 * process at all is left in it. */
void e2e_assert_group_gone(pid_t pgid);

/* Reap zombies, then assert that no live process is a child of the test:
 * the test is every pod's subreaper, so whatever a pod or its processes
 * left behind ends up here. */
void e2e_assert_no_children(void);

/* The pod dir holds exactly these files (NULL-terminated list). */
void e2e_assert_dir_holds(const char *name, const char *const *files);

/* The pid the mock pod printed first in <name>/stderr.log, or 0. */
pid_t e2e_logged_pid(const char *name);

/* Open descriptors of this process, to compare before and after; the
 * library's bounded cache of idle inotify instances is not counted here
 * but by e2e_inotify_count. */
int e2e_fd_count(void);
int e2e_inotify_count(void);

/* Whole content of a file, malloc'd (NULL when missing). */
char *e2e_read(const char *path);

/* True when connecting to the socket works. */
bool e2e_socket_accepts(const char *path);

/* Start the real pod ($INSOMNIA_TEST_POD) as a script without job
 * control would: a plain child, in the test's own process group, with no
 * spawner to clean up before it.  Its stderr is the read end put in
 * *err_fd. */
pid_t e2e_start_pod_by_hand(const char *overlay, int *err_fd);

/* Read the pod's stderr until its ready line; fails the test when it
 * ends first. */
void e2e_wait_ready(int err_fd);

#endif
