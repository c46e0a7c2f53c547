/* model-util.h: what the model's files (pods.c, logs.c, actions.c)
 * share and the view does not need. */
#ifndef PODUI_MODEL_UTIL_H
#define PODUI_MODEL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "ui.h"

/* logs.c: an RFC 3339 UTC time ("2024-05-01T12:00:00Z", optionally
 * with ".123" milliseconds) as ms since the epoch; -1 when it does not
 * parse. */
int64_t model_time_ms(const char *rfc3339);

/* logs.c: copy len bytes of src into dst (size > 0) so that a terminal
 * cannot be driven by them: control characters (C0, DEL, C1) and bytes
 * that are not valid UTF-8 become '?', a tab a space; cut on a
 * character boundary to fit. */
void model_text_clean(char *dst, size_t size, const char *src, size_t len);

/* pods.c: open the pod's control connection (`status`, `ps`, then
 * `subscribe`) unless it has one or is not alive. */
void model_pod_connect(struct ui *ui, struct ui_pod *pod);

/* pods.c: a LOST link tried again (the user selected the pod): the
 * bounds on busy tries and resyncs start afresh. */
void model_pod_relink(struct ui *ui, struct ui_pod *pod);

/* pods.c: ui_dirty, only while the main screen shows: a log line or a
 * pod's change is not on the help or sessions screen (the view draws
 * everything again when it returns to the main one). */
void model_dirty(struct ui *ui);

/* logs.c: a line shown first in the pod's log pane, whatever its source,
 * until the pane shows another pod (the spawn's "ready: ..." line: the
 * pane moves to the pod's own logs at once, and again once `ps`
 * answers). */
void model_log_note(struct ui *ui, const char *pod, const char *line);

/* pods.c: read the pod's dir again (insomnia_pod_find) and take what
 * it says; when there is no dir, the row's state becomes `gone_state`
 * and has_dir false.  A pod no longer alive loses its connection. */
void model_pod_reread(struct ui *ui, struct ui_pod *pod,
                      enum ui_pod_state gone_state);

/* pods.c: whether the pod runs (starting, ready or stopping). */
bool model_pod_alive(const struct ui_pod *pod);

#endif
