/* view.h: what the view's parts (term.c, draw.c, keys.c, prompt.c)
 * share beyond ui.h: colour pairs, the key table, the shown pods and
 * the log pane's height.  The model never includes it. */
#ifndef PODUI_VIEW_H
#define PODUI_VIEW_H

#include "ui.h"

/* Colour pairs, set up by term.c only when ui->color. */
enum view_color {
	VIEW_GREEN = 1,
	VIEW_RED,
	VIEW_YELLOW,
};

/* term.c: whether curses is on (drawing is skipped while it is not). */
bool view_term_on(void);

/* keys.c: the key table, in the order the help screen lists it. */
struct view_key {
	int keys[4];       /* the key codes; 0 ends the list */
	const char *label; /* "Up/k", as the help screen shows it */
	const char *help;  /* what it does */
	const char *hint;  /* the status line's short form, or NULL */
	void (*fn)(struct ui *ui);
};
extern const struct view_key view_keys[];
extern const size_t view_nkeys;

/* draw.c: the pods the filter shows, in order; SIZE_MAX: not shown. */
size_t view_shown_count(struct ui *ui);
struct ui_pod *view_shown_nth(struct ui *ui, size_t i);
size_t view_shown_index(struct ui *ui, const char *name);
/* draw.c: the log pane's rows at the last draw (a page for PgUp). */
size_t view_log_rows(const struct ui *ui);

#endif
