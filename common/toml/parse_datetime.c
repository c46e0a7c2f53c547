/* parse_datetime.c: offset date-times, local date-times, local dates
 * and local times (RFC 3339 as TOML restricts it).
 *
 * Fractional seconds are kept to nanoseconds; further digits are cut.
 * A fast path reads well-formed values in one pass; anything it does not
 * like goes to the general path, which names the problem. */
#include "parser.h"

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

bool parse_time_only(struct parser *P, struct toml_value *v, const char *s,
                     const char *e)
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

bool parse_date_time(struct parser *P, struct toml_value *v, const char *s,
                     const char *e)
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

static bool two_digits(const char *s, int *out)
{
	if (!is_digit(s[0]) || !is_digit(s[1]))
		return false;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return true;
}

/* HH:MM:SS[.fraction] at q, all checked; NULL when it is not. */
static const char *fast_time(const char *q, const char *end,
                             struct toml_datetime *dt)
{
	if (end - q < 8 || q[2] != ':' || q[5] != ':' ||
	    !two_digits(q, &dt->hour) || !two_digits(q + 3, &dt->minute) ||
	    !two_digits(q + 6, &dt->second) || dt->hour > 23 ||
	    dt->minute > 59 || dt->second > 59)
		return NULL;
	q += 8;
	if (q < end && *q == '.') {
		if (q + 1 >= end || !is_digit(q[1]))
			return NULL;
		q = read_fraction(q + 1, end, dt);
	}
	return q;
}

/* Z, z or +HH:MM at q, checked; NULL when it is not. */
static const char *fast_offset(const char *q, const char *end,
                               struct toml_datetime *dt)
{
	int h, m;

	if (*q == 'Z' || *q == 'z') {
		dt->offset_is_z = true;
		return q + 1;
	}
	if (end - q < 6 || q[3] != ':' || !two_digits(q + 1, &h) ||
	    !two_digits(q + 4, &m) || h > 23 || m > 59)
		return NULL;
	dt->offset_minutes = (h * 60 + m) * (*q == '-' ? -1 : 1);
	return q + 6;
}

/* YYYY-MM-DD at s, checked (including the day of the month). */
static bool fast_date(const char *s, const char *end, struct toml_datetime *dt)
{
	int hi, lo;

	if (end - s < 10 || s[4] != '-' || s[7] != '-' || !two_digits(s, &hi) ||
	    !two_digits(s + 2, &lo) || !two_digits(s + 5, &dt->month) ||
	    !two_digits(s + 8, &dt->day))
		return false;
	dt->year = hi * 100 + lo;
	return dt->month >= 1 && dt->month <= 12 && dt->day >= 1 &&
	       dt->day <= days_in_month(dt->year, dt->month);
}

/* Well-formed dates and times in one pass.  Returns false, having
 * consumed nothing and reported nothing, for anything else: the general
 * path then finds and names the problem. */
bool fast_datetime(struct parser *P, struct toml_value *v)
{
	const char *s = P->p, *end = P->end, *q = s;
	struct toml_datetime dt = {0};
	enum toml_type t = TOML_TIME_LOCAL;

	if (end - s >= 3 && s[2] != ':') {
		if (!fast_date(s, end, &dt))
			return false;
		q = s + 10;
		t = TOML_DATE_LOCAL;
		if (end - q >= 2 && (*q == 'T' || *q == 't' || *q == ' ') &&
		    is_digit(q[1])) {
			q++;
			t = TOML_DATETIME_LOCAL;
		}
	}
	if (t != TOML_DATE_LOCAL && !(q = fast_time(q, end, &dt)))
		return false;
	if (t == TOML_DATETIME_LOCAL && q < end &&
	    (*q == 'Z' || *q == 'z' || *q == '+' || *q == '-')) {
		if (!(q = fast_offset(q, end, &dt)))
			return false;
		t = TOML_DATETIME;
	}
	if (q < end && is_token_char(*q))
		return false;
	P->p = q;
	return store_datetime(v, t, &dt);
}
