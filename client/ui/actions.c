/* PLACEHOLDER: replaced by its owner (see ui.h); links the program. */
#include "ui.h"

void ui_spawn(struct ui *ui, const char *name, const char *cwd,
              const char *manifest)
{
}

void ui_resume(struct ui *ui, const char *session_id)
{
}

void ui_spawn_cancel(struct ui *ui, const char *name)
{
}

void ui_pod_stop(struct ui *ui, const char *name)
{
}

void ui_proc_action(struct ui *ui, const char *pod, const char *proc,
                    const char *method)
{
}

void ui_reap(struct ui *ui)
{
}

void ui_actions_free(struct ui *ui)
{
}
