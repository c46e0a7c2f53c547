/* tree_equal.c: do two TOML trees hold the same values?  Tables compare
 * as sets of keys (a writer may reorder them), floats bit for bit except
 * that any NaN equals any NaN, origins are ignored. */
#include "tree_equal.h"

#include <math.h>
#include <string.h>

/* Key lookup by length, since keys may hold NUL bytes. */
static const struct toml_value *find_key(const struct toml_value *t,
                                         const char *key, size_t len)
{
	for (size_t i = 0; i < toml_len(t); i++)
		if (toml_table_key_len(t, i) == len &&
		    memcmp(toml_table_key(t, i), key, len) == 0)
			return toml_table_value(t, i);
	return NULL;
}

/* Tables compare as sets: the writer may reorder keys. */
static bool same_table(const struct toml_value *a, const struct toml_value *b)
{
	if (toml_len(a) != toml_len(b))
		return false;
	for (size_t i = 0; i < toml_len(a); i++) {
		const struct toml_value *other =
		    find_key(b, toml_table_key(a, i), toml_table_key_len(a, i));

		if (!other || !toml_tree_equal(toml_table_value(a, i), other))
			return false;
	}
	return true;
}

static bool same_scalar(const struct toml_value *a, const struct toml_value *b)
{
	const char *sa, *sb;
	size_t la, lb;
	int64_t ia, ib;
	double fa, fb;
	bool ba, bb;
	struct toml_datetime da, db;

	/* Zeroed so that memcmp does not compare stale padding. */
	memset(&da, 0, sizeof da);
	memset(&db, 0, sizeof db);
	if (toml_as_string(a, &sa, &la) && toml_as_string(b, &sb, &lb))
		return la == lb && memcmp(sa, sb, la) == 0;
	if (toml_as_int(a, &ia) && toml_as_int(b, &ib))
		return ia == ib;
	if (toml_as_float(a, &fa) && toml_as_float(b, &fb))
		return (isnan(fa) && isnan(fb)) ||
		       (fa == fb && signbit(fa) == signbit(fb));
	if (toml_as_bool(a, &ba) && toml_as_bool(b, &bb))
		return ba == bb;
	if (toml_as_datetime(a, &da) && toml_as_datetime(b, &db))
		return memcmp(&da, &db, sizeof da) == 0;
	return false;
}

bool toml_tree_equal(const struct toml_value *a, const struct toml_value *b)
{
	if (toml_type(a) != toml_type(b))
		return false;
	if (toml_type(a) == TOML_TABLE)
		return same_table(a, b);
	if (toml_type(a) != TOML_ARRAY)
		return same_scalar(a, b);
	if (toml_len(a) != toml_len(b))
		return false;
	for (size_t i = 0; i < toml_len(a); i++)
		if (!toml_tree_equal(toml_array_at(a, i), toml_array_at(b, i)))
			return false;
	return true;
}
