/* manifest.c: [process.<name>] tables into struct manifest (manifest.h,
 * docs/manifest.md).  The schema (podconfig.c) has checked the keys and
 * their shapes; this checks what the values mean. */
#include "manifest.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "logline.h"
#include "placeholder.h"
#include "signame.h"

#define PORT_NAME_MAX  32
#define SIZE_MAX_BYTES (1LL << 40) /* 1 TiB: a log file no bigger */
/* Room for two of the longest records: a rotation, which renames every
 * kept file, is paid once per many records, never once per record. */
#define SIZE_MIN_BYTES  (128 * 1024)
#define KEEP_MAX        100
#define RESTART_MAX_MAX 1000000

/* The built-in defaults (manifest.h, docs/manifest.md). */
static const struct restart_conf restart_defaults = {
    RESTART_NO, 100, 30000, 5, 60000,
};
static const struct stop_conf stop_defaults = {SIGTERM, 5000};
static const struct logs_conf logs_defaults = {10000000, 3};

struct loader {
	const struct toml_value *procs; /* the [process] table, or NULL */
	const char *pod_cwd;
	struct manifest *m;
	struct logs_conf pod_logs; /* [pod] logs over the built-in ones */
	struct insomnia_error *err;
};

/* INSOMNIA_ERR_CONFIG, "<layer>:<line>:<col>: " and the message. */
static int fail(struct loader *l, const struct toml_value *v, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));

static int fail(struct loader *l, const struct toml_value *v, const char *fmt,
                ...)
{
	const struct toml_origin *o = v ? toml_origin(v) : NULL;
	char msg[INSOMNIA_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	insomnia_error_set(l->err, INSOMNIA_ERR_CONFIG, "%s", msg);
	if (o && o->source)
		insomnia_error_prefix(l->err, "%s:%d:%d", o->source, o->line,
		                      o->col);
	return -1;
}

static int oom(struct loader *l)
{
	return insomnia_error_set(l->err, INSOMNIA_ERR_INTERNAL,
	                          "out of memory");
}

/* A string value without NUL, or NULL after an error. */
static const char *text_of(struct loader *l, const struct toml_value *v,
                           const char *path)
{
	const char *s;
	size_t len;

	if (!toml_as_string(v, &s, &len)) {
		fail(l, v, "%s: expected string, found %s", path,
		     toml_type_name(toml_type(v)));
		return NULL;
	}
	if (strlen(s) != len) {
		fail(l, v, "%s: holds a NUL character", path);
		return NULL;
	}
	return s;
}

static int duration_of(struct loader *l, const struct toml_value *v,
                       const char *path, const char *text, long long *ms)
{
	if (duration_parse_ms(text, false, DURATION_MAX_MS, ms) < 0)
		return fail(l, v,
		            "%s: bad duration \"%s\" (use 250ms, 5s, 2m, 1h, "
		            "1m30s; at most 30d)",
		            path, text);
	return 0;
}

static int int_in(struct loader *l, const struct toml_value *v,
                  const char *path, int64_t lo, int64_t hi, int64_t *out)
{
	if (!toml_as_int(v, out) || *out < lo || *out > hi)
		return fail(l, v, "%s: expected an integer from %lld to %lld",
		            path, (long long)lo, (long long)hi);
	return 0;
}

/* ---- sizes ------------------------------------------------------------ */

struct size_unit {
	const char *suffix;
	long long bytes;
};

/* Decimal units as disks and ls -h --si count, binary ones spelled
 * with an i. */
static const struct size_unit size_units[] = {
    {"", 1},
    {"B", 1},
    {"KB", 1000},
    {"MB", 1000000},
    {"GB", 1000000000},
    {"KiB", 1024},
    {"MiB", 1024 * 1024},
    {"GiB", 1024 * 1024 * 1024},
};

static int size_text(const char *s, long long *out)
{
	long long n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++)
		if ((n = n * 10 + (*p - '0')) > SIZE_MAX_BYTES)
			return -1;
	if (p == s)
		return -1;
	for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++)
		if (!strcmp(p, size_units[i].suffix)) {
			if (n > SIZE_MAX_BYTES / size_units[i].bytes)
				return -1;
			*out = n * size_units[i].bytes;
			return 0;
		}
	return -1;
}

_Static_assert(SIZE_MIN_BYTES > LOGLINE_PREFIX_MAX + LOGLINE_TEXT_MAX + 1,
               "a log file holds a whole record at least");

static int size_of(struct loader *l, const struct toml_value *v,
                   const char *path, int64_t *out)
{
	const char *s;
	long long n = -1;

	if (toml_type(v) == TOML_INTEGER)
		toml_as_int(v, out);
	else if (!(s = text_of(l, v, path)))
		return -1;
	else if (size_text(s, &n) == 0)
		*out = n;
	else
		*out = -1;
	if (*out < SIZE_MIN_BYTES || *out > SIZE_MAX_BYTES)
		return fail(l, v,
		            "%s: bad size (bytes, or a number with KB, MB, GB, "
		            "KiB, MiB, GiB; from 128 KiB to 1 TiB)",
		            path);
	return 0;
}

/* ---- the parts of a process ------------------------------------------- */

/* logs = { max_size, keep } over *c, key by key. */
static int load_logs(struct loader *l, const struct toml_value *t,
                     const char *prefix, struct logs_conf *c)
{
	const struct toml_value *v;
	char path[128];
	int64_t n;

	if (!t)
		return 0;
	snprintf(path, sizeof path, "%s.logs.max_size", prefix);
	if ((v = toml_table_get(t, "max_size")) &&
	    size_of(l, v, path, &c->max_size) < 0)
		return -1;
	snprintf(path, sizeof path, "%s.logs.keep", prefix);
	if ((v = toml_table_get(t, "keep"))) {
		if (int_in(l, v, path, 0, KEEP_MAX, &n) < 0)
			return -1;
		c->keep = (int)n;
	}
	return 0;
}

static char **strv_new(size_t n)
{
	return calloc(n + 1, sizeof(char *));
}

