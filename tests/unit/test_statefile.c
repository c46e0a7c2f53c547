/* statefile: state.json written and read by its one owner; what a reader
 * cannot trust is unknown, never guessed. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "rundir.h"
#include "statefile.h"
#include "tmpdir.h"

static struct tmpdir tmp;

static void setup(void)
{
	tmpdir_make(&tmp, "statefile-test");
}

static void teardown(void)
{
	tmpdir_remove(&tmp);
}

TestSuite(statefile, .init = setup, .fini = teardown, .timeout = 10);

static void put(const char *text)
{
	int fd = openat(tmp.fd, RUNDIR_STATE,
	                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(text);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static struct statefile full(void)
{
	struct statefile sf = {
	    .known = STATEFILE_RUNNING, .pid = 42, .pgid = 42};

	strcpy(sf.name, "web");
	strcpy(sf.session_id, "0f3c2a1e-4b5d-4e6f-8a9b-0c1d2e3f4a5b");
	strcpy(sf.socket, "/run/x/web/sock");
	strcpy(sf.started_at, "2024-05-01T12:00:00Z");
	strcpy(sf.state, "ready");
	return sf;
}

Test(statefile, what_the_pod_writes_a_client_reads_back_whole)
{
	struct statefile in = full(), out;
	struct stat st;

	cr_assert_eq(statefile_write(tmp.fd, &in, NULL), 0);
	cr_assert_eq(fstatat(tmp.fd, RUNDIR_STATE, &st, 0), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(statefile_read(tmp.fd, &out), 0);
	cr_assert_eq(memcmp(&in, &out, sizeof in), 0);
}

Test(statefile, unknown_fields_are_written_as_null_and_read_as_unknown)
{
	struct statefile in = full(), out;
	char *text;

	in.known &= ~(unsigned)(STATEFILE_PGID | STATEFILE_SESSION_ID);
	cr_assert_eq(statefile_write(tmp.fd, &in, NULL), 0);
	cr_assert_eq(fd_read_file_at(tmp.fd, RUNDIR_STATE, 4096, &text, NULL),
	             0);
	cr_assert(strstr(text, "\"pgid\": null"), "%s", text);
	cr_assert(strstr(text, "\"session_id\": null"), "%s", text);
	free(text);
	cr_assert_eq(statefile_read(tmp.fd, &out), 0);
	cr_assert_eq(out.known, in.known);
	cr_assert_eq(out.pgid, 0);
	cr_assert_str_empty(out.session_id);
}

Test(statefile, wrong_types_bad_pids_and_oversized_strings_are_unknown)
{
	struct statefile sf;
	char text[512];

	snprintf(text, sizeof text,
	         "{\"name\": 7, \"pid\": -3, \"pgid\": 99999999999,"
	         " \"session_id\": \"%0100d\", \"state\": \"a\\u0000b\","
	         " \"started_at\": \"2024-05-01T12:00:00Z\"}",
	         0);
	put(text);
	cr_assert_eq(statefile_read(tmp.fd, &sf), 0);
	cr_assert_eq(sf.known, STATEFILE_STARTED_AT);
	cr_assert_eq(sf.pid, 0);
	cr_assert_eq(sf.pgid, 0);
	cr_assert_str_empty(sf.name);
	cr_assert_str_empty(sf.session_id);
	cr_assert_str_empty(sf.state);
	cr_assert_str_eq(sf.started_at, "2024-05-01T12:00:00Z");
}

Test(statefile, a_file_that_is_not_an_object_is_an_error_with_nothing_known)
{
	struct statefile sf;

	put("[1, 2]");
	cr_assert_eq(statefile_read(tmp.fd, &sf), -1);
	cr_assert_eq(errno, EBADMSG);
	cr_assert_eq(sf.known, 0u);
	unlinkat(tmp.fd, RUNDIR_STATE, 0);
	cr_assert_eq(statefile_read(tmp.fd, &sf), -1);
	cr_assert_eq(errno, ENOENT);
}

/* A FIFO would block a reader forever: the test would time out. */
Test(statefile, a_fifo_is_refused_without_waiting)
{
	struct statefile sf;

	cr_assert_eq(mkfifoat(tmp.fd, RUNDIR_STATE, 0600), 0);
	cr_assert_eq(statefile_read(tmp.fd, &sf), -1);
	cr_assert_eq(errno, FD_ENOTREG);
}

/* Beyond the first read's buffer: read again, whole. */
Test(statefile, a_file_longer_than_one_read_is_read_whole)
{
	size_t pad = 20000;
	char *text = malloc(pad + 128);
	struct statefile sf;

	cr_assert_not_null(text);
	memset(text, ' ', pad);
	strcpy(text + pad, "{\"pid\": 7, \"state\": \"ready\"}");
	put(text);
	free(text);
	cr_assert_eq(statefile_read(tmp.fd, &sf), 0);
	cr_assert_eq(sf.known, STATEFILE_PID | STATEFILE_STATE);
	cr_assert_eq(sf.pid, 7);
	cr_assert_str_eq(sf.state, "ready");
}

/* A spawner's record of a failed start: state "failed" and the exit
 * status, the signal null; both read back as written. */
Test(statefile, a_failed_start_is_written_with_its_exit_and_read_back)
{
	struct statefile in = {.known = STATEFILE_NAME | STATEFILE_PID |
	                                STATEFILE_STATE | STATEFILE_EXIT_STATUS,
	                       .pid = 42,
	                       .exit_status = 2},
	                 out;
	char *text;

	strcpy(in.name, "web");
	strcpy(in.state, STATEFILE_FAILED);
	cr_assert_eq(statefile_write(tmp.fd, &in, NULL), 0);
	cr_assert_eq(fd_read_file_at(tmp.fd, RUNDIR_STATE, 4096, &text, NULL),
	             0);
	cr_assert(strstr(text, "\"exit_status\": 2"), "%s", text);
	cr_assert(strstr(text, "\"signal\": null"), "%s", text);
	free(text);
	cr_assert_eq(statefile_read(tmp.fd, &out), 0);
	cr_assert_eq(memcmp(&in, &out, sizeof in), 0);
}

/* An exit code beyond 0..255 or a signal that is no signal number is
 * not trusted: unknown, never guessed. */
Test(statefile, an_impossible_exit_status_or_signal_is_unknown)
{
	struct statefile sf;

	put("{\"state\": \"failed\", \"exit_status\": 256, \"signal\": 0}");
	cr_assert_eq(statefile_read(tmp.fd, &sf), 0);
	cr_assert_eq(sf.known, (unsigned)STATEFILE_STATE);
	put("{\"exit_status\": -1, \"signal\": \"9\"}");
	cr_assert_eq(statefile_read(tmp.fd, &sf), 0);
	cr_assert_eq(sf.known, 0u);
	put("{\"exit_status\": 0, \"signal\": 9}");
	cr_assert_eq(statefile_read(tmp.fd, &sf), 0);
	cr_assert_eq(sf.known,
	             (unsigned)(STATEFILE_EXIT_STATUS | STATEFILE_SIGNAL));
	cr_assert_eq(sf.exit_status, 0);
	cr_assert_eq(sf.signal, 9);
}
