/* podconfig.c: reading the layers, merging them and checking the schema. */
#include "podconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "fdio.h"
#include "podcmd.h"
#include "podlog.h"

/* A manifest's limit, the client's too (podcmd.h). */
#define CONFIG_FILE_MAX PODCMD_MANIFEST_MAX
#define KEY_PATH_MAX    256

/* What every pod gets before any manifest says otherwise. */
static const char builtin_defaults[] = "[pod]\n";

/* ---- the schema ------------------------------------------------------ */

/* The shapes a value may take; a key may allow several (a size is a
 * string or an integer). */
enum shape {
	SHAPE_STRING = 1 << 0,
	SHAPE_INTEGER = 1 << 1,
	SHAPE_BOOL = 1 << 2,
	SHAPE_STRINGS = 1 << 3,      /* an array of strings */
	SHAPE_STRING_TABLE = 1 << 4, /* a table of strings, any keys */
	SHAPE_TABLE = 1 << 5,        /* a table of the keys in .keys */
	/* a table of tables named by the user (pod-name rules), each of
	 * the keys in .keys: [process.<name>] */
	SHAPE_NAMED_TABLES = 1 << 6,
	SHAPE_TABLE_ARRAY = 1 << 7, /* [[x]]: tables of the keys in .keys */
	/* an array whose elements are strings or tables of the keys in
	 * .keys, mixed: ports = ["admin", { name = "http", listen = true }] */
	SHAPE_STRINGS_OR_TABLES = 1 << 8,
};

struct schema_key {
	const char *name; /* NULL ends a list */
	unsigned shapes;
	const struct schema_key *keys; /* of a table's entries */
};

#define END                                                                    \
	{                                                                      \
		NULL, 0, NULL                                                  \
	}

/* What pod/manifest.c reads; it checks the values (durations, signal
 * names, dependencies), this checks the keys and the shapes. */
static const struct schema_key logs_keys[] = {
    {"max_size", SHAPE_STRING | SHAPE_INTEGER, NULL},
    {"keep", SHAPE_INTEGER, NULL},
    END,
};

static const struct schema_key restart_keys[] = {
    {"policy", SHAPE_STRING, NULL},
    {"backoff", SHAPE_STRING, NULL},
    {"max", SHAPE_INTEGER, NULL},
    {"reset_after", SHAPE_STRING, NULL},
    END,
};

static const struct schema_key stop_keys[] = {
    {"signal", SHAPE_STRING, NULL},
    {"grace", SHAPE_STRING, NULL},
    END,
};

/* ready = {...} and alive = {...}: every kind and setting in both, so
 * that manifest.c can say why one is out of place ("watchdog is a
 * liveness check") rather than "unknown key". */
static const struct schema_key probe_keys[] = {
    {"notify", SHAPE_BOOL, NULL},
    {"fd", SHAPE_INTEGER, NULL},
    {"log", SHAPE_STRING, NULL},
    {"tcp", SHAPE_STRING, NULL},
    {"http", SHAPE_STRING, NULL},
    {"exec", SHAPE_STRINGS, NULL},
    {"watchdog", SHAPE_STRING, NULL},
    {"timeout", SHAPE_STRING, NULL},
    {"interval", SHAPE_STRING, NULL},
    {"failures", SHAPE_INTEGER, NULL},
    END,
};

/* An element of ports in its table form. */
static const struct schema_key port_keys[] = {
    {"name", SHAPE_STRING, NULL},
    {"listen", SHAPE_BOOL, NULL},
    END,
};

static const struct schema_key process_keys[] = {
    {"command", SHAPE_STRINGS, NULL},
    {"shell", SHAPE_STRING, NULL},
    {"cwd", SHAPE_STRING, NULL},
    {"env", SHAPE_STRING_TABLE, NULL},
    {"env_clear", SHAPE_BOOL, NULL},
    {"autostart", SHAPE_BOOL, NULL},
    {"restart", SHAPE_TABLE, restart_keys},
    {"stop", SHAPE_TABLE, stop_keys},
    {"logs", SHAPE_TABLE, logs_keys},
    {"depends_on", SHAPE_STRING_TABLE | SHAPE_STRINGS, NULL},
    {"ports", SHAPE_STRINGS_OR_TABLES, port_keys},
    {"ready", SHAPE_TABLE, probe_keys},
    {"alive", SHAPE_TABLE, probe_keys},
    END,
};

