/* overlay.c: composing overlays with the pod name. */
#include "overlay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdio.h"
#include "paths.h"
#include "podname.h"
#include "toml.h"

static struct toml_value *parse(const char *text, const char *source,
                                struct error *err)
{
	return toml_parse(text, strlen(text), source, NULL, err);
}

static const char *name_in(const struct toml_value *root)
{
	const char *name = NULL;

	toml_as_string(toml_lookup(root, "pod.name"), &name, NULL);
	return name;
}

int overlay_name(const char *text, const char *source, char *name, size_t size,
                 struct error *err)
{
	struct toml_value *root = parse(text, source, err);
	const char *found;
	int rc = 0;

	if (!root)
		return -1;
	found = name_in(root);
	if (found) {
		snprintf(name, size, "%s", found);
		rc = 1;
	}
	toml_free(root);
	return rc;
}

/* Merge every part into one tree, each keeping its own origin. */
static struct toml_value *merge_parts(const struct overlay_part *parts,
                                      int nparts, struct error *err)
{
	struct toml_value *acc = toml_table_new("overlay", NULL), *next, *one;

	for (int i = 0; acc && i < nparts; i++) {
		if (!parts[i].text)
			continue;
		one = parse(parts[i].text, parts[i].source, err);
		if (!one) {
			toml_free(acc);
			return NULL;
		}
		next = toml_merge(acc, one, err);
		toml_free(one);
		toml_free(acc);
		acc = next;
	}
	return acc;
}

static char *append_name(const char *text, const char *name)
{
	size_t len = strlen(text) + strlen(name) + 32;
	char *out = malloc(len);

	if (out)
		snprintf(out, len, "%s\n[pod]\nname = \"%s\"\n", text, name);
	return out;
}

static char *rewrite_with_name(const struct toml_value *tree, const char *name,
                               struct error *err)
{
	char layer[128];
	struct toml_value *named, *merged;
	char *text;

	snprintf(layer, sizeof layer, "[pod]\nname = \"%s\"\n", name);
	named = parse(layer, "pod name", err);
	merged = named ? toml_merge(tree, named, err) : NULL;
	text = merged ? toml_write(merged, NULL) : NULL;
	if (merged && !text)
		error_set(err, ERR_INTERNAL, "out of memory");
	toml_free(named);
	toml_free(merged);
	return text;
}

static int count_texts(const struct overlay_part *parts, int nparts,
                       const char **last)
{
	int n = 0;

	for (int i = 0; i < nparts; i++)
		if (parts[i].text) {
			*last = parts[i].text;
			n++;
		}
	return n;
}

/* Keep the caller's text when it is one text (positions in the pod's
 * messages then match it); otherwise write the merged tree anew. */
static char *finish(const struct toml_value *tree, const char *name, bool named,
                    const struct overlay_part *parts, int nparts,
                    struct error *err)
{
	const char *last = NULL;
	int texts = count_texts(parts, nparts, &last);
	char *out;

	if (texts <= 1 && named)
		out = strdup(last ? last : "");
	else if (texts <= 1 && !toml_lookup(tree, "pod"))
		out = append_name(last ? last : "", name);
	else
		return rewrite_with_name(tree, name, err);
	if (!out)
		error_set(err, ERR_INTERNAL, "out of memory");
	return out;
}

char *overlay_compose(const struct overlay_part *parts, int nparts,
                      const char *name, char *name_out, size_t name_size,
                      struct error *err)
{
	struct toml_value *tree = merge_parts(parts, nparts, err);
	const char *set;
	char *out = NULL;

	if (!tree)
		return NULL;
	set = name_in(tree);
	if (!name && !set) {
		error_set(err, ERR_BAD_NAME,
		          "no pod name: give one, or set [pod] name in the "
		          "overlay");
		goto out;
	}
	if (name && set && strcmp(name, set) != 0) {
		error_set(err, ERR_CONFIG,
		          "the overlay names pod \"%s\" but \"%s\" was asked "
		          "for",
		          set, name);
		goto out;
	}
	if (!name)
		name = set;
	if (podname_check(name, err) < 0)
		goto out;
	snprintf(name_out, name_size, "%s", name);
	out = finish(tree, name, set != NULL, parts, nparts, err);
out:
	toml_free(tree);
	return out;
}

/* 1 and the name when the manifest at path sets one; 0 when it does not
 * exist or sets none. */
static int name_from_file(const char *path, const char *what, char *name,
                          size_t size, struct error *err)
{
	char source[PATHS_MAX + 32], *text;
	int rc;

	if (fd_read_file_at(AT_FDCWD, path, 16 << 20, &text, NULL) < 0)
		return errno == ENOENT
		           ? 0
		           : error_set_errno(err, ERR_CONFIG, errno,
		                             "cannot read %s %s", what, path);
	snprintf(source, sizeof source, "%s %s", what, path);
	rc = overlay_name(text, source, name, size, err);
	free(text);
	return rc;
}

int overlay_manifest_name(const char *cwd, char *name, size_t size,
                          struct error *err)
{
	char path[PATHS_MAX];
	int rc;

	rc = paths_project_manifest(cwd ? cwd : ".", path, sizeof path, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		rc = name_from_file(path, "project manifest", name, size, err);
		if (rc != 0)
			return rc;
	}
	if (paths_user_manifest(path, sizeof path, NULL) < 0)
		return 0;
	return name_from_file(path, "user manifest", name, size, err);
}
