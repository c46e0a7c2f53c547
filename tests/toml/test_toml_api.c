/* The TOML API: look-ups, iteration order, typed accessors, origins. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

static struct toml_value *parse_ok(const char *text)
{
	struct insomnia_error err;
	struct toml_value *root =
	    toml_parse(text, strlen(text), "test layer", "/etc/app", &err);

	cr_assert_not_null(root, "parse failed: %s", err.message);
	return root;
}

Test(toml_api, accessors_return_each_scalar_type)
{
	struct toml_value *root = parse_ok("s = 'text'\n"
	                                   "i = -42\n"
	                                   "f = 2.5e3\n"
	                                   "b = true\n");
	const char *s;
	size_t len;
	int64_t i;
	double f;
	bool b;

	cr_assert(toml_as_string(toml_table_get(root, "s"), &s, &len));
	cr_assert_str_eq(s, "text");
	cr_assert_eq(len, 4);
	cr_assert(toml_as_int(toml_table_get(root, "i"), &i));
	cr_assert_eq(i, -42);
	cr_assert(toml_as_float(toml_table_get(root, "f"), &f));
	cr_assert_float_eq(f, 2500.0, 0);
	cr_assert(toml_as_bool(toml_table_get(root, "b"), &b));
	cr_assert(b);
	toml_free(root);
}

Test(toml_api, accessors_refuse_other_types_and_null)
{
	struct toml_value *root = parse_ok("n = 1\n");
	const struct toml_value *n = toml_table_get(root, "n");
	const char *s;
	double f;
	bool b;
	int64_t i;
	struct toml_datetime dt;

	cr_assert_not(toml_as_string(n, &s, NULL));
	cr_assert_not(toml_as_float(n, &f));
	cr_assert_not(toml_as_bool(n, &b));
	cr_assert_not(toml_as_datetime(n, &dt));
	cr_assert_not(toml_as_int(NULL, &i));
	cr_assert_null(toml_table_get(n, "x"));
	cr_assert_null(toml_array_at(n, 0));
	cr_assert_eq(toml_len(n), 0);
	toml_free(root);
}

Test(toml_api, table_entries_iterate_in_order_of_first_definition)
{
	struct toml_value *root = parse_ok("zeta = 1\n"
	                                   "alpha = 2\n"
	                                   "[mid.inner]\n"
	                                   "x = 1\n"
	                                   "[beta]\n"
	                                   "[mid]\n"
	                                   "y = 2\n");
	const struct toml_value *mid = toml_table_get(root, "mid");

	cr_assert_eq(toml_len(root), 4);
	cr_assert_str_eq(toml_table_key(root, 0), "zeta");
	cr_assert_str_eq(toml_table_key(root, 1), "alpha");
	cr_assert_str_eq(toml_table_key(root, 2), "mid");
	cr_assert_str_eq(toml_table_key(root, 3), "beta");
	cr_assert_str_eq(toml_table_key(mid, 0), "inner");
	cr_assert_str_eq(toml_table_key(mid, 1), "y");
	cr_assert_null(toml_table_key(root, 4));
	cr_assert_null(toml_table_value(root, 4));
	toml_free(root);
}

Test(toml_api, lookup_follows_dotted_paths_and_stops_at_non_tables)
{
	struct toml_value *root = parse_ok("[pod]\n"
	                                   "name = 'web'\n"
	                                   "env.PATH = '/bin'\n");
	const char *s;

	cr_assert(toml_as_string(toml_lookup(root, "pod.name"), &s, NULL));
	cr_assert_str_eq(s, "web");
	cr_assert(toml_as_string(toml_lookup(root, "pod.env.PATH"), &s, NULL));
	cr_assert_str_eq(s, "/bin");
	cr_assert_null(toml_lookup(root, "pod.missing"));
	cr_assert_null(toml_lookup(root, "pod.name.deeper"));
	cr_assert_null(toml_lookup(root, "nope.name"));
	cr_assert_eq(toml_lookup(root, "pod"), toml_table_get(root, "pod"));
	toml_free(root);
}

Test(toml_api, arrays_hold_mixed_types_in_order)
{
	struct toml_value *root = parse_ok("a = [1, 'two', [3], {four = 4}]\n");
	const struct toml_value *a = toml_table_get(root, "a");

	cr_assert_eq(toml_type(a), TOML_ARRAY);
	cr_assert_eq(toml_len(a), 4);
	cr_assert_eq(toml_type(toml_array_at(a, 0)), TOML_INTEGER);
	cr_assert_eq(toml_type(toml_array_at(a, 1)), TOML_STRING);
	cr_assert_eq(toml_type(toml_array_at(a, 2)), TOML_ARRAY);
	cr_assert_eq(toml_type(toml_array_at(a, 3)), TOML_TABLE);
	cr_assert_null(toml_array_at(a, 4));
	toml_free(root);
}

Test(toml_api, origin_records_layer_dir_line_and_column_of_each_value)
{
	struct toml_value *root = parse_ok("# comment\n"
	                                   "[server]\n"
	                                   "port   = 8080\n"
	                                   "hosts = [\n"
	                                   "  'a',\n"
	                                   "    'b',\n"
	                                   "]\n");
	const struct toml_origin *o =
	    toml_origin(toml_lookup(root, "server.port"));
	const struct toml_value *hosts = toml_lookup(root, "server.hosts");

	cr_assert_str_eq(o->source, "test layer");
	cr_assert_str_eq(o->dir, "/etc/app");
	cr_assert_eq(o->line, 3);
	cr_assert_eq(o->col, 10);
	o = toml_origin(toml_table_get(root, "server"));
	cr_assert_eq(o->line, 2);
	cr_assert_eq(o->col, 1);
	cr_assert_eq(toml_origin(hosts)->line, 4);
	cr_assert_eq(toml_origin(toml_array_at(hosts, 1))->line, 6);
	cr_assert_eq(toml_origin(toml_array_at(hosts, 1))->col, 5);
	toml_free(root);
}

Test(toml_api, origins_share_one_copy_of_the_layer_names)
{
	struct toml_value *root = parse_ok("a = 1\nb = 2\n");

	cr_assert_eq(toml_origin(toml_table_get(root, "a"))->source,
	             toml_origin(toml_table_get(root, "b"))->source);
	cr_assert_eq(toml_origin(toml_table_get(root, "a"))->dir,
	             toml_origin(toml_table_get(root, "b"))->dir);
	toml_free(root);
}

Test(toml_api, columns_count_characters_not_bytes)
{
	struct toml_value *root = parse_ok("k = ['été', 7]\n");
	const struct toml_value *a = toml_table_get(root, "k");

	cr_assert_eq(toml_origin(toml_array_at(a, 1))->col, 13);
	toml_free(root);
}

Test(toml_api, lines_after_multiline_strings_are_counted)
{
	struct toml_value *root = parse_ok("s = \"\"\"\none\ntwo\"\"\"\n"
	                                   "t = '''\r\nx\r\n'''\r\n"
	                                   "n = 1\n");

	cr_assert_eq(toml_origin(toml_table_get(root, "t"))->line, 4);
	cr_assert_eq(toml_origin(toml_table_get(root, "n"))->line, 7);
	toml_free(root);
}

Test(toml_api, strings_may_hold_nul_and_report_their_length)
{
	struct toml_value *root = parse_ok("\"k\\u0000ey\" = \"a\\u0000b\"\n");
	const char *s;
	size_t len;

	cr_assert_eq(toml_table_key_len(root, 0), 4);
	cr_assert_eq(memcmp(toml_table_key(root, 0), "k\0ey", 4), 0);
	cr_assert(toml_as_string(toml_table_value(root, 0), &s, &len));
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(s, "a\0b", 3), 0);
	toml_free(root);
}

Test(toml_api, large_tables_find_every_key)
{
	size_t cap = 20000 * 24, used = 0;
	char *text = malloc(cap);
	struct toml_value *root;
	struct insomnia_error err;
	char key[32];
	int64_t v;

	for (int i = 0; i < 20000; i++)
		used += (size_t)snprintf(text + used, cap - used,
		                         "key_%d = %d\n", i, i);
	root = toml_parse(text, used, "big", NULL, &err);
	cr_assert_not_null(root, "%s", err.message);
	cr_assert_eq(toml_len(root), 20000);
	for (int i = 0; i < 20000; i += 7) {
		snprintf(key, sizeof key, "key_%d", i);
		cr_assert(toml_as_int(toml_table_get(root, key), &v), "%s",
		          key);
		cr_assert_eq(v, i);
	}
	cr_assert_null(toml_table_get(root, "key_20000"));
	toml_free(root);
	free(text);
}

Test(toml_api, integers_cover_the_int64_range_in_every_base)
{
	struct toml_value *root = parse_ok("min = -9_223_372_036_854_775_808\n"
	                                   "max = 9223372036854775807\n"
	                                   "hex = 0x7FFF_FFFF_FFFF_FFFF\n"
	                                   "oct = 0o755\n"
	                                   "bin = 0b1010\n");
	int64_t v;

	cr_assert(toml_as_int(toml_table_get(root, "min"), &v));
	cr_assert_eq(v, INT64_MIN);
	cr_assert(toml_as_int(toml_table_get(root, "max"), &v));
	cr_assert_eq(v, INT64_MAX);
	cr_assert(toml_as_int(toml_table_get(root, "hex"), &v));
	cr_assert_eq(v, INT64_MAX);
	cr_assert(toml_as_int(toml_table_get(root, "oct"), &v));
	cr_assert_eq(v, 0755);
	cr_assert(toml_as_int(toml_table_get(root, "bin"), &v));
	cr_assert_eq(v, 10);
	toml_free(root);
}

Test(toml_api, floats_read_exactly_including_specials)
{
	struct toml_value *root = parse_ok("a = 0.1\nb = -inf\nc = nan\n"
	                                   "d = 1_000.5e-3\ne = -0.0\n"
	                                   "f = 1.7976931348623157e308\n");
	double d;

	cr_assert(toml_as_float(toml_table_get(root, "a"), &d));
	cr_assert_eq(d, 0.1);
	cr_assert(toml_as_float(toml_table_get(root, "b"), &d));
	cr_assert(isinf(d) && d < 0);
	cr_assert(toml_as_float(toml_table_get(root, "c"), &d));
	cr_assert(isnan(d));
	cr_assert(toml_as_float(toml_table_get(root, "d"), &d));
	cr_assert_eq(d, 1.0005);
	cr_assert(toml_as_float(toml_table_get(root, "e"), &d));
	cr_assert(d == 0 && signbit(d));
	cr_assert(toml_as_float(toml_table_get(root, "f"), &d));
	cr_assert_eq(d, 1.7976931348623157e308);
	toml_free(root);
}

Test(toml_api, datetimes_keep_offset_and_cut_fraction_to_nanoseconds)
{
	struct toml_value *root =
	    parse_ok("odt = 1979-05-27T00:32:00.1234567891-07:30\n"
	             "z = 1979-05-27 07:32:00z\n"
	             "ld = 1979-05-27\n"
	             "lt = 07:32:00.5\n");
	struct toml_datetime dt;

	cr_assert(toml_as_datetime(toml_table_get(root, "odt"), &dt));
	cr_assert_eq(toml_type(toml_table_get(root, "odt")), TOML_DATETIME);
	cr_assert_eq(dt.year, 1979);
	cr_assert_eq(dt.nanosecond, 123456789);
	cr_assert_eq(dt.frac_digits, 9);
	cr_assert_eq(dt.offset_minutes, -450);
	cr_assert_not(dt.offset_is_z);
	cr_assert(toml_as_datetime(toml_table_get(root, "z"), &dt));
	cr_assert(dt.offset_is_z);
	cr_assert_eq(toml_type(toml_table_get(root, "ld")), TOML_DATE_LOCAL);
	cr_assert(toml_as_datetime(toml_table_get(root, "lt"), &dt));
	cr_assert_eq(toml_type(toml_table_get(root, "lt")), TOML_TIME_LOCAL);
	cr_assert_eq(dt.nanosecond, 500000000);
	cr_assert_eq(dt.frac_digits, 1);
	toml_free(root);
}

Test(toml_api, datetime_format_writes_rfc3339_as_written)
{
	struct toml_value *root = parse_ok("a = 1979-05-27T00:32:00.999-07:00\n"
	                                   "b = 1979-05-27t07:32:00Z\n"
	                                   "c = 07:32:01\n");
	char buf[TOML_DATETIME_MAX];
	struct toml_datetime dt;
	const char *want[] = {"1979-05-27T00:32:00.999-07:00",
	                      "1979-05-27T07:32:00Z", "07:32:01"};

	for (size_t i = 0; i < 3; i++) {
		const struct toml_value *v = toml_table_value(root, i);

		cr_assert(toml_as_datetime(v, &dt));
		cr_assert_eq(toml_datetime_format(toml_type(v), &dt, buf),
		             strlen(want[i]));
		cr_assert_str_eq(buf, want[i]);
	}
	cr_assert_eq(toml_datetime_format(TOML_STRING, &dt, buf), 0);
	toml_free(root);
}

Test(toml_api, type_names_read_as_words)
{
	cr_assert_str_eq(toml_type_name(TOML_TABLE), "table");
	cr_assert_str_eq(toml_type_name(TOML_STRING), "string");
	cr_assert_str_eq(toml_type_name(TOML_DATE_LOCAL), "local date");
}

Test(toml_api, table_new_is_an_empty_root_with_the_given_origin)
{
	struct toml_value *root = toml_table_new("defaults", NULL);

	cr_assert_eq(toml_type(root), TOML_TABLE);
	cr_assert_eq(toml_len(root), 0);
	cr_assert_str_eq(toml_origin(root)->source, "defaults");
	cr_assert_null(toml_origin(root)->dir);
	toml_free(root);
}

Test(toml_api, bom_crlf_and_empty_documents_are_accepted)
{
	struct toml_value *root = parse_ok("\xef\xbb\xbf"
	                                   "a = 1\r\n\r\nb = 'x'\r\n");

	cr_assert_eq(toml_len(root), 2);
	cr_assert_eq(toml_origin(toml_table_get(root, "a"))->col, 5);
	cr_assert_eq(toml_origin(toml_table_get(root, "b"))->line, 3);
	toml_free(root);
	root = parse_ok("");
	cr_assert_eq(toml_len(root), 0);
	toml_free(root);
}

/* The fast paths for short numbers must agree with the C library, at any
 * distance from the end of the buffer. */
