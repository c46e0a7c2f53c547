/* backoff.c: restart counting and delays (backoff.h). */
#include "backoff.h"

#include <sys/random.h>
#include <time.h>

int64_t backoff_delay(int64_t min_ms, int64_t max_ms, unsigned n,
                      uint64_t random)
{
	int64_t cap = min_ms;
	uint64_t span;

	if (min_ms <= 0)
		return 0;
	if (max_ms < min_ms)
		max_ms = min_ms;
	/* Double up to max without overflowing on a long crash loop. */
	for (unsigned i = 0; i < n && cap < max_ms; i++)
		cap = cap > max_ms / 2 ? max_ms : cap * 2;
	if (cap > max_ms)
		cap = max_ms;
	span = (uint64_t)(cap - min_ms) + 1;
	return min_ms + (int64_t)(random % span);
}

bool backoff_wants_restart(enum restart_policy policy, int code)
{
	switch (policy) {
	case RESTART_ALWAYS:
		return true;
	case RESTART_ON_FAILURE:
		return code != 0;
	case RESTART_NO:
		break;
	}
	return false;
}

enum backoff_verdict backoff_on_exit(const struct restart_conf *c,
                                     int *restarts, int64_t run_ms,
                                     uint64_t random, int64_t *delay_ms)
{
	if (run_ms >= c->reset_after_ms)
		*restarts = 0;
	if (*restarts >= c->max)
		return BACKOFF_GIVE_UP;
	*delay_ms = backoff_delay(c->backoff_min_ms, c->backoff_max_ms,
	                          (unsigned)*restarts, random);
	(*restarts)++;
	return BACKOFF_RESTART;
}

uint64_t backoff_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

void backoff_seed(uint64_t *state)
{
	uint64_t seed = 0;
	struct timespec ts;

	/* getrandom never blocks once the pool is up; if it is not, the
	 * clock is jitter enough for spreading restarts. */
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) !=
	    (ssize_t)sizeof seed) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
	}
	*state = seed ? seed : 0x9E3779B97F4A7C15ULL;
}
