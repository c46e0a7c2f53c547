/* toml_merge: layered configuration. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

static struct toml_value *layer(const char *source, const char *dir,
                                const char *text)
{
	struct insomnia_error err;
	struct toml_value *root =
	    toml_parse(text, strlen(text), source, dir, &err);

	cr_assert_not_null(root, "parse failed: %s", err.message);
	return root;
}

static struct toml_value *merge_ok(const struct toml_value *base,
                                   const struct toml_value *overlay)
{
	struct insomnia_error err;
	struct toml_value *m = toml_merge(base, overlay, &err);

	cr_assert_not_null(m, "merge failed: %s", err.message);
	return m;
}

static int64_t int_at(const struct toml_value *root, const char *path)
{
	int64_t v = -1;

	cr_assert(toml_as_int(toml_lookup(root, path), &v), "%s", path);
	return v;
}

static const char *str_at(const struct toml_value *root, const char *path)
{
	const char *s = NULL;

	cr_assert(toml_as_string(toml_lookup(root, path), &s, NULL), "%s",
	          path);
	return s;
}

Test(toml_merge, tables_merge_key_by_key_recursively)
{
	struct toml_value *base = layer("base", NULL,
	                                "[pod]\nname = 'a'\nport = 1\n"
	                                "[pod.env]\nHOME = '/h'\n");
	struct toml_value *over = layer("over", NULL,
	                                "[pod]\nport = 2\n"
	                                "[pod.env]\nPATH = '/bin'\n");
	struct toml_value *m = merge_ok(base, over);

	cr_assert_str_eq(str_at(m, "pod.name"), "a");
	cr_assert_eq(int_at(m, "pod.port"), 2);
	cr_assert_str_eq(str_at(m, "pod.env.HOME"), "/h");
	cr_assert_str_eq(str_at(m, "pod.env.PATH"), "/bin");
	toml_free(m);
	toml_free(over);
	toml_free(base);
}

Test(toml_merge, arrays_are_replaced_not_appended)
{
	struct toml_value *base = layer("base", NULL,
	                                "a = [1, 2, 3]\n"
	                                "[[t]]\nx = 1\n[[t]]\nx = 2\n");
	struct toml_value *over =
	    layer("over", NULL, "a = [9]\n[[t]]\nx = 3\n");
	struct toml_value *m = merge_ok(base, over);
	const struct toml_value *a = toml_table_get(m, "a");

	cr_assert_eq(toml_len(a), 1);
	cr_assert_eq(toml_len(toml_table_get(m, "t")), 1);
	cr_assert_eq(int_at(toml_array_at(toml_table_get(m, "t"), 0), "x"), 3);
	toml_free(m);
	toml_free(over);
	toml_free(base);
}

Test(toml_merge, a_table_replaces_a_scalar_and_a_scalar_a_table)
{
	struct toml_value *base = layer("base", NULL, "a = 1\n[b]\nc = 2\n");
	struct toml_value *over =
	    layer("over", NULL, "b = 'flat'\n[a]\nx = 1\n");
	struct toml_value *m = merge_ok(base, over);

	cr_assert_eq(int_at(m, "a.x"), 1);
	cr_assert_str_eq(str_at(m, "b"), "flat");
	toml_free(m);
	toml_free(over);
	toml_free(base);
}

Test(toml_merge, merge_keeps_origin_of_layer_that_set_each_value)
{
	struct toml_value *base = layer("user manifest", "/home/u/.config",
	                                "[pod]\nname = 'a'\n\nport = 1\n");
	struct toml_value *over = layer("overlay", NULL, "pod.port = 2\n");
	struct toml_value *m = merge_ok(base, over);
	const struct toml_origin *name =
	    toml_origin(toml_lookup(m, "pod.name"));
	const struct toml_origin *port =
	    toml_origin(toml_lookup(m, "pod.port"));

	cr_assert_str_eq(name->source, "user manifest");
	cr_assert_str_eq(name->dir, "/home/u/.config");
	cr_assert_eq(name->line, 2);
	cr_assert_eq(name->col, 8);
	cr_assert_str_eq(port->source, "overlay");
	cr_assert_null(port->dir);
	cr_assert_eq(port->line, 1);
	cr_assert_eq(port->col, 12);
	toml_free(m);
	toml_free(over);
	toml_free(base);
}

Test(toml_merge, three_layers_each_keep_their_source_and_dir)
{
	struct toml_value *l1 =
	    layer("defaults", NULL, "a = 1\nb = 1\nc = 1\n");
	struct toml_value *l2 = layer("user", "/u", "b = 2\n");
	struct toml_value *l3 = layer("project", "/p", "c = 3\n");
	struct toml_value *m12 = merge_ok(l1, l2);
	struct toml_value *m = merge_ok(m12, l3);

	toml_free(m12);
	toml_free(l1);
	toml_free(l2);
	toml_free(l3);
	cr_assert_str_eq(toml_origin(toml_table_get(m, "a"))->source,
	                 "defaults");
	cr_assert_str_eq(toml_origin(toml_table_get(m, "b"))->source, "user");
	cr_assert_str_eq(toml_origin(toml_table_get(m, "b"))->dir, "/u");
	cr_assert_str_eq(toml_origin(toml_table_get(m, "c"))->source,
	                 "project");
	cr_assert_str_eq(toml_origin(toml_table_get(m, "c"))->dir, "/p");
	/* One copy of a layer's names serves all its values. */
	cr_assert_eq(toml_origin(toml_table_get(m, "a"))->source,
	             toml_origin(m)->source);
	toml_free(m);
}

