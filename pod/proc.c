/* proc.c: one process's runs (proc.h): starting it as the manifest says,
 * signalling it, and cleaning up after it. */
#include "proc.h"
#include "ports.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "childstart.h"
#include "procnotify.h"
#include "procrec.h"
#include "proclog.h"
#include "procsig.h"

extern char **environ;

static const char *const state_names[] = {
    [PROC_STOPPED] = "stopped",     [PROC_WAITING] = "waiting",
    [PROC_BLOCKED] = "blocked",     [PROC_STARTING] = "starting",
    [PROC_RUNNING] = "running",     [PROC_READY] = "ready",
    [PROC_STOPPING] = "stopping",   [PROC_EXITED] = "exited",
    [PROC_BACKOFF] = "backoff",     [PROC_FAILED] = "failed",
    [PROC_RELOADING] = "reloading",
};

const char *proc_state_name(enum proc_state st)
{
	if ((size_t)st >= sizeof state_names / sizeof state_names[0])
		return "unknown";
	return state_names[st];
}

bool proc_state_live(enum proc_state st)
{
	return st == PROC_STARTING || proc_state_up(st) || st == PROC_STOPPING;
}

bool proc_state_up(enum proc_state st)
{
	return st == PROC_RUNNING || st == PROC_READY || st == PROC_RELOADING;
}

/* ---- the environment ------------------------------------------------- */

/* A growing NULL-terminated "NAME=value" list where a later NAME replaces
 * an earlier one. */
struct envlist {
	char **v;
	size_t n, cap;
};

static size_t name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');

	return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* Take entry (malloc'd) over; -1 on OOM (entry freed). */
static int envlist_put(struct envlist *e, char *entry)
{
	size_t len = name_len(entry);

	for (size_t i = 0; i < e->n; i++) {
		if (name_len(e->v[i]) == len &&
		    memcmp(e->v[i], entry, len) == 0) {
			free(e->v[i]);
			e->v[i] = entry;
			return 0;
		}
	}
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		char **v = realloc(e->v, cap * sizeof *v);
		if (!v) {
			free(entry);
			return -1;
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = entry;
	e->v[e->n] = NULL;
	return 0;
}

static int envlist_putf(struct envlist *e, const char *name, const char *value)
{
	char *entry;

	if (asprintf(&entry, "%s=%s", name, value) < 0)
		return -1;
	return envlist_put(e, entry);
}

static void envlist_free(struct envlist *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

/* PORT_<NAME>: the port name upper-cased, anything else than [A-Z0-9]
 * as '_'. */
static int put_port(struct envlist *e, const char *name, int port)
{
	char var[128], val[16];
	size_t i = 0;

	i = (size_t)snprintf(var, sizeof var, "PORT_");
	for (const char *c = name; *c && i + 1 < sizeof var; c++)
		var[i++] = isalnum((unsigned char)*c)
		               ? (char)toupper((unsigned char)*c)
		               : '_';
	var[i] = '\0';
	snprintf(val, sizeof val, "%d", port);
	return envlist_putf(e, var, val);
}

/* Variables of the protocols the pod speaks with its processes: never
 * inherited from the pod's own environment (a socket-activated pod's
 * LISTEN_PID is not its processes'), only set where they apply. */
static bool is_protocol_var(const char *entry)
{
	static const char *const names[] = {
	    "LISTEN_FDS",    "LISTEN_PID",    "LISTEN_FDNAMES",
	    "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
	};
	size_t len = name_len(entry);

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], entry, len))
			return true;
	return false;
}

static int put_notify(const struct proc *p, struct envlist *e)
{
	char usec[32];

	if (!p->notify)
		return 0;
	if (envlist_putf(e, "NOTIFY_SOCKET", procnotify_path(p->notify)) < 0)
		return -1;
	if (p->spec->alive.kind != PROBE_WATCHDOG)
		return 0;
	snprintf(usec, sizeof usec, "%lld",
	         (long long)p->spec->alive.interval_ms * 1000);
	return envlist_putf(e, "WATCHDOG_USEC", usec);
}

/* LISTEN_FDS, LISTEN_FDNAMES (names in ports order) and LISTEN_PID with
 * room for the child to write its pid (childstart's pid_env), last. */