/* shell = "...": argv is {"/bin/sh", "-c", shell}. */
static int load_shell(struct loader *l, struct proc_spec *p,
                      const struct toml_value *sh, const char *path)
{
	const char *s = text_of(l, sh, path);

	if (!s)
		return -1;
	if (!*s)
		return fail(l, sh, "%s: empty", path);
	p->shell = true;
	if (!(p->argv = strv_new(3)) || !(p->argv[0] = strdup("/bin/sh")) ||
	    !(p->argv[1] = strdup("-c")) || !(p->argv[2] = strdup(s)))
		return oom(l);
	p->argc = 3;
	return 0;
}

/* command = ["prog", "arg", ...]: not empty, prog not empty. */
static int load_argv(struct loader *l, struct proc_spec *p,
                     const struct toml_value *cmd, const char *path)
{
	const char *s;

	if (!toml_len(cmd))
		return fail(l, cmd, "%s: empty command", path);
	if (!(p->argv = strv_new(toml_len(cmd))))
		return oom(l);
	for (size_t i = 0; i < toml_len(cmd); i++) {
		if (!(s = text_of(l, toml_array_at(cmd, i), path)))
			return -1;
		if (!(p->argv[i] = strdup(s)))
			return oom(l);
		p->argc++;
	}
	if (!*p->argv[0])
		return fail(l, toml_array_at(cmd, 0), "%s: empty program name",
		            path);
	return 0;
}

/* Exactly one of command and shell. */
static int load_command(struct loader *l, struct proc_spec *p,
                        const struct toml_value *t, const char *prefix)
{
	const struct toml_value *cmd = toml_table_get(t, "command");
	const struct toml_value *sh = toml_table_get(t, "shell");
	char path[128];

	if (cmd && sh)
		return fail(l, sh,
		            "%s: both command and shell are set (set one)",
		            prefix);
	if (!cmd && !sh)
		return fail(l, t, "%s: neither command nor shell is set",
		            prefix);
	snprintf(path, sizeof path, "%s.%s", prefix, cmd ? "command" : "shell");
	return sh ? load_shell(l, p, sh, path) : load_argv(l, p, cmd, path);
}

static int load_cwd(struct loader *l, struct proc_spec *p,
                    const struct toml_value *t, const char *prefix)
{
	const struct toml_value *v = toml_table_get(t, "cwd");
	const struct toml_origin *o = v ? toml_origin(v) : NULL;
	const char *base = o && o->dir ? o->dir : l->pod_cwd;
	const char *s;
	char path[128];

	snprintf(path, sizeof path, "%s.cwd", prefix);
	if (v) {
		if (!(s = text_of(l, v, path)))
			return -1;
		if (!*s)
			return fail(l, v, "%s: empty (use \".\")", path);
		if (!(p->cwd = strdup(s)))
			return oom(l);
	}
	if (base && !(p->cwd_base = strdup(base)))
		return oom(l);
	return 0;
}

static bool env_name_ok(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
	      *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

static int load_env(struct loader *l, struct proc_spec *p,
                    const struct toml_value *t, const char *prefix)
{
	const struct toml_value *env = toml_table_get(t, "env");
	size_t n = env ? toml_len(env) : 0;
	char path[256];

	if (!(p->env = strv_new(n)))
		return oom(l);
	for (size_t i = 0; i < n; i++) {
		const char *name = toml_table_key(env, i), *value;
		const struct toml_value *v = toml_table_value(env, i);

		snprintf(path, sizeof path, "%s.env", prefix);
		if (strlen(name) != toml_table_key_len(env, i))
			return fail(l, v,
			            "%s: a variable name holds a NUL character",
			            path);
		if (!env_name_ok(name))
			return fail(
			    l, v,
			    "%s: \"%s\" is not a variable name "
			    "(A-Z a-z 0-9 _, not starting with a digit)",
			    path, name);
		snprintf(path, sizeof path, "%s.env.%s", prefix, name);
		if (!(value = text_of(l, v, path)))
			return -1;
		if (asprintf(&p->env[i], "%s=%s", name, value) < 0) {
			p->env[i] = NULL;
			return oom(l);
		}
		p->nenv++;
	}
	return 0;
}

static int load_bool(struct loader *l, const struct toml_value *t,
                     const char *key, const char *prefix, bool *out)
{
	const struct toml_value *v = toml_table_get(t, key);

	if (v && !toml_as_bool(v, out))
		return fail(l, v, "%s.%s: expected boolean", prefix, key);
	return 0;
}

static int load_policy(struct loader *l, const struct toml_value *v,
                       const char *path, enum restart_policy *out)
{
	static const char *const names[] = {"no", "on-failure", "always"};
	const char *s = text_of(l, v, path);

	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum restart_policy)i;
			return 0;
		}
	return fail(l, v, "%s: unknown policy \"%s\" (no, on-failure, always)",
	            path, s);
}

/* "MIN..MAX", both durations, MIN <= MAX. */
static int load_backoff(struct loader *l, const struct toml_value *v,
                        const char *path, struct restart_conf *c)
{
	const char *s = text_of(l, v, path), *dots;
	char min[64];
	long long lo, hi;

	if (!s)
		return -1;
	dots = strstr(s, "..");
	if (!dots || (size_t)(dots - s) >= sizeof min)
		return fail(l, v,
		            "%s: expected \"MIN..MAX\" (e.g. \"100ms..30s\"), "
		            "found \"%s\"",
		            path, s);
	memcpy(min, s, (size_t)(dots - s));
	min[dots - s] = '\0';
	if (duration_of(l, v, path, min, &lo) < 0 ||
	    duration_of(l, v, path, dots + 2, &hi) < 0)
		return -1;
	if (lo > hi)
		return fail(l, v, "%s: %s is more than %s", path, min,
		            dots + 2);
	c->backoff_min_ms = lo;
	c->backoff_max_ms = hi;
	return 0;
}

