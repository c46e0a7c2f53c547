/* crashloop.c: spawn, SIGKILL at a random point, check, repeat. */
#include "crashloop.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <insomnia/pods.h>
#include <insomnia/reap.h>
#include <insomnia/spawn.h>
#include "procsig.h"

#define CRASHLOOP_NAME     "crash"
#define CRASHLOOP_SESSIONS 16
/* The pod prints 5 or 6 lines before its ready line: a kill at one of
 * them lands somewhere in its start-up (the pod is ahead of what we
 * read).  One round in three kills it once it serves instead. */
#define START_LINES 6

struct round {
	struct crashloop *c;
	int n;
	int kill_at; /* start-up line to kill at, or -1: once it serves */
	int lines;
	bool killed;
	struct stat pod_exe;
};

static int failed(struct crashloop *c, int n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int failed(struct crashloop *c, int n, const char *fmt, ...)
{
	va_list ap;
	int len =
	    snprintf(c->why, sizeof c->why, "seed %u, round %d: ", c->seed, n);

	va_start(ap, fmt);
	vsnprintf(c->why + len, sizeof c->why - (size_t)len, fmt, ap);
	va_end(ap);
	return -1;
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	long ppid = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(path, "re")))
		return 0;
	if (fgets(buf, sizeof buf, f) && (p = strrchr(buf, ')')))
		sscanf(p + 1, " %*c %ld", &ppid);
	fclose(f);
	return (pid_t)ppid;
}

/* The pod being spawned: runs the pod binary, child of the launch
 * monitor, which is our child.  0 when none (yet). */
static pid_t find_starting_pod(const struct stat *exe)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	struct stat st;
	char path[300];
	pid_t found = 0, pid;

	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
		pid = (pid_t)atol(e->d_name);
		if (stat(path, &st) == 0 && st.st_ino == exe->st_ino &&
		    st.st_dev == exe->st_dev &&
		    parent_of(parent_of(pid)) == getpid())
			found = pid;
	}
	if (d)
		closedir(d);
	return found;
}

static void on_line(const char *line, void *arg)
{
	struct round *r = arg;
	pid_t pod;

	if (r->killed || r->kill_at < 0 || r->lines++ != r->kill_at)
		return;
	pod = find_starting_pod(&r->pod_exe);
	if (pod > 0 && kill(pod, SIGKILL) == 0)
		r->killed = true;
}

/* Killed while starting, a spawn may fail only because of that kill. */
static bool failure_from_kill(const struct insomnia_error *err)
{
	return (err->kind == INSOMNIA_ERR_EXITED_EARLY &&
	        err->term_signal == SIGKILL) ||
	       err->kind == INSOMNIA_ERR_SOCKET_REFUSED;
}

static int kill_served(struct round *r, pid_t pid)
{
	int status;

	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return failed(r->c, r->n, "cannot kill pod %ld: %s", (long)pid,
		              strerror(errno));
	/* detached, so our child (we are its subreaper); a pod killed at
	 * a start-up line was reaped by the launch monitor */
	if (waitpid(pid, &status, 0) < 0 && errno != ECHILD)
		return failed(r->c, r->n, "cannot reap pod %ld: %s", (long)pid,
		              strerror(errno));
	return 0;
}

