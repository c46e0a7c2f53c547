/* proc.c: one process's runs (proc.h): starting it as the manifest says,
 * signalling it, and cleaning up after it. */
#include "proc.h"

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
#include "procrec.h"
#include "proclog.h"
#include "procsig.h"

extern char **environ;

static const char *const state_names[] = {
    [PROC_STOPPED] = "stopped",   [PROC_WAITING] = "waiting",
    [PROC_BLOCKED] = "blocked",   [PROC_STARTING] = "starting",
    [PROC_RUNNING] = "running",   [PROC_READY] = "ready",
    [PROC_STOPPING] = "stopping", [PROC_EXITED] = "exited",
    [PROC_BACKOFF] = "backoff",   [PROC_FAILED] = "failed",
};

const char *proc_state_name(enum proc_state st)
{
	if ((size_t)st >= sizeof state_names / sizeof state_names[0])
		return "unknown";
	return state_names[st];
}

bool proc_state_live(enum proc_state st)
{
	return st == PROC_STARTING || st == PROC_RUNNING || st == PROC_READY ||
	       st == PROC_STOPPING;
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

/* The pod's environment (unless env_clear), the spec's (expanded), the
 * process's ports, then the pod's own variables, each over the last. */
static int build_env(const struct proc *p, const struct proc_env *env,
                     const struct placeholder_env *ph, struct envlist *e,
                     struct insomnia_error *err)
{
	const struct proc_spec *s = p->spec;

	for (char **v = environ; !s->env_clear && v && *v; v++) {
		char *dup = strdup(*v);
		if (!dup || envlist_put(e, dup) < 0)
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
	    envlist_putf(e, "INSOMNIA_PROCESS", s->name) < 0 ||
	    envlist_putf(e, PROCTREE_TOKEN_VAR, p->token) < 0)
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

static char **expand_argv(const struct proc_spec *s,
                          const struct placeholder_env *ph,
                          struct insomnia_error *err)
{
	char **argv = calloc(s->argc + 1, sizeof *argv);

	if (!argv) {
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "cannot start %s", s->name);
		return NULL;
	}
	for (size_t i = 0; i < s->argc; i++) {
		argv[i] = placeholder_expand(s->argv[i], ph, err);
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
	int out[2], errp[2];
};

static void launch_free(struct launch *l)
{
	free_argv(l->argv);
	free(l->cwd);
	envlist_free(&l->env);
	for (int i = 0; i < 2; i++) {
		if (l->out[i] >= 0)
			close(l->out[i]);
		if (l->errp[i] >= 0)
			close(l->errp[i]);
	}
}

static int launch_prepare(struct proc *p, const struct proc_env *env,
                          const struct placeholder_env *ph, struct launch *l,
                          struct insomnia_error *err)
{
	l->argv = expand_argv(p->spec, ph, err);
	if (!l->argv || expand_cwd(p->spec, ph, &l->cwd, err) < 0 ||
	    build_env(p, env, ph, &l->env, err) < 0)
		return -1;
	if (pipe2(l->out, O_CLOEXEC) < 0 || pipe2(l->errp, O_CLOEXEC) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL,
		                                errno, "cannot start %s: pipe",
		                                p->spec->name);
	return 0;
}

/* Leading its own session (and so its own group), the pod's death
 * signalled as SIGKILL: docs/supervision.md says why. */
static int launch_exec(struct proc *p, struct launch *l,
                       struct insomnia_error *err)
{
	int fds[3] = {-1, l->out[1], l->errp[1]};
	struct childstart_spec cs = {
	    .path = l->argv[0],
	    .argv = l->argv,
	    .envp = l->env.v,
	    .cwd = l->cwd,
	    .fds = fds,
	    .nfds = 3,
	    .group = CHILDSTART_NEW_SESSION,
	    .death_signal = SIGKILL,
	    .want_pidfd = true,
	};

	return childstart(&cs, &p->pid, &p->pidfd, NULL, err);
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
	struct launch l = {.out = {-1, -1}, .errp = {-1, -1}};
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
	rc = 0;
out:
	launch_free(&l);
	return rc;
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

size_t proc_reaped(struct proc *p, int status, int pod_dirfd, bool strays)
{
	pid_t pgid = p->pgid;

	p->has_exit = true;
	if (WIFSIGNALED(status)) {
		p->exit_code = -1;
		p->exit_signal = WTERMSIG(status);
	} else {
		p->exit_code = WEXITSTATUS(status);
		p->exit_signal = 0;
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
	p->left_sid = p->pid; /* it led its session (launch_exec) */
	p->pid = 0;
	p->pgid = 0;
	procrec_remove(pod_dirfd, p->spec->name);
	return strays ? kill_leftovers(p, pgid) : 0;
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

json_t *proc_exit_json(const struct proc *p)
{
	char buf[16];

	if (!p->has_exit)
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

/* What ps shows: a run that ended on its own while what it left is
 * still being killed is on its way down, no longer running or ready. */
static enum proc_state shown_state(const struct proc *p)
{
	if (p->draining && (p->state == PROC_RUNNING || p->state == PROC_READY))
		return PROC_STOPPING;
	return p->state;
}

json_t *proc_ps_json(const struct proc *p)
{
	json_t *ports = json_object();
	enum proc_state st = shown_state(p);

	for (size_t i = 0; ports && i < p->spec->nports; i++)
		json_object_set_new(ports, p->spec->ports[i],
		                    json_integer(p->ports[i]));
	return json_pack(
	    "{s:s, s:s, s:o, s:o, s:i, s:o, s:o, s:b, s:o, s:o, s:b}", "name",
	    p->spec->name, "state", proc_state_name(st), "pid",
	    p->pid ? json_integer(p->pid) : json_null(), "pgid",
	    p->pgid ? json_integer(p->pgid) : json_null(), "restarts",
	    p->restarts, "exit", proc_exit_json(p), "started_at", started_at(p),
	    "ready", st == PROC_READY, "ports", ports, "reason",
	    p->reason[0] ? json_string(p->reason) : json_null(), "autostart",
	    p->spec->autostart);
}
