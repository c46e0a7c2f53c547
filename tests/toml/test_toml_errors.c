/* Parse errors: where they point and how they read. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

/* Parses text as the "overlay" layer, expecting failure; returns the
 * message in a static buffer. */
static const char *fail_len(const char *text, size_t len)
{
	static struct insomnia_error err;
	struct toml_value *root = toml_parse(text, len, "overlay", NULL, &err);

	cr_assert_null(root, "accepted: %s", text);
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG);
	return err.message;
}

static const char *fail(const char *text)
{
	return fail_len(text, strlen(text));
}

Test(toml_errors, missing_equals_names_the_key_and_what_was_found)
{
	cr_assert_str_eq(fail("[pod]\nname\n"),
	                 "overlay:2:5: expected '=' after key \"name\", found "
	                 "end of line");
	cr_assert_str_eq(fail("name \"x\""),
	                 "overlay:1:6: expected '=' after key \"name\", found "
	                 "'\"'");
}

Test(toml_errors, bad_escape_points_at_the_backslash)
{
	cr_assert_str_eq(fail("s = \"ok \\q\"\n"),
	                 "overlay:1:9: expected an escape (\\b \\t \\n \\f \\r "
	                 "\\\" \\\\ \\uXXXX \\UXXXXXXXX) after '\\', found "
	                 "'q'");
}

Test(toml_errors, escapes_must_name_unicode_scalar_values)
{
	cr_assert_str_eq(fail("s = \"\\uD800\""),
	                 "overlay:1:6: expected a Unicode scalar value, found "
	                 "surrogate \\uD800");
	cr_assert_str_eq(fail("s = \"\\U00110000\""),
	                 "overlay:1:6: expected a code point up to U+10FFFF, "
	                 "found \\U00110000");
	cr_assert_str_eq(fail("s = \"\\u12\""),
	                 "overlay:1:10: expected 4 hex digits after \\u, found "
	                 "'\"'");
}

Test(toml_errors, redefined_table_says_where_it_was_first_defined)
{
	cr_assert_str_eq(fail("x = 1\n[a.b]\nc = 1\n[a.b]\n"),
	                 "overlay:4:1: table [a.b] is already defined (at line "
	                 "2)");
}

Test(toml_errors, duplicate_key_says_where_it_was_first_set)
{
	cr_assert_str_eq(fail("[t]\nport = 1\nport = 2\n"),
	                 "overlay:3:1: key \"port\" is already defined (at "
	                 "line 2)");
}

Test(toml_errors, table_rules_are_enforced_with_reasons)
{
	cr_assert_str_eq(fail("a.b = 1\n[a]\n"),
	                 "overlay:2:1: table [a] is already defined by dotted "
	                 "keys (at line 1)");
	cr_assert_str_eq(fail("[a.b]\n[a]\nb.c = 1\n"),
	                 "overlay:3:1: cannot set key \"b.c\": table \"b\" is "
	                 "defined by a header (at line 1) and dotted keys "
	                 "cannot extend it");
	cr_assert_str_eq(fail("a = [1]\n[[a]]\n"),
	                 "overlay:2:1: cannot append to static array a "
	                 "(defined at line 1) with [[a]]");
	cr_assert_str_eq(fail("a = {x = 1}\n[a.y]\n"),
	                 "overlay:2:2: cannot define table [a.y]: a is already "
	                 "an inline table (at line 1), which cannot be "
	                 "extended");
	cr_assert_str_eq(fail("a = {x = 1}\na.y = 2\n"),
	                 "overlay:2:1: cannot set key \"a.y\": \"a\" is "
	                 "already an inline table (at line 1), which cannot be "
	                 "extended");
	cr_assert_str_eq(fail("[[a]]\n[a]\n"),
	                 "overlay:2:1: table [a] is already defined as an "
	                 "array of tables (at line 1)");
}

Test(toml_errors, unterminated_strings_report_the_line_they_opened_on)
{
	cr_assert_str_eq(fail("a = 1\ns = \"abc\nb = 2\n"),
	                 "overlay:2:9: expected '\"' to close the string "
	                 "opened on line 2, found end of line");
	cr_assert_str_eq(fail("s = '''abc\n\nmore"),
	                 "overlay:3:5: expected \"'''\" to close the string "
	                 "opened on line 1, found end of file");
}

