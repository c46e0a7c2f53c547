/* toml_write: text that parses back to the same tree. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"
#include "tree_equal.h"

static struct toml_value *parse_ok(const char *text, size_t len)
{
	struct insomnia_error err;
	struct toml_value *root = toml_parse(text, len, "test", NULL, &err);

	cr_assert_not_null(root, "parse failed: %s\n%s", err.message, text);
	return root;
}

/* Writes root, parses the text and checks both trees hold the same values. */
static char *assert_round_trip(const struct toml_value *root)
{
	size_t len;
	char *text = toml_write(root, &len);
	struct toml_value *again;

	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len);
	again = parse_ok(text, len);
	cr_assert(toml_tree_equal(root, again),
	          "round trip changed the tree:\n%s", text);
	toml_free(again);
	return text;
}

static void round_trip_text(const char *toml)
{
	struct toml_value *root = parse_ok(toml, strlen(toml));

	free(assert_round_trip(root));
	toml_free(root);
}

Test(toml_write, every_kind_of_value_parses_back_the_same)
{
	round_trip_text("title = 'x'\n"
	                "i = -9223372036854775808\n"
	                "f = [0.1, -0.0, 1e300, 5e-324, inf, -inf, nan, 3.0]\n"
	                "b = [true, false]\n"
	                "d = [1979-05-27T00:32:00.999999-07:00, "
	                "1979-05-27T07:32:00Z, 1979-05-27T07:32:00.5, "
	                "1979-05-27, 07:32:00, 00:00:00.000000001]\n"
	                "mixed = [1, 'a', [2, [3]], {x = {y = 1}}, []]\n"
	                "empty = {}\n"
	                "[server.http]\n"
	                "port = 8080\n"
	                "[[server.routes]]\n"
	                "path = '/'\n"
	                "[server.routes.opts]\n"
	                "gzip = true\n"
	                "[[server.routes]]\n"
	                "path = '/api'\n"
	                "[[server.routes.hooks]]\n"
	                "name = 'h'\n");
}

Test(toml_write, keys_that_are_not_bare_are_quoted)
{
	const char *toml = "\"a b\" = 1\n\"\" = 2\n'x.y' = 3\n"
	                   "\"\\u0000\\n\" = 4\n[\"sec tion\".'q\"']\nk = 5\n";
	struct toml_value *root = parse_ok(toml, strlen(toml));
	char *text = assert_round_trip(root);

	cr_assert_not_null(strstr(text, "\"a b\" = 1"), "%s", text);
	cr_assert_not_null(strstr(text, "\"\" = 2"), "%s", text);
	cr_assert_not_null(strstr(text, "\"x.y\" = 3"), "%s", text);
	cr_assert_not_null(strstr(text, "[\"sec tion\".\"q\\\"\"]"), "%s",
	                   text);
	free(text);
	toml_free(root);
}

Test(toml_write, strings_escape_quotes_backslashes_and_controls)
{
	const char *toml = "s = \"q\\\" b\\\\ t\\t n\\n nul\\u0000 del\\u007f "
	                   "é\"\n";
	struct toml_value *root = parse_ok(toml, strlen(toml));
	char *text = assert_round_trip(root);

	cr_assert_str_eq(text, "s = \"q\\\" b\\\\ t\\t n\\n nul\\u0000 "
	                       "del\\u007F é\"\n");
	free(text);
	toml_free(root);
}

Test(toml_write, floats_are_written_to_read_back_exactly)
{
	const char *toml = "a = 0.1\nb = 100.0\nc = -0.0\nd = 1e22\n";
	struct toml_value *root = parse_ok(toml, strlen(toml));
	char *text = assert_round_trip(root);

	cr_assert_str_eq(text, "a = 0.1\nb = 100.0\nc = -0.0\nd = 1e+22\n");
	free(text);
	toml_free(root);
}

Test(toml_write, arrays_of_tables_become_sections)
{
	struct toml_value *root = parse_ok("[[p]]\nx = 1\n[[p]]\nx = 2\n", 24);
	char *text = assert_round_trip(root);

	cr_assert_str_eq(text, "\n[[p]]\nx = 1\n\n[[p]]\nx = 2\n");
	free(text);
	toml_free(root);
}

Test(toml_write, merged_trees_write_too)
{
	struct toml_value *a = parse_ok("[t]\nx = 1\n", 10);
	struct toml_value *b = parse_ok("[t]\ny = [1, 2]\n", 15);
	struct insomnia_error err;
	struct toml_value *m = toml_merge(a, b, &err);

	cr_assert_not_null(m);
	free(assert_round_trip(m));
	toml_free(m);
	toml_free(a);
	toml_free(b);
}

Test(toml_write, an_empty_table_writes_an_empty_document)
{
	struct toml_value *root = toml_table_new("empty", NULL);
	size_t len = 99;
	char *text = toml_write(root, &len);

	cr_assert_str_eq(text, "");
	cr_assert_eq(len, 0);
	free(text);
	toml_free(root);
}

/* Every valid case of the conformance suite survives a round trip. */
Test(toml_write, every_valid_conformance_case_round_trips)
{
	const char *dir = getenv("TOML_TEST_DIR");
	char path[1024], line[512];
	FILE *list;
	int n = 0;

	snprintf(path, sizeof path, "%s/files-toml-1.0.0",
	         dir ? dir : "../shared/toml-test");
	list = fopen(path, "r");
	cr_assert_not_null(list, "cannot open %s", path);
	while (fgets(line, sizeof line, list)) {
		size_t len = strcspn(line, "\n");
		FILE *f;
		char *buf;
		long size;
		struct toml_value *root;

		line[len] = '\0';
		if (strncmp(line, "valid/", 6) != 0 || len < 5 ||
		    strcmp(line + len - 5, ".toml") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s",
		         dir ? dir : "../shared/toml-test", line);
		f = fopen(path, "rb");
		cr_assert_not_null(f, "%s", path);
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		rewind(f);
		buf = malloc((size_t)size + 1);
		cr_assert_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
		fclose(f);
		root = parse_ok(buf, (size_t)size);
		free(assert_round_trip(root));
		toml_free(root);
		free(buf);
		n++;
	}
	fclose(list);
	cr_assert_eq(n, 168);
}