static int load_restart(struct loader *l, struct proc_spec *p,
                        const struct toml_value *t, const char *prefix)
{
	const struct toml_value *r = toml_table_get(t, "restart"), *v;
	char path[128];
	int64_t n;
	long long ms;

	p->restart = restart_defaults;
	if (!r)
		return 0;
	snprintf(path, sizeof path, "%s.restart.policy", prefix);
	if ((v = toml_table_get(r, "policy")) &&
	    load_policy(l, v, path, &p->restart.policy) < 0)
		return -1;
	snprintf(path, sizeof path, "%s.restart.backoff", prefix);
	if ((v = toml_table_get(r, "backoff")) &&
	    load_backoff(l, v, path, &p->restart) < 0)
		return -1;
	snprintf(path, sizeof path, "%s.restart.max", prefix);
	if ((v = toml_table_get(r, "max"))) {
		if (int_in(l, v, path, 0, RESTART_MAX_MAX, &n) < 0)
			return -1;
		p->restart.max = (int)n;
	}
	snprintf(path, sizeof path, "%s.restart.reset_after", prefix);
	if ((v = toml_table_get(r, "reset_after"))) {
		const char *s = text_of(l, v, path);
		if (!s || duration_of(l, v, path, s, &ms) < 0)
			return -1;
		p->restart.reset_after_ms = ms;
	}
	return 0;
}

static int load_stop(struct loader *l, struct proc_spec *p,
                     const struct toml_value *t, const char *prefix)
{
	const struct toml_value *st = toml_table_get(t, "stop"), *v;
	const char *s;
	char path[128];
	long long ms;

	p->stop = stop_defaults;
	if (!st)
		return 0;
	snprintf(path, sizeof path, "%s.stop.signal", prefix);
	if ((v = toml_table_get(st, "signal"))) {
		if (!(s = text_of(l, v, path)))
			return -1;
		if ((p->stop.signal = signame_to_number(s)) < 0)
			return fail(
			    l, v,
			    "%s: unknown signal \"%s\" (e.g. TERM, INT, "
			    "QUIT, HUP, USR1, KILL)",
			    path, s);
	}
	snprintf(path, sizeof path, "%s.stop.grace", prefix);
	if ((v = toml_table_get(st, "grace"))) {
		if (!(s = text_of(l, v, path)) ||
		    duration_of(l, v, path, s, &ms) < 0)
			return -1;
		p->stop.grace_ms = ms;
	}
	return 0;
}

static int load_condition(struct loader *l, const struct toml_value *v,
                          const char *path, enum dep_condition *out)
{
	static const char *const names[] = {"started", "ready", "exited",
	                                    "succeeded"};
	const char *s = text_of(l, v, path);

	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum dep_condition)i;
			return 0;
		}
	return fail(l, v,
	            "%s: unknown condition \"%s\" (started, ready, exited, "
	            "succeeded)",
	            path, s);
}

/* One dependency: the entry's value v names the condition (table form)
 * or the process (array form). */
static int add_dep(struct loader *l, struct proc_spec *p,
                   const struct toml_value *v, const char *dep,
                   const char *path, enum dep_condition cond)
{
	size_t index = 0;

	if (!l->procs || !toml_table_get(l->procs, dep))
		return fail(l, v, "%s: unknown process \"%s\"", path, dep);
	while (strcmp(toml_table_key(l->procs, index), dep))
		index++;
	for (size_t i = 0; i < p->ndeps; i++)
		if (p->deps[i].index == index)
			return fail(l, v, "%s: \"%s\" is listed twice", path,
			            dep);
	p->deps[p->ndeps].index = index;
	p->deps[p->ndeps++].cond = cond;
	return 0;
}

/* depends_on = { db = "ready" }, or ["db"] for "started". */
static int load_deps(struct loader *l, struct proc_spec *p,
                     const struct toml_value *t, const char *prefix)
{
	const struct toml_value *d = toml_table_get(t, "depends_on");
	bool array = d && toml_type(d) == TOML_ARRAY;
	char path[160];

	if (!d)
		return 0;
	if (!(p->deps = calloc(toml_len(d) + 1, sizeof *p->deps)))
		return oom(l);
	snprintf(path, sizeof path, "%s.depends_on", prefix);
	for (size_t i = 0; i < toml_len(d); i++) {
		const struct toml_value *v =
		    array ? toml_array_at(d, i) : toml_table_value(d, i);
		enum dep_condition cond = DEP_STARTED;
		const char *dep =
		    array ? text_of(l, v, path) : toml_table_key(d, i);

		if (!dep || (!array && load_condition(l, v, path, &cond) < 0))
			return -1;
		if (add_dep(l, p, v, dep, path, cond) < 0)
			return -1;
	}
	return 0;
}

static bool port_name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");

	return n && n <= PORT_NAME_MAX && !s[n];
}

/* One element of ports: "name", or { name = "name", listen = bool }. */
static int load_port(struct loader *l, struct proc_spec *p,
                     const struct toml_value *v, const char *path)
{
	const struct toml_value *name = v, *listen = NULL;
	bool on = false;
	const char *s;

	if (toml_type(v) == TOML_TABLE) {
		name = toml_table_get(v, "name");
		listen = toml_table_get(v, "listen");
		if (!name)
			return fail(l, v,
			            "%s: a port table without a name (e.g. "
			            "{ name = \"http\", listen = true })",
			            path);
		if (listen && !toml_as_bool(listen, &on))
			return fail(l, listen, "%s.listen: expected boolean",
			            path);
	}
	if (!(s = text_of(l, name, path)))
		return -1;
	if (!port_name_ok(s))
		return fail(l, name,
		            "%s: bad port name \"%s\" (1 to %d of a-z 0-9 _)",
		            path, s, PORT_NAME_MAX);
	if (!(p->ports[p->nports] = strdup(s)))
		return oom(l);
	p->listen[p->nports++] = on;
	p->nlisten += on;
	return 0;
}

