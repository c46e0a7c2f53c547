#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "error.h"

Test(error, every_kind_has_a_distinct_exit_code_and_a_name_that_round_trips)
{
	for (int a = 0; a < ERR_KIND_COUNT; a++) {
		cr_assert_eq(error_kind_from_name(error_kind_name(a)), a);
		for (int b = a + 1; b < ERR_KIND_COUNT; b++)
			cr_assert_neq(error_exit_code(a), error_exit_code(b),
			              "%s and %s share an exit code",
			              error_kind_name(a), error_kind_name(b));
	}
}

Test(error, design_fixed_exit_codes_hold)
{
	cr_assert_eq(error_exit_code(ERR_NONE), 0);
	cr_assert_eq(error_exit_code(ERR_CONFIG), 2);
	cr_assert_eq(error_exit_code(ERR_ALREADY_RUNNING), 3);
}

Test(error, set_errno_appends_the_system_reason)
{
	struct error err;
	cr_assert_eq(
	    error_set_errno(&err, ERR_IO, ENOENT, "cannot open %s", "x"), -1);
	cr_assert_eq(err.kind, ERR_IO);
	cr_assert_eq(err.errnum, ENOENT);
	cr_assert_str_eq(err.message,
	                 "cannot open x: No such file or directory");
}

Test(error, prefix_puts_context_in_front)
{
	struct error err;
	error_set(&err, ERR_CONFIG, "line 3: expected '='");
	error_prefix(&err, "overlay");
	cr_assert_str_eq(err.message, "overlay: line 3: expected '='");
	cr_assert_eq(err.kind, ERR_CONFIG);
}

Test(error, unknown_kind_name_is_reported_as_unknown)
{
	cr_assert_eq(error_kind_from_name("no_such_kind"), ERR_KIND_COUNT);
}