static int one_round(struct round *r, char ids[][INSOMNIA_SESSION_ID_MAX],
                     int *nids)
{
	struct crashloop *c = r->c;
	struct insomnia_spawn_options o = {0};
	struct insomnia_spawn_result res;
	struct insomnia_error err;
	bool resume = *nids > 0 && rand_r(&c->seed) % 2;

	o.name = CRASHLOOP_NAME;
	o.overlay = "[pod]\nname = \"" CRASHLOOP_NAME "\"\n";
	o.pod_command = c->pod_command;
	o.timeout_ms = 30000;
	o.progress = on_line;
	o.arg = r;
	if (resume)
		o.session_id = ids[rand_r(&c->seed) % (unsigned)*nids];
	insomnia_error_clear(&err);
	if (insomnia_spawn(&o, &res, &err) < 0) {
		c->killed_starting += r->killed;
		if (r->killed && failure_from_kill(&err))
			return 0;
		return failed(c, r->n, "%s %s failed (kill point %d): %s: %s",
		              resume ? "resume of" : "spawn of",
		              resume ? o.session_id : CRASHLOOP_NAME,
		              r->kill_at, insomnia_error_kind_name(err.kind),
		              err.message);
	}
	c->resumed += resume;
	if (!resume && res.session_id[0] && *nids < CRASHLOOP_SESSIONS)
		snprintf(ids[(*nids)++], INSOMNIA_SESSION_ID_MAX, "%s",
		         res.session_id);
	if (r->killed) /* at a start-up line, yet it got ready */
		c->killed_starting++;
	else
		c->killed_serving++;
	return kill_served(r, res.pid);
}

static int count_pod(const struct insomnia_pod_info *info, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* A launch monitor's log watcher (same program as the monitor) comes
 * back to us as a subreaper; it is killed with its monitor
 * (PR_SET_PDEATHSIG), which the handshake already reaped.  A process
 * whose exe is gone is past the point of no return in exit().  Waiting
 * for either ends. */
static bool is_dying_or_log_watcher(pid_t pid)
{
	char path[64], exe[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof path, "/proc/%ld/exe", (long)pid);
	n = readlink(path, exe, sizeof exe - 1);
	if (n <= 0)
		return true;
	exe[n] = '\0';
	return strstr(exe, "pod-launch-monitor") != NULL;
}

/* Any other process re-parented to us, dead ones aside, is one a dead
 * pod left behind. */
static pid_t orphan(void)
{
	pid_t pid, found = 0;
	DIR *d;
	struct dirent *e;

	while (waitpid(-1, NULL, WNOHANG) > 0) /* the dead are no orphans */
		;
	d = opendir("/proc");
	while (d && !found && (e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		pid = (pid_t)atol(e->d_name);
		if (parent_of(pid) != getpid())
			continue;
		if (is_dying_or_log_watcher(pid))
			waitpid(pid, NULL, 0);
		else if (waitpid(pid, NULL, WNOHANG) == 0)
			found = pid;
	}
	if (d)
		closedir(d);
	return found;
}

static int reap_and_check(struct crashloop *c, int n)
{
	struct insomnia_error err;
	int pods = 0;
	pid_t left;

	if (insomnia_reap(NULL, NULL, &err) < 0)
		return failed(c, n, "reap failed: %s", err.message);
	if (insomnia_pods_each(count_pod, &pods, &err) < 0)
		return failed(c, n, "listing failed: %s", err.message);
	if (pods != 0)
		return failed(c, n, "%d pod dirs left after reap", pods);
	if ((left = orphan()) > 0)
		return failed(c, n, "process %ld was left behind", (long)left);
	c->reaped++;
	return 0;
}

int crashloop_run(struct crashloop *c)
{
	char ids[CRASHLOOP_SESSIONS][INSOMNIA_SESSION_ID_MAX];
	struct round r = {c, 0, 0, 0, false, {0}};
	int nids = 0;

	c->why[0] = '\0';
	c->killed_starting = c->killed_serving = c->resumed = c->reaped = 0;
	if (stat(c->pod_command, &r.pod_exe) < 0)
		return failed(c, 0, "no pod at %s", c->pod_command);
	for (int n = 1; n <= c->rounds; n++) {
		r.n = n;
		r.kill_at = rand_r(&c->seed) % 3 == 0
		                ? -1
		                : (int)(rand_r(&c->seed) % START_LINES);
		r.lines = 0;
		r.killed = false;
		if (one_round(&r, ids, &nids) < 0)
			return -1;
		if ((n % c->reap_every == 0 || n == c->rounds) &&
		    reap_and_check(c, n) < 0)
			return -1;
	}
	return 0;
}
