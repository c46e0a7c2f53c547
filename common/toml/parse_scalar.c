/* parse_scalar.c: telling numbers and dates apart.
 *
 * Integers, floats and the four date/time types all start alike, so the
 * parser takes the whole token (letters, digits and "_+-.:", plus the
 * space of "1979-05-27 07:32:00") and decides by its shape: "HH:" is a
 * time, "YYYY-" a date, anything else a number.  Well-formed common
 * values skip this through the fast paths of parse_number.c and
 * parse_datetime.c. */
#include "parser.h"

const unsigned char toml_token_chars[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1,
    ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1,
    ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1,
    ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['_'] = 1,
    ['+'] = 1, ['-'] = 1, ['.'] = 1, [':'] = 1,
};

/* Longest token quoted back in a message. */
#define QUOTE_MAX 64

bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

int digits_value(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* "expected <what>, found '<token>'", pointing at the token. */
bool bad_token(struct parser *P, const char *s, const char *e,
               const char *expected)
{
	int n = (int)(e - s < QUOTE_MAX ? e - s : QUOTE_MAX);

	return parse_fail(P, s, "expected %s, found '%.*s'", expected, n, s);
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

bool parse_number_or_date(struct parser *P, struct toml_value *v)
{
	const char *s = P->p, *e = s;

	/* Dates and times show their shape by byte 2 or 4. */
	if (P->end - s >= 5 && (s[2] == ':' || s[4] == '-')) {
		if (fast_datetime(P, v))
			return true;
	} else if (fast_number(P, v)) {
		return true;
	}

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
