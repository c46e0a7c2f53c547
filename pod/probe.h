/* probe.h: one try of a polled check (tcp, http, exec; docs/manifest.md,
 * "Readiness and liveness"), on the pod's loop.  Scheduling tries (the
 * interval, the readiness deadline, counting liveness failures) is the
 * caller's (pod/proc.c): a probe is a single try with a time limit.
 *
 *  - tcp "host:port": a non-blocking connect succeeds.  host is an IPv4
 *    or IPv6 literal or "localhost" (no DNS: a probe must not block the
 *    loop).
 *  - http "http://host:port/path": libevent's evhttp client sends GET;
 *    a 2xx or 3xx status is a success, anything else (or no answer)
 *    fails, with the status in why.
 *  - exec argv: the command (a new process group, stdin/stdout/stderr on
 *    /dev/null, default signals, PR_SET_PDEATHSIG SIGKILL) exits 0.  At
 *    the time limit its group is SIGKILLed.  Its exit comes through the
 *    pod's reaper (the pod reaps every child with waitpid(-1)), which
 *    hands it to probes_reaped.
 *
 * Nothing polls: each try is one connect / request / child, its result
 * an event on the loop, its limit one timer. */
#ifndef INSOMNIA_POD_PROBE_H
#define INSOMNIA_POD_PROBE_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "manifest.h"

/* Every probe of a pod (the supervisor owns one). */
struct probes;
struct probe;

/* The result of one try: ok, or why not ("connection refused",
 * "HTTP 500", "exited with status 1", "no answer within 5s").  why lives
 * only during the call.  Always called from the loop, never from inside
 * probe_start; the probe is freed after done returns. */
typedef void (*probe_done_fn)(void *arg, bool ok, const char *why);

struct probes *probes_new(struct event_base *base);

/* Try kind (PROBE_TCP, PROBE_HTTP or PROBE_EXEC) once, at most
 * timeout_ms.  target (tcp, http) and argv (exec) are already expanded
 * (copied: the caller's may go).  exec only: envp (NULL: the pod's) and
 * cwd (NULL: the pod's), as the process's own.  NULL with err when the
 * try cannot even begin (a bad target: INSOMNIA_ERR_CONFIG; out of
 * memory; the command cannot be started is a failed try, reported by
 * done, not an error here). */
struct probe *probe_start(struct probes *ps, enum probe_kind kind,
                          const char *target, char *const *argv,
                          char *const *envp, const char *cwd,
                          int64_t timeout_ms, probe_done_fn done, void *arg,
                          struct insomnia_error *err);

/* Forget the try: done is not called; a connection is closed, an exec
 * child's group SIGKILLed (reaped later through probes_reaped). */
void probe_cancel(struct probe *p);

/* The reaper reaped pid: true when it was a probe's exec child (and the
 * probe got its status), false when it is someone else's. */
bool probes_reaped(struct probes *ps, pid_t pid, int status);

/* Cancel every try (exec children SIGKILLed and, since nothing will
 * reap them on the loop any more, reaped here), free. */
void probes_free(struct probes *ps);

#endif