static const struct schema_key pod_keys[] = {
    {"name", SHAPE_STRING, NULL},
    {"description", SHAPE_STRING, NULL},
    {"logs", SHAPE_TABLE, logs_keys},
    {"idle_timeout", SHAPE_STRING, NULL},
    END,
};

/* Every top-level key the pod knows.  A new key is one line in its
 * table's list. */
static const struct schema_key root_keys[] = {
    {"pod", SHAPE_TABLE, pod_keys},
    {"process", SHAPE_NAMED_TABLES, process_keys},
    END,
};

/* Prefix err's message with where v was set: "overlay:2:1: ". */
static int at_origin(struct insomnia_error *err, const struct toml_value *v)
{
	const struct toml_origin *o = toml_origin(v);

	if (o && o->source)
		insomnia_error_prefix(err, "%s:%d:%d", o->source, o->line,
		                      o->col);
	return -1;
}

static bool key_is_bare(const char *key, size_t len)
{
	if (!len || strlen(key) != len)
		return false;
	for (; *key; key++)
		if (!(('a' <= *key && *key <= 'z') ||
		      ('A' <= *key && *key <= 'Z') ||
		      ('0' <= *key && *key <= '9') || *key == '_' ||
		      *key == '-'))
			return false;
	return true;
}

/* "prefix.key", quoted when the key is not bare; a path too long for
 * the buffer is cut (it names no known key anyway). */
static void key_path(char *path, size_t size, const char *prefix,
                     const struct toml_value *table, size_t i)
{
	const char *key = toml_table_key(table, i);
	const char *dot = *prefix ? "." : "";

	if (key_is_bare(key, toml_table_key_len(table, i)))
		snprintf(path, size, "%s%s%s", prefix, dot, key);
	else
		snprintf(path, size, "%s%s\\\"%s\\\"", prefix, dot, key);
}

static const struct schema_key *key_find(const struct schema_key *keys,
                                         const struct toml_value *table,
                                         size_t i)
{
	const char *key = toml_table_key(table, i);

	if (strlen(key) != toml_table_key_len(table, i))
		return NULL;
	for (; keys->name; keys++)
		if (!strcmp(keys->name, key))
			return keys;
	return NULL;
}

static bool is_array_of(const struct toml_value *v, enum toml_type t)
{
	if (toml_type(v) != TOML_ARRAY)
		return false;
	for (size_t i = 0; i < toml_len(v); i++)
		if (toml_type(toml_array_at(v, i)) != t)
			return false;
	return true;
}

/* Every element a string or a table (an empty array too). */
static bool is_strings_or_tables(const struct toml_value *v)
{
	if (toml_type(v) != TOML_ARRAY)
		return false;
	for (size_t i = 0; i < toml_len(v); i++) {
		enum toml_type t = toml_type(toml_array_at(v, i));
		if (t != TOML_STRING && t != TOML_TABLE)
			return false;
	}
	return true;
}

static bool is_table_of(const struct toml_value *v, enum toml_type t)
{
	if (toml_type(v) != TOML_TABLE)
		return false;
	for (size_t i = 0; i < toml_len(v); i++)
		if (toml_type(toml_table_value(v, i)) != t)
			return false;
	return true;
}

