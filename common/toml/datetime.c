/* datetime.c: storing and printing the four TOML date/time types.
 *
 * A date/time is packed into the value's 64-bit payload plus its 32-bit
 * n field (the nanoseconds), so it costs no allocation:
 *   bits  0..13 year, 14..17 month, 18..22 day, 23..27 hour,
 *        28..33 minute, 34..39 second, 40..43 fraction digits,
 *        44 offset written as Z, 45..56 offset minutes + 2048. */
#include "toml_internal.h"

#include <string.h>

#define OFFSET_BIAS 2048

static uint64_t field(uint64_t v, unsigned shift, unsigned bits)
{
	return (v >> shift) & ((1ull << bits) - 1);
}

void datetime_pack(struct toml_value *v, const struct toml_datetime *dt)
{
	uint64_t p = 0;

	p |= (uint64_t)dt->year & 0x3fff;
	p |= ((uint64_t)dt->month & 0xf) << 14;
	p |= ((uint64_t)dt->day & 0x1f) << 18;
	p |= ((uint64_t)dt->hour & 0x1f) << 23;
	p |= ((uint64_t)dt->minute & 0x3f) << 28;
	p |= ((uint64_t)dt->second & 0x3f) << 34;
	p |= ((uint64_t)dt->frac_digits & 0xf) << 40;
	p |= (uint64_t)(dt->offset_is_z ? 1 : 0) << 44;
	p |= ((uint64_t)(dt->offset_minutes + OFFSET_BIAS) & 0xfff) << 45;
	v->u.dt = p;
	v->n = (uint32_t)dt->nanosecond;
}

void datetime_unpack(const struct toml_value *v, struct toml_datetime *dt)
{
	uint64_t p = v->u.dt;

	dt->year = (int)field(p, 0, 14);
	dt->month = (int)field(p, 14, 4);
	dt->day = (int)field(p, 18, 5);
	dt->hour = (int)field(p, 23, 5);
	dt->minute = (int)field(p, 28, 6);
	dt->second = (int)field(p, 34, 6);
	dt->frac_digits = (int)field(p, 40, 4);
	dt->offset_is_z = field(p, 44, 1) != 0;
	dt->offset_minutes = (int)field(p, 45, 12) - OFFSET_BIAS;
	dt->nanosecond = (int)v->n;
}

bool datetime_is_type(enum toml_type t)
{
	return t == TOML_DATETIME || t == TOML_DATETIME_LOCAL ||
	       t == TOML_DATE_LOCAL || t == TOML_TIME_LOCAL;
}

int days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
	                             31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month < 1 || month > 12)
		return 0;
	return days[month - 1] + (month == 2 && leap);
}

/* Writes v as exactly `width` decimal digits (out-of-range fields are
 * cut, never allowed to overflow the caller's buffer). */
static size_t put_digits(char *buf, int v, size_t width)
{
	unsigned u = v < 0 ? 0u : (unsigned)v;

	for (size_t i = width; i-- > 0;) {
		buf[i] = (char)('0' + u % 10);
		u /= 10;
	}
	return width;
}

static size_t put_date(const struct toml_datetime *dt, char *buf)
{
	size_t n = put_digits(buf, dt->year, 4);

	buf[n++] = '-';
	n += put_digits(buf + n, dt->month, 2);
	buf[n++] = '-';
	n += put_digits(buf + n, dt->day, 2);
	return n;
}

/* Writes as many fraction digits as the input had (0 to 9). */
static size_t put_time(const struct toml_datetime *dt, char *buf)
{
	size_t n = put_digits(buf, dt->hour, 2);
	int digits = dt->frac_digits;
	int frac = dt->nanosecond;

	buf[n++] = ':';
	n += put_digits(buf + n, dt->minute, 2);
	buf[n++] = ':';
	n += put_digits(buf + n, dt->second, 2);
	if (digits <= 0 || digits > 9)
		return n;
	for (int i = digits; i < 9; i++)
		frac /= 10;
	buf[n++] = '.';
	return n + put_digits(buf + n, frac, (size_t)digits);
}

static size_t put_offset(const struct toml_datetime *dt, char *buf)
{
	int off = dt->offset_minutes;
	size_t n = 0;

	if (dt->offset_is_z) {
		buf[0] = 'Z';
		return 1;
	}
	buf[n++] = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	n += put_digits(buf + n, off / 60, 2);
	buf[n++] = ':';
	return n + put_digits(buf + n, off % 60, 2);
}

size_t toml_datetime_format(enum toml_type t, const struct toml_datetime *dt,
                            char *buf)
{
	size_t n = 0;

	if (!datetime_is_type(t))
		return 0;
	if (t != TOML_TIME_LOCAL)
		n += put_date(dt, buf);
	if (t == TOML_DATE_LOCAL) {
		buf[n] = '\0';
		return n;
	}
	if (t != TOML_TIME_LOCAL)
		buf[n++] = 'T';
	n += put_time(dt, buf + n);
	if (t == TOML_DATETIME)
		n += put_offset(dt, buf + n);
	buf[n] = '\0';
	return n;
}