static int load_ports(struct loader *l, struct proc_spec *p,
                      const struct toml_value *t, const char *prefix)
{
	const struct toml_value *ports = toml_table_get(t, "ports");
	size_t n = ports ? toml_len(ports) : 0;
	char path[128];

	snprintf(path, sizeof path, "%s.ports", prefix);
	if (!(p->ports = strv_new(n)))
		return oom(l);
	if (n && !(p->listen = calloc(n, sizeof *p->listen)))
		return oom(l);
	for (size_t i = 0; i < n; i++)
		if (load_port(l, p, toml_array_at(ports, i), path) < 0)
			return -1;
	return 0;
}

/* ---- readiness and liveness ------------------------------------------- */

/* The kinds a ready or alive table may name, and where each belongs. */
struct kind_info {
	const char *key;
	enum probe_kind kind;
	bool ready, alive;
};

static const struct kind_info kinds[] = {
    {"notify", PROBE_NOTIFY, true, false},     /* READY=1 */
    {"fd", PROBE_FD, true, false},             /* a newline on fd N */
    {"log", PROBE_LOG, true, false},           /* a matching line */
    {"tcp", PROBE_TCP, true, true},            /* polled */
    {"http", PROBE_HTTP, true, true},          /* polled */
    {"exec", PROBE_EXEC, true, true},          /* polled */
    {"watchdog", PROBE_WATCHDOG, false, true}, /* WATCHDOG=1 in time */
};

#define NKINDS (sizeof kinds / sizeof kinds[0])

/* Defaults (manifest.h, docs/manifest.md). */
#define READY_TIMEOUT_MS  30000
#define ALIVE_TIMEOUT_MS  5000
#define PROBE_INTERVAL_MS 1000
#define ALIVE_FAILURES    3
#define FAILURES_MAX      1000000
#define PROBE_FD_MIN      3 /* after stdin, stdout, stderr */
#define PROBE_FD_MAX      255

/* Where a probe's values are: its table and "process.<name>.ready". */
struct probe_src {
	const struct toml_value *table;
	const char *path;
	bool alive;
};

static const struct kind_info *kind_named(const char *key)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (!strcmp(kinds[i].key, key))
			return &kinds[i];
	return NULL;
}

static int misplaced_kind(struct loader *l, const struct probe_src *src,
                          const struct toml_value *v, const char *key)
{
	if (src->alive)
		return fail(l, v,
		            "%s.%s: not a liveness check (alive takes tcp, "
		            "http, exec or watchdog; %s is for ready)",
		            src->path, key, key);
	return fail(l, v,
	            "%s.%s: not a readiness check (ready takes notify, fd, "
	            "log, tcp, http or exec; %s is for alive)",
	            src->path, key, key);
}

/* Layers merge key by key, so a kind set over another layer's kind is
 * two kinds: say which layer set which. */
static int two_kinds(struct loader *l, const struct probe_src *src,
                     const char *key1, const struct toml_value *v1,
                     const char *key2, const struct toml_value *v2)
{
	const struct toml_origin *o1 = toml_origin(v1), *o2 = toml_origin(v2);

	if (o1 && o2 && o1->source && o2->source &&
	    strcmp(o1->source, o2->source))
		return fail(l, v2,
		            "%s: two kinds, %s and %s (one per table; %s is "
		            "from %s, %s from %s: layers merge key by key, so "
		            "one cannot replace another's kind)",
		            src->path, key1, key2, key1, o1->source, key2,
		            o2->source);
	return fail(l, v2, "%s: two kinds, %s and %s (one per table)",
	            src->path, key1, key2);
}

/* The one kind the table names, or NULL after an error. */
static const struct kind_info *kind_of(struct loader *l,
                                       const struct probe_src *src)
{
	const struct kind_info *found = NULL, *k;
	const struct toml_value *found_v = NULL;

	for (size_t i = 0; i < toml_len(src->table); i++) {
		const char *key = toml_table_key(src->table, i);
		const struct toml_value *v = toml_table_value(src->table, i);

		if (!(k = kind_named(key)))
			continue;
		if (!(src->alive ? k->alive : k->ready)) {
			misplaced_kind(l, src, v, key);
			return NULL;
		}
		if (found) {
			two_kinds(l, src, found->key, found_v, key, v);
			return NULL;
		}
		found = k;
		found_v = v;
	}
	if (!found)
		fail(l, src->table, "%s: no kind (set one of %s)", src->path,
		     src->alive ? "tcp, http, exec, watchdog"
		                : "notify, fd, log, tcp, http, exec");
	return found;
}

/* A duration over 0 (a zero timeout or interval would spin). */
static int positive_duration(struct loader *l, const struct toml_value *v,
                             const char *path, int64_t *out)
{
	const char *s = text_of(l, v, path);
	long long ms;

	if (!s || duration_of(l, v, path, s, &ms) < 0)
		return -1;
	if (ms <= 0)
		return fail(l, v, "%s: must be more than 0s", path);
	*out = ms;
	return 0;
}

static int load_notify(struct loader *l, const struct toml_value *v,
                       const char *path)
{
	bool on = false;

	toml_as_bool(v, &on);
	if (!on)
		return fail(l, v,
		            "%s: only true (leave ready out for no readiness "
		            "check)",
		            path);
	return 0;
}

/* The name of the port whose listening socket is at fd (LISTEN_FDS: the
 * listen ports in ports order, from fd 3), or NULL. */
static const char *listen_port_at(const struct proc_spec *p, int64_t fd)
{
	int64_t at = PROBE_FD_MIN;

	for (size_t i = 0; i < p->nports; i++)
		if (p->listen[i] && at++ == fd)
			return p->ports[i];
	return NULL;
}

static int load_fd(struct loader *l, const struct proc_spec *p,
                   struct probe_conf *c, const struct toml_value *v,
                   const char *path)
{
	const char *port;
	int64_t fd = -1;

	toml_as_int(v, &fd);
	if (fd < PROBE_FD_MIN || fd > PROBE_FD_MAX)
		return fail(l, v,
		            "%s: expected an integer from %d to %d (0, 1 and 2 "
		            "are stdin, stdout and stderr)",
		            path, PROBE_FD_MIN, PROBE_FD_MAX);
	if ((port = listen_port_at(p, fd)))
		return fail(l, v,
		            "%s: fd %lld is port \"%s\"'s listening socket "
		            "(LISTEN_FDS: fds 3 to %zu); use %zu or more",
		            path, (long long)fd, port, 2 + p->nlisten,
		            3 + p->nlisten);
	c->fd = (int)fd;
	return 0;
}

