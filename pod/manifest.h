/* manifest.h: the processes a pod's config names ([process.<name>]
 * tables, docs/manifest.md), checked and put in dependency order.
 *
 * manifest_load reads the merged, schema-checked tree (podconfig.h) and
 * refuses, as INSOMNIA_ERR_CONFIG with "<layer>:<line>:<col>: " in front:
 * a bad process name, an empty command, both or neither of
 * command/shell, a bad duration, signal name, policy or condition, a
 * dependency on an unknown process, a cycle (named: "api -> db -> api"),
 * an unknown placeholder (placeholder.h), a duplicate port name.
 * Strings keep their placeholders: they are expanded when a process
 * starts (placeholder_expand), once ports are allocated. */
#ifndef INSOMNIA_POD_MANIFEST_H
#define INSOMNIA_POD_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <insomnia/dirs.h>

#include "error.h"
#include "toml.h"

enum restart_policy { RESTART_NO, RESTART_ON_FAILURE, RESTART_ALWAYS };

/* What a dependent waits for (depends_on = { db = "started" }). */
enum dep_condition {
	DEP_STARTED,   /* running (exec succeeded), or later */
	DEP_READY,     /* ready (== started until readiness probes) */
	DEP_EXITED,    /* exited, any status */
	DEP_SUCCEEDED, /* exited with status 0 */
};

struct proc_dep {
	size_t index; /* into manifest.procs */
	enum dep_condition cond;
};

struct restart_conf {
	enum restart_policy policy; /* default RESTART_NO */
	int64_t backoff_min_ms;     /* default 100 */
	int64_t backoff_max_ms;     /* default 30000 */
	int max;                    /* restarts within the window; default 5 */
	int64_t reset_after_ms;     /* a run this long resets; default 60000 */
};

struct stop_conf {
	int signal;       /* default SIGTERM */
	int64_t grace_ms; /* default 5000 */
};

struct logs_conf {
	int64_t max_size; /* bytes; default 10 MB (10 000 000) */
	int keep;         /* rotated files kept; default 3 */
};

/* How readiness or liveness is seen (ready = {...}, alive = {...};
 * docs/manifest.md, "Readiness and liveness").  One kind per table. */
enum probe_kind {
	PROBE_NONE,     /* no table: ready one pass after running (settle) */
	PROBE_NOTIFY,   /* ready: notify = true (sd_notify READY=1) */
	PROBE_FD,       /* ready: fd = N (s6: a newline on fd N) */
	PROBE_LOG,      /* ready: log = "ERE" (a line of stdout/stderr) */
	PROBE_TCP,      /* ready, alive: tcp = "host:port" (connect) */
	PROBE_HTTP,     /* ready, alive: http = "http://..." (2xx/3xx) */
	PROBE_EXEC,     /* ready, alive: exec = ["cmd", ...] (exit 0) */
	PROBE_WATCHDOG, /* alive: watchdog = "10s" (WATCHDOG=1 in time) */
};

/* One ready or alive table.  Strings keep their placeholders (expanded
 * at each run's start, as argv is). */
struct probe_conf {
	enum probe_kind kind;
	int fd;        /* PROBE_FD: 3..255, not a listen port's fd */
	char *pattern; /* PROBE_LOG: the regex (checked by regcomp at load) */
	char *target;  /* PROBE_TCP "host:port", PROBE_HTTP the URL */
	char **argv;   /* PROBE_EXEC, NULL-terminated */
	size_t argc;
	/* ready: the whole wait (default 30 s), after which the run fails.
	 * alive: one try's limit (default 5 s, at most interval). */
	int64_t timeout_ms;
	/* tcp, http, exec: between the starts of two tries (default 1 s;
	 * the first try at once).  PROBE_WATCHDOG: the deadline. */
	int64_t interval_ms;
	/* alive: consecutive failures before the run is ended (default 3;
	 * 1 for the watchdog, as systemd). */
	int failures;
};

struct proc_spec {
	char name[INSOMNIA_NAME_MAX + 1];
	/* argv with placeholders; a shell process is
	 * {"/bin/sh", "-c", <shell>, NULL}.  NULL-terminated, malloc'd. */
	char **argv;
	size_t argc;
	bool shell;
	/* cwd with placeholders, relative to cwd_base (the dir of the layer
	 * that set it, or the pod's cwd); NULL when unset (the pod's cwd). */
	char *cwd;
	char *cwd_base;
	/* "NAME=value" with placeholders in value, NULL-terminated. */
	char **env;
	size_t nenv;
	bool env_clear;
	bool autostart; /* default true */
	struct restart_conf restart;
	struct stop_conf stop;
	struct logs_conf logs; /* [pod] logs, else built-in defaults */
	struct proc_dep *deps;
	size_t ndeps;
	char **ports; /* port names, NULL-terminated */
	/* listen[i]: ports[i] was declared { name, listen = true }: the pod
	 * binds and listens itself and passes the socket (LISTEN_FDS, in
	 * the order of ports, from fd 3).  NULL when nports is 0. */
	bool *listen;
	size_t nports;
	size_t nlisten;          /* how many listen[i] are true */
	struct probe_conf ready; /* kind PROBE_NONE when unset */
	struct probe_conf alive; /* kind PROBE_NONE when unset */
};

struct manifest {
	struct proc_spec *procs;
	size_t nprocs;
	/* Indexes of procs, every process after all of its dependencies
	 * (a topological order; stop uses it backwards). */
	size_t *order;
};

/* Build m from the config tree (the whole merged tree).  No [process]
 * table: 0 processes.  pod_cwd is what relative cwds resolve against when
 * the layer has no dir. */
int manifest_load(const struct toml_value *tree, const char *pod_cwd,
                  struct manifest *m, struct insomnia_error *err);

/* The process called name, or NULL. */
const struct proc_spec *manifest_find(const struct manifest *m,
                                      const char *name, size_t *index);

/* Does the process get a NOTIFY_SOCKET (ready.notify or
 * alive.watchdog)? */
bool proc_spec_wants_notify(const struct proc_spec *spec);

void manifest_free(struct manifest *m);

#endif
