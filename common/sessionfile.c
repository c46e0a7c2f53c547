/* sessionfile.c: session.toml, written, loaded back on resume, and
 * summarised for listings (sessionfile.h). */
#include "sessionfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdio.h"
#include "session.h"

/* The keys of [session]. */
#define KEY_TABLE     "session"
#define KEY_ID        "session.id"
#define KEY_CWD       "session.cwd"
#define KEY_CONFIG    "config"
#define FIELD_NAME    "name"
#define FIELD_CWD     "cwd"
#define FIELD_CREATED "created_at"

/* A TOML basic string.  Bytes >= 0x80 pass through: invalid UTF-8 is
 * caught by the parse-back. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04X", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* toml_write's text of the config, moved under [config]: its leading
 * plain keys follow our [config] header, and each of its headers gets
 * "config." in front.  toml_write puts every header at the start of a
 * line and never starts any other line with '[' (keys are bare or
 * quoted; strings are single-line), which is what makes this safe; the
 * parse-back in sessionfile_render checks it all the same. */
static void put_config(FILE *f, const char *text)
{
	fputs("\n[config]\n", f);
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		if (strncmp(text, "[[", 2) == 0) {
			fputs("[[config.", f);
			fwrite(text + 2, 1, len - 2, f);
		} else if (text[0] == '[') {
			fputs("[config.", f);
			fwrite(text + 1, 1, len - 1, f);
		} else {
			fwrite(text, 1, len, f);
		}
		fputc('\n', f);
		text += len + (nl ? 1 : 0);
	}
}

static char *compose(const struct sessionfile_head *h, const char *config,
                     size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	bool failed;

	if (!f)
		return NULL;
	fputs("[session]\nid = ", f);
	put_quoted(f, h->id);
	fputs("\nname = ", f);
	put_quoted(f, h->name);
	fputs("\ncwd = ", f);
	put_quoted(f, h->cwd);
	fprintf(f, "\ncreated_at = %s\n", h->created_at);
	put_config(f, config);
	failed = ferror(f) != 0;
	if (fclose(f) != 0 || failed) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

/* Does text read back to the same head and config? */
static int check_reads_back(const char *text, size_t len,
                            const struct sessionfile_head *h,
                            const char *config, struct insomnia_error *err)
{
	struct toml_value *doc = toml_parse(text, len, SESSION_TOML, NULL, err);
	const struct toml_value *cwd;
	const char *s;
	char *again = NULL;
	bool same;

	if (!doc) {
		insomnia_error_prefix(err, "cannot record the session");
		return -1;
	}
	cwd = toml_lookup(doc, KEY_CWD);
	again = toml_write(toml_table_get(doc, KEY_CONFIG), NULL);
	same = toml_as_string(cwd, &s, NULL) && strcmp(s, h->cwd) == 0 &&
	       again && strcmp(again, config) == 0;
	free(again);
	toml_free(doc);
	if (!same)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_INTERNAL,
		    "cannot record the session: %s does not read "
		    "back to the effective configuration",
		    SESSION_TOML);
	return 0;
}

char *sessionfile_render(const struct sessionfile_head *head,
                         const struct toml_value *config, size_t *len,
                         struct insomnia_error *err)
{
	char *cfg_text = toml_write(config, NULL);
	char *text = cfg_text ? compose(head, cfg_text, len) : NULL;

	if (!text)
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory writing %s", SESSION_TOML);
	else if (*len > SESSIONFILE_MAX) {
		/* the resume would refuse to read it back */
		insomnia_error_set(
		    err, INSOMNIA_ERR_CONFIG,
		    "cannot record the session: the effective "
		    "configuration makes %s %zu bytes, beyond its "
		    "limit of %d",
		    SESSION_TOML, *len, SESSIONFILE_MAX);
		free(text);
		text = NULL;
	} else if (check_reads_back(text, *len, head, cfg_text, err) < 0) {
		free(text);
		text = NULL;
	}
	free(cfg_text);
	return text;
}

/* Parse text as the layer "session <id>", relative paths resolving
 * against dir. */
