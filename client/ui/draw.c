/* PLACEHOLDER: replaced by its owner (see ui.h); links the program. */
#include "ui.h"

void ui_dirty(struct ui *ui)
{
}

void ui_message(struct ui *ui, bool error, const char *fmt, ...)
{
}

int ui_draw_init(struct ui *ui)
{
	return 0;
}

void ui_draw_free(struct ui *ui)
{
}

void ui_draw(struct ui *ui)
{
}