/* An ERE that regcomp takes, as the pod will compile it for each run. */
/* A back-reference (\\1 to \\9): not POSIX ERE, but glibc takes it, and
 * matching one is exponential in the line (a line could freeze the
 * pod's loop).  Refused anywhere, even in a bracket, to keep it simple. */
static bool has_backref(const char *s)
{
	for (; *s; s++)
		if (*s == '\\' && s[1]) {
			if (s[1] >= '1' && s[1] <= '9')
				return true;
			s++;
		}
	return false;
}

static int load_log(struct loader *l, struct probe_conf *c,
                    const struct toml_value *v, const char *path)
{
	const char *s = text_of(l, v, path);
	char why[128];
	regex_t re;
	int rc;

	if (!s)
		return -1;
	if (!*s)
		return fail(l, v, "%s: empty regex (it matches every line)",
		            path);
	if ((rc = regcomp(&re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &re, why, sizeof why);
		return fail(l, v, "%s: bad regex \"%s\": %s", path, s, why);
	}
	regfree(&re);
	if (has_backref(s))
		return fail(l, v,
		            "%s: back-references (\\1 ... \\9) are not "
		            "allowed: matching them can take exponential time",
		            path);
	if (!(c->pattern = strdup(s)))
		return oom(l);
	return 0;
}

/* localhost, an IPv4 address or [an IPv6 one]: a probe makes no DNS
 * lookup, which would block the pod's loop. */
static bool tcp_host_ok(const char *host, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 2];
	struct in6_addr a;

	if (!len || len >= sizeof buf)
		return false;
	memcpy(buf, host, len);
	buf[len] = '\0';
	if (!strcmp(buf, "localhost"))
		return true;
	if (buf[0] == '[' && buf[len - 1] == ']') {
		buf[len - 1] = '\0';
		return inet_pton(AF_INET6, buf + 1, &a) == 1;
	}
	return inet_pton(AF_INET, buf, &a) == 1;
}

/* 1 to 65535, or one placeholder (${port.http}, checked later). */
static bool tcp_port_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");
	long port;

	if (!strncmp(s, "${", 2))
		return strchr(s, '}') == s + strlen(s) - 1;
	if (!n || n > 5 || s[n])
		return false;
	port = strtol(s, NULL, 10);
	return port >= 1 && port <= 65535;
}

static int check_tcp(struct loader *l, const struct toml_value *v,
                     const char *path, const char *s)
{
	const char *colon = strrchr(s, ':');

	if (!colon || colon == s || !colon[1])
		return fail(l, v,
		            "%s: expected \"host:port\" (e.g. "
		            "\"127.0.0.1:${port.http}\"), found \"%s\"",
		            path, s);
	if (!tcp_host_ok(s, (size_t)(colon - s)))
		return fail(l, v,
		            "%s: host \"%.*s\" is not localhost, an IPv4 "
		            "address or an [IPv6] one (a probe makes no DNS "
		            "lookup)",
		            path, (int)(colon - s), s);
	if (!tcp_port_ok(colon + 1))
		return fail(l, v,
		            "%s: port \"%s\" is not a number from 1 to 65535 "
		            "or a ${port.NAME}",
		            path, colon + 1);
	return 0;
}

static int check_http(struct loader *l, const struct toml_value *v,
                      const char *path, const char *s)
{
	if (!strncmp(s, "https://", 8))
		return fail(l, v,
		            "%s: https is not supported (the probe speaks "
		            "plain HTTP: use http://)",
		            path);
	if (strncmp(s, "http://", 7) || !s[7] || strchr("/:?#", s[7]))
		return fail(l, v,
		            "%s: expected a URL starting with http://host "
		            "(e.g. \"http://127.0.0.1:${port.http}/health\"), "
		            "found \"%s\"",
		            path, s);
	return 0;
}

/* "${port.NAME}" at the end of s names one of p's listen ports?  The
 * pod holds that socket: the kernel completes any connect to it from
 * the backlog, whether the process works or not. */
static bool on_listen_port(const struct proc_spec *p, const char *s)
{
	const char *colon = strrchr(s, ':');
	size_t len;

	if (!colon || strncmp(colon + 1, "${port.", 7))
		return false;
	len = strlen(colon + 8);
	for (size_t i = 0; i < p->nports; i++)
		if (p->listen[i] && len == strlen(p->ports[i]) + 1 &&
		    !strncmp(colon + 8, p->ports[i], len - 1))
			return true;
	return false;
}

/* tcp = "host:port" or http = "http://...": the target, placeholders
 * kept (checked with the other strings, check_placeholders). */
static int load_target(struct loader *l, const struct proc_spec *p,
                       struct probe_conf *c, const struct toml_value *v,
                       const char *path)
{
	const char *s = text_of(l, v, path);

	if (!s)
		return -1;
	if ((c->kind == PROBE_TCP ? check_tcp : check_http)(l, v, path, s) < 0)
		return -1;
	if (c->kind == PROBE_TCP && on_listen_port(p, s))
		return fail(l, v,
		            "%s: a tcp check of a listen port always "
		            "connects (the pod holds the socket, the kernel "
		            "queues the connection): use http, exec or notify",
		            path);
	if (!(c->target = strdup(s)))
		return oom(l);
	return 0;
}