static int put_listen(const struct proc *p, struct envlist *e)
{
	const struct proc_spec *s = p->spec;
	char n[24], *names = NULL, *pid;
	size_t len = 0;
	FILE *f;

	if (s->nlisten == 0)
		return 0;
	snprintf(n, sizeof n, "%zu", s->nlisten);
	f = open_memstream(&names, &len);
	for (size_t i = 0, k = 0; f && i < s->nports; i++)
		if (s->listen[i])
			fprintf(f, "%s%s", k++ ? ":" : "", s->ports[i]);
	if (!f || fclose(f) != 0 || envlist_putf(e, "LISTEN_FDS", n) < 0 ||
	    envlist_putf(e, "LISTEN_FDNAMES", names) < 0) {
		free(names);
		return -1;
	}
	free(names);
	pid = calloc(1, sizeof "LISTEN_PID=" + CHILDSTART_PID_DIGITS);
	if (!pid)
		return -1;
	strcpy(pid, "LISTEN_PID=");
	return envlist_put(e, pid);
}

/* "<run token>/probe": no process name holds a '/', so it is no other
 * process's token, and the run's (matched whole) does not reach it. */
static int put_probe_token(const struct proc *p, struct envlist *e)
{
	char token[PROCTREE_TOKEN_MAX + 8];

	snprintf(token, sizeof token, "%s/probe", p->token);
	return envlist_putf(e, PROCTREE_TOKEN_VAR, token);
}

/* The pod's environment (unless env_clear), the spec's (expanded), the
 * process's ports, then the pod's own variables, each over the last.
 * A run (run true) also gets its token and the notify and listen
 * variables; a probe command does not (it is not the process). */
static int build_env(const struct proc *p, const struct proc_env *env,
                     const struct placeholder_env *ph, bool run,
                     struct envlist *e, struct insomnia_error *err)
{
	const struct proc_spec *s = p->spec;

	for (char **v = environ; !s->env_clear && v && *v; v++) {
		char *dup;
		if (is_protocol_var(*v))
			continue;
		if (!(dup = strdup(*v)) || envlist_put(e, dup) < 0)
			goto oom;
	}
	for (size_t i = 0; i < s->nenv; i++) {
		char *val = placeholder_expand(s->env[i], ph, err);
		if (!val)
			return -1;
		if (envlist_put(e, val) < 0)
			goto oom;
	}
	for (size_t i = 0; i < s->nports; i++)
		if (put_port(e, s->ports[i], p->ports[i]) < 0)
			goto oom;
	if (envlist_putf(e, "INSOMNIA_POD_NAME", env->pod_name) < 0 ||
	    envlist_putf(e, "INSOMNIA_POD_DIR", env->pod_dir) < 0 ||
	    envlist_putf(e, "INSOMNIA_PROCESS", s->name) < 0)
		goto oom;
	/* The token marks what the run started (killed with it); a probe's
	 * command is the pod's, reaped by the probes, and has a token of its
	 * own (what it leaves is killed when it ends; a reap of a dead pod
	 * finds it by the pod's prefix), not the run's. */
	if (run ? envlist_putf(e, PROCTREE_TOKEN_VAR, p->token) < 0 ||
	              put_notify(p, e) < 0 || put_listen(p, e) < 0
	        : put_probe_token(p, e) < 0)
		goto oom;
	return 0;
oom:
	return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
	                                "cannot build the environment of %s",
	                                s->name);
}

/* ---- argv and cwd ---------------------------------------------------- */

static void free_argv(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static char **expand_argv(const struct proc_spec *s, char *const *src,
                          size_t argc, const struct placeholder_env *ph,
                          struct insomnia_error *err)
{
	char **argv = calloc(argc + 1, sizeof *argv);

	if (!argv) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "cannot start %s", s->name);
		return NULL;
	}
	for (size_t i = 0; i < argc; i++) {
		argv[i] = placeholder_expand(src[i], ph, err);
		if (!argv[i]) {
			free_argv(argv);
			return NULL;
		}
	}
	return argv;
}

/* The expanded cwd, against cwd_base when relative; NULL in *out when
 * unset.  0, or -1 with err. */
static int expand_cwd(const struct proc_spec *s,
                      const struct placeholder_env *ph, char **out,
                      struct insomnia_error *err)
{
	char *cwd;

	*out = NULL;
	if (!s->cwd)
		return 0;
	cwd = placeholder_expand(s->cwd, ph, err);
	if (!cwd)
		return -1;
	if (cwd[0] != '/' && s->cwd_base) {
		char *joined;
		if (asprintf(&joined, "%s/%s", s->cwd_base, cwd) < 0) {
			free(cwd);
			return insomnia_error_set_errno(
			    err, INSOMNIA_ERR_INTERNAL, ENOMEM,
			    "cannot start %s", s->name);
		}
		free(cwd);
		cwd = joined;
	}
	*out = cwd;
	return 0;
}

