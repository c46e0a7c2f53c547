/* recorded.c: the config a new session records (recorded.h). */
#include "recorded.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing text; ok goes false for good on out of memory. */
struct text {
	char *buf;
	size_t len, cap;
	bool ok;
};

static void append(struct text *t, const char *s, size_t n)
{
	if (!t->ok)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = (t->len + n + 1) * 2;
		char *more = realloc(t->buf, cap);
		if (!more) {
			t->ok = false;
			return;
		}
		t->buf = more;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

static void append_str(struct text *t, const char *s)
{
	append(t, s, strlen(s));
}

/* s inside a TOML basic string. */
static void append_escaped(struct text *t, const char *s)
{
	char esc[8];

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			append(t, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			append_str(t, esc);
		} else {
			append(t, s, 1);
		}
	}
}

/* Does cwd need its layer's dir to mean anything?  An absolute one does
 * not, nor one that starts with a placeholder (${pod.dir} and
 * ${session.dir} are absolute). */
static bool relative(const char *cwd)
{
	return cwd && cwd[0] != '/' && cwd[0] != '$';
}

struct toml_value *recorded_config(const struct toml_value *tree,
                                   const struct manifest *m, bool *same,
                                   struct insomnia_error *err)
{
	struct text t = {NULL, 0, 0, true};
	struct toml_value *fix, *merged;

	*same = true;
	append_str(&t, "");
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct proc_spec *p = &m->procs[i];

		if (!relative(p->cwd) || !p->cwd_base)
			continue;
		*same = false;
		append_str(&t, "[process.\"");
		append_str(&t, p->name); /* a checked process name */
		append_str(&t, "\"]\ncwd = \"");
		append_escaped(&t, p->cwd_base);
		append_str(&t, "/");
		append_escaped(&t, p->cwd);
		append_str(&t, "\"\n");
	}
	if (!t.ok || *same) {
		free(t.buf);
		if (!t.ok)
			insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
			                   "out of memory");
		return NULL;
	}
	fix = toml_parse(t.buf, t.len, "recorded cwd", NULL, err);
	free(t.buf);
	if (!fix)
		return NULL;
	merged = toml_merge(tree, fix, err);
	toml_free(fix);
	return merged;
}
