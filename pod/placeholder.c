/* placeholder.c: checking and expanding ${...} (placeholder.h). */
#include "placeholder.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest placeholder name quoted whole in an error. */
#define SHOWN_MAX 64

/* Where the text goes: nowhere (check) or a growing buffer (expand). */
struct out {
	char *buf; /* NULL when only checking */
	size_t len, cap;
};

static int put(struct out *o, const char *s, size_t n,
               struct insomnia_error *err)
{
	if (!o || !o->buf)
		return 0;
	if (o->len + n + 1 > o->cap) {
		size_t cap =
		    o->cap * 2 > o->len + n + 1 ? o->cap * 2 : o->len + n + 1;
		char *b = realloc(o->buf, cap);
		if (!b)
			return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
			                          "out of memory");
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return 0;
}

static int unknown(const char *name, size_t len, struct insomnia_error *err)
{
	int shown = len > SHOWN_MAX ? SHOWN_MAX : (int)len;

	return insomnia_error_set(err, INSOMNIA_ERR_CONFIG,
	                          "unknown placeholder ${%.*s%s}", shown, name,
	                          len > SHOWN_MAX ? "..." : "");
}

static bool is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && !memcmp(name, want, len);
}

/* What a placeholder stands for: its value from env, or, when env is
 * NULL (checking), "" once the name is known (a port among names). */
static int resolve(const char *name, size_t len, const char *const *names,
                   const struct placeholder_env *env, struct out *o,
                   struct insomnia_error *err)
{
	const char *fixed = NULL;
	char num[16];

	if (is(name, len, "pod.name"))
		fixed = env ? env->pod_name : "";
	else if (is(name, len, "pod.dir"))
		fixed = env ? env->pod_dir : "";
	else if (is(name, len, "session.dir"))
		fixed = env ? env->session_dir : "";
	else if (len > 5 && !memcmp(name, "port.", 5)) {
		for (size_t i = 0; env && i < env->nports; i++)
			if (is(name + 5, len - 5, env->ports[i].name)) {
				snprintf(num, sizeof num, "%d",
				         env->ports[i].port);
				fixed = num;
			}
		for (size_t i = 0; !env && names && names[i]; i++)
			if (is(name + 5, len - 5, names[i]))
				fixed = "";
	}
	if (!fixed)
		return unknown(name, len, err);
	return put(o, fixed, strlen(fixed), err);
}

/* Walk text, copying literals and resolving placeholders into o. */
static int walk(const char *text, const char *const *names,
                const struct placeholder_env *env, struct out *o,
                struct insomnia_error *err)
{
	const char *p = text, *d, *end;

	while ((d = strchr(p, '$'))) {
		if (put(o, p, (size_t)(d - p), err) < 0)
			return -1;
		if (d[1] == '$' && d[2] == '{') {
			/* "$${" is a literal "${" */
			if (put(o, "${", 2, err) < 0)
				return -1;
			p = d + 3;
			continue;
		}
		if (d[1] != '{') {
			if (put(o, "$", 1, err) < 0)
				return -1;
			p = d + 1;
			continue;
		}
		if (!(end = strchr(d + 2, '}')))
			return insomnia_error_set(
			    err, INSOMNIA_ERR_CONFIG,
			    "unterminated \"${\" at byte %zu (write \"$${\" "
			    "for a literal \"${\")",
			    (size_t)(d - text) + 1);
		if (resolve(d + 2, (size_t)(end - d - 2), names, env, o, err) <
		    0)
			return -1;
		p = end + 1;
	}
	return put(o, p, strlen(p), err);
}

int placeholder_check(const char *text, const char *const *port_names,
                      struct insomnia_error *err)
{
	return walk(text, port_names, NULL, NULL, err);
}

char *placeholder_expand(const char *text, const struct placeholder_env *env,
                         struct insomnia_error *err)
{
	struct out o = {malloc(64), 0, 64};

	if (!o.buf) {
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	o.buf[0] = '\0';
	if (walk(text, NULL, env, &o, err) < 0) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