/* ---- a run ----------------------------------------------------------- */

struct launch {
	char **argv;
	char *cwd;
	struct envlist env;
	int out[2], errp[2], ready[2];
};

static void close_pair(int fd[2])
{
	for (int i = 0; i < 2; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		fd[i] = -1;
	}
}

static void launch_free(struct launch *l)
{
	free_argv(l->argv);
	free(l->cwd);
	envlist_free(&l->env);
	close_pair(l->out);
	close_pair(l->errp);
	close_pair(l->ready);
}

static int launch_pipes(struct proc *p, struct launch *l)
{
	if (pipe2(l->out, O_CLOEXEC) < 0 || pipe2(l->errp, O_CLOEXEC) < 0)
		return -1;
	if (p->spec->ready.kind != PROBE_FD)
		return 0;
	/* Read on the loop: never blocking on what the process wrote. */
	if (pipe2(l->ready, O_CLOEXEC) < 0 ||
	    fcntl(l->ready[0], F_SETFL, O_NONBLOCK) < 0)
		return -1;
	return 0;
}

static int launch_prepare(struct proc *p, const struct proc_env *env,
                          const struct placeholder_env *ph, struct launch *l,
                          struct insomnia_error *err)
{
	l->argv = expand_argv(p->spec, p->spec->argv, p->spec->argc, ph, err);
	if (!l->argv || expand_cwd(p->spec, ph, &l->cwd, err) < 0 ||
	    build_env(p, env, ph, true, &l->env, err) < 0)
		return -1;
	if (launch_pipes(p, l) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                errno, "cannot start %s: pipe",
		                                p->spec->name);
	for (size_t i = 0; p->spec->nlisten && i < p->spec->nports; i++)
		if (p->spec->listen[i] &&
		    ports_listen_again(&p->listen_fds[i], p->ports[i],
		                       p->spec->ports[i], err) < 0)
			return -1;
	return 0;
}

/* The child's descriptors: stdin /dev/null, the log pipes, the listen
 * sockets from 3 in ports order, the readiness pipe at its fd (a gap
 * between them is /dev/null).  NULL on OOM. */
static int *fd_plan(const struct proc *p, const struct launch *l, size_t *n)
{
	const struct proc_spec *s = p->spec;
	size_t k = 3, total = 3 + s->nlisten;
	int *fds;

	if (s->ready.kind == PROBE_FD && (size_t)s->ready.fd >= total)
		total = (size_t)s->ready.fd + 1;
	fds = malloc(total * sizeof *fds);
	if (!fds)
		return NULL;
	for (size_t i = 0; i < total; i++)
		fds[i] = -1;
	fds[1] = l->out[1];
	fds[2] = l->errp[1];
	for (size_t i = 0; s->nlisten && i < s->nports; i++)
		if (s->listen[i])
			fds[k++] = p->listen_fds[i];
	if (s->ready.kind == PROBE_FD)
		fds[s->ready.fd] = l->ready[1];
	*n = total;
	return fds;
}

/* The LISTEN_PID entry (put last by put_listen), or NULL. */
static char *pid_entry(const struct proc *p, struct launch *l)
{
	if (p->spec->nlisten == 0 || l->env.n == 0)
		return NULL;
	return l->env.v[l->env.n - 1];
}

/* Leading its own session (and so its own group), the pod's death
 * signalled as SIGKILL: docs/supervision.md says why. */
static int launch_exec(struct proc *p, struct launch *l,
                       struct insomnia_error *err)
{
	size_t nfds = 0;
	int *fds = fd_plan(p, l, &nfds);
	struct childstart_spec cs = {
	    .path = l->argv[0],
	    .argv = l->argv,
	    .envp = l->env.v,
	    .cwd = l->cwd,
	    .fds = fds,
	    .nfds = nfds,
	    .group = CHILDSTART_NEW_SESSION,
	    .death_signal = SIGKILL,
	    .want_pidfd = true,
	    /* Ours alone: the pod starts its processes from one thread. */
	    .pid_env = pid_entry(p, l),
	};
	int rc;

	if (!fds)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                ENOMEM, "cannot start %s",
		                                p->spec->name);
	rc = childstart(&cs, &p->pid, &p->pidfd, NULL, err);
	free(fds);
	return rc;
}

static void record(struct proc *p, int pod_dirfd)
{
	struct procrec r = {.pid = p->pid, .pgid = p->pgid};
	struct insomnia_error err;

	snprintf(r.name, sizeof r.name, "%s", p->spec->name);
	snprintf(r.token, sizeof r.token, "%s", p->token);
	if (proctree_start_time(p->pid, &r.start_time) < 0)
		r.start_time = 0;
	/* Best effort: without it only `reap` after a SIGKILLed pod loses
	 * its aim; the token still names what the process started. */
	if (procrec_write(pod_dirfd, &r, &err) < 0)
		proclog_note(p->log, err.message);
}

