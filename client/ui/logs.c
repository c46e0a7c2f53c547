/* PLACEHOLDER: replaced by its owner (see ui.h); links the program. */
#include "ui.h"

void ui_log_select(struct ui *ui)
{
}

void ui_log_add(struct ui *ui, const char *pod, enum ui_log_source source,
                const char *line)
{
}

void ui_log_free(struct ui *ui)
{
}
