#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "error.h"

Test(error, every_kind_has_a_distinct_exit_code_and_a_name_that_round_trips)
{
	for (int a = 0; a < INSOMNIA_ERR_KIND_COUNT; a++) {
		cr_assert_eq(
		    insomnia_error_kind_from_name(insomnia_error_kind_name(a)),
		    a);
		for (int b = a + 1; b < INSOMNIA_ERR_KIND_COUNT; b++)
			cr_assert_neq(insomnia_error_exit_code(a),
			              insomnia_error_exit_code(b),
			              "%s and %s share an exit code",
			              insomnia_error_kind_name(a),
			              insomnia_error_kind_name(b));
	}
}

Test(error, design_fixed_exit_codes_hold)
{
	cr_assert_eq(insomnia_error_exit_code(INSOMNIA_ERR_NONE), 0);
	cr_assert_eq(insomnia_error_exit_code(INSOMNIA_ERR_CONFIG), 2);
	cr_assert_eq(insomnia_error_exit_code(INSOMNIA_ERR_ALREADY_RUNNING), 3);
}

Test(error, set_errno_appends_the_system_reason)
{
	struct insomnia_error err;
	cr_assert_eq(insomnia_error_set_errno(&err, INSOMNIA_ERR_IO, ENOENT,
	                                      "cannot open %s", "x"),
	             -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_IO);
	cr_assert_eq(err.errnum, ENOENT);
	cr_assert_str_eq(err.message,
	                 "cannot open x: No such file or directory");
}

Test(error, prefix_puts_context_in_front)
{
	struct insomnia_error err;
	insomnia_error_set(&err, INSOMNIA_ERR_CONFIG, "line 3: expected '='");
	insomnia_error_prefix(&err, "overlay");
	cr_assert_str_eq(err.message, "overlay: line 3: expected '='");
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG);
}

Test(error, unknown_kind_name_is_reported_as_unknown)
{
	cr_assert_eq(insomnia_error_kind_from_name("no_such_kind"),
	             INSOMNIA_ERR_KIND_COUNT);
}