Test(toml_errors, nesting_of_100000_brackets_stops_at_the_depth_limit)
{
	enum { n = 100000 };
	static char text[n + 5];
	char want[128];

	memcpy(text, "a = ", 4);
	memset(text + 4, '[', n);
	text[n + 4] = '\0';
	snprintf(want, sizeof want,
	         "overlay:1:%d: expected at most %d levels of nested tables "
	         "and arrays, found more",
	         4 + TOML_MAX_DEPTH + 1, TOML_MAX_DEPTH);
	cr_assert_str_eq(fail(text), want);
}

Test(toml_errors, nesting_of_inline_tables_stops_at_the_depth_limit)
{
	enum { n = 100000 };
	static char text[5 * n + 5];

	memcpy(text, "a = ", 4);
	for (size_t i = 0; i < n; i++)
		memcpy(text + 4 + 5 * i, "{b = ", 5);
	text[5 * n + 4] = '\0';
	cr_assert_not_null(strstr(fail(text), "levels of nested"));
}

Test(toml_errors, deep_dotted_headers_also_hit_the_depth_limit)
{
	enum { n = 300 };
	static char text[2 * n + 8];
	size_t used = 0;

	text[used++] = '[';
	for (size_t i = 0; i < n; i++) {
		text[used++] = 'k';
		text[used++] = '.';
	}
	memcpy(text + used, "k]\n", 4);
	cr_assert_not_null(strstr(fail(text), "levels of nested"));
}

Test(toml_errors, invalid_utf8_is_reported_where_it_is)
{
	cr_assert_str_eq(fail("a = 1\n# caf\xc3\n"),
	                 "overlay:2:6: expected UTF-8 text, found invalid byte "
	                 "0xc3");
	cr_assert_str_eq(fail("s = \"\xed\xa0\x80\""),
	                 "overlay:1:6: expected UTF-8 text, found invalid byte "
	                 "0xed");
}

Test(toml_errors, control_characters_are_refused_even_in_comments)
{
	cr_assert_str_eq(fail("a = 1 # bell \x07\n"),
	                 "overlay:1:14: expected text, found control character "
	                 "U+0007 (inside a string, write it as an escape)");
	cr_assert_str_eq(fail_len("s = \"a\0b\"", 9),
	                 "overlay:1:7: expected text, found control character "
	                 "U+0000 (inside a string, write it as an escape)");
	cr_assert_str_eq(fail("a = 1\rb = 2"),
	                 "overlay:1:6: expected a line feed after a carriage "
	                 "return, found 'b'");
}

Test(toml_errors, crlf_lines_are_counted_like_lf_lines)
{
	cr_assert_str_eq(fail("a = 1\r\nb = 2\r\nc\r\n"),
	                 "overlay:3:2: expected '=' after key \"c\", found end "
	                 "of line");
	cr_assert_str_eq(fail("s = \"\"\"\r\nx\r\n\"\"\"\r\nt = \"\\x\"\r\n"),
	                 "overlay:4:6: expected an escape (\\b \\t \\n \\f \\r "
	                 "\\\" \\\\ \\uXXXX \\UXXXXXXXX) after '\\', found "
	                 "'x'");
}

Test(toml_errors, columns_count_characters_not_bytes)
{
	cr_assert_str_eq(fail("\"été\" = 1 2\n"),
	                 "overlay:1:11: expected end of line after a value, "
	                 "found '2'");
}

Test(toml_errors, numbers_and_dates_name_what_was_expected)
{
	cr_assert_str_eq(fail("n = 9223372036854775808\n"),
	                 "overlay:1:5: expected an integer from "
	                 "-9223372036854775808 to 9223372036854775807, found "
	                 "'9223372036854775808'");
	cr_assert_str_eq(fail("n = 0123\n"),
	                 "overlay:1:5: expected a number without leading "
	                 "zeros, found '0123'");
	cr_assert_str_eq(fail("d = 2023-02-29\n"),
	                 "overlay:1:5: expected a day that exists in that "
	                 "month, found '2023-02-29'");
	cr_assert_str_eq(fail("v = yes\n"),
	                 "overlay:1:5: expected a value, found 'yes'");
}

Test(toml_errors, inline_tables_stay_on_one_line_without_trailing_comma)
{
	cr_assert_str_eq(fail("t = {a = 1,}\n"),
	                 "overlay:1:12: expected a key, found '}'");
	cr_assert_str_eq(fail("t = {a = 1\n}\n"),
	                 "overlay:1:11: expected ',' or '}' after a key/value "
	                 "pair of an inline table, found end of line");
}

Test(toml_errors, a_null_error_pointer_is_allowed)
{
	cr_assert_null(toml_parse("[a]\n[a]\n", 8, "x", NULL, NULL));
}
