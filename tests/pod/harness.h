/* harness.h: running the real pod binary ($POD_BIN) in a throw-away
 * INSOMNIA_HOME, synchronising on its stderr and its exit, never on
 * sleeps. */
#ifndef INSOMNIA_TESTS_POD_HARNESS_H
#define INSOMNIA_TESTS_POD_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TH_PATH_MAX 4096

/* One test's world.  th_setup() makes it, th_teardown() kills any pod
 * still running and removes it all. */
struct th_home {
	char root[TH_PATH_MAX]; /* the temporary dir, holds everything */
	char home[TH_PATH_MAX]; /* INSOMNIA_HOME */
	char run[TH_PATH_MAX];  /* runtime root: <home>/run */
	char work[TH_PATH_MAX]; /* a cwd with no manifest above it */
};

struct th_pod {
	pid_t pid; /* 0 once reaped */
	int errfd; /* read end of the pod's stderr */
	char *err; /* all of its stderr read so far (NUL-terminated) */
	size_t err_len;
	bool ready;
	char sock[TH_PATH_MAX]; /* from the ready line */
	int status;             /* exit code, or 128 + signal */
};

/* The world of the running test; Criterion runs each test in its own
 * process, so one per process is all there is. */
extern struct th_home th;

void th_setup(void);
void th_teardown(void);

/* Start the pod with args (NULL-terminated, without argv[0]) in cwd
 * (NULL: th.work), and read its stderr until the ready line or its exit.
 * Returns p->ready. */
bool th_start(struct th_pod *p, const char *cwd, const char *const *args);

/* th_start in two steps: start the pod, then read its stderr until the
 * ready line or its exit (returns p->ready). */
void th_launch(struct th_pod *p, const char *cwd, const char *const *args);
bool th_read_until_ready(struct th_pod *p);

/* Has the pod written its ready line by now?  Reads only what its stderr
 * already holds, never waits. */
bool th_ready_written(struct th_pod *p);

/* Start with just --overlay naming the pod; asserts it became ready. */
void th_start_named(struct th_pod *p, const char *name);

/* Read the rest of stderr (to EOF) and reap.  Returns the exit code, or
 * 128 + signal. */
int th_wait(struct th_pod *p);

/* SIGTERM, wait, assert exit 0. */
void th_stop(struct th_pod *p);

/* Free what th_start allocated (after th_wait). */
void th_pod_free(struct th_pod *p);

/* Assert the pod's stderr holds / does not hold text. */
void th_assert_err_has(const struct th_pod *p, const char *text);
void th_assert_err_lacks(const struct th_pod *p, const char *text);

/* Connected, blocking socket to the pod (long paths handled). */
int th_connect(const char *sock);

/* proto_call that must succeed; a new reference. */
json_t *th_call(int fd, const char *method);

/* Asks the running pod for its status and asserts its name and
 * description. */
void th_assert_status(struct th_pod *p, const char *name,
                      const char *description);

/* Send raw bytes; send failures (a peer that hung up) are tolerated. */
void th_send(int fd, const void *buf, size_t len);

/* One line (without '\n') as JSON; NULL at EOF. */
json_t *th_read_json_line(int fd);

/* <run>/<name>/<file>. */
const char *th_rundir_file(const char *name, const char *file);

/* Assert the pod's runtime dir holds exactly the files named in the
 * space-separated list. */
void th_assert_dir_holds(const char *name, const char *files);

/* snprintf that fails the test rather than truncate. */
void th_fmt(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Create path (and its parents) holding text. */
void th_write_file(const char *path, const char *text);
/* The whole file; the harness frees it at teardown. */
char *th_read_file(const char *path);

#endif
