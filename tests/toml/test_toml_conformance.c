/* The toml-test conformance suite (TOML 1.0.0 split), one Criterion test
 * per case: valid cases must parse to the expected tagged JSON, invalid
 * ones must fail with a config error that names source, line and column.
 *
 * The suite directory comes from TOML_TEST_DIR (set by meson). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tagged_json.h"
#include "toml.h"

#define SUITE_CASES 568

struct suite_case {
	char path[256]; /* relative to the suite, e.g. valid/bool/bool.toml */
};

static const char *suite_dir(void)
{
	const char *dir = getenv("TOML_TEST_DIR");

	return dir ? dir : "../shared/toml-test";
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* The .toml lines of files-toml-1.0.0.  The parameter generator must
 * use cr_malloc (the array is shared with the test workers); a test body
 * uses plain malloc. */
static size_t list_cases(struct suite_case **out, bool shared)
{
	char list[512], line[512];
	struct suite_case *cases = NULL, *c;
	size_t n = 0, cap = 0;
	FILE *f;

	snprintf(list, sizeof list, "%s/files-toml-1.0.0", suite_dir());
	f = fopen(list, "r");
	while (f && fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\r\n");

		line[len] = '\0';
		if (len < 5 || strcmp(line + len - 5, ".toml") != 0 ||
		    len >= sizeof cases->path)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			c = shared ? cr_malloc(cap * sizeof *c)
			           : malloc(cap * sizeof *c);
			if (cases)
				memcpy(c, cases, n * sizeof *c);
			if (shared)
				cr_free(cases);
			else
				free(cases);
			cases = c;
		}
		memcpy(cases[n++].path, line, len + 1);
	}
	if (f)
		fclose(f);
	*out = cases;
	return n;
}

static void free_cases(struct criterion_test_params *params)
{
	cr_free(params->params);
}

/* ---- comparison, following toml-test's rules ---- */

static bool same_json(json_t *want, json_t *got);

static bool is_leaf(json_t *o)
{
	return json_is_object(o) && json_object_size(o) == 2 &&
	       json_is_string(json_object_get(o, "type")) &&
	       json_is_string(json_object_get(o, "value"));
}

static const char *leaf_text(json_t *o, const char *field)
{
	return json_string_value(json_object_get(o, field));
}

static bool is_nan_text(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return strcasecmp(s, "nan") == 0;
}

static bool same_float(const char *a, const char *b)
{
	if (is_nan_text(a) || is_nan_text(b))
		return is_nan_text(a) && is_nan_text(b);
	return strtod(a, NULL) == strtod(b, NULL);
}

struct when {
	long long seconds; /* since 0000-03-01 for dates, or of the day */
	long nanos;
	int y, mo, d, h, mi, s;
};

/* Days from civil date, to turn an offset date-time into an instant. */
static long long days_of(int y, int m, int d)
{
	long long yy = y - (m <= 2);
	long long era = (yy >= 0 ? yy : yy - 399) / 400;
	long long yoe = yy - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;

	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy;
}

/* Parses the time at s (HH:MM:SS[.frac]) into w; returns the rest. */
static const char *parse_clock(const char *s, struct when *w)
{
	int used = 0;
	long scale = 100000000;

	if (sscanf(s, "%2d:%2d:%2d%n", &w->h, &w->mi, &w->s, &used) != 3)
		return NULL;
	s += used;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++, scale /= 10)
			w->nanos += scale ? (*s - '0') * scale : 0;
	return s;
}

/* Normalised (space and 't' to 'T', 'z' to 'Z') then parsed. */
static bool parse_when(const char *type, const char *text, struct when *w)
{
	char s[64];
	const char *rest = s;
	int used = 0, oh, om;

	snprintf(s, sizeof s, "%s", text);
	for (char *c = s; *c; c++)
		*c = *c == ' ' || *c == 't' ? 'T' : *c == 'z' ? 'Z' : *c;
	memset(w, 0, sizeof *w);
	if (strcmp(type, "time-local") != 0) {
		if (sscanf(s, "%4d-%2d-%2d%n", &w->y, &w->mo, &w->d, &used) !=
		    3)
			return false;
		rest = s + used;
		if (strcmp(type, "date-local") == 0)
			return *rest == '\0';
		if (*rest++ != 'T')
			return false;
	}
	rest = parse_clock(rest, w);
	if (!rest)
		return false;
	if (strcmp(type, "datetime") != 0)
		return *rest == '\0';
	w->seconds = days_of(w->y, w->mo, w->d) * 86400 + w->h * 3600 +
	             w->mi * 60 + w->s;
	if (strcmp(rest, "Z") == 0)
		return true;
	if (sscanf(rest + 1, "%2d:%2d", &oh, &om) != 2)
		return false;
	w->seconds -= (*rest == '-' ? -1 : 1) * (oh * 3600 + om * 60);
	return true;
}

static bool same_when(const char *type, const char *a, const char *b)
{
	struct when x, y;

	if (!parse_when(type, a, &x) || !parse_when(type, b, &y))
		return false;
	if (strcmp(type, "datetime") == 0)
		return x.seconds == y.seconds && x.nanos == y.nanos;
	return x.y == y.y && x.mo == y.mo && x.d == y.d && x.h == y.h &&
	       x.mi == y.mi && x.s == y.s && x.nanos == y.nanos;
}