/* exec = ["cmd", ...]: as command, not empty, the program named. */
static int load_exec(struct loader *l, struct probe_conf *c,
                     const struct toml_value *v, const char *path)
{
	const char *s;

	if (!toml_len(v))
		return fail(l, v, "%s: empty command", path);
	if (!(c->argv = strv_new(toml_len(v))))
		return oom(l);
	for (size_t i = 0; i < toml_len(v); i++) {
		if (!(s = text_of(l, toml_array_at(v, i), path)))
			return -1;
		if (!(c->argv[i] = strdup(s)))
			return oom(l);
		c->argc++;
	}
	if (!*c->argv[0])
		return fail(l, toml_array_at(v, 0), "%s: empty program name",
		            path);
	return 0;
}

/* The kind's own value (notify = true, fd = 3, ...). */
static int load_kind(struct loader *l, const struct proc_spec *p,
                     struct probe_conf *c, const struct toml_value *v,
                     const char *path)
{
	switch (c->kind) {
	case PROBE_NOTIFY:
		return load_notify(l, v, path);
	case PROBE_FD:
		return load_fd(l, p, c, v, path);
	case PROBE_LOG:
		return load_log(l, c, v, path);
	case PROBE_TCP:
	case PROBE_HTTP:
		return load_target(l, p, c, v, path);
	case PROBE_EXEC:
		return load_exec(l, c, v, path);
	case PROBE_WATCHDOG:
		return positive_duration(l, v, path, &c->interval_ms);
	case PROBE_NONE:
		break;
	}
	return 0;
}

static bool polled(enum probe_kind kind)
{
	return kind == PROBE_TCP || kind == PROBE_HTTP || kind == PROBE_EXEC;
}

/* The key of the table, when set, with its path; else NULL. */
static const struct toml_value *
probe_key(const struct probe_src *src, const char *key, char *path, size_t size)
{
	snprintf(path, size, "%s.%s", src->path, key);
	return toml_table_get(src->table, key);
}

/* interval: tcp, http, exec (default 1s); the rest are not polled, and
 * the watchdog's value is its own deadline. */
static int load_interval(struct loader *l, const struct probe_src *src,
                         struct probe_conf *c)
{
	char path[192];
	const struct toml_value *v =
	    probe_key(src, "interval", path, sizeof path);

	if (!polled(c->kind)) {
		if (v)
			return fail(
			    l, v, "%s: only for tcp, http and exec (%s)", path,
			    c->kind == PROBE_WATCHDOG
			        ? "the watchdog's value is its deadline"
			        : "notify, fd and log are not polled");
		return 0;
	}
	c->interval_ms = PROBE_INTERVAL_MS;
	return v ? positive_duration(l, v, path, &c->interval_ms) : 0;
}

/* ready: timeout is the whole wait (default 30s); no failures, the
 * run fails once, at the timeout. */
static int load_ready_limits(struct loader *l, const struct probe_src *src,
                             struct probe_conf *c)
{
	char path[192];
	const struct toml_value *v;

	if ((v = probe_key(src, "failures", path, sizeof path)))
		return fail(l, v,
		            "%s: only for alive (readiness fails once, at its "
		            "timeout)",
		            path);
	c->timeout_ms = READY_TIMEOUT_MS;
	v = probe_key(src, "timeout", path, sizeof path);
	return v ? positive_duration(l, v, path, &c->timeout_ms) : 0;
}

/* alive: timeout is one try's limit (default 5s, at most the interval:
 * a try ends before the next begins); failures in a row end the run
 * (default 3, the watchdog 1). */
static int load_alive_limits(struct loader *l, const struct probe_src *src,
                             struct probe_conf *c)
{
	char path[192];
	const struct toml_value *v;
	int64_t n;

	c->failures = c->kind == PROBE_WATCHDOG ? 1 : ALIVE_FAILURES;
	if ((v = probe_key(src, "failures", path, sizeof path))) {
		if (int_in(l, v, path, 1, FAILURES_MAX, &n) < 0)
			return -1;
		c->failures = (int)n;
	}
	v = probe_key(src, "timeout", path, sizeof path);
	if (c->kind == PROBE_WATCHDOG)
		return v ? fail(l, v,
		                "%s: not for the watchdog (its value is its "
		                "deadline)",
		                path)
		         : 0;
	c->timeout_ms = c->interval_ms < ALIVE_TIMEOUT_MS ? c->interval_ms
	                                                  : ALIVE_TIMEOUT_MS;
	if (!v)
		return 0;
	if (positive_duration(l, v, path, &c->timeout_ms) < 0)
		return -1;
	if (c->timeout_ms > c->interval_ms)
		return fail(l, v,
		            "%s: %s is more than the interval, %lld%s (a try "
		            "ends before the next begins)",
		            path, text_of(l, v, path),
		            (long long)(c->interval_ms % 1000
		                            ? c->interval_ms
		                            : c->interval_ms / 1000),
		            c->interval_ms % 1000 ? "ms" : "s");
	return 0;
}

/* ready = {...} (alive false) or alive = {...} into spec's probe_conf. */
static int load_probe(struct loader *l, struct proc_spec *p,
                      const struct toml_value *t, const char *prefix,
                      bool alive)
{
	const char *key = alive ? "alive" : "ready";
	struct probe_conf *c = alive ? &p->alive : &p->ready;
	const struct kind_info *k;
	char path[160], kpath[192];
	struct probe_src src = {toml_table_get(t, key), path, alive};

	if (!src.table)
		return 0;
	snprintf(path, sizeof path, "%s.%s", prefix, key);
	if (!(k = kind_of(l, &src)))
		return -1;
	c->kind = k->kind;
	if (load_kind(l, p, c, probe_key(&src, k->key, kpath, sizeof kpath),
	              kpath) < 0 ||
	    load_interval(l, &src, c) < 0)
		return -1;
	return alive ? load_alive_limits(l, &src, c)
	             : load_ready_limits(l, &src, c);
}

