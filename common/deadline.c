/* deadline.c: deadlines on the monotonic clock. */
#include "deadline.h"

#include <time.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t deadline_in(int ms)
{
	return now_ns() + (int64_t)ms * 1000000;
}

int deadline_left_ms(int64_t at)
{
	int64_t ns = at - now_ns();

	return ns <= 0 ? 0 : (int)((ns + 999999) / 1000000);
}
