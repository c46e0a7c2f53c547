/* podctx.h: what every control method can reach: the pod itself (its
 * state machine, its processes, its event stream) and the one way to
 * end it.  main.c owns the struct; the server and the methods borrow it. */
#ifndef INSOMNIA_POD_PODCTX_H
#define INSOMNIA_POD_PODCTX_H

struct pod_state;
struct supervisor;
struct events;

struct podctx {
	struct pod_state *state; /* pod FSM + state.json */
	struct supervisor
	    *supervisor; /* never NULL once serving (0 procs ok) */
	struct events *events;
	/* Begin the pod's graceful stop: asynchronous (the pod exits once
	 * its processes are stopped) and idempotent.  log_reason goes to
	 * stderr, journal_reason (short, stable) and detail (may be NULL)
	 * to the journal's "stopping" record. */
	void (*request_stop)(struct podctx *pod, const char *log_reason,
	                     const char *journal_reason, const char *detail);
};

#endif
