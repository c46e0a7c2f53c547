/* PLACEHOLDER: replaced by its owner (see ui.h); links the program. */
#include "ui.h"

const char *ui_pod_state_name(enum ui_pod_state s)
{
	return "?";
}

int ui_pods_start(struct ui *ui, struct insomnia_error *err)
{
	return 0;
}

void ui_pods_free(struct ui *ui)
{
}

struct ui_pod *ui_pod_find(struct ui *ui, const char *name)
{
	return NULL;
}

struct ui_pod *ui_pod_get(struct ui *ui, const char *name)
{
	return NULL;
}

void ui_pod_forget(struct ui *ui, const char *name)
{
}

bool ui_pod_shown(const struct ui *ui, const struct ui_pod *pod)
{
	return true;
}