/* The shape of v among shapes, or 0. */
static unsigned shape_of(const struct toml_value *v, unsigned shapes)
{
	static const struct {
		unsigned shape;
		enum toml_type type;
	} scalars[] = {{SHAPE_STRING, TOML_STRING},
	               {SHAPE_INTEGER, TOML_INTEGER},
	               {SHAPE_BOOL, TOML_BOOL}};

	for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
		if ((shapes & scalars[i].shape) &&
		    toml_type(v) == scalars[i].type)
			return scalars[i].shape;
	if ((shapes & SHAPE_STRINGS) && is_array_of(v, TOML_STRING))
		return SHAPE_STRINGS;
	if ((shapes & SHAPE_STRING_TABLE) && is_table_of(v, TOML_STRING))
		return SHAPE_STRING_TABLE;
	if ((shapes & SHAPE_NAMED_TABLES) && is_table_of(v, TOML_TABLE))
		return SHAPE_NAMED_TABLES;
	if ((shapes & SHAPE_TABLE_ARRAY) && is_array_of(v, TOML_TABLE))
		return SHAPE_TABLE_ARRAY;
	if ((shapes & SHAPE_STRINGS_OR_TABLES) && is_strings_or_tables(v))
		return SHAPE_STRINGS_OR_TABLES;
	if ((shapes & SHAPE_TABLE) && toml_type(v) == TOML_TABLE)
		return SHAPE_TABLE;
	return 0;
}

/* "string or integer" */
static void shapes_text(unsigned shapes, char *buf, size_t size)
{
	static const char *const names[] = {"string",
	                                    "integer",
	                                    "boolean",
	                                    "array of strings",
	                                    "table of strings",
	                                    "table",
	                                    "table of tables",
	                                    "array of tables",
	                                    "array of strings and tables"};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((shapes & (1u << i)) && used < size)
			used +=
			    (size_t)snprintf(buf + used, size - used, "%s%s",
			                     used ? " or " : "", names[i]);
}

/* The offending element of an array or table that is not all of one
 * type: where to point. */
static const struct toml_value *culprit(const struct toml_value *v,
                                        unsigned shapes)
{
	bool strings = shapes & (SHAPE_STRINGS | SHAPE_STRING_TABLE |
	                         SHAPE_STRINGS_OR_TABLES);
	bool tables = !strings || (shapes & SHAPE_STRINGS_OR_TABLES);

	if (toml_type(v) != TOML_ARRAY && toml_type(v) != TOML_TABLE)
		return v;
	for (size_t i = 0; i < toml_len(v); i++) {
		const struct toml_value *e = toml_type(v) == TOML_ARRAY
		                                 ? toml_array_at(v, i)
		                                 : toml_table_value(v, i);
		enum toml_type t = toml_type(e);
		if (!(strings && t == TOML_STRING) &&
		    !(tables && t == TOML_TABLE))
			return e;
	}
	return v;
}

static int wrong_shape(const char *path, unsigned shapes,
                       const struct toml_value *v, struct insomnia_error *err)
{
	const struct toml_value *bad = culprit(v, shapes);
	char want[128];

	shapes_text(shapes, want, sizeof want);
	if (bad != v) {
		insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
		                   "%s: expected %s, found %s in it", path,
		                   want, toml_type_name(toml_type(bad)));
		return at_origin(err, bad);
	}
	insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
	                   "%s: expected %s, found %s", path, want,
	                   toml_type_name(toml_type(v)));
	return at_origin(err, v);
}

static int check_table(const struct toml_value *table, const char *prefix,
                       const struct schema_key *keys,
                       struct insomnia_error *err);

/* Each user-named table: a valid name, known keys. */
static int check_named(const struct toml_value *v, const char *prefix,
                       const struct schema_key *keys,
                       struct insomnia_error *err)
{
	for (size_t i = 0; i < toml_len(v); i++) {
		const struct toml_value *t = toml_table_value(v, i);
		const char *name = toml_table_key(v, i);
		char path[KEY_PATH_MAX];

		key_path(path, sizeof path, prefix, v, i);
		if (strlen(name) != toml_table_key_len(v, i) ||
		    insomnia_name_check(name, NULL) < 0) {
			insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
			                   "%s: not a valid name (1 to %d of "
			                   "A-Z a-z 0-9 . _ -, "
			                   "not starting with '.' or '-')",
			                   path, INSOMNIA_NAME_MAX);
			return at_origin(err, t);
		}
		if (check_table(t, path, keys, err) < 0)
			return -1;
	}
	return 0;
}