Test(toml_api, numbers_read_the_same_as_the_c_library)
{
	unsigned seed = 12345;
	char text[96], num[48];
	struct insomnia_error err;

	for (int i = 0; i < 20000; i++) {
		int ilen =
		    1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 9;
		int flen =
		    (int)((seed = seed * 1103515245u + 12345u) >> 16) % 10;
		const char *pad = (seed >> 20) & 1 ? "" : "   # pad\n";
		size_t n = 0;
		struct toml_value *root;
		const struct toml_value *v;
		int64_t got_i;
		double got_f;

		if ((seed >> 18) & 1)
			num[n++] = '-';
		for (int d = 0; d < ilen; d++)
			num[n++] =
			    (char)((d == 0 && ilen > 1 ? '1' : '0') +
			           (int)((seed = seed * 1103515245u + 12345u) >>
			                 16) %
			               (d == 0 && ilen > 1 ? 9 : 10));
		if (flen) {
			num[n++] = '.';
			for (int d = 0; d < flen; d++)
				num[n++] =
				    (char)('0' +
				           (int)((seed = seed * 1103515245u +
				                         12345u) >>
				                 16) %
				               10);
		}
		num[n] = '\0';
		snprintf(text, sizeof text, "v = %s%s", num, pad);
		root = toml_parse(text, strlen(text), "n", NULL, &err);
		cr_assert_not_null(root, "%s: %s", text, err.message);
		v = toml_table_get(root, "v");
		if (flen) {
			cr_assert(toml_as_float(v, &got_f), "%s", num);
			cr_assert_eq(got_f, strtod(num, NULL), "%s", num);
		} else {
			cr_assert(toml_as_int(v, &got_i), "%s", num);
			cr_assert_eq(got_i, strtoll(num, NULL, 10), "%s", num);
		}
		toml_free(root);
	}
}