void proc_main_pid(struct proc *p, pid_t pid, int pidfd, int pod_dirfd)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = pidfd;
	p->pid = pid;
	/* The group stays the session's (the first pid's). */
	record(p, pod_dirfd);
}

int proc_spawn(struct proc *p, const struct proc_env *env,
               const struct placeholder_port *ports, size_t nports,
               struct insomnia_error *err)
{
	struct placeholder_env ph = {
	    .pod_name = env->pod_name,
	    .pod_dir = env->pod_dir,
	    .session_dir = env->session_dir,
	    .ports = ports,
	    .nports = nports,
	};
	struct launch l = {
	    .out = {-1, -1}, .errp = {-1, -1}, .ready = {-1, -1}};
	int rc = -1;

	if (launch_prepare(p, env, &ph, &l, err) < 0 ||
	    launch_exec(p, &l, err) < 0) {
		p->pid = 0; /* a child that failed is already reaped */
		p->pidfd = -1;
		goto out;
	}
	/* The child leads a session of its own: its group is its pid. */
	p->pgid = p->pid;
	clock_gettime(CLOCK_MONOTONIC, &p->started_mono);
	clock_gettime(CLOCK_REALTIME, &p->started_real);
	p->runs++;
	close(l.out[1]);
	close(l.errp[1]);
	l.out[1] = l.errp[1] = -1;
	record(p, env->pod_dirfd);
	/* Taken over, closed at once when it fails (proclog.h). */
	if (proclog_attach(p->log, l.out[0], l.errp[0], err) < 0)
		proclog_note(p->log, err->message);
	l.out[0] = l.errp[0] = -1;
	p->ready_fd = l.ready[0];
	l.ready[0] = -1;
	rc = 0;
out:
	launch_free(&l);
	return rc;
}

/* ---- probes ---------------------------------------------------------- */

void proc_probe_cmd_free(struct proc_probe_cmd *cmd)
{
	free(cmd->target);
	free_argv(cmd->argv);
	free_argv(cmd->envp);
	free(cmd->cwd);
	memset(cmd, 0, sizeof *cmd);
}

int proc_probe_prepare(const struct proc *p, const struct probe_conf *c,
                       const struct proc_env *env,
                       const struct placeholder_port *ports, size_t nports,
                       struct proc_probe_cmd *cmd, struct insomnia_error *err)
{
	struct placeholder_env ph = {env->pod_name, env->pod_dir,
	                             env->session_dir, ports, nports};
	struct envlist e = {0};

	memset(cmd, 0, sizeof *cmd);
	if (c->kind != PROBE_EXEC) {
		cmd->target = placeholder_expand(c->target, &ph, err);
		return cmd->target ? 0 : -1;
	}
	cmd->argv = expand_argv(p->spec, c->argv, c->argc, &ph, err);
	if (!cmd->argv || expand_cwd(p->spec, &ph, &cmd->cwd, err) < 0 ||
	    build_env(p, env, &ph, false, &e, err) < 0) {
		envlist_free(&e);
		proc_probe_cmd_free(cmd);
		return -1;
	}
	cmd->envp = e.v;
	return 0;
}

int proc_signal(struct proc *p, int sig)
{
	if (p->pidfd < 0) {
		errno = ESRCH;
		return -1;
	}
	return procsig_send(p->pidfd, p->pid, sig, NULL);
}

/* Everything carrying the token or in the run's session, then the group
 * if members remain (the leader is reaped, so procsig only signals a
 * group that is still the session this run led). */
static size_t kill_leftovers(struct proc *p, pid_t pgid)
{
	size_t n = proc_kill_marked(p);

	if (pgid > 0 && procsig_kill_leaderless_group(pgid, SIGKILL) == 0)
		n++;
	return n;
}

size_t proc_kill_marked(struct proc *p)
{
	size_t n = 0, m = 0;

	if (proctree_signal_marked(p->token, SIGKILL, &n) < 0)
		n = 0;
	/* Without the token (env -i), or in a group of its own, what the
	 * run started stays in its session unless it left it. */
	if (p->left_sid > 0 &&
	    proctree_signal_session(p->left_sid, SIGKILL, &m) < 0)
		m = 0;
	return n + m;
}

/* The run is over (its status recorded): close the pidfd, remove the
 * record, kill what it left. */