static int check_value(const char *path, const struct schema_key *k,
                       const struct toml_value *v, struct insomnia_error *err)
{
	switch (shape_of(v, k->shapes)) {
	case 0:
		return wrong_shape(path, k->shapes, v, err);
	case SHAPE_TABLE:
		return check_table(v, path, k->keys, err);
	case SHAPE_NAMED_TABLES:
		return check_named(v, path, k->keys, err);
	case SHAPE_TABLE_ARRAY:
	case SHAPE_STRINGS_OR_TABLES:
		for (size_t i = 0; i < toml_len(v); i++)
			if (toml_type(toml_array_at(v, i)) == TOML_TABLE &&
			    check_table(toml_array_at(v, i), path, k->keys,
			                err) < 0)
				return -1;
		return 0;
	default:
		return 0;
	}
}

static int unknown_key(const char *path, const struct toml_value *v,
                       struct insomnia_error *err)
{
	insomnia_error_set(err, INSOMNIA_ERR_CONFIG, "unknown key \"%s\"",
	                   path);
	return at_origin(err, v);
}

static int check_table(const struct toml_value *table, const char *prefix,
                       const struct schema_key *keys,
                       struct insomnia_error *err)
{
	for (size_t i = 0; i < toml_len(table); i++) {
		const struct schema_key *k = key_find(keys, table, i);
		const struct toml_value *v = toml_table_value(table, i);
		char path[KEY_PATH_MAX];

		key_path(path, sizeof path, prefix, table, i);
		if (!k)
			return unknown_key(path, v, err);
		if (check_value(path, k, v, err) < 0)
			return -1;
	}
	return 0;
}

/* One warning line for a top-level table another tool wrote. */
static void warn_kept(const char *path, const struct toml_value *v)
{
	const struct toml_origin *o = toml_origin(v);
	bool array = toml_type(v) == TOML_ARRAY;

	if (o && o->source)
		podlog("warning: %s:%d:%d: unknown table %s%s%s kept, not used",
		       o->source, o->line, o->col, array ? "[[" : "[", path,
		       array ? "]]" : "]");
	else
		podlog("warning: unknown table %s%s%s kept, not used",
		       array ? "[[" : "[", path, array ? "]]" : "]");
}

/* The root: known tables are checked; an unknown table (or array of
 * tables) is another tool's, kept in the tree (and so in the session's
 * recorded config) and warned about; an unknown plain key is a typo. */
static int check_root(const struct toml_value *root, struct insomnia_error *err)
{
	for (size_t i = 0; i < toml_len(root); i++) {
		const struct schema_key *k = key_find(root_keys, root, i);
		const struct toml_value *v = toml_table_value(root, i);
		char path[KEY_PATH_MAX];

		key_path(path, sizeof path, "", root, i);
		if (k) {
			if (check_value(path, k, v, err) < 0)
				return -1;
		} else if (toml_type(v) == TOML_TABLE ||
		           (is_array_of(v, TOML_TABLE) && toml_len(v))) {
			warn_kept(path, v);
		} else {
			return unknown_key(path, v, err);
		}
	}
	return 0;
}

/* ---- what the pod itself takes ---------------------------------------- */

static int apply_name(struct pod_config *cfg, const struct toml_value *v,
                      struct insomnia_error *err);
static int apply_description(struct pod_config *cfg, const struct toml_value *v,
                             struct insomnia_error *err);
static int apply_idle_timeout(struct pod_config *cfg,
                              const struct toml_value *v,
                              struct insomnia_error *err);

struct applied_key {
	const char *path; /* dotted path of bare keys */
	bool required;
	/* Copies a present, well-shaped value into the config. */
	int (*apply)(struct pod_config *cfg, const struct toml_value *v,
	             struct insomnia_error *err);
};

/* The rest ([process.*], [pod] logs) is pod/manifest.c's. */
static const struct applied_key applied[] = {
    {"pod.name", true, apply_name},
    {"pod.description", false, apply_description},
    {"pod.idle_timeout", false, apply_idle_timeout},
};

