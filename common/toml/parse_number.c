/* parse_number.c: integers (decimal, hex, octal, binary) and floats.
 *
 * Integers are checked against the int64 range while they are
 * accumulated.  Floats take an exact fast path when the digits fit in
 * 53 bits and the power of ten is exact, and strtod otherwise. */
#include "parser.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

bool parse_number(struct parser *P, struct toml_value *v, const char *s,
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

/* How many of the 8 bytes of w, first byte first, are ASCII digits
 * before the first other byte (8 when all are).  Per byte: the high
 * nibble must be 3 and the low one at most 9 (adding 6 then stays in
 * the nibble), so no test carries into the next byte. */
static unsigned digit_run(uint64_t w)
{
	uint64_t bad = ((w & 0xf0f0f0f0f0f0f0f0ull) ^ 0x3030303030303030ull) |
	               (((w & 0x0f0f0f0f0f0f0f0full) + 0x0606060606060606ull) &
	                0xf0f0f0f0f0f0f0f0ull);
	uint64_t hi =
	    (((bad & 0x7f7f7f7f7f7f7f7full) + 0x7f7f7f7f7f7f7f7full) | bad) &
	    0x8080808080808080ull;

	return hi ? (unsigned)__builtin_ctzll(hi) / 8 : 8;
}

/* The value of the first k (1..8) digits of w, without a loop: the
 * digits are moved to the top so the rest reads as leading zeros, then
 * pairs, quads and octets of digits are combined by multiplications. */
static uint64_t digits_of(uint64_t w, unsigned k)
{
	uint64_t v = w - 0x3030303030303030ull;

	/* Borrows from bytes past the digits only reach bytes shifted out. */
	if (k < 8)
		v <<= 8 * (8 - k);

	v = (v * 10) + (v >> 8);
	v = ((v & 0x00ff00ff00ff00ffull) * (1 + (100ull << 16))) >> 16;
	v = ((v & 0x0000ffff0000ffffull) * (1 + (10000ull << 32))) >> 32;
	return v & 0xffffffffull;
}

/* Reads 1 to 8 digits at q when the bytes are readable; 0 when it
 * cannot (too near the end, no digit, or more than 8 digits). */
static unsigned short_digits(const char *q, const char *end, uint64_t *out)
{
	uint64_t w;
	unsigned k;

	if (end - q < 9)
		return 0;
	memcpy(&w, q, 8);
	k = digit_run(w);
	if (k == 0 || (k == 8 && is_digit(q[8])))
		return 0;
	*out = digits_of(w, k);
	return k;
}

static const uint64_t powers_of_ten[9] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
};

/* The common shapes, 123 and 1.5 (no '_', no exponent, up to 8 digits
 * on each side of the point, 15 in all), read without per-digit loops.
 * Returns false, having consumed nothing, for anything else: the
 * general path then handles it. */
bool fast_number(struct parser *P, struct toml_value *v)
{
	const char *q = P->p + (*P->p == '-' || *P->p == '+'), *end = P->end;
	bool neg = *P->p == '-';
	uint64_t ip, fp;
	unsigned k, kf;

	k = short_digits(q, end, &ip);
	if (!k || (*q == '0' && k > 1))
		return false;
	q += k;
	if (*q == '.') {
		kf = short_digits(q + 1, end, &fp);
		if (!kf || k + kf > 15 || is_token_char(q[1 + kf]))
			return false;
		q += 1 + kf;
		v->type = TOML_FLOAT;
		/* At most 15 digits: exact in a double, as is the power. */
		v->u.f =
		    (double)(ip * powers_of_ten[kf] + fp) / exact_powers[kf];
		v->u.f = neg ? -v->u.f : v->u.f;
	} else {
		if (is_token_char(*q))
			return false;
		v->type = TOML_INTEGER;
		v->u.i = neg ? -(int64_t)ip : (int64_t)ip;
	}
	P->p = q;
	return true;
}