Test(toml_merge, inputs_are_untouched_and_the_result_outlives_them)
{
	struct toml_value *base =
	    layer("base", NULL, "[t]\na = 1\nlist = [1]\n");
	struct toml_value *over = layer("over", NULL, "[t]\na = 2\nb = 3\n");
	struct toml_value *m = merge_ok(base, over);

	cr_assert_eq(int_at(base, "t.a"), 1);
	cr_assert_null(toml_lookup(base, "t.b"));
	cr_assert_eq(toml_len(toml_table_get(base, "t")), 2);
	cr_assert_eq(int_at(over, "t.a"), 2);
	cr_assert_null(toml_lookup(over, "t.list"));
	toml_free(base);
	toml_free(over);
	cr_assert_eq(int_at(m, "t.a"), 2);
	cr_assert_eq(int_at(m, "t.b"), 3);
	cr_assert_str_eq(toml_origin(toml_lookup(m, "t.b"))->source, "over");
	toml_free(m);
}

Test(toml_merge, base_keys_keep_their_order_and_new_keys_follow)
{
	struct toml_value *base = layer("base", NULL, "b = 1\na = 1\n");
	struct toml_value *over = layer("over", NULL, "c = 2\na = 2\n");
	struct toml_value *m = merge_ok(base, over);

	cr_assert_str_eq(toml_table_key(m, 0), "b");
	cr_assert_str_eq(toml_table_key(m, 1), "a");
	cr_assert_str_eq(toml_table_key(m, 2), "c");
	toml_free(m);
	toml_free(over);
	toml_free(base);
}

Test(toml_merge, merging_onto_an_empty_table_copies_the_overlay)
{
	struct toml_value *base = toml_table_new("defaults", NULL);
	struct toml_value *over = layer("over", "/o", "x = 'y'\n[t]\nz = 1\n");
	struct toml_value *m = merge_ok(base, over);

	cr_assert_str_eq(str_at(m, "x"), "y");
	cr_assert_eq(int_at(m, "t.z"), 1);
	cr_assert_str_eq(toml_origin(toml_lookup(m, "t.z"))->dir, "/o");
	cr_assert_str_eq(toml_origin(m)->source, "defaults");
	toml_free(m);
	toml_free(over);
	toml_free(base);
}

Test(toml_merge, large_tables_merge_every_key)
{
	char text[64];
	struct toml_value *base = toml_table_new("base", NULL), *m, *over;
	size_t cap = 5000 * 20, used = 0;
	char *doc = malloc(cap);
	struct insomnia_error err;

	for (int i = 0; i < 5000; i++)
		used += (size_t)snprintf(doc + used, cap - used, "k%d = %d\n",
		                         i, i);
	over = toml_parse(doc, used, "over", NULL, &err);
	cr_assert_not_null(over, "%s", err.message);
	m = merge_ok(base, over);
	cr_assert_eq(toml_len(m), 5000);
	snprintf(text, sizeof text, "k%d", 4321);
	cr_assert_eq(int_at(m, text), 4321);
	toml_free(m);
	toml_free(over);
	toml_free(base);
	free(doc);
}
