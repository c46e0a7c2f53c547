/* sessions.c: the sessions view's list, newest first.  Read whole on
 * each (re)load: sessions change only when pods start and stop, and the
 * view reloads when it opens. */
#include <stdlib.h>
#include <string.h>

#include "ui.h"

/* Bounds the list (and the memory it takes). */
#define SESSIONS_MAX 10000

struct sessions_acc {
	struct insomnia_session_info *v;
	size_t n, cap;
};

static int take_one(const struct insomnia_session_info *info, void *arg)
{
	struct sessions_acc *a = arg;
	struct insomnia_session_info *v;
	size_t cap;

	if (a->n == SESSIONS_MAX)
		return 1; /* enough: stop the walk */
	if (a->n == a->cap) {
		cap = a->cap ? a->cap * 2 : 64;
		if (cap > SESSIONS_MAX)
			cap = SESSIONS_MAX;
		if (!(v = realloc(a->v, cap * sizeof *v)))
			return -1;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = *info;
	return 0;
}

/* Newest first; the id orders equal times. */
static int newest_first(const void *pa, const void *pb)
{
	const struct insomnia_session_info *a = pa, *b = pb;

	if (a->created_ms != b->created_ms)
		return a->created_ms > b->created_ms ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* The selection stays on the same session when it is still listed. */
static size_t find_id(const struct ui *ui, const char *id)
{
	for (size_t i = 0; id[0] && i < ui->nsessions; i++)
		if (!strcmp(ui->sessions[i].id, id))
			return i;
	return ui->sel_session;
}

int ui_sessions_load(struct ui *ui)
{
	struct sessions_acc a = {NULL, 0, 0};
	char sel[INSOMNIA_SESSION_ID_MAX] = "";
	struct insomnia_error err;
	int rc;

	insomnia_error_clear(&err);
	if (ui->sel_session < ui->nsessions)
		strcpy(sel, ui->sessions[ui->sel_session].id);
	rc = insomnia_sessions_each(take_one, &a, &err);
	if (rc < 0 && err.kind == INSOMNIA_ERR_NONE)
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory");
	if (rc < 0) {
		free(a.v);
		ui_message(ui, true, "sessions: %s", err.message);
		return -1;
	}
	if (a.n)
		qsort(a.v, a.n, sizeof *a.v, newest_first);
	free(ui->sessions);
	ui->sessions = a.v;
	ui->nsessions = a.n;
	ui->sel_session = find_id(ui, sel);
	if (ui->sel_session >= ui->nsessions)
		ui->sel_session = ui->nsessions ? ui->nsessions - 1 : 0;
	ui_dirty(ui);
	return 0;
}

void ui_sessions_free(struct ui *ui)
{
	free(ui->sessions);
	ui->sessions = NULL;
	ui->nsessions = 0;
	ui->sel_session = 0;
}