static struct toml_value *parse_layer(const char *text, size_t len,
                                      const char *id, const char *dir,
                                      struct insomnia_error *err)
{
	char source[SESSION_ID_LEN + 16];

	snprintf(source, sizeof source, "session %s", id);
	return toml_parse(text, len, source, dir, err);
}

/* The recorded id must be the directory's, and [config] a table. */
static int check_loaded(const struct toml_value *doc, const char *id,
                        struct insomnia_error *err)
{
	const struct toml_value *config = toml_table_get(doc, KEY_CONFIG);
	const char *recorded;

	if (!toml_as_string(toml_lookup(doc, KEY_ID), &recorded, NULL) ||
	    strcmp(recorded, id) != 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_CONFIG,
		    "session %s: %s does not record this id", id, SESSION_TOML);
	if (!config || toml_type(config) != TOML_TABLE)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_CONFIG,
		    "session %s: %s has no [config] table", id, SESSION_TOML);
	return 0;
}

int sessionfile_load(int session_dirfd, const char *id, struct toml_value **doc,
                     const struct toml_value **config,
                     struct insomnia_error *err)
{
	struct toml_value *first = NULL;
	const char *cwd;
	char *text;
	size_t len;

	*doc = NULL;
	if (fd_read_file_at(session_dirfd, SESSION_TOML, SESSIONFILE_MAX, &text,
	                    &len) < 0)
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "session %s: cannot read %s",
		                                id, SESSION_TOML);
	/* Twice: the recorded cwd, known only after a parse, is the
	 * directory the layer's relative paths mean. */
	first = parse_layer(text, len, id, NULL, err);
	if (first && toml_as_string(toml_lookup(first, KEY_CWD), &cwd, NULL) &&
	    cwd[0] == '/')
		*doc = parse_layer(text, len, id, cwd, err);
	else if (first) {
		*doc = first;
		first = NULL;
	}
	if (first)
		toml_free(first);
	free(text);
	if (!*doc)
		return -1;
	if (check_loaded(*doc, id, err) < 0) {
		toml_free(*doc);
		*doc = NULL;
		return -1;
	}
	*config = toml_table_get(*doc, KEY_CONFIG);
	return 0;
}

/* ---- the summary ------------------------------------------------------- */

static void copy_string(const struct toml_value *table, const char *key,
                        char *out, size_t size)
{
	const char *s;
	size_t len;

	if (toml_as_string(toml_table_get(table, key), &s, &len) &&
	    len < size && strlen(s) == len)
		memcpy(out, s, len + 1);
}

int sessionfile_read_summary(int session_dirfd, const char *id,
                             struct sessionfile_summary *out,
                             struct insomnia_error *err)
{
	const struct toml_value *sess, *at;
	struct toml_value *doc;
	struct toml_datetime dt;
	char *text;
	size_t len;

	memset(out, 0, sizeof *out);
	if (fd_read_file_at(session_dirfd, SESSION_TOML, SESSIONFILE_MAX, &text,
	                    &len) < 0) {
		if (errno == ENOENT)
			return insomnia_error_set(
			    err, INSOMNIA_ERR_SESSION_UNKNOWN,
			    "session %s has no %s (still being "
			    "created, or damaged)",
			    id, SESSION_TOML);
		return insomnia_error_set_errno(err, INSOMNIA_ERR_IO, errno,
		                                "session %s: cannot read %s",
		                                id, SESSION_TOML);
	}
	doc = parse_layer(text, len, id, NULL, err);
	free(text);
	if (!doc)
		return -1;
	sess = toml_table_get(doc, KEY_TABLE);
	copy_string(sess, FIELD_NAME, out->name, sizeof out->name);
	copy_string(sess, FIELD_CWD, out->cwd, sizeof out->cwd);
	at = toml_table_get(sess, FIELD_CREATED);
	if (toml_as_datetime(at, &dt))
		toml_datetime_format(toml_type(at), &dt, out->created_at);
	toml_free(doc);
	return 0;
}
