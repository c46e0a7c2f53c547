/* Watching pods come and go (insomnia/watch.h): every step waits for the
 * watcher's own event, then checks it was the one expected, in order,
 * with nothing in between (so a duplicate is a failure too). */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include <insomnia/reap.h>
#include <insomnia/stop.h>
#include <insomnia/version.h>
#include <insomnia/watch.h>

static void use_real_pod(void)
{
	e2e_setup();
	setenv("INSOMNIA_POD_COMMAND", getenv("INSOMNIA_TEST_POD"), 1);
}

TestSuite(watch, .init = e2e_setup, .fini = e2e_teardown, .timeout = 30);
TestSuite(watch_real, .init = use_real_pod, .fini = e2e_teardown,
          .timeout = 30);

#define MAX_SEEN 256

struct seen {
	enum insomnia_watch_kind kind;
	char name[INSOMNIA_NAME_MAX + 1];
	bool has_info, alive;
	pid_t pid;
	char state[32];
};

struct watcher {
	struct event_base *base;
	struct insomnia_watch *w;
	struct seen seen[MAX_SEEN];
	int n, next;
	int fds, inotify;                 /* before the watch started */
	enum insomnia_watch_kind free_on; /* free from inside at this kind */
	bool free_inside;
};

static void collect(const struct insomnia_watch_event *ev, void *arg)
{
	struct watcher *wt = arg;
	struct seen *s;

	cr_assert_lt(wt->n, MAX_SEEN);
	s = &wt->seen[wt->n++];
	*s = (struct seen){.kind = ev->kind, .has_info = ev->info != NULL};
	cr_assert_eq(ev->name != NULL, ev->info != NULL);
	if (ev->name)
		snprintf(s->name, sizeof s->name, "%s", ev->name);
	if (ev->info) {
		cr_assert_str_eq(ev->info->name, ev->name);
		s->alive = ev->info->alive;
		s->pid = ev->info->pid;
		snprintf(s->state, sizeof s->state, "%s", ev->info->state);
	}
	if (ev->kind == INSOMNIA_WATCH_FAILED)
		cr_log_error("watch failed: %s", ev->err->message);
	if (wt->free_inside && ev->kind == wt->free_on) {
		insomnia_watch_free(wt->w);
		wt->w = NULL;
	}
}

static void watch_start(struct watcher *wt)
{
	struct insomnia_error err;

	insomnia_cleanup(); /* idle inotify instances of earlier spawns */
	wt->fds = e2e_fd_count();
	wt->inotify = e2e_inotify_count();
	wt->base = event_base_new();
	cr_assert_not_null(wt->base);
	wt->w = insomnia_watch_start(wt->base, collect, wt, &err);
	cr_assert_not_null(wt->w, "%s", err.message);
	cr_assert_eq(wt->n, 0, "an event from inside insomnia_watch_start");
}

/* The next event, waiting for it in the loop. */
static const struct seen *next_event(struct watcher *wt)
{
	while (wt->next == wt->n)
		cr_assert_geq(event_base_loop(wt->base, EVLOOP_ONCE), 0);
	return &wt->seen[wt->next++];
}

static const struct seen *
expect(struct watcher *wt, enum insomnia_watch_kind kind, const char *name)
{
	const struct seen *s = next_event(wt);

	cr_assert_eq(s->kind, kind, "expected %s %s, got %s %s",
	             insomnia_watch_kind_name(kind), name ? name : "",
	             insomnia_watch_kind_name(s->kind), s->name);
	if (name)
		cr_assert_str_eq(s->name, name);
	return s;
}

/* Everything released: the inotify instance and every other fd. */
static void watch_free(struct watcher *wt)
{
	insomnia_watch_free(wt->w);
	event_base_free(wt->base);
	insomnia_cleanup();
	cr_assert_eq(e2e_inotify_count(), wt->inotify,
	             "the watch left its inotify instance open");
	cr_assert_eq(e2e_fd_count(), wt->fds, "the watch leaked a descriptor");
}

static pid_t spawn(const char *name)
{
	struct insomnia_spawn_options o = e2e_options(name, NULL);
	struct insomnia_spawn_result r;
	struct insomnia_error err;

	cr_assert_eq(insomnia_spawn(&o, &r, &err), 0, "%s\n%s", err.message,
	             err.detail);
	return r.pid;
}

static void kill_and_wait(pid_t pid)
{
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
}

