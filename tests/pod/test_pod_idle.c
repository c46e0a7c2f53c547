/* test_pod_idle.c: [pod] idle_timeout: with no control connection open
 * for that long, the ready pod stops as on `shutdown` (its processes
 * stopped, the journal's stopping record saying why); a connected client
 * keeps it running, and the timer starts again from its close.
 *
 * Nothing here sleeps: the tests wait for the pod's exit (waitpid) and
 * for the lines it logs when it arms and disarms its timer.  "Kept
 * alive" is shown by order, not by a clock: while the client is
 * connected the pod says its timer is off, it arms it again only after
 * the close, and its exit comes after that. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

TestSuite(pod_idle, .init = th_setup, .fini = th_teardown, .timeout = 60);

#define ARMED "idle: no client connected, stopping in "
#define OFF   "idle timer off: a client is connected"

/* Read the pod's stderr into p->err until text is in it (from offset
 * from); its position. */
static size_t wait_err(struct th_pod *p, size_t from, const char *text)
{
	char buf[4096], *at;
	ssize_t n;

	while (!(at = strstr(p->err + from, text))) {
		n = read(p->errfd, buf, sizeof buf);
		cr_assert_gt(n, 0, "the pod ended before \"%s\":\n%s", text,
		             p->err);
		p->err = realloc(p->err, p->err_len + (size_t)n + 1);
		cr_assert_not_null(p->err);
		memcpy(p->err + p->err_len, buf, (size_t)n);
		p->err_len += (size_t)n;
		p->err[p->err_len] = '\0';
	}
	return (size_t)(at - p->err);
}

/* The pod's only session's journal. */
static char *journal(void)
{
	char dir[TH_PATH_MAX + 16], path[2 * TH_PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/sessions", th.home);
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((e = readdir(d)) && e->d_name[0] == '.')
		;
	cr_assert_not_null(e);
	snprintf(path, sizeof path, "%s/%s/journal.jsonl", dir, e->d_name);
	closedir(d);
	return th_read_file(path);
}

static void start(struct th_pod *p, const char *timeout)
{
	char overlay[256];
	const char *args[] = {"--overlay", overlay, NULL};

	th_fmt(overlay, sizeof overlay,
	       "[pod]\nname = \"idle\"\nidle_timeout = \"%s\"\n"
	       "[process.a]\ncommand = [\"sleep\", \"100000\"]\n"
	       "[process.b]\ncommand = [\"sleep\", \"100000\"]\n"
	       "depends_on = { a = \"started\" }\n",
	       timeout);
	cr_assert(th_start(p, NULL, args), "%s", p->err);
}

Test(pod_idle, a_pod_nobody_talks_to_stops_by_itself_and_says_why)
{
	struct th_pod p;
	char *j, *stopping, *b_stop, *a_stop;

	start(&p, "300ms");
	cr_assert_eq(th_wait(&p), 0, "%s", p.err);
	th_assert_err_has(&p, ARMED "300ms");
	th_assert_err_has(&p, "shutting down: idle for 300ms");
	j = journal();
	stopping = strstr(j, "\"event\":\"stopping\"");
	cr_assert_not_null(stopping, "%s", j);
	cr_assert(strstr(stopping, "\"reason\":\"idle for 300ms\""), "%s", j);
	/* gracefully, in reverse order: b (which depends on a) first */
	b_stop = strstr(stopping, "\"process\":\"b\",\"state\":\"stopped\"");
	a_stop = strstr(stopping, "\"process\":\"a\",\"state\":\"stopped\"");
	cr_assert(b_stop && a_stop && b_stop < a_stop, "%s", j);
	th_pod_free(&p);
}

/* The timeout is long enough for the test to connect after the ready
 * line (a timer that fired first would fail the test, not pass it); it
 * bounds only how long the pod takes to go once the client closed. */
Test(pod_idle, a_connected_client_keeps_the_pod_and_its_close_rearms_it)
{
	struct th_pod p;
	size_t armed, off, rearmed, stop;
	json_t *r;
	int fd;

	start(&p, "2s");
	armed = wait_err(&p, 0, ARMED "2s");
	fd = th_connect(p.sock);
	off = wait_err(&p, armed, OFF);
	r = th_call(fd, "ping");
	json_decref(r);
	cr_assert_null(strstr(p.err + off, "shutting down"));
	close(fd);
	rearmed = wait_err(&p, off, ARMED "2s");
	cr_assert_eq(th_wait(&p), 0, "%s", p.err);
	stop = (size_t)(strstr(p.err, "shutting down: idle for 2s") - p.err);
	cr_assert(armed < off && off < rearmed && rearmed < stop, "%s", p.err);
	th_pod_free(&p);
}

Test(pod_idle, without_idle_timeout_no_timer_is_armed)
{
	struct th_pod p;
	int fd;

	th_start_named(&p, "busy");
	fd = th_connect(p.sock);
	json_decref(th_call(fd, "ping"));
	close(fd);
	th_stop(&p);
	th_assert_err_lacks(&p, "idle:");
	th_assert_err_lacks(&p, "idle timer");
	th_pod_free(&p);
}
