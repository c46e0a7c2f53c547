/* reaper.h: every child of the pod reaped on the loop (SIGCHLD through
 * libevent's signal event, then waitpid(-1, WNOHANG) until none is left).
 *
 * The pod is a child subreaper (PR_SET_CHILD_SUBREAPER), so descendants
 * of its processes that lost their parent (a double fork, a setsid()
 * daemon whose parent exited) come back to it and are reaped here too.
 * A pid stays ours until we reap it, so dispatching by pid has no reuse
 * race.  Nothing polls: SIGCHLD is the only wake-up. */
#ifndef INSOMNIA_POD_REAPER_H
#define INSOMNIA_POD_REAPER_H

#include <event2/event.h>
#include <sys/types.h>

#include "error.h"

struct reaper;

/* Called for each reaped child with its wait status. */
typedef void (*reaper_fn)(void *arg, pid_t pid, int status);

/* Become a child subreaper and watch SIGCHLD on base. */
struct reaper *reaper_new(struct event_base *base, reaper_fn fn, void *arg,
                          struct insomnia_error *err);

/* Reap whatever has exited now (also what SIGCHLD runs). */
void reaper_reap(struct reaper *r);

void reaper_free(struct reaper *r);

#endif
