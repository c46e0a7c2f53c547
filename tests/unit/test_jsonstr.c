/* jsonstr: JSON strings from bytes that may not be UTF-8. */
#include <criterion/criterion.h>
#include <string.h>

#include "error.h"
#include "jsonstr.h"
#include "utf8seq.h"

/* Encode as the CLI does and parse back: the round trip jansson does. */
static char *round_trip(json_t *v)
{
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	json_t *back;
	char *out;

	cr_assert_not_null(text, "could not encode");
	back = json_loads(text, JSON_DECODE_ANY, NULL);
	cr_assert_not_null(back, "not JSON: %s", text);
	out = strdup(json_string_value(back));
	json_decref(back);
	free(text);
	json_decref(v);
	return out;
}

Test(jsonstr, valid_utf8_is_kept_as_it_is)
{
	char *s = round_trip(
	    jsonstr_new("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));

	cr_assert_str_eq(s, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	free(s);
}

Test(jsonstr, each_invalid_byte_becomes_one_replacement_character)
{
	/* a stray continuation, a lone lead, an overlong '/', a surrogate,
	 * past U+10FFFF, a truncated sequence at the end */
	char *s = round_trip(jsonstr_new(
	    "a\x80z\xffz\xc0\xafz\xed\xa0\x80z\xf4\x90\x80\x80z\xe2\x82"));

	cr_assert_str_eq(s, "a\xef\xbf\xbdz\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf"
	                    "\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf"
	                    "\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf"
	                    "\xbd\xef\xbf\xbd");
	free(s);
}

Test(jsonstr, null_is_json_null_and_nul_bytes_are_kept)
{
	json_t *v = jsonstr_new(NULL);

	cr_assert(json_is_null(v));
	json_decref(v);
	v = jsonstr_newn("a\0\xff", 3);
	cr_assert_eq(json_string_length(v), 5);
	cr_assert_eq(memcmp(json_string_value(v), "a\0\xef\xbf\xbd", 5), 0);
	json_decref(v);
}

Test(jsonstr, cut_never_splits_a_character)
{
	const char *s = "ab\xe2\x82\xac"; /* 5 bytes */

	cr_assert_eq(utf8_cut(s, 5, 10), 5);
	cr_assert_eq(utf8_cut(s, 5, 5), 5);
	cr_assert_eq(utf8_cut(s, 5, 4), 2);
	cr_assert_eq(utf8_cut(s, 5, 3), 2);
	cr_assert_eq(utf8_cut(s, 5, 2), 2);
	/* invalid bytes are single units and may be cut between */
	cr_assert_eq(utf8_cut("\xff\xff\xff", 3, 2), 2);
}

Test(jsonstr, a_long_error_message_is_cut_on_a_character_boundary)
{
	char name[INSOMNIA_ERROR_MESSAGE_MAX * 2] = "";
	struct insomnia_error err;
	size_t len;

	for (size_t i = 0; i + 3 < sizeof name; i += 3)
		strcat(name, "\xe2\x82\xac");
	for (int shift = 0; shift < 3; shift++) {
		insomnia_error_set(&err, INSOMNIA_ERR_CONFIG, "%.*s%s", shift,
		                   "xx", name);
		len = strlen(err.message);
		cr_assert_gt(len, INSOMNIA_ERROR_MESSAGE_MAX - 4);
		cr_assert_eq((len - (size_t)shift) % 3, 0,
		             "half a character kept (shift %d, len %zu)", shift,
		             len);
	}
}

Test(jsonstr, a_prefixed_error_message_is_cut_on_a_character_boundary)
{
	char name[INSOMNIA_ERROR_MESSAGE_MAX * 2] = "";
	struct insomnia_error err;
	size_t len;

	for (size_t i = 0; i + 3 < sizeof name; i += 3)
		strcat(name, "\xe2\x82\xac");
	for (int shift = 0; shift < 3; shift++) {
		insomnia_error_set(&err, INSOMNIA_ERR_CONFIG, "%s", name);
		insomnia_error_prefix(&err, "%.*s", shift + 1, "xyz");
		len = strlen(err.message) - (size_t)shift - 3; /* "x: " */
		cr_assert_gt(len, INSOMNIA_ERROR_MESSAGE_MAX - 9);
		cr_assert_eq(len % 3, 0, "half a character kept (shift %d)",
		             shift);
	}
}
