/* crashloop.h: the random-kill crash loop, shared by the e2e test (a few
 * hundred rounds) and tools/stress/crash-loop (as many as you like).
 *
 * Each round spawns the real pod (a new session, or a resume of one an
 * earlier round made) and SIGKILLs it at a random point: at its n-th
 * start-up line, or once it serves.  Then it checks what a user relies
 * on: a spawn after a crash succeeds (no "already running", no stale
 * lock), a resume of a session a killed pod held works (no torn journal
 * record breaks it), `reap` leaves the runtime root empty, and no process
 * is left behind.  The caller provides INSOMNIA_HOME and must be a child
 * subreaper (killed pods come back to it). */
#ifndef INSOMNIA_CRASHLOOP_H
#define INSOMNIA_CRASHLOOP_H

#include <stddef.h>

struct crashloop {
	const char *pod_command; /* the real pod */
	unsigned seed;           /* same seed, same choices */
	int rounds;
	int reap_every; /* reap and check every this many rounds */
	/* filled in */
	int killed_starting, killed_serving, resumed, reaped;
	char why[2048]; /* the first thing that did not hold */
};

/* 0 when every round held, else -1 with why ("round N: ..."). */
int crashloop_run(struct crashloop *c);

#endif
