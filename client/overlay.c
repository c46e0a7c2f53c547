/* overlay.c: composing overlays with the pod name. */
#include <insomnia/overlay.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdio.h"
#include "paths.h"
#include "podcmd.h"
#include <insomnia/dirs.h>
#include "toml.h"

/* The keys podctl itself reads must have the types the pod requires,
 * with the pod's own message: `pod = 1` is no more valid here than in
 * the pod (where a merge would silently replace it). */
static int check_type(const struct toml_value *root, const char *path,
                      enum toml_type want, struct insomnia_error *err)
{
	const struct toml_value *v = toml_lookup(root, path);
	const struct toml_origin *o = v ? toml_origin(v) : NULL;

	if (!v || toml_type(v) == want)
		return 0;
	insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
	                   "%s: expected %s, found %s", path,
	                   toml_type_name(want), toml_type_name(toml_type(v)));
	if (o && o->source)
		insomnia_error_prefix(err, "%s:%d:%d", o->source, o->line,
		                      o->col);
	return -1;
}

static struct toml_value *parse(const char *text, const char *source,
                                struct insomnia_error *err)
{
	struct toml_value *root =
	    toml_parse(text, strlen(text), source, NULL, err);

	if (root && (check_type(root, "pod", TOML_TABLE, err) < 0 ||
	             check_type(root, "pod.name", TOML_STRING, err) < 0)) {
		toml_free(root);
		return NULL;
	}
	return root;
}

static const char *name_in(const struct toml_value *root)
{
	const char *name = NULL;

	toml_as_string(toml_lookup(root, "pod.name"), &name, NULL);
	return name;
}

int insomnia_overlay_name(const char *text, const char *source, char *name,
                          size_t size, struct insomnia_error *err)
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
static struct toml_value *merge_parts(const struct insomnia_overlay_part *parts,
                                      int nparts, struct insomnia_error *err)
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

/* What may follow the caller's text to set the name: a [pod] table
 * (when the text defines none), a key of the [pod] table the text ends
 * in, or a dotted key when it ends in the root table. */
static const char *const name_lines[] = {
    "\n[pod]\nname = \"%s\"\n",
    "\nname = \"%s\"\n",
    "\npod.name = \"%s\"\n",
};

/* text with line appended, when that parses and names the pod. */
static char *try_append(const char *text, const char *line, const char *name)
{
	struct toml_value *root;
	char *out;
	bool named;

	if (asprintf(&out, "%s%s", text, line) < 0)
		return NULL;
	root = parse(out, "overlay", NULL);
	named = root && name_in(root) && strcmp(name_in(root), name) == 0;
	toml_free(root);
	if (!named) {
		free(out);
		return NULL;
	}
	return out;
}

/* The caller's text with the name appended, so every line of it stays
 * where it was and the pod's positions are the caller's.  An overlay
 * whose pod table cannot be reached from its end (an inline table, or
 * [pod] followed by another table) is refused rather than rewritten. */
static char *append_name(const char *text, const char *name,
                         struct insomnia_error *err)
{
	char line[INSOMNIA_NAME_MAX + 32];
	char *out;

	for (size_t i = 0; i < sizeof name_lines / sizeof *name_lines; i++) {
		snprintf(line, sizeof line, name_lines[i], name);
		if ((out = try_append(text, line, name)))
			return out;
	}
	insomnia_error_set(
	    err, INSOMNIA_ERR_CONFIG,
	    "cannot add the pod name to the overlay without moving "
	    "its lines: set name = \"%s\" in its [pod] table",
	    name);
	return NULL;
}

static char *rewrite_with_name(const struct toml_value *tree, const char *name,
                               struct insomnia_error *err)
{
	char layer[128];
	struct toml_value *named, *merged;
	char *text;

	snprintf(layer, sizeof layer, "[pod]\nname = \"%s\"\n", name);
	named = parse(layer, "pod name", err);
	merged = named ? toml_merge(tree, named, err) : NULL;
	text = merged ? toml_write(merged, NULL) : NULL;
	if (merged && !text)
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
	toml_free(named);
	toml_free(merged);
	return text;
}

