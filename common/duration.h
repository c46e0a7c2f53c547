/* duration.h: durations as people write them ("250ms", "5s", "1m30s"),
 * one parser for podctl's options and the pod's manifest.
 *
 * A duration is a number with a unit (ms, s, m, h, d, w), or several
 * summed ("1m30s"); decimals are allowed ("1.5s", rounded up to the next
 * millisecond, in integers: no float rounding).  Whitespace and signs
 * are refused. */
#ifndef INSOMNIA_DURATION_H
#define INSOMNIA_DURATION_H

#include <stdbool.h>

/* The longest duration podctl and the manifest take: 30 days. */
#define DURATION_MAX_MS (30LL * 86400 * 1000)

/* text as milliseconds into *ms, 0 included.  A bare number ("2",
 * "0.5") is seconds when bare_ok (podctl's old form), refused otherwise.
 * -1 (and *ms untouched) when text does not parse or is over max_ms. */
int duration_parse_ms(const char *text, bool bare_ok, long long max_ms,
                      long long *ms);

#endif