#define APPLIED_LEN (sizeof applied / sizeof applied[0])

static int schema_apply(const struct toml_value *tree, struct pod_config *cfg,
                        struct insomnia_error *err)
{
	for (size_t i = 0; i < APPLIED_LEN; i++) {
		const struct toml_value *v = toml_lookup(tree, applied[i].path);
		if (!v && applied[i].required)
			return insomnia_error_set(
			    err, INSOMNIA_ERR_CONFIG,
			    "%s is required: set it in a manifest "
			    "or in the overlay",
			    applied[i].path);
		if (v && applied[i].apply(cfg, v, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_name(struct pod_config *cfg, const struct toml_value *v,
                      struct insomnia_error *err)
{
	const char *name;
	size_t len;

	toml_as_string(v, &name, &len);
	if (strlen(name) != len) {
		insomnia_error_set(err, INSOMNIA_ERR_BAD_NAME,
		                   "pod.name: holds a NUL character");
		return at_origin(err, v);
	}
	if (insomnia_name_check(name, err) < 0) {
		insomnia_error_prefix(err, "pod.name");
		return at_origin(err, v);
	}
	memcpy(cfg->name, name, len + 1);
	return 0;
}

static int apply_description(struct pod_config *cfg, const struct toml_value *v,
                             struct insomnia_error *err)
{
	const char *text;
	size_t len;

	toml_as_string(v, &text, &len);
	free(cfg->description);
	cfg->description = strndup(text, len);
	if (!cfg->description)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "out of memory");
	return 0;
}

/* A duration over 0: "0s" would stop the pod as soon as it starts, and
 * leaving the key out already means never. */
static int apply_idle_timeout(struct pod_config *cfg,
                              const struct toml_value *v,
                              struct insomnia_error *err)
{
	const char *text;
	size_t len;
	long long ms;

	toml_as_string(v, &text, &len);
	if (strlen(text) != len ||
	    duration_parse_ms(text, false, DURATION_MAX_MS, &ms) < 0) {
		insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
		                   "pod.idle_timeout: bad duration \"%s\" (use "
		                   "250ms, 5s, 2m, 1h, 1m30s; at most 30d)",
		                   text);
		return at_origin(err, v);
	}
	if (ms <= 0) {
		insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
		                   "pod.idle_timeout: must be more than 0s "
		                   "(leave it out to never stop when idle)");
		return at_origin(err, v);
	}
	cfg->idle_timeout_ms = ms;
	return 0;
}

/* ---- the layers ------------------------------------------------------ */

/* Parse text as one layer and merge it over *acc. */
static int merge_layer(struct toml_value **acc, const char *text, size_t len,
                       const char *source, const char *dir,
                       struct insomnia_error *err)
{
	struct toml_value *layer = toml_parse(text, len, source, dir, err);
	struct toml_value *merged;

	if (!layer)
		return -1;
	merged = toml_merge(*acc, layer, err);
	toml_free(layer);
	if (!merged)
		return -1;
	toml_free(*acc);
	*acc = merged;
	return 0;
}

static void note_layer(struct pod_config *cfg, const char *source)
{
	if (cfg->nlayers < PODCONFIG_LAYERS_MAX)
		snprintf(cfg->layers[cfg->nlayers++], sizeof cfg->layers[0],
		         "%s", source);
}

/* Merge the manifest at path (absolute).  Returns 0, or 1 when it does
 * not exist and missing_ok, or -1. */
static int merge_file(struct toml_value **acc, struct pod_config *cfg,
                      const char *what, const char *path, bool missing_ok,
                      struct insomnia_error *err)
{
	char source[INSOMNIA_PATH_MAX + 32], dir[INSOMNIA_PATH_MAX];
	char *text = NULL, *slash;
	size_t len;
	int rc;

