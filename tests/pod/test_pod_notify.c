/* test_pod_notify.c: the pod as a Type=notify service: with NOTIFY_SOCKET
 * in its environment it sends READY=1 (with MAINPID and a STATUS) after
 * its ready line and STOPPING=1 when it stops, and its processes do not
 * inherit the variable. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "proto.h"

TestSuite(pod_notify, .init = th_setup, .fini = th_teardown, .timeout = 30);

/* A datagram socket of the test's at <root>/notify, as NOTIFY_SOCKET. */
static int notify_listen(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/notify", th.root);

	cr_assert(fd >= 0 && n > 0 && (size_t)n < sizeof sa.sun_path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	/* a pod that never sends fails the test here, with its teardown,
	 * not by the suite's timeout (which would skip the teardown) */
	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
	                        &(struct timeval){10, 0},
	                        sizeof(struct timeval)),
	             0);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	return fd;
}

/* The next datagram: the pod sends it (or, after 10 s, the test
 * fails). */
static char *next_message(int fd)
{
	static char buf[512];
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);

	cr_assert_gt(n, 0, "no message from the pod");
	buf[n] = '\0';
	return buf;
}

/* The whole log of process name in the pod's only session. */
static char *process_log(const char *name)
{
	char dir[TH_PATH_MAX + 32], path[2 * TH_PATH_MAX];
	struct dirent *e;
	DIR *d;
	FILE *f;
	static char text[4096];
	size_t n;

	snprintf(dir, sizeof dir, "%s/sessions", th.home);
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((e = readdir(d)) && e->d_name[0] == '.')
		;
	cr_assert_not_null(e);
	snprintf(path, sizeof path, "%s/%s/logs/%s.log", dir, e->d_name, name);
	closedir(d);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* The pod's stop method for its process "after"; answered once it is
 * stopped. */
static void stop_after(struct th_pod *p)
{
	json_t *params = json_pack("{s:[s]}", "names", "after"), *result;
	struct insomnia_error err;
	int fd = th_connect(p->sock);

	cr_assert_eq(proto_call(fd, 1, "stop", params, &result, &err), 0, "%s",
	             err.message);
	json_decref(params);
	json_decref(result);
	close(fd);
}

Test(pod_notify, ready_after_the_ready_line_stopping_at_stop)
{
	/* check must have succeeded (its output drained) before after
	 * starts, and the pod is ready only once after is; check, exited,
	 * is not ready: 1 of 2 */
	const char *args[] = {
	    "--overlay",
	    "[pod]\nname = \"svc\"\n"
	    "[process.check]\n"
	    "shell = \"printenv NOTIFY_SOCKET || echo no-notify-socket\"\n"
	    "[process.after]\n"
	    "command = [\"sleep\", \"100000\"]\n"
	    "depends_on = { check = \"succeeded\" }\n",
	    NULL};
	int fd = notify_listen();
	struct th_pod p;
	char *msg, want[64];

	th_launch(&p, NULL, args);
	/* the pod printed its ready line before it said READY=1: the line
	 * is in the pipe by the time the datagram is here */
	msg = next_message(fd);
	cr_assert(strstr(msg, "READY=1\n"), "%s", msg);
	cr_assert(th_ready_written(&p), "READY=1 before the ready line: %s",
	          p.err);
	snprintf(want, sizeof want, "MAINPID=%ld\n", (long)p.pid);
	cr_assert(strstr(msg, want), "%s", msg);
	cr_assert(strstr(msg, "STATUS=pod svc ready, 1 of 2 processes ready"),
	          "%s", msg);
	cr_assert(strstr(process_log("check"), "no-notify-socket"),
	          "a process inherited NOTIFY_SOCKET: %s",
	          process_log("check"));
	stop_after(&p);
	/* the summary follows the processes (systemctl status shows it) */
	msg = next_message(fd);
	cr_assert_str_eq(msg, "STATUS=pod svc ready, 0 of 2 processes ready");
	th_stop(&p);
	msg = next_message(fd);
	cr_assert(strstr(msg, "STOPPING=1"), "%s", msg);
	th_pod_free(&p);
	close(fd);
}

Test(pod_notify, without_notify_socket_nothing_is_sent)
{
	int fd = notify_listen();
	struct th_pod p;
	char buf[64];

	unsetenv("NOTIFY_SOCKET");
	th_start_named(&p, "quiet");
	th_stop(&p);
	/* nothing queued: the pod never wrote to the socket */
	cr_assert_eq(recv(fd, buf, sizeof buf, MSG_DONTWAIT), -1);
	th_pod_free(&p);
	close(fd);
}