static bool same_leaf(json_t *want, json_t *got)
{
	const char *type = leaf_text(want, "type");
	const char *a = leaf_text(want, "value"), *b = leaf_text(got, "value");

	if (strcmp(type, leaf_text(got, "type")) != 0)
		return false;
	if (strcmp(type, "float") == 0)
		return same_float(a, b);
	if (strcmp(type, "bool") == 0)
		return strcasecmp(a, b) == 0;
	if (strstr(type, "date") || strstr(type, "time"))
		return same_when(type, a, b);
	return json_string_length(json_object_get(want, "value")) ==
	           json_string_length(json_object_get(got, "value")) &&
	       memcmp(a, b,
	              json_string_length(json_object_get(want, "value"))) == 0;
}

static bool same_json(json_t *want, json_t *got)
{
	const char *key;
	json_t *v;

	if (is_leaf(want) || is_leaf(got))
		return is_leaf(want) && is_leaf(got) && same_leaf(want, got);
	if (json_is_array(want)) {
		if (!json_is_array(got) ||
		    json_array_size(want) != json_array_size(got))
			return false;
		for (size_t i = 0; i < json_array_size(want); i++)
			if (!same_json(json_array_get(want, i),
			               json_array_get(got, i)))
				return false;
		return true;
	}
	if (!json_is_object(want) || !json_is_object(got) ||
	    json_object_size(want) != json_object_size(got))
		return false;
	json_object_foreach(want, key, v)
	{
		json_t *g = json_object_get(got, key);

		if (!g || !same_json(v, g))
			return false;
	}
	return true;
}

/* ---- the tests ---- */

/* jansson cannot hold NUL in object keys, which the suite has; both
 * sides get "\u0000" swapped for the noncharacter "\uFDD0" in their
 * JSON text before loading, so they still compare alike. */
static json_t *load_without_nul(const char *text)
{
	char *copy = strdup(text), *p = copy;
	json_error_t jerr;
	json_t *j;

	while ((p = strstr(p, "\\u0000")))
		memcpy(p + 2, "FDD0", 4);
	j = json_loads(copy, JSON_DECODE_ANY, &jerr);
	cr_assert_not_null(j, "bad JSON: %s", jerr.text);
	free(copy);
	return j;
}

static void check_valid(const char *path, const char *text, size_t len)
{
	char json_path[512];
	struct insomnia_error err;
	struct toml_value *root;
	json_t *want, *got, *tagged;
	char *want_text, *got_text;
	size_t want_len;

	root = toml_parse(text, len, path, NULL, &err);
	cr_assert_not_null(root, "%s: rejected: %s", path, err.message);
	snprintf(json_path, sizeof json_path, "%s/%.*s.json", suite_dir(),
	         (int)(strlen(path) - 5), path);
	want_text = slurp(json_path, &want_len);
	cr_assert_not_null(want_text, "cannot read %s", json_path);
	tagged = toml_to_tagged_json(root);
	cr_assert_not_null(tagged);
	got_text = json_dumps(tagged, JSON_COMPACT | JSON_SORT_KEYS);
	want = load_without_nul(want_text);
	got = load_without_nul(got_text);
	cr_assert(same_json(want, got),
	          "%s: decoded differently\nwant %.2000s\ngot  %.2000s", path,
	          want_text, got_text);
	json_decref(want);
	json_decref(got);
	json_decref(tagged);
	free(want_text);
	free(got_text);
	toml_free(root);
}

/* Rejected, as a config error reading "<source>:<line>:<col>: ...". */
static void check_invalid(const char *path, const char *text, size_t len)
{
	struct insomnia_error err;
	struct toml_value *root = toml_parse(text, len, path, NULL, &err);
	size_t n = strlen(path);
	int line = 0, col = 0, used = 0;

	cr_assert_null(root, "%s: accepted invalid TOML", path);
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG, "%s: kind %d", path,
	             err.kind);
	cr_assert(strncmp(err.message, path, n) == 0 &&
	              sscanf(err.message + n, ":%d:%d: %n", &line, &col,
	                     &used) == 2 &&
	              used > 0 && line > 0 && col > 0 &&
	              err.message[n + (size_t)used] != '\0',
	          "%s: message lacks source:line:col: %s", path, err.message);
}

ParameterizedTestParameters(conformance, toml_test_case)
{
	struct suite_case *cases = NULL;
	size_t n = list_cases(&cases, true);

	return cr_make_param_array(struct suite_case, cases, n, free_cases);
}

ParameterizedTest(struct suite_case *c, conformance, toml_test_case)
{
	char full[512];
	size_t len = 0;
	char *text;

	snprintf(full, sizeof full, "%s/%s", suite_dir(), c->path);
	text = slurp(full, &len);
	cr_assert_not_null(text, "cannot read %s", full);
	if (strncmp(c->path, "valid/", 6) == 0)
		check_valid(c->path, text, len);
	else
		check_invalid(c->path, text, len);
	free(text);
}

Test(conformance, suite_is_present_with_all_its_cases)
{
	struct suite_case *cases = NULL;
	size_t n = list_cases(&cases, false);

	free(cases);
	cr_assert_eq(n, SUITE_CASES, "found %zu cases under %s, want %d", n,
	             suite_dir(), SUITE_CASES);
}