static void a_whole_life(void)
{
	struct watcher wt = {0};
	struct insomnia_error err;
	const struct seen *s;
	pid_t pid;

	watch_start(&wt);
	expect(&wt, INSOMNIA_WATCH_SYNCED, NULL);

	pid = spawn("web");
	expect(&wt, INSOMNIA_WATCH_APPEARED, "web");
	s = expect(&wt, INSOMNIA_WATCH_READY, "web");
	cr_assert(s->alive);
	cr_assert_eq(s->pid, pid);

	cr_assert_eq(insomnia_stop("web", 10000, NULL, NULL, &err), 0, "%s",
	             err.message);
	s = expect(&wt, INSOMNIA_WATCH_STOPPED, "web");
	cr_assert_not(s->alive);
	cr_assert_str_eq(s->state, "stopped");

	/* a new life in the same dir */
	pid = spawn("web");
	expect(&wt, INSOMNIA_WATCH_APPEARED, "web");
	cr_assert_eq(expect(&wt, INSOMNIA_WATCH_READY, "web")->pid, pid);

	kill_and_wait(pid);
	s = expect(&wt, INSOMNIA_WATCH_DIED, "web");
	cr_assert_not(s->alive);

	cr_assert_eq(insomnia_reap(NULL, NULL, &err), 0, "%s", err.message);
	s = expect(&wt, INSOMNIA_WATCH_GONE, "web");
	cr_assert_not(s->alive);

	cr_assert_eq(wt.next, wt.n, "an event too many: %s",
	             insomnia_watch_kind_name(wt.seen[wt.next].kind));
	watch_free(&wt);
}

Test(watch, a_mock_pods_life_appeared_ready_stopped_died_gone)
{
	a_whole_life();
}

Test(watch_real, a_real_pods_life_appeared_ready_stopped_died_gone)
{
	a_whole_life();
}

Test(watch_real, insomnia_stop_by_sigkill_is_a_death_whatever_it_cleaned)
{
	struct watcher wt = {0};
	enum insomnia_stop_how how;

	watch_start(&wt);
	expect(&wt, INSOMNIA_WATCH_SYNCED, NULL);
	spawn("web");
	expect(&wt, INSOMNIA_WATCH_APPEARED, "web");
	expect(&wt, INSOMNIA_WATCH_READY, "web");
	/* stop removes the files after the kill, before the watcher looks:
	 * what counts is what was there when the lock was let go */
	cr_assert_eq(insomnia_stop("web", 0, &how, NULL, NULL), 0);
	cr_assert_eq(how, INSOMNIA_STOPPED_BY_KILL);
	expect(&wt, INSOMNIA_WATCH_DIED, "web");
	cr_assert_eq(wt.next, wt.n);
	watch_free(&wt);
}

/* A spawn that fails: the spawner's record ("failed") is written after
 * the pod's end, and was no event, so a watcher showed such a pod as
 * stopped until something else made it read the dir again.  The mock
 * waits for SIGUSR1 until the watch has seen its dir, so the failure
 * comes after APPEARED, as when a spawn fails under a running UI. */
struct failing {
	pid_t mock;
	bool over;
};

static void failing_progress(const char *line, void *arg)
{
	long pid;

	if (sscanf(line, "mock-pod: pid %ld", &pid) == 1)
		((struct failing *)arg)->mock = (pid_t)pid;
}

static void failing_ready(const struct insomnia_spawn_result *res, void *arg)
{
	cr_assert_fail("the spawn of %s succeeded", res->name);
}

static void failing_failed(const struct insomnia_error *err, void *arg)
{
	((struct failing *)arg)->over = true;
}

static void a_failed_spawn_is_told(const char *mock_args)
{
	struct watcher wt = {0};
	struct failing f = {0};
	struct insomnia_spawn_options o = e2e_options("bad", NULL);
	struct insomnia_error err;
	const struct seen *s;

	watch_start(&wt);
	expect(&wt, INSOMNIA_WATCH_SYNCED, NULL);
	o.progress = failing_progress;
	o.arg = &f;
	setenv("MOCK_POD_ARGS", mock_args, 1);
	cr_assert_not_null(insomnia_spawn_start(wt.base, &o, failing_ready,
	                                        failing_failed, &err),
	                   "%s", err.message);
	expect(&wt, INSOMNIA_WATCH_APPEARED, "bad");
	while (!f.mock)
		cr_assert_geq(event_base_loop(wt.base, EVLOOP_ONCE), 0);
	cr_assert_eq(kill(f.mock, SIGUSR1), 0);
	do
		s = next_event(&wt);
	while (s->kind == INSOMNIA_WATCH_STOPPED ||
	       s->kind == INSOMNIA_WATCH_DIED);
	cr_assert_eq(s->kind, INSOMNIA_WATCH_SPAWN_FAILED, "got %s",
	             insomnia_watch_kind_name(s->kind));
	cr_assert_str_eq(s->name, "bad");
	cr_assert_str_eq(s->state, "failed");
	cr_assert_not(s->alive);
	while (!f.over)
		cr_assert_geq(event_base_loop(wt.base, EVLOOP_ONCE), 0);
	unsetenv("MOCK_POD_ARGS"); /* read when the pod is launched */
	/* once: reaping it is the next event */
	cr_assert_eq(insomnia_reap(NULL, NULL, &err), 0, "%s", err.message);
	expect(&wt, INSOMNIA_WATCH_GONE, "bad");
	watch_free(&wt);
}

