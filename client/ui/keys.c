/* PLACEHOLDER: replaced by its owner (see ui.h); links the program. */
#include "ui.h"

void ui_key(struct ui *ui, int key)
{
}