static int count_texts(const struct insomnia_overlay_part *parts, int nparts,
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

/* One text is kept as the caller wrote it, the name appended (so the
 * pod's positions are the caller's); two are merged and written anew
 * (each was checked at its own positions when parsed). */
static char *finish(const struct toml_value *tree, const char *name, bool named,
                    const struct insomnia_overlay_part *parts, int nparts,
                    struct insomnia_error *err)
{
	const char *last = NULL;
	int texts = count_texts(parts, nparts, &last);
	char *out;

	if (texts > 1)
		out = rewrite_with_name(tree, name, err);
	else if (!named)
		out = append_name(last ? last : "", name, err);
	else if (!(out = strdup(last ? last : "")))
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
	if (out && podcmd_check_overlay(strlen(out), "the overlay", err) < 0) {
		free(out);
		out = NULL;
	}
	return out;
}

char *insomnia_overlay_compose(const struct insomnia_overlay_part *parts,
                               int nparts, const char *name, char *name_out,
                               size_t name_size, struct insomnia_error *err)
{
	struct toml_value *tree = merge_parts(parts, nparts, err);
	const char *set;
	char *out = NULL;

	if (!tree)
		return NULL;
	set = name_in(tree);
	if (!name && !set) {
		insomnia_error_set(
		    err, INSOMNIA_ERR_BAD_NAME,
		    "no pod name: give one, or set [pod] name in the "
		    "overlay");
		goto out;
	}
	if (name && set && strcmp(name, set) != 0) {
		insomnia_error_set(
		    err, INSOMNIA_ERR_CONFIG,
		    "the overlay names pod \"%s\" but \"%s\" was asked "
		    "for",
		    set, name);
		goto out;
	}
	if (!name)
		name = set;
	if (insomnia_name_check(name, err) < 0)
		goto out;
	snprintf(name_out, name_size, "%s", name);
	out = finish(tree, name, set != NULL, parts, nparts, err);
out:
	toml_free(tree);
	return out;
}

/* Line and column (1-based) of byte offset at in text. */
static void position(const char *text, size_t at, size_t *line, size_t *col)
{
	const char *nl;

	*line = 1;
	*col = at + 1;
	for (const char *p = text;
	     (nl = memchr(p, '\n', at - (size_t)(p - text))); p = nl + 1) {
		(*line)++;
		*col = at - (size_t)(nl + 1 - text) + 1;
	}
}

/* A NUL would end the text early on the pod's command line (and TOML
 * allows none): refused, where it is. */
static int check_no_nul(const char *text, size_t len, const char *source,
                        struct insomnia_error *err)
{
	const char *nul = memchr(text, '\0', len);
	size_t line, col;

	if (!nul)
		return 0;
	position(text, (size_t)(nul - text), &line, &col);
	return insomnia_error_set(
	    err, INSOMNIA_ERR_CONFIG,
	    "%s: NUL byte at offset %zu (line %zu, column %zu): "
	    "TOML text cannot hold one",
	    source, (size_t)(nul - text), line, col);
}

static int read_overlay(const char *path, char **text, size_t *len)
{
	/* stdin may be a pipe or a terminal: read it as it is. */
	if (strcmp(path, "-") == 0)
		return fd_read_fd(0, PODCMD_OVERLAY_MAX, text, len);
	return fd_read_file_at(AT_FDCWD, path, PODCMD_OVERLAY_MAX, text, len);
}

char *insomnia_overlay_read_file(const char *path, char *source, size_t size,
                                 struct insomnia_error *err)
{
	char *text = NULL;
	size_t len = 0;

	snprintf(source, size, "overlay file %s",
	         strcmp(path, "-") ? path : "(stdin)");
	if (read_overlay(path, &text, &len) < 0) {
		if (errno == EFBIG)
			insomnia_error_set(
			    err, INSOMNIA_ERR_CONFIG,
			    "%s is longer than %d bytes, the most overlay "
			    "a pod takes on its command line",
			    source, PODCMD_OVERLAY_MAX);
		else
			insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
			                         "cannot read %s", source);
		return NULL;
	}
	if (check_no_nul(text, len, source, err) < 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* 1 and the name when the manifest at path sets one; 0 when it does not
 * exist or sets none. */
static int name_from_file(const char *path, const char *what, char *name,
                          size_t size, struct insomnia_error *err)
{
	char source[INSOMNIA_PATH_MAX + 32], *text;
	size_t len;
	int rc;

	if (fd_read_file_at(AT_FDCWD, path, PODCMD_MANIFEST_MAX, &text, &len) <
	    0)
		return errno == ENOENT ? 0
		                       : insomnia_error_set_errno(
		                             err, INSOMNIA_ERR_CONFIG, errno,
		                             "cannot read %s %s", what, path);
	snprintf(source, sizeof source, "%s %s", what, path);
	rc = check_no_nul(text, len, source, err);
	if (rc == 0)
		rc = insomnia_overlay_name(text, source, name, size, err);
	free(text);
	return rc;
}

int insomnia_manifest_name(const char *cwd, char *name, size_t size,
                           struct insomnia_error *err)
{
	char path[INSOMNIA_PATH_MAX];
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
