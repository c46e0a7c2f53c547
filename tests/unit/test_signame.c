/* common/signame.c: signal names both ways. */
#include <criterion/criterion.h>
#include <signal.h>

#include "signame.h"

Test(signame, names_with_and_without_sig)
{
	cr_assert_eq(signame_to_number("TERM"), SIGTERM);
	cr_assert_eq(signame_to_number("SIGTERM"), SIGTERM);
	cr_assert_eq(signame_to_number("KILL"), SIGKILL);
	cr_assert_eq(signame_to_number("SIGINT"), SIGINT);
	cr_assert_eq(signame_to_number("HUP"), SIGHUP);
	cr_assert_eq(signame_to_number("QUIT"), SIGQUIT);
	cr_assert_eq(signame_to_number("USR1"), SIGUSR1);
	cr_assert_eq(signame_to_number("USR2"), SIGUSR2);
	cr_assert_eq(signame_to_number("WINCH"), SIGWINCH);
	cr_assert_eq(signame_to_number("SIGCHLD"), SIGCHLD);
}

Test(signame, anything_else_is_refused)
{
	const char *bad[] = {"",           "SIG",      "term",   "TREM",
	                     "SIGSIGTERM", "15",       " TERM",  "TERM ",
	                     "RTMIN",      "SIGTERMX", "sigterm"};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(signame_to_number(bad[i]), -1, "\"%s\" taken",
		             bad[i]);
	cr_assert_eq(signame_to_number(NULL), -1);
}

Test(signame, numbers_to_names)
{
	cr_assert_str_eq(signame_from_number(SIGTERM), "TERM");
	cr_assert_str_eq(signame_from_number(SIGKILL), "KILL");
	cr_assert_str_eq(signame_from_number(SIGSEGV), "SEGV");
	cr_assert_null(signame_from_number(0));
	cr_assert_null(signame_from_number(-1));
	cr_assert_null(signame_from_number(SIGRTMIN));
	cr_assert_null(signame_from_number(1000));
}

Test(signame, every_usual_signal_round_trips)
{
	for (int sig = 1; sig < 32; sig++) {
		const char *name = signame_from_number(sig);
		cr_assert_not_null(name, "signal %d has no name", sig);
		cr_assert_eq(signame_to_number(name), sig, "%s", name);
	}
}