static int load_proc(struct loader *l, size_t i)
{
	const struct toml_value *t = toml_table_value(l->procs, i);
	struct proc_spec *p = &l->m->procs[i];
	const char *name = toml_table_key(l->procs, i);
	char prefix[INSOMNIA_NAME_MAX + 16];

	if (strlen(name) != toml_table_key_len(l->procs, i) ||
	    insomnia_name_check(name, NULL) < 0 || toml_type(t) != TOML_TABLE)
		return fail(l, t, "process.%s: not a valid process", name);
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(prefix, sizeof prefix, "process.%s", name);
	p->autostart = true;
	p->logs = l->pod_logs;
	if (load_command(l, p, t, prefix) < 0 ||
	    load_cwd(l, p, t, prefix) < 0 || load_env(l, p, t, prefix) < 0 ||
	    load_bool(l, t, "env_clear", prefix, &p->env_clear) < 0 ||
	    load_bool(l, t, "autostart", prefix, &p->autostart) < 0 ||
	    load_restart(l, p, t, prefix) < 0 ||
	    load_stop(l, p, t, prefix) < 0 ||
	    load_logs(l, toml_table_get(t, "logs"), prefix, &p->logs) < 0 ||
	    load_deps(l, p, t, prefix) < 0 || load_ports(l, p, t, prefix) < 0 ||
	    load_probe(l, p, t, prefix, false) < 0 ||
	    load_probe(l, p, t, prefix, true) < 0)
		return -1;
	return 0;
}

/* ---- across processes ------------------------------------------------- */

static const struct toml_value *port_value(struct loader *l, size_t proc,
                                           size_t port)
{
	const struct toml_value *t = toml_table_value(l->procs, proc);
	const struct toml_value *v =
	    toml_array_at(toml_table_get(t, "ports"), port);

	return toml_type(v) == TOML_TABLE ? toml_table_get(v, "name") : v;
}

/* The process that declared port j of process i earlier (an earlier
 * process, or i itself before j), or -1. */
static ptrdiff_t earlier_owner(const struct manifest *m, size_t i, size_t j)
{
	const char *name = m->procs[i].ports[j];

	for (size_t a = 0; a <= i; a++)
		for (size_t b = 0; b < (a == i ? j : m->procs[a].nports); b++)
			if (!strcmp(name, m->procs[a].ports[b]))
				return (ptrdiff_t)a;
	return -1;
}

/* A port name is the pod's: ${port.http} and PORT_HTTP then mean one
 * port wherever they are read. */
static int check_ports(struct loader *l)
{
	const struct manifest *m = l->m;
	ptrdiff_t a;

	for (size_t i = 0; i < m->nprocs; i++)
		for (size_t j = 0; j < m->procs[i].nports; j++)
			if ((a = earlier_owner(m, i, j)) >= 0)
				return fail(l, port_value(l, i, j),
				            "process.%s.ports: duplicate port "
				            "name \"%s\" (also process %s's)",
				            m->procs[i].name,
				            m->procs[i].ports[j],
				            m->procs[a].name);
	return 0;
}

/* The value of proc's depends_on entry for its dependency dep. */
static const struct toml_value *dep_value(struct loader *l, size_t proc,
                                          size_t dep)
{
	const struct toml_value *d =
	    toml_table_get(toml_table_value(l->procs, proc), "depends_on");
	const char *name = l->m->procs[l->m->procs[proc].deps[dep].index].name;
	const char *s;

	if (toml_type(d) == TOML_TABLE)
		return toml_table_get(d, name);
	for (size_t i = 0; i < toml_len(d); i++)
		if (toml_as_string(toml_array_at(d, i), &s, NULL) &&
		    !strcmp(s, name))
			return toml_array_at(d, i);
	return d;
}

/* The port names process i may use: its own, then its direct
 * dependencies', NULL-terminated; malloc'd (the strings are borrowed). */
static const char **ports_in_reach(const struct manifest *m, size_t i)
{
	const struct proc_spec *p = &m->procs[i];
	size_t n = p->nports, k = 0;
	const char **names;

	for (size_t d = 0; d < p->ndeps; d++)
		n += m->procs[p->deps[d].index].nports;
	if (!(names = calloc(n + 1, sizeof *names)))
		return NULL;
	for (size_t j = 0; j < p->nports; j++)
		names[k++] = p->ports[j];
	for (size_t d = 0; d < p->ndeps; d++) {
		const struct proc_spec *dep = &m->procs[p->deps[d].index];
		for (size_t j = 0; j < dep->nports; j++)
			names[k++] = dep->ports[j];
	}
	return names;
}

/* text, set by the value v of process p's key, checked. */
static int check_text(struct loader *l, const char *text,
                      const char *const *names, const struct proc_spec *p,
                      const char *key, const struct toml_value *v)
{
	if (placeholder_check(text, names, l->err) == 0)
		return 0;
	return fail(l, v, "process.%s.%s: %s", p->name, key, l->err->message);
}

/* The strings of a tcp, http or exec probe (the regex of log is taken
 * as written). */
static int check_probe_texts(struct loader *l, const struct proc_spec *p,
                             const char *const *names,
                             const struct toml_value *t, const char *key,
                             const struct probe_conf *c)
{
	const struct toml_value *pt = toml_table_get(t, key);
	char path[32];
	int rc = 0;

	if (c->kind == PROBE_TCP || c->kind == PROBE_HTTP) {
		const char *kind = c->kind == PROBE_TCP ? "tcp" : "http";
		snprintf(path, sizeof path, "%s.%s", key, kind);
		return check_text(l, c->target, names, p, path,
		                  toml_table_get(pt, kind));
	}
	snprintf(path, sizeof path, "%s.exec", key);
	for (size_t a = 0; c->kind == PROBE_EXEC && rc == 0 && a < c->argc; a++)
		rc = check_text(l, c->argv[a], names, p, path,
		                toml_array_at(toml_table_get(pt, "exec"), a));
	return rc;
}

