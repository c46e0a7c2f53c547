#include <criterion/criterion.h>
#include <string.h>

#include <insomnia/dirs.h>

static void refused(const char *name, const char *reason_part)
{
	struct insomnia_error err;
	cr_assert_eq(insomnia_name_check(name, &err), -1, "accepted \"%s\"",
	             name);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_NAME);
	cr_assert(strstr(err.message, reason_part),
	          "reason for \"%s\" was \"%s\"", name, err.message);
}

Test(podname, accepts_the_documented_alphabet)
{
	cr_assert_eq(insomnia_name_check("web", NULL), 0);
	cr_assert_eq(insomnia_name_check("A-z_0.9", NULL), 0);
	cr_assert_eq(insomnia_name_check("_x", NULL), 0);
	cr_assert_eq(insomnia_name_check("x.", NULL), 0);
}

Test(podname, refuses_empty_dot_and_traversal)
{
	refused("", "empty");
	refused(".", "starts with '.'");
	refused("..", "starts with '.'");
	refused("../x", "starts with '.'");
	refused("a/b", "0x2f");
	refused(".hidden", "starts with '.'");
	refused("-x", "starts with '-'");
}

Test(podname, length_limit_is_63)
{
	char name[80];
	memset(name, 'a', sizeof name);
	name[63] = '\0';
	cr_assert_eq(insomnia_name_check(name, NULL), 0);
	name[63] = 'a';
	name[64] = '\0';
	refused(name, "64 characters");
}

Test(podname, refuses_non_ascii_and_control_characters)
{
	refused("caf\xc3\xa9", "0xc3");
	refused("a\tb", "0x09");
	refused("a\nb", "0x0a");
	refused("a b", "0x20");
	refused("a\x7f", "0x7f");
}

/* Every public call taking a name checks it first: NULL included. */
Test(podname, refuses_null)
{
	refused(NULL, "no pod name");
}
