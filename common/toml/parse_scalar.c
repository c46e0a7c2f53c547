/* parse_scalar.c: integers, floats and the four date/time types.
 *
 * All of them start the same way, so the parser first takes the whole
 * token (letters, digits and "_+-.:", plus the space of "1979-05-27
 * 07:32:00") and then decides what it is by its shape: "HH:" is a time,
 * "YYYY-" a date, anything else a number. */
#include "parser.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Longest token quoted back in a message. */
#define QUOTE_MAX 64

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_token_char(char c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       c == '_' || c == '+' || c == '-' || c == '.' || c == ':';
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

static int digits_value(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool bad_token(struct parser *P, const char *s, const char *e,
                      const char *expected)
{
	int n = (int)(e - s < QUOTE_MAX ? e - s : QUOTE_MAX);

	return parse_fail(P, s, "expected %s, found '%.*s'", expected, n, s);
}

/* ---- dates and times ---- */

static bool read_date(struct parser *P, const char *s, const char *e,
                      struct toml_datetime *dt)
{
	if (e - s < 10 || !all_digits(s, 4) || s[4] != '-' ||
	    !all_digits(s + 5, 2) || s[7] != '-' || !all_digits(s + 8, 2))
		return bad_token(P, s, e, "a date as YYYY-MM-DD");
	dt->year = digits_value(s, 4);
	dt->month = digits_value(s + 5, 2);
	dt->day = digits_value(s + 8, 2);
	if (dt->month < 1 || dt->month > 12)
		return bad_token(P, s, e, "a month from 01 to 12");
	if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
		return bad_token(P, s, e, "a day that exists in that month");
	return true;
}

/* Fraction digits past the ninth are cut, not rounded. */
static const char *read_fraction(const char *s, const char *e,
                                 struct toml_datetime *dt)
{
	int digits = 0, ns = 0;

	for (; s < e && is_digit(*s); s++) {
		if (digits < 9) {
			ns = ns * 10 + (*s - '0');
			digits++;
		}
	}
	dt->frac_digits = digits;
	for (; digits < 9; digits++)
		ns *= 10;
	dt->nanosecond = ns;
	return s;
}

static const char *read_time(struct parser *P, const char *s, const char *e,
                             const char *tok, struct toml_datetime *dt)
{
	if (e - s < 8 || !all_digits(s, 2) || s[2] != ':' ||
	    !all_digits(s + 3, 2) || s[5] != ':' || !all_digits(s + 6, 2)) {
		bad_token(P, tok, e, "a time as HH:MM:SS");
		return NULL;
	}
	dt->hour = digits_value(s, 2);
	dt->minute = digits_value(s + 3, 2);
	dt->second = digits_value(s + 6, 2);
	if (dt->hour > 23 || dt->minute > 59 || dt->second > 59) {
		bad_token(P, tok, e,
		          "a time from 00:00:00 to 23:59:59 (no leap second)");
		return NULL;
	}
	s += 8;
	if (s < e && *s == '.') {
		if (s + 1 >= e || !is_digit(s[1])) {
			bad_token(P, tok, e, "digits after the decimal point");
			return NULL;
		}
		s = read_fraction(s + 1, e, dt);
	}
	return s;
}

static bool read_offset(struct parser *P, const char *s, const char *e,
                        const char *tok, struct toml_datetime *dt)
{
	int h, m;

	if (e - s == 1 && (*s == 'Z' || *s == 'z')) {
		dt->offset_is_z = true;
		return true;
	}
	if (e - s != 6 || (*s != '+' && *s != '-') || !all_digits(s + 1, 2) ||
	    s[3] != ':' || !all_digits(s + 4, 2))
		return bad_token(P, tok, e,
		                 "a date-time with an offset as Z or +HH:MM");
	h = digits_value(s + 1, 2);
	m = digits_value(s + 4, 2);
	if (h > 23 || m > 59)
		return bad_token(P, tok, e, "an offset from -23:59 to +23:59");
	dt->offset_minutes = (h * 60 + m) * (*s == '-' ? -1 : 1);
	return true;
}

static bool store_datetime(struct toml_value *v, enum toml_type t,
                           const struct toml_datetime *dt)
{
	v->type = (uint8_t)t;
	datetime_pack(v, dt);
	return true;
}

static bool parse_time_only(struct parser *P, struct toml_value *v,
                            const char *s, const char *e)
{
	struct toml_datetime dt = {0};
	const char *t = read_time(P, s, e, s, &dt);

	if (!t)
		return false;
	if (t != e)
		return bad_token(P, s, e,
		                 "a local time as HH:MM:SS[.fraction]");
	return store_datetime(v, TOML_TIME_LOCAL, &dt);
}

static bool parse_date_time(struct parser *P, struct toml_value *v,
                            const char *s, const char *e)
{
	struct toml_datetime dt = {0};
	const char *t;

	if (!read_date(P, s, e, &dt))
		return false;
	if (e - s == 10)
		return store_datetime(v, TOML_DATE_LOCAL, &dt);
	if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
		return bad_token(P, s, e,
		                 "'T' or a space between date and time");
	t = read_time(P, s + 11, e, s, &dt);
	if (!t)
		return false;
	if (t == e)
		return store_datetime(v, TOML_DATETIME_LOCAL, &dt);
	if (!read_offset(P, t, e, s, &dt))
		return false;
	return store_datetime(v, TOML_DATETIME, &dt);
}

/* ---- numbers ---- */

static int digit_in(char c, int radix)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		d = (c | 0x20) - 'a' + 10;
	else
		return -1;
	return d < radix ? d : -1;
}

/* Digits of radix from s, each '_' between two digits.  Returns where
 * they end, or NULL when there are none or an '_' is misplaced. */
static const char *scan_digits(const char *s, const char *e, int radix)
{
	if (s >= e || digit_in(*s, radix) < 0)
		return NULL;
	for (s++; s < e;) {
		if (*s == '_') {
			if (s + 1 >= e || digit_in(s[1], radix) < 0)
				return NULL;
			s += 2;
		} else if (digit_in(*s, radix) >= 0) {
			s++;
		} else {
			break;
		}
	}
	return s;
}

static bool too_big(struct parser *P, const char *s, const char *e)
{
	return bad_token(P, s, e,
	                 "an integer from -9223372036854775808 to "
	                 "9223372036854775807");
}

/* Accumulates digits (skipping '_') up to limit; false on overflow. */
static bool accumulate(const char *s, const char *e, int radix, uint64_t limit,
                       uint64_t *out)
{
	uint64_t acc = 0;

	for (; s < e; s++) {
		int d = digit_in(*s, radix);

		if (d < 0)
			continue;
		if (acc > (limit - (uint64_t)d) / (uint64_t)radix)
			return false;
		acc = acc * (uint64_t)radix + (uint64_t)d;
	}
	*out = acc;
	return true;
}

static bool parse_radix(struct parser *P, struct toml_value *v, const char *s,
                        const char *e)
{
	int radix = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
	const char *d = scan_digits(s + 2, e, radix);
	uint64_t u;

	if (!d || d != e)
		return bad_token(P, s, e,
		                 radix == 16  ? "hexadecimal digits after 0x"
		                 : radix == 8 ? "octal digits after 0o"
		                              : "binary digits after 0b");
	if (!accumulate(s + 2, e, radix, INT64_MAX, &u))
		return too_big(P, s, e);
	v->type = TOML_INTEGER;
	v->u.i = (int64_t)u;
	return true;
}

static bool store_integer(struct parser *P, struct toml_value *v, const char *s,
                          const char *digits, const char *e)
{
	bool neg = *s == '-';
	uint64_t u, limit = (uint64_t)INT64_MAX + (neg ? 1 : 0);

	if (!accumulate(digits, e, 10, limit, &u))
		return too_big(P, s, e);
	v->type = TOML_INTEGER;
	v->u.i = neg ? (u ? -(int64_t)(u - 1) - 1 : 0) : (int64_t)u;
	return true;
}

static const double exact_powers[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* When the significant digits fit in 53 bits and the power of ten is
 * exact, one multiplication or division gives the correctly rounded
 * double, so strtod is not needed.  Returns false when it cannot. */
static bool fast_double(const char *s, const char *e, double *out)
{
	uint64_t mant = 0;
	int sig = 0, exp10 = 0, ex = 0, ex_sign = 1;
	bool frac = false;

	for (; s < e && *s != 'e' && *s != 'E'; s++) {
		if (*s == '.') {
			frac = true;
		} else if (is_digit(*s)) {
			if (mant == 0 && *s == '0') {
				exp10 -= frac;
				continue;
			}
			if (++sig > 15)
				return false;
			mant = mant * 10 + (uint64_t)(*s - '0');
			exp10 -= frac;
		}
	}
	if (s < e) {
		s++;
		if (*s == '+' || *s == '-')
			ex_sign = *s++ == '-' ? -1 : 1;
		for (; s < e; s++)
			if (is_digit(*s) && (ex = ex * 10 + (*s - '0')) > 1000)
				return false;
	}
	exp10 += ex_sign * ex;
	if (mant == 0) {
		*out = 0.0;
		return true;
	}
	if (exp10 < -22 || exp10 > 22)
		return false;
	*out = exp10 >= 0 ? (double)mant * exact_powers[exp10]
	                  : (double)mant / exact_powers[-exp10];
	return true;
}

/* The general case: strtod on a copy without '_', with the locale's
 * decimal point in case the program changed LC_NUMERIC. */
static bool slow_double(struct parser *P, const char *s, const char *e,
                        double *out)
{
	P->text_len = 0;
	for (; s < e; s++) {
		char c = *s == '.' ? P->decimal_point : *s;

		if (c != '_' && !text_put(P, &c, 1))
			return false;
	}
	if (!text_put(P, "", 1))
		return false;
	*out = strtod(P->text, NULL);
	return true;
}

static bool store_float(struct parser *P, struct toml_value *v, const char *s,
                        const char *e)
{
	bool neg = *s == '-';
	const char *m = (*s == '-' || *s == '+') ? s + 1 : s;
	double d;

	if (!fast_double(m, e, &d) && !slow_double(P, m, e, &d))
		return false;
	v->type = TOML_FLOAT;
	v->u.f = neg ? -d : d;
	return true;
}

/* After the integer part: [.digits][(e|E)[+-]digits], at least one. */
static bool check_float_tail(const char *t, const char *e)
{
	if (t < e && *t == '.') {
		t = scan_digits(t + 1, e, 10);
		if (!t)
			return false;
	}
	if (t < e && (*t == 'e' || *t == 'E')) {
		t++;
		if (t < e && (*t == '+' || *t == '-'))
			t++;
		t = scan_digits(t, e, 10);
		if (!t)
			return false;
	}
	return t == e;
}

static bool parse_special_float(struct toml_value *v, const char *s,
                                const char *m, const char *e)
{
	bool neg = *s == '-';

	if (e - m != 3)
		return false;
	if (memcmp(m, "inf", 3) == 0)
		v->u.f = neg ? -INFINITY : INFINITY;
	else if (memcmp(m, "nan", 3) == 0)
		v->u.f = neg ? -NAN : NAN;
	else
		return false;
	v->type = TOML_FLOAT;
	return true;
}

static bool parse_number(struct parser *P, struct toml_value *v, const char *s,
                         const char *e)
{
	const char *m = (*s == '-' || *s == '+') ? s + 1 : s;
	const char *t;

	if (parse_special_float(v, s, m, e))
		return true;
	if (e - m >= 2 && m[0] == '0' &&
	    (m[1] == 'x' || m[1] == 'o' || m[1] == 'b')) {
		if (m != s)
			return bad_token(P, s, e,
			                 "no sign before 0x, 0o or 0b");
		return parse_radix(P, v, s, e);
	}
	t = scan_digits(m, e, 10);
	if (!t)
		return bad_token(P, s, e,
		                 m < e && is_digit(*m)
		                     ? "a number with each '_' between "
		                       "two digits"
		                     : "a value");
	if (m[0] == '0' && t - m > 1)
		return bad_token(P, s, e, "a number without leading zeros");
	if (t == e)
		return store_integer(P, v, s, m, e);
	if (!check_float_tail(t, e))
		return bad_token(P, s, e, "a number");
	return store_float(P, v, s, e);
}

/* "YYYY-MM-DD" then " HH:" is one date-time, not a date and junk. */
static const char *date_space_time(const char *s, const char *e,
                                   const char *end)
{
	if (e - s == 10 && s[4] == '-' && end - e >= 4 && e[0] == ' ' &&
	    is_digit(e[1]) && is_digit(e[2]) && e[3] == ':')
		for (e++; e < end && is_token_char(*e);)
			e++;
	return e;
}

/* The common shapes, 123 and 1.5 (no '_', no exponent, few digits),
 * in a single pass.  Returns false, having consumed nothing, for
 * anything else: the general path then handles it. */
static bool fast_number(struct parser *P, struct toml_value *v)
{
	const char *s = P->p, *q = s, *end = P->end;
	bool neg = *q == '-';
	uint64_t mant = 0;
	int digits = 0, frac = 0;

	q += (*q == '-' || *q == '+');
	if (q >= end || !is_digit(*q) ||
	    (*q == '0' && q + 1 < end && is_token_char(q[1]) && q[1] != '.'))
		return false;
	for (; q < end && is_digit(*q) && digits < 15; q++, digits++)
		mant = mant * 10 + (uint64_t)(*q - '0');
	if (q < end && *q == '.' && q + 1 < end && is_digit(q[1])) {
		for (q++; q < end && is_digit(*q) && digits < 15;
		     q++, digits++, frac++)
			mant = mant * 10 + (uint64_t)(*q - '0');
		if (q < end && is_token_char(*q))
			return false;
		v->type = TOML_FLOAT;
		v->u.f = (double)mant / exact_powers[frac];
		v->u.f = neg ? -v->u.f : v->u.f;
	} else {
		if (q < end && is_token_char(*q))
			return false;
		v->type = TOML_INTEGER;
		v->u.i = neg ? -(int64_t)mant : (int64_t)mant;
	}
	P->p = q;
	return true;
}

bool parse_number_or_date(struct parser *P, struct toml_value *v)
{
	const char *s = P->p, *e = s;

	if (fast_number(P, v))
		return true;

	while (e < P->end && is_token_char(*e))
		e++;
	e = date_space_time(s, e, P->end);
	P->p = e;
	if (e - s >= 3 && is_digit(s[0]) && is_digit(s[1]) && s[2] == ':')
		return parse_time_only(P, v, s, e);
	if (e - s >= 5 && all_digits(s, 4) && s[4] == '-')
		return parse_date_time(P, v, s, e);
	return parse_number(P, v, s, e);
}
