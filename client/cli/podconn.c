/* podconn.c: POD/PROC targets, finding a live pod's socket, and reading
 * a pod's error codes as error kinds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <insomnia/pods.h>

#include "podctl.h"

/* ---- targets ---------------------------------------------------------- */

static int check_part(const char *text, const char *part, const char *what,
                      struct insomnia_error *err)
{
	struct insomnia_error why;

	if (insomnia_name_check(part, &why) == 0)
		return 0;
	/* the library's message speaks of pod names: say which part */
	return insomnia_error_set(err, INSOMNIA_ERR_BAD_NAME,
	                          "\"%s\": bad %s name (1 to %d of A-Z a-z "
	                          "0-9 . _ -, not starting with . or -)",
	                          text, what, INSOMNIA_NAME_MAX);
}

/* Copy the len bytes of a part (checked by length first). */
static int take_part(const char *text, const char *from, size_t len, char *out,
                     const char *what, struct insomnia_error *err)
{
	if (len == 0)
		return insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                          "\"%s\": the %s name is empty (use "
		                          "POD/PROC)",
		                          text, what);
	if (len > INSOMNIA_NAME_MAX)
		return insomnia_error_set(err, INSOMNIA_ERR_BAD_NAME,
		                          "\"%s\": the %s name is longer than "
		                          "%d characters",
		                          text, what, INSOMNIA_NAME_MAX);
	memcpy(out, from, len);
	out[len] = '\0';
	return check_part(text, out, what, err);
}

int cli_target_parse(const char *text, enum cli_target_form form,
                     struct cli_target *t, struct insomnia_error *err)
{
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);

	t->pod[0] = t->proc[0] = '\0';
	if (slash && strchr(slash + 1, '/'))
		return insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                          "\"%s\": a target is POD or POD/PROC "
		                          "(one slash at most)",
		                          text);
	if (!slash && form == CLI_TARGET_PROC)
		return insomnia_error_set(err, INSOMNIA_ERR_USAGE,
		                          "\"%s\": name a process as POD/PROC",
		                          text);
	if (take_part(text, text, len, t->pod, "pod", err) < 0)
		return -1;
	if (!slash)
		return 0;
	return take_part(text, slash + 1, strlen(slash + 1), t->proc, "process",
	                 err);
}

/* ---- groups by pod ----------------------------------------------------- */

static struct cli_pod_group *group_of(struct cli_groups *g, const char *pod)
{
	struct cli_pod_group *bigger;
	char *name;

	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->v[i].pod, pod))
			return &g->v[i];
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 8;
		if (!(bigger = realloc(g->v, cap * sizeof *bigger)))
			return NULL;
		g->v = bigger;
		g->cap = cap;
	}
	if (!(name = strdup(pod)))
		return NULL;
	g->v[g->n] = (struct cli_pod_group){name, json_array()};
	if (!g->v[g->n].names) {
		free(name);
		return NULL;
	}
	return &g->v[g->n++];
}

static bool has_name(json_t *names, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v)
	{
		if (!strcmp(json_string_value(v), name))
			return true;
	}
	return false;
}

int cli_groups_add(struct cli_groups *g, const struct cli_target *t)
{
	struct cli_pod_group *p = group_of(g, t->pod);

	if (!p)
		return -1;
	if (has_name(p->names, t->proc))
		return 0; /* a process named twice is asked once */
	return json_array_append_new(p->names, json_string(t->proc));
}

void cli_groups_free(struct cli_groups *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free((char *)g->v[i].pod);
		json_decref(g->v[i].names);
	}
	free(g->v);
	g->v = NULL;
	g->n = g->cap = 0;
}

/* ---- the pod ------------------------------------------------------------ */

int cli_pod_socket(const char *name, char *path, size_t size,
                   struct insomnia_error *err)
{
	struct insomnia_pod_info info;

	if (insomnia_pod_find(name, &info, err) < 0)
		return -1;
	if (!info.alive)
		return insomnia_error_set(err, INSOMNIA_ERR_NOT_RUNNING,
		                          "pod %s is not running (%s)",
		                          info.name, info.state);
	snprintf(path, size, "%s", info.socket);
	return 0;
}

void cli_pod_error(struct insomnia_error *err)
{
	enum insomnia_error_kind kind;

	/* a pod's error reply: kind protocol, its code as the detail */
	if (err->kind != INSOMNIA_ERR_PROTOCOL || !err->detail[0] ||
	    strchr(err->detail, '\n'))
		return;
	kind = insomnia_error_kind_from_name(err->detail);
	if (kind == INSOMNIA_ERR_KIND_COUNT || kind == INSOMNIA_ERR_NONE)
		return;
	err->kind = kind;
	err->detail[0] = '\0';
}

/* ---- times --------------------------------------------------------------- */

void cli_format_clock(const char *rfc3339, char *buf, size_t size)
{
	long long t = cli_parse_utc(rfc3339);
	const char *dot = strchr(rfc3339, '.');
	time_t tt = (time_t)t;
	struct tm tm;
	char hms[16];

	if (t < 0 || !localtime_r(&tt, &tm) ||
	    !strftime(hms, sizeof hms, "%H:%M:%S", &tm)) {
		snprintf(buf, size, "%s", rfc3339);
		return;
	}
	/* the milliseconds as the pod wrote them */
	snprintf(buf, size, "%s%.4s", hms, dot ? dot : "");
}
