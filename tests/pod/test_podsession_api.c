/* pod/podsession.c as an API: err may be NULL everywhere it is taken. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "podsession.h"

static char home[64];

static void setup(void)
{
	snprintf(home, sizeof home, "/tmp/podsession-api-XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	setenv("INSOMNIA_HOME", home, 1);
	unsetenv("INSOMNIA_DATA_DIR");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(podsession_api, .init = setup, .fini = teardown);

static void resume_fails_without_err(void)
{
	struct podsession s;

	podsession_init(&s);
	cr_assert_eq(
	    podsession_choose(&s, "0f8fad5b-d9cb-469f-a165-70867728950e", NULL),
	    0);
	cr_assert_eq(podsession_resume(&s, NULL), -1);
	podsession_close(&s, NULL);
}

Test(podsession_api, resuming_with_no_sessions_dir_and_a_null_err_fails)
{
	resume_fails_without_err();
}

Test(podsession_api, resuming_an_unknown_session_with_a_null_err_fails)
{
	char path[128];

	snprintf(path, sizeof path, "%s/sessions", home);
	cr_assert_eq(mkdir(path, 0700), 0);
	resume_fails_without_err();
}

Test(podsession_api, a_bad_id_with_a_null_err_fails)
{
	struct podsession s;

	podsession_init(&s);
	cr_assert_eq(podsession_choose(&s, "nope", NULL), -1);
	podsession_close(&s, NULL);
}