	snprintf(source, sizeof source, "%s %s", what, path);
	if (fd_read_file_at(AT_FDCWD, path, CONFIG_FILE_MAX, &text, &len) < 0) {
		if (errno == ENOENT && missing_ok)
			return 1;
		if (errno == EFBIG)
			return insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
			                          "%s: larger than %d bytes",
			                          source, CONFIG_FILE_MAX);
		return insomnia_error_set_errno(err, INSOMNIA_ERR_CONFIG, errno,
		                                "%s: cannot read", source);
	}
	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	rc = merge_layer(acc, text, len, source, slash ? dir : NULL, err);
	free(text);
	if (rc == 0)
		note_layer(cfg, source);
	return rc;
}

static int merge_user(struct toml_value **acc, struct pod_config *cfg,
                      struct insomnia_error *err)
{
	char path[INSOMNIA_PATH_MAX];

	/* Without HOME or XDG_CONFIG_HOME there is no user manifest. */
	if (paths_user_manifest(path, sizeof path, NULL) < 0)
		return 0;
	return merge_file(acc, cfg, "user manifest", path, true, err) < 0 ? -1
	                                                                  : 0;
}

static int merge_project(struct toml_value **acc, struct pod_config *cfg,
                         const struct podconfig_args *a,
                         struct insomnia_error *err)
{
	char path[INSOMNIA_PATH_MAX];
	int found;

	if (a->manifest && a->manifest[0] == '/')
		return merge_file(acc, cfg, "project manifest", a->manifest,
		                  false, err);
	if (a->manifest) {
		if (paths_join(path, sizeof path, a->cwd, a->manifest, err) < 0)
			return -1;
		return merge_file(acc, cfg, "project manifest", path, false,
		                  err);
	}
	found = paths_project_manifest(a->cwd, path, sizeof path, err);
	if (found <= 0)
		return found;
	return merge_file(acc, cfg, "project manifest", path, false, err);
}

/* The recorded config, already parsed (pod/sessionfile.c). */
static int merge_session(struct toml_value **acc, struct pod_config *cfg,
                         const struct podconfig_args *a,
                         struct insomnia_error *err)
{
	const struct toml_origin *o;
	struct toml_value *merged;

	if (!a->session)
		return 0;
	merged = toml_merge(*acc, a->session, err);
	if (!merged)
		return -1;
	toml_free(*acc);
	*acc = merged;
	o = toml_origin(a->session);
	note_layer(cfg, o && o->source ? o->source : "session");
	return 0;
}

static int merge_overlay(struct toml_value **acc, struct pod_config *cfg,
                         const struct podconfig_args *a,
                         struct insomnia_error *err)
{
	if (!a->overlay)
		return 0;
	/* Relative paths in the overlay mean what they mean in the pod's
	 * working directory, which is the client's. */
	if (merge_layer(acc, a->overlay, strlen(a->overlay), "overlay", a->cwd,
	                err) < 0)
		return -1;
	note_layer(cfg, "overlay");
	return 0;
}

int podconfig_load(const struct podconfig_args *args, struct pod_config *cfg,
                   struct insomnia_error *err)
{
	struct toml_value *acc;
	int rc = -1;

	memset(cfg, 0, sizeof *cfg);
	acc = toml_parse(builtin_defaults, sizeof builtin_defaults - 1,
	                 "built-in defaults", NULL, err);
	if (!acc)
		goto out;
	if (merge_user(&acc, cfg, err) < 0 ||
	    merge_project(&acc, cfg, args, err) < 0 ||
	    merge_session(&acc, cfg, args, err) < 0 ||
	    merge_overlay(&acc, cfg, args, err) < 0)
		goto out;
	if (check_root(acc, err) < 0 || schema_apply(acc, cfg, err) < 0)
		goto out;
	cfg->tree = acc;
	acc = NULL;
	rc = 0;
out:
	if (acc)
		toml_free(acc);
	if (rc < 0)
		podconfig_free(cfg);
	return rc;
}

void podconfig_free(struct pod_config *cfg)
{
	if (cfg->tree)
		toml_free(cfg->tree);
	free(cfg->description);
	cfg->tree = NULL;
	cfg->description = NULL;
}
