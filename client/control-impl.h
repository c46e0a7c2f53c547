/* control-impl.h: the one connection state machine behind
 * <insomnia/control.h>, shared by the async calls (control.c) and the
 * blocking ones (control-wait.c). */
#ifndef INSOMNIA_CONTROL_IMPL_H
#define INSOMNIA_CONTROL_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <insomnia/control.h>

struct ctl_call;

/* Does c run its own loop (insomnia_control_open*)? */
bool ctl_is_blocking(const struct insomnia_control *c);
struct event_base *ctl_base(struct insomnia_control *c);

/* insomnia_control_call, handing back the call so that a caller who
 * stops waiting can drop its reply (ctl_call_orphan). */
struct ctl_call *ctl_call_start(struct insomnia_control *c, const char *method,
                                const char *params,
                                insomnia_control_reply_fn reply, void *arg,
                                struct insomnia_error *err);

/* The reply to call, when it comes, is discarded without a callback. */
void ctl_call_orphan(struct insomnia_control *c, struct ctl_call *call);

/* Keep c alive across callbacks that may close it; ctl_release frees it
 * when it was closed meanwhile and returns false then. */
void ctl_hold(struct insomnia_control *c);
bool ctl_release(struct insomnia_control *c);
bool ctl_closing(const struct insomnia_control *c);

/* A blocking call turns c's private loop; a second one from inside a
 * callback would turn it again.  false when one already waits. */
bool ctl_wait_begin(struct insomnia_control *c);
void ctl_wait_end(struct insomnia_control *c);

#endif