/* Placeholders of process i, with the ports in its reach. */
static int check_placeholders(struct loader *l, size_t i)
{
	const struct proc_spec *p = &l->m->procs[i];
	const struct toml_value *t = toml_table_value(l->procs, i);
	const struct toml_value *cmd = toml_table_get(t, "command");
	const struct toml_value *env = toml_table_get(t, "env");
	const char **names = ports_in_reach(l->m, i);
	int rc = 0;

	if (!names)
		return oom(l);
	if (p->shell)
		rc = check_text(l, p->argv[2], names, p, "shell",
		                toml_table_get(t, "shell"));
	for (size_t a = 0; !p->shell && rc == 0 && a < p->argc; a++)
		rc = check_text(l, p->argv[a], names, p, "command",
		                toml_array_at(cmd, a));
	for (size_t e = 0; rc == 0 && e < p->nenv; e++)
		rc = check_text(l, strchr(p->env[e], '=') + 1, names, p, "env",
		                toml_table_value(env, e));
	if (rc == 0 && p->cwd)
		rc = check_text(l, p->cwd, names, p, "cwd",
		                toml_table_get(t, "cwd"));
	if (rc == 0)
		rc = check_probe_texts(l, p, names, t, "ready", &p->ready);
	if (rc == 0)
		rc = check_probe_texts(l, p, names, t, "alive", &p->alive);
	free(names);
	return rc;
}

/* ---- order ------------------------------------------------------------ */

static bool deps_placed(const struct proc_spec *p, const bool *placed)
{
	for (size_t d = 0; d < p->ndeps; d++)
		if (!placed[p->deps[d].index])
			return false;
	return true;
}

/* Every process left is on a cycle or leads to one: from the first,
 * follow unplaced dependencies until a process repeats.  walk[k] is the
 * k-th process met and via[k] the dependency taken from it; returns
 * where the loop starts in walk (it ends at *n). */
static size_t find_cycle(const struct manifest *m, const bool *placed,
                         size_t *walk, size_t *via, size_t *n)
{
	size_t cur = 0, d;

	while (placed[cur])
		cur++;
	for (*n = 0;; (*n)++) {
		for (size_t k = 0; k < *n; k++)
			if (walk[k] == cur)
				return k;
		for (d = 0; placed[m->procs[cur].deps[d].index]; d++)
			;
		walk[*n] = cur;
		via[*n] = d;
		cur = m->procs[cur].deps[d].index;
	}
}

/* "dependency cycle: api -> db -> api", at its first depends_on entry. */
static int name_cycle(struct loader *l, const bool *placed)
{
	const struct manifest *m = l->m;
	size_t *walk = calloc(m->nprocs + 1, sizeof *walk);
	size_t *via = calloc(m->nprocs + 1, sizeof *via);
	char names[INSOMNIA_ERROR_MESSAGE_MAX] = "";
	size_t n, start, used = 0;
	int rc;

	if (!walk || !via) {
		free(walk);
		free(via);
		return oom(l);
	}
	start = find_cycle(m, placed, walk, via, &n);
	for (size_t k = start; k <= n && used < sizeof names; k++)
		used +=
		    (size_t)snprintf(names + used, sizeof names - used, "%s%s",
		                     k > start ? " -> " : "",
		                     m->procs[walk[k < n ? k : start]].name);
	rc = fail(l, dep_value(l, walk[start], via[start]),
	          "dependency cycle: %s", names);
	free(walk);
	free(via);
	return rc;
}

/* A topological order, stable: among the processes whose dependencies
 * are all placed, the first in the manifest goes next. */
static int order(struct loader *l)
{
	struct manifest *m = l->m;
	bool *placed = calloc(m->nprocs + 1, sizeof *placed);
	size_t n = 0;
	int rc = 0;

	if (!placed || !(m->order = calloc(m->nprocs + 1, sizeof *m->order))) {
		free(placed);
		return oom(l);
	}
	while (n < m->nprocs) {
		size_t i = 0;
		while (i < m->nprocs &&
		       (placed[i] || !deps_placed(&m->procs[i], placed)))
			i++;
		if (i == m->nprocs) {
			rc = name_cycle(l, placed);
			break;
		}
		placed[i] = true;
		m->order[n++] = i;
	}
	free(placed);
	return rc;
}

int manifest_load(const struct toml_value *tree, const char *pod_cwd,
                  struct manifest *m, struct insomnia_error *err)
{
	struct loader l = {toml_table_get(tree, "process"), pod_cwd, m,
	                   logs_defaults, err};
	const struct toml_value *pod = toml_table_get(tree, "pod");
	size_t n = l.procs ? toml_len(l.procs) : 0;

	memset(m, 0, sizeof *m);
	if (load_logs(&l, pod ? toml_table_get(pod, "logs") : NULL, "pod",
	              &l.pod_logs) < 0)
		return -1;
	if (!(m->procs = calloc(n + 1, sizeof *m->procs))) {
		oom(&l);
		return -1;
	}
	for (; m->nprocs < n; m->nprocs++)
		if (load_proc(&l, m->nprocs) < 0) {
			m->nprocs++; /* what it allocated is freed too */
			goto fail;
		}
	if (check_ports(&l) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (check_placeholders(&l, i) < 0)
			goto fail;
	if (order(&l) < 0)
		goto fail;
	return 0;
fail:
	manifest_free(m);
	return -1;
}

const struct proc_spec *manifest_find(const struct manifest *m,
                                      const char *name, size_t *index)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (!strcmp(m->procs[i].name, name)) {
			if (index)
				*index = i;
			return &m->procs[i];
		}
	return NULL;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void probe_conf_free(struct probe_conf *c)
{
	free(c->pattern);
	free(c->target);
	strv_free(c->argv);
}

bool proc_spec_wants_notify(const struct proc_spec *spec)
{
	return spec->ready.kind == PROBE_NOTIFY ||
	       spec->alive.kind == PROBE_WATCHDOG;
}

void manifest_free(struct manifest *m)
{
	for (size_t i = 0; m->procs && i < m->nprocs; i++) {
		struct proc_spec *p = &m->procs[i];
		strv_free(p->argv);
		strv_free(p->env);
		strv_free(p->ports);
		free(p->cwd);
		free(p->cwd_base);
		free(p->deps);
		free(p->listen);
		probe_conf_free(&p->ready);
		probe_conf_free(&p->alive);
	}
	free(m->procs);
	free(m->order);
	memset(m, 0, sizeof *m);
}
