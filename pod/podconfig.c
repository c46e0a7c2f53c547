/* podconfig.c: reading the layers, merging them and checking the schema. */
#include "podconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdio.h"
#include "podcmd.h"

/* A manifest's limit, the client's too (podcmd.h). */
#define CONFIG_FILE_MAX PODCMD_MANIFEST_MAX
#define KEY_PATH_MAX    256

/* What every pod gets before any manifest says otherwise. */
static const char builtin_defaults[] = "[pod]\n";

/* ---- the schema ------------------------------------------------------ */

struct schema_key {
	const char *path; /* dotted path of bare keys */
	enum toml_type type;
	bool required;
	/* Copies a present, well-typed value into the config. */
	int (*apply)(struct pod_config *cfg, const struct toml_value *v,
	             struct insomnia_error *err);
};

static int apply_name(struct pod_config *cfg, const struct toml_value *v,
                      struct insomnia_error *err);
static int apply_description(struct pod_config *cfg, const struct toml_value *v,
                             struct insomnia_error *err);

/* Every key the pod knows.  A new key is one line here (and, when the
 * pod must act on it, one apply function). */
static const struct schema_key schema[] = {
    {"pod", TOML_TABLE, false, NULL},
    {"pod.name", TOML_STRING, true, apply_name},
    {"pod.description", TOML_STRING, false, apply_description},
};

#define SCHEMA_LEN (sizeof schema / sizeof schema[0])

static const struct schema_key *schema_find(const char *path)
{
	for (size_t i = 0; i < SCHEMA_LEN; i++)
		if (strcmp(schema[i].path, path) == 0)
			return &schema[i];
	return NULL;
}

/* Prefix err's message with where v was set: "overlay:2:1: ". */
static int at_origin(struct insomnia_error *err, const struct toml_value *v)
{
	const struct toml_origin *o = toml_origin(v);

	if (o && o->source)
		insomnia_error_prefix(err, "%s:%d:%d", o->source, o->line,
		                      o->col);
	return -1;
}

static bool key_is_bare(const char *key)
{
	if (!*key)
		return false;
	for (; *key; key++)
		if (!(('a' <= *key && *key <= 'z') ||
		      ('A' <= *key && *key <= 'Z') ||
		      ('0' <= *key && *key <= '9') || *key == '_' ||
		      *key == '-'))
			return false;
	return true;
}

static int check_table(const struct toml_value *table, const char *prefix,
                       struct insomnia_error *err);

/* One entry of a table: known, of the right type, and (for a table) with
 * known contents. */
static int check_entry(const char *path, bool bare, const struct toml_value *v,
                       struct insomnia_error *err)
{
	const struct schema_key *k = bare ? schema_find(path) : NULL;

	if (!k) {
		insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
		                   "unknown key \"%s\"", path);
		return at_origin(err, v);
	}
	if (toml_type(v) != k->type) {
		insomnia_error_set(
		    err, INSOMNIA_ERR_CONFIG, "%s: expected %s, found %s", path,
		    toml_type_name(k->type), toml_type_name(toml_type(v)));
		return at_origin(err, v);
	}
	if (k->type == TOML_TABLE)
		return check_table(v, path, err);
	return 0;
}

static int check_table(const struct toml_value *table, const char *prefix,
                       struct insomnia_error *err)
{
	for (size_t i = 0; i < toml_len(table); i++) {
		const char *key = toml_table_key(table, i);
		char path[KEY_PATH_MAX];
		int n = snprintf(path, sizeof path, "%s%s%s", prefix,
		                 *prefix ? "." : "", key);
		/* A path too long for the buffer cannot be a known key. */
		bool bare =
		    key_is_bare(key) && n > 0 && (size_t)n < sizeof path;

		if (!bare)
			snprintf(path, sizeof path, "%s%s\\\"%s\\\"", prefix,
			         *prefix ? "." : "", key);
		if (check_entry(path, bare, toml_table_value(table, i), err) <
		    0)
			return -1;
	}
	return 0;
}

static int schema_apply(const struct toml_value *tree, struct pod_config *cfg,
                        struct insomnia_error *err)
{
	for (size_t i = 0; i < SCHEMA_LEN; i++) {
		const struct toml_value *v = toml_lookup(tree, schema[i].path);
		if (!v && schema[i].required)
			return insomnia_error_set(
			    err, INSOMNIA_ERR_CONFIG,
			    "%s is required: set it in a manifest "
			    "or in the overlay",
			    schema[i].path);
		if (v && schema[i].apply && schema[i].apply(cfg, v, err) < 0)
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
	if (check_table(acc, "", err) < 0 || schema_apply(acc, cfg, err) < 0)
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
