/* duration.c: "1m30s" to milliseconds (duration.h). */
#include "duration.h"

#include <stddef.h>
#include <string.h>

struct unit {
	const char *suffix;
	long long ms;
};

/* Longest suffix first: "ms" before "m". */
static const struct unit units[] = {
    {"ms", 1},      {"s", 1000},     {"m", 60000},
    {"h", 3600000}, {"d", 86400000}, {"w", 7 * 86400000LL},
};

/* Digits with an optional fraction at *p, times unit_ms, rounded up to
 * a whole millisecond, in integers: no float rounding to reason about.
 * Past max_ms: -1, before anything can overflow. */
static int scale(const char **p, long long unit_ms, long long max_ms,
                 long long *out)
{
	long long whole = 0, frac = 0, div = 1;
	const char *s = *p;
	bool digits = false;

	for (; *s >= '0' && *s <= '9'; s++, digits = true)
		if ((whole = whole * 10 + (*s - '0')) > max_ms)
			return -1;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits = true)
			if (div < 1000000000LL) {
				frac = frac * 10 + (*s - '0');
				div *= 10;
			}
	if (!digits || whole > max_ms / unit_ms)
		return -1;
	*p = s;
	*out = whole * unit_ms + (frac * unit_ms + div - 1) / div;
	return 0;
}

static const struct unit *unit_at(const char *p)
{
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (!strncmp(p, units[i].suffix, strlen(units[i].suffix)))
			return &units[i];
	return NULL;
}

/* The number's end, before any unit: where its unit must start. */
static const char *number_end(const char *p)
{
	p += strspn(p, "0123456789");
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	return p;
}

int duration_parse_ms(const char *text, bool bare_ok, long long max_ms,
                      long long *ms)
{
	const char *p = text;
	const struct unit *u;
	long long total = 0, part;

	if (!*p)
		return -1;
	if (!*number_end(p)) {
		if (!bare_ok || scale(&p, 1000, max_ms, &total) < 0)
			return -1;
	}
	while (*p) {
		if (!(u = unit_at(number_end(p))))
			return -1;
		if (scale(&p, u->ms, max_ms, &part) < 0)
			return -1;
		p += strlen(u->suffix);
		if ((total += part) > max_ms)
			return -1;
	}
	*ms = total;
	return 0;
}
