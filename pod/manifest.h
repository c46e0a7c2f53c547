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
	size_t nports;
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

void manifest_free(struct manifest *m);

#endif