Test(watch, a_spawn_failed_before_its_life_is_told)
{
	a_failed_spawn_is_told("--ready-delay -1 --exit 3 --message boom");
}

Test(watch, a_spawn_failed_after_publishing_its_pid_is_told)
{
	a_failed_spawn_is_told("--ready-delay -1 --no-listen");
}

Test(watch, pods_there_before_the_watch_are_listed_then_synced)
{
	struct watcher wt = {0};
	bool a_appeared = false, a_ready = false, b_appeared = false;
	const struct seen *s;
	pid_t a = spawn("a");

	spawn("b");
	cr_assert_eq(insomnia_stop("b", 10000, NULL, NULL, NULL), 0);
	watch_start(&wt);
	while ((s = next_event(&wt))->kind != INSOMNIA_WATCH_SYNCED) {
		if (!strcmp(s->name, "a") &&
		    s->kind == INSOMNIA_WATCH_APPEARED) {
			cr_assert_not(a_appeared || a_ready);
			a_appeared = true;
		} else if (!strcmp(s->name, "a") &&
		           s->kind == INSOMNIA_WATCH_READY) {
			cr_assert(a_appeared && !a_ready);
			cr_assert_eq(s->pid, a);
			a_ready = true;
		} else {
			cr_assert_str_eq(s->name, "b");
			cr_assert_eq(s->kind, INSOMNIA_WATCH_APPEARED);
			cr_assert_not(b_appeared);
			cr_assert_not(s->alive);
			b_appeared = true;
		}
	}
	cr_assert(a_ready && b_appeared);
	e2e_stop(a);
	expect(&wt, INSOMNIA_WATCH_STOPPED, "a");
	watch_free(&wt);
}

Test(watch, a_runtime_root_missing_at_start_is_waited_for)
{
	struct watcher wt = {0};
	char root[512];
	pid_t pid;

	/* three levels missing */
	snprintf(root, sizeof root, "%s/deep/er/run", e2e_home);
	setenv("INSOMNIA_RUNTIME_DIR", root, 1);
	watch_start(&wt);
	expect(&wt, INSOMNIA_WATCH_SYNCED, NULL);
	cr_assert_eq(access(root, F_OK), -1, "the watch made the root");
	pid = spawn("web");
	expect(&wt, INSOMNIA_WATCH_APPEARED, "web");
	cr_assert_eq(expect(&wt, INSOMNIA_WATCH_READY, "web")->pid, pid);
	e2e_stop(pid);
	expect(&wt, INSOMNIA_WATCH_STOPPED, "web");
	watch_free(&wt);
}