static size_t run_gone(struct proc *p, int pod_dirfd, bool strays)
{
	pid_t pgid = p->pgid;

	p->has_exit = true;
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
	/* The first pid of the run led its session (launch_exec); after a
	 * MAINPID the pid is another, the group still the session's. */
	p->left_sid = pgid ? pgid : p->pid;
	p->pid = 0;
	p->pgid = 0;
	procrec_remove(pod_dirfd, p->spec->name);
	return strays ? kill_leftovers(p, pgid) : 0;
}

size_t proc_reaped(struct proc *p, int status, int pod_dirfd, bool strays)
{
	if (WIFSIGNALED(status)) {
		p->exit_code = -1;
		p->exit_signal = WTERMSIG(status);
	} else {
		p->exit_code = WEXITSTATUS(status);
		p->exit_signal = 0;
	}
	return run_gone(p, pod_dirfd, strays);
}

size_t proc_lost(struct proc *p, int pod_dirfd, bool strays)
{
	p->exit_code = -1;
	p->exit_signal = 0; /* neither a code nor a signal: unknown */
	return run_gone(p, pod_dirfd, strays);
}

void proc_kill_all(struct proc *p)
{
	if (p->pidfd >= 0)
		proc_signal(p, SIGKILL);
	if (p->pid)
		p->left_sid = p->pid;
	kill_leftovers(p, 0);
}

int64_t proc_run_ms(const struct proc *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - p->started_mono.tv_sec) * 1000 +
	       (now.tv_nsec - p->started_mono.tv_nsec) / 1000000;
}

const char *proc_signal_name(int sig, char *buf, size_t size)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		return abbrev;
	snprintf(buf, size, "SIG%d", sig);
	return buf;
}

bool proc_exit_unknown(const struct proc *p)
{
	return p->exit_code < 0 && p->exit_signal == 0;
}

json_t *proc_exit_json(const struct proc *p)
{
	char buf[16];

	if (!p->has_exit || proc_exit_unknown(p))
		return json_null();
	if (p->exit_code >= 0)
		return json_pack("{s:i}", "code", p->exit_code);
	return json_pack("{s:s}", "signal",
	                 proc_signal_name(p->exit_signal, buf, sizeof buf));
}

void proc_exit_text(const struct proc *p, char *buf, size_t size)
{
	char sig[16];

	if (p->exit_code >= 0)
		snprintf(buf, size, "exited with status %d", p->exit_code);
	else if (proc_exit_unknown(p))
		snprintf(buf, size, "exited, status unknown");
	else
		snprintf(buf, size, "killed by signal %s",
		         proc_signal_name(p->exit_signal, sig, sizeof sig));
}

/* ---- ps ------------------------------------------------------------- */

static json_t *started_at(const struct proc *p)
{
	struct tm tm;
	char sec[32], buf[48];

	if (!p->runs || !gmtime_r(&p->started_real.tv_sec, &tm) ||
	    !strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm))
		return json_null();
	snprintf(buf, sizeof buf, "%s.%03ldZ", sec,
	         p->started_real.tv_nsec / 1000000);
	return json_string(buf);
}

/* A run that ended on its own while what it left is still being killed
 * is on its way down, no longer running or ready; so is one that said
 * STOPPING=1. */
enum proc_state proc_shown_state(const struct proc *p)
{
	if ((p->draining || p->stop_told) && proc_state_up(p->state))
		return PROC_STOPPING;
	return p->state;
}

json_t *proc_ps_json(const struct proc *p)
{
	json_t *ports = json_object();
	enum proc_state st = proc_shown_state(p);
	json_t *r;

	for (size_t i = 0; ports && i < p->spec->nports; i++)
		json_object_set_new(ports, p->spec->ports[i],
		                    json_integer(p->ports[i]));
	r = json_pack("{s:s, s:s, s:o, s:o, s:i, s:o, s:o, s:b, s:o, s:o, s:b}",
	              "name", p->spec->name, "state", proc_state_name(st),
	              "pid", p->pid ? json_integer(p->pid) : json_null(),
	              "pgid", p->pgid ? json_integer(p->pgid) : json_null(),
	              "restarts", p->restarts, "exit", proc_exit_json(p),
	              "started_at", started_at(p), "ready", st == PROC_READY,
	              "ports", ports, "reason",
	              p->reason[0] ? json_string(p->reason) : json_null(),
	              "autostart", p->spec->autostart);
	if (r)
		json_object_set_new(r, "status",
		                    p->status ? json_string(p->status)
		                              : json_null());
	return r;
}
