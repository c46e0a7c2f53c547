/* backoff.h: what a process's exit means for its restart count and the
 * delay before the next run (docs/supervision.md, "Restart").
 *
 * Pure functions: the random number is passed in, so the rule is tested
 * without a clock or a seed. */
#ifndef INSOMNIA_POD_BACKOFF_H
#define INSOMNIA_POD_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#include "manifest.h"

/* Full jitter between the bounds: uniform in [min, cap] where
 * cap = min(max, min * 2^n) and n is the number of restarts before this
 * one (0 for the first).  min 0 means no delay at all. */
int64_t backoff_delay(int64_t min_ms, int64_t max_ms, unsigned n,
                      uint64_t random);

enum backoff_verdict {
	BACKOFF_RESTART, /* run again after *delay_ms; *restarts counted */
	BACKOFF_GIVE_UP, /* max restarts within the window: failed */
};

/* A run that lasted run_ms ended and the policy asks for a restart.  A run
 * of at least reset_after_ms was healthy: the count starts again from 0.
 * Then, below max, *restarts grows by one and *delay_ms is chosen. */
enum backoff_verdict backoff_on_exit(const struct restart_conf *c,
                                     int *restarts, int64_t run_ms,
                                     uint64_t random, int64_t *delay_ms);

/* Does the policy restart after this exit?  code is the exit status, or
 * -1 for a death by signal (a failure). */
bool backoff_wants_restart(enum restart_policy policy, int code);

/* A small generator (xorshift64*) for the jitter; seeded once from
 * getrandom(2), never 0. */
uint64_t backoff_random(uint64_t *state);
void backoff_seed(uint64_t *state);

#endif