Test(watch, a_runtime_root_removed_and_made_again_is_followed)
{
	struct watcher wt = {0};
	char cmd[600];
	pid_t pid;

	pid = spawn("web");
	e2e_stop(pid);
	watch_start(&wt);
	expect(&wt, INSOMNIA_WATCH_APPEARED, "web");
	expect(&wt, INSOMNIA_WATCH_SYNCED, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", e2e_rundir("", NULL));
	cr_assert_eq(system(cmd), 0);
	expect(&wt, INSOMNIA_WATCH_GONE, "web");
	pid = spawn("db");
	expect(&wt, INSOMNIA_WATCH_APPEARED, "db");
	expect(&wt, INSOMNIA_WATCH_READY, "db");
	e2e_stop(pid);
	expect(&wt, INSOMNIA_WATCH_STOPPED, "db");
	watch_free(&wt);
}

/* More events than the kernel queues, in dir (the root or a pod dir):
 * a file made and removed, over and over (a create and a delete
 * alternate, so the kernel merges none of them). */
static void flood(const char *dir)
{
	char path[600], max[32] = "";
	int fd, n;

	fd = open("/proc/sys/fs/inotify/max_queued_events", O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_gt(read(fd, max, sizeof max - 1), 0);
	close(fd);
	n = atoi(max) / 2 + 64;
	snprintf(path, sizeof path, "%s/flood", dir);
	for (int i = 0; i < n; i++) {
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		cr_assert_geq(fd, 0);
		close(fd);
		cr_assert_eq(unlink(path), 0);
	}
}

Test(watch, a_death_lost_in_an_overflow_is_found_by_the_resync)
{
	struct watcher wt = {0};
	struct insomnia_error err;
	pid_t pid = spawn("web");

	watch_start(&wt);
	expect(&wt, INSOMNIA_WATCH_APPEARED, "web");
	expect(&wt, INSOMNIA_WATCH_READY, "web");
	expect(&wt, INSOMNIA_WATCH_SYNCED, NULL);
	/* the queue is full: the death's events are lost */
	flood(e2e_rundir("", NULL));
	kill_and_wait(pid);
	expect(&wt, INSOMNIA_WATCH_RESYNC, NULL);
	expect(&wt, INSOMNIA_WATCH_DIED, "web");
	expect(&wt, INSOMNIA_WATCH_SYNCED, NULL);
	/* and it goes on watching */
	cr_assert_eq(insomnia_reap(NULL, NULL, &err), 0, "%s", err.message);
	expect(&wt, INSOMNIA_WATCH_GONE, "web");
	cr_assert_eq(wt.next, wt.n);
	watch_free(&wt);
}

Test(watch, a_lost_stop_is_found_by_the_resync)
{
	struct watcher wt = {0};
	pid_t pid = spawn("web");

	watch_start(&wt);
	expect(&wt, INSOMNIA_WATCH_APPEARED, "web");
	expect(&wt, INSOMNIA_WATCH_READY, "web");
	expect(&wt, INSOMNIA_WATCH_SYNCED, NULL);
	/* the stop's events are lost in the overflow */
	flood(e2e_rundir("web", NULL));
	e2e_stop(pid);
	expect(&wt, INSOMNIA_WATCH_RESYNC, NULL);
	expect(&wt, INSOMNIA_WATCH_STOPPED, "web");
	expect(&wt, INSOMNIA_WATCH_SYNCED, NULL);
	watch_free(&wt);
}

Test(watch, freeing_the_watch_from_its_callback_ends_it)
{
	struct watcher wt = {.free_inside = true,
	                     .free_on = INSOMNIA_WATCH_APPEARED};
	pid_t a = spawn("a"), b = spawn("b");

	watch_start(&wt);
	/* returns once no event is left: the free removed all of them */
	cr_assert_eq(event_base_dispatch(wt.base), 1);
	cr_assert_eq(wt.n, 1, "an event after the free");
	cr_assert_null(wt.w);
	watch_free(&wt);
	e2e_stop(a);
	e2e_stop(b);
}

/* ---- podctl watch ------------------------------------------------------ */

/* Read one line from fd (byte by byte: nothing past it is consumed). */
static void read_line(int fd, char *line, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		cr_assert_eq(read(fd, line + n, 1), 1, "podctl watch ended");
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
}

Test(watch, podctl_watch_prints_a_line_per_event_until_interrupted)
{
	char line[256], want[64];
	int out[2], status;
	pid_t ctl, pid;

	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	ctl = fork();
	cr_assert_geq(ctl, 0);
	if (ctl == 0) {
		dup2(out[1], 1);
		execl(getenv("INSOMNIA_TEST_PODCTL"), "podctl", "watch",
		      (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	read_line(out[0], line, sizeof line);
	cr_assert_str_eq(line, "synced");
	pid = spawn("web");
	read_line(out[0], line, sizeof line);
	cr_assert_str_eq(line, "appeared web");
	read_line(out[0], line, sizeof line);
	snprintf(want, sizeof want, "ready web %ld", (long)pid);
	cr_assert_str_eq(line, want);
	kill_and_wait(pid);
	read_line(out[0], line, sizeof line);
	cr_assert_eq(strncmp(line, "died web", 8), 0, "%s", line);
	cr_assert_eq(kill(ctl, SIGINT), 0);
	cr_assert_eq(waitpid(ctl, &status, 0), ctl);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%#x", status);
	close(out[0]);
}
