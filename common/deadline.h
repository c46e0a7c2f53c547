/* deadline.h: one deadline for a whole wait made of several calls (poll
 * after poll), on the monotonic clock. */
#ifndef INSOMNIA_DEADLINE_H
#define INSOMNIA_DEADLINE_H

#include <stdint.h>

/* The monotonic time ms milliseconds from now, in nanoseconds. */
int64_t deadline_in(int ms);

/* Milliseconds left until at, rounded up so a wait never ends early;
 * 0 when past.  What poll(2) takes. */
int deadline_left_ms(int64_t at);

#endif
