/* pod/placeholder.c: ${...} checked and expanded. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "placeholder.h"

static const char *const names[] = {"http", "db", NULL};

static const struct placeholder_port ports[] = {{"http", 8080}, {"db", 6379}};

static const struct placeholder_env env = {
    "web", "/run/web", "/data/s/123", ports, 2,
};

static void check_ok(const char *text)
{
	struct insomnia_error err = {0};

	cr_assert_eq(placeholder_check(text, names, &err), 0, "%s: %s", text,
	             err.message);
}

static void check_refused(const char *text, const char *message)
{
	struct insomnia_error err = {0};

	cr_assert_eq(placeholder_check(text, names, &err), -1, "%s accepted",
	             text);
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG);
	cr_assert_str_eq(err.message, message);
}

static void expands(const char *text, const char *want)
{
	struct insomnia_error err = {0};
	char *got = placeholder_expand(text, &env, &err);

	cr_assert_not_null(got, "%s: %s", text, err.message);
	cr_assert_str_eq(got, want);
	free(got);
}

Test(placeholder, known_names_pass_the_check)
{
	check_ok("");
	check_ok("plain text");
	check_ok("${port.http} ${port.db} ${pod.name} ${pod.dir} "
	         "${session.dir}");
	check_ok("$HOME $ $$ $x $${not.checked} $}");
}

Test(placeholder, unknown_names_are_refused_naming_them)
{
	check_refused("--port=${port.htp}", "unknown placeholder ${port.htp}");
	check_refused("${port.}", "unknown placeholder ${port.}");
	check_refused("${pod}", "unknown placeholder ${pod}");
	check_refused("${}", "unknown placeholder ${}");
	check_refused("${ pod.name}", "unknown placeholder ${ pod.name}");
	check_refused("${session.dir}${HOME}", "unknown placeholder ${HOME}");
}

Test(placeholder, no_ports_in_reach)
{
	struct insomnia_error err = {0};

	cr_assert_eq(placeholder_check("${port.http}", NULL, &err), -1);
	cr_assert_str_eq(err.message, "unknown placeholder ${port.http}");
	cr_assert_eq(placeholder_check("${pod.dir}", NULL, &err), 0);
}

Test(placeholder, unterminated_is_an_error)
{
	check_refused("a ${port.http",
	              "unterminated \"${\" at byte 3 (write \"$${\" for a "
	              "literal \"${\")");
	check_refused("${", "unterminated \"${\" at byte 1 (write \"$${\" for "
	                    "a literal \"${\")");
}

Test(placeholder, long_unknown_names_are_cut_in_the_message)
{
	char text[200] = "${";
	struct insomnia_error err = {0};

	memset(text + 2, 'x', 150);
	strcpy(text + 152, "}");
	cr_assert_eq(placeholder_check(text, names, &err), -1);
	cr_assert(strstr(err.message, "...}"), "%s", err.message);
	cr_assert_lt(strlen(err.message), 100);
}

Test(placeholder, expand_replaces_every_one)
{
	expands("", "");
	expands("x", "x");
	expands("127.0.0.1:${port.http}", "127.0.0.1:8080");
	expands("${pod.dir}/db.sock", "/run/web/db.sock");
	expands("${pod.name}-${session.dir}-${port.db}${port.http}",
	        "web-/data/s/123-63798080");
}

Test(placeholder, dollar_dollar_brace_is_a_literal)
{
	expands("$${port.http}", "${port.http}");
	/* scanned left to right: the first "$" is plain, then "$${" */
	expands("$$${pod.name}", "$${pod.name}");
	expands("$${$${", "${${");
	expands("a$b $$ $", "a$b $$ $");
	check_ok("$${unknown");
}

Test(placeholder, expand_refuses_what_it_cannot_fill)
{
	struct insomnia_error err = {0};
	struct placeholder_env none = {"web", NULL, NULL, NULL, 0};

	cr_assert_null(placeholder_expand("${port.ftp}", &env, &err));
	cr_assert_str_eq(err.message, "unknown placeholder ${port.ftp}");
	cr_assert_null(placeholder_expand("${pod.dir}", &none, &err));
	cr_assert_null(placeholder_expand("x${", &env, &err));
	cr_assert(strstr(err.message, "unterminated"));
}

Test(placeholder, long_text_grows_the_buffer)
{
	size_t n = 10000;
	char *text = malloc(n * 12 + 1), *want = malloc(n * 4 + 1), *got;
	struct insomnia_error err = {0};

	cr_assert(text && want);
	text[0] = want[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(text + (i ? (i - 1) * 12 : 0), "${port.http}");
		strcat(want + (i ? (i - 1) * 4 : 0), "8080");
	}
	got = placeholder_expand(text, &env, &err);
	cr_assert_not_null(got);
	cr_assert_eq(strlen(got), n * 4);
	cr_assert_str_eq(got, want);
	free(got);
	free(text);
	free(want);
}
