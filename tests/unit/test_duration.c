/* podctl's durations, ages and option parser (client/cli/cli.c), and the
 * parser it shares with the manifest (common/duration.c). */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include "duration.h"
#include "podctl.h"

static long long ms_of(const char *text)
{
	long long ms = -7;

	cr_assert_eq(cli_parse_duration_ms(text, &ms), 0, "%s refused", text);
	return ms;
}

static void refused(const char *text)
{
	long long ms = -7;

	cr_assert_eq(cli_parse_duration_ms(text, &ms), -1, "%s accepted", text);
	cr_assert_eq(ms, -7, "%s: *ms written on failure", text);
}

Test(duration, units)
{
	cr_assert_eq(ms_of("1s"), 1000);
	cr_assert_eq(ms_of("500ms"), 500);
	cr_assert_eq(ms_of("2m"), 120000);
	cr_assert_eq(ms_of("3h"), 3 * 3600000LL);
	cr_assert_eq(ms_of("7d"), 7 * 86400000LL);
	cr_assert_eq(ms_of("1m30s"), 90000);
	cr_assert_eq(ms_of("1h1m1s1ms"), 3661001);
}

Test(duration, bare_numbers_are_seconds_as_before)
{
	cr_assert_eq(ms_of("2"), 2000);
	cr_assert_eq(ms_of("0.5"), 500);
	cr_assert_eq(ms_of("20"), 20000);
}

Test(duration, fractions_are_exact_and_round_up)
{
	/* integer arithmetic: never a float rounded up past the value */
	cr_assert_eq(ms_of("0.3"), 300);
	cr_assert_eq(ms_of("0.3s"), 300);
	cr_assert_eq(ms_of("1.5m"), 90000);
	cr_assert_eq(ms_of("0.0001s"), 1); /* never rounded to 0 */
	cr_assert_eq(ms_of("1.0009"), 1001);
}

Test(duration, garbage_is_refused)
{
	const char *bad[] = {
	    "",      "5q",  "s",   "1x",  "-1s", "+1s",
	    " 1s",   "1s ", "1 s", "0",   "0s",  "0ms",
	    ".",     "ms",  "1sm", "31d", "1e3", "99999999999999999999s",
	    "1..5s", "nan", "inf"};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		refused(bad[i]);
}

Test(duration, zero_only_where_allowed)
{
	long long ms = -7;

	refused("0s");
	cr_assert_eq(cli_parse_duration_or_zero_ms("0", &ms), 0);
	cr_assert_eq(ms, 0);
	cr_assert_eq(cli_parse_duration_or_zero_ms("0ms", &ms), 0);
	cr_assert_eq(ms, 0);
	cr_assert_eq(cli_parse_duration_or_zero_ms("1m30s", &ms), 0);
	cr_assert_eq(ms, 90000);
	cr_assert_eq(cli_parse_duration_or_zero_ms("", &ms), -1);
	cr_assert_eq(cli_parse_duration_or_zero_ms("-0", &ms), -1);
	cr_assert_eq(cli_parse_duration_or_zero_ms("31d", &ms), -1);
}

Test(duration, at_most_thirty_days)
{
	cr_assert_eq(ms_of("30d"), 30 * 86400000LL);
	refused("30d1ms");
	refused("720h1s");
}

Test(duration, weeks)
{
	cr_assert_eq(ms_of("1w"), 7 * 86400000LL);
	cr_assert_eq(ms_of("2w2d"), 16 * 86400000LL);
	refused("5w"); /* over 30 days */
}

/* An age (prune --older-than) needs a unit: a bare "7" deletes too much
 * if read as seconds when days were meant. */
Test(duration, ages_need_a_unit_and_may_be_long)
{
	const char *bad[] = {"7",  "0.5", "",    "0d",    "d",
	                     "7x", "-1d", "1 d", "36501d"};
	long long ms = -7;

	cr_assert_eq(cli_parse_age_ms("7d", &ms), 0);
	cr_assert_eq(ms, 7 * 86400000LL);
	cr_assert_eq(cli_parse_age_ms("500ms", &ms), 0);
	cr_assert_eq(ms, 500);
	cr_assert_eq(cli_parse_age_ms("52w", &ms), 0); /* past 30 days */
	cr_assert_eq(ms, 364 * 86400000LL);
	cr_assert_eq(cli_parse_age_ms("1d12h", &ms), 0);
	cr_assert_eq(ms, 36 * 3600000LL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ms = -7;
		cr_assert_eq(cli_parse_age_ms(bad[i], &ms), -1, "%s", bad[i]);
		cr_assert_eq(ms, -7, "%s", bad[i]);
	}
}

Test(time, utc_as_state_json_writes_it)
{
	cr_assert_eq(cli_parse_utc("1970-01-01T00:01:00Z"), 60);
	cr_assert_eq(cli_parse_utc("2024-05-01T12:00:00Z"), 1714564800LL);
	cr_assert_eq(cli_parse_utc(""), -1);
	cr_assert_eq(cli_parse_utc("2024-05-01T12:00:00"), -1);
	cr_assert_eq(cli_parse_utc("2024-05-01T12:00:00Zx"), -1);
}

/* podctl's own errors fill the public struct as the library does. */
Test(error, set_errno_and_prefix)
{
	struct insomnia_error err;
	char big[2 * INSOMNIA_ERROR_MESSAGE_MAX];

	cr_assert_eq(
	    insomnia_error_set(&err, INSOMNIA_ERR_BAD_NAME, "bad %s", "x"), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_NAME);
	cr_assert_str_eq(err.message, "bad x");
	cr_assert_eq(err.exit_status, -1);
	cr_assert_str_eq(err.detail, "");
	insomnia_error_prefix(&err, "pod %s", "web");
	cr_assert_str_eq(err.message, "pod web: bad x");
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_NAME);
	insomnia_error_set_errno(&err, INSOMNIA_ERR_IO, ENOENT, "open %s", "f");
	cr_assert_str_eq(err.message, "open f: No such file or directory");
	cr_assert_eq(err.errnum, ENOENT);
	/* cut on a character boundary: never half of "é" */
	memset(big, 'a', sizeof big);
	memcpy(big + INSOMNIA_ERROR_MESSAGE_MAX - 2, "\xc3\xa9", 2);
	big[sizeof big - 1] = '\0';
	insomnia_error_set(&err, INSOMNIA_ERR_IO, "%s", big);
	cr_assert_eq(strlen(err.message), INSOMNIA_ERROR_MESSAGE_MAX - 2);
}

Test(age, largest_unit_truncated)
{
	char buf[16];
	struct {
		long long ms;
		const char *want;
	} cases[] = {
	    {-5, "0s"},       {0, "0s"},
	    {5999, "5s"},     {59999, "59s"},
	    {60000, "1m"},    {3599999, "59m"},
	    {3600000, "1h"},  {86399999, "23h"},
	    {86400000, "1d"}, {40 * 86400000LL, "40d"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cli_format_age(cases[i].ms, buf, sizeof buf);
		cr_assert_str_eq(buf, cases[i].want, "%lld", cases[i].ms);
	}
}

/* ---- the option parser -------------------------------------------- */

enum { O_NAME, O_GRACE, O_COUNT, O_FORCE, O_QUIET };

static const struct cli_option opts[] = {
    {.name = "name",
     .letter = 'n',
     .kind = CLI_ARG_STRING,
     .metavar = "NAME",
     .help = "a name"},
    {.name = "grace",
     .letter = 'g',
     .kind = CLI_ARG_DURATION,
     .metavar = "TIME",
     .help = "a time"},
    {.name = "count", .kind = CLI_ARG_COUNT, .metavar = "N", .help = "a count"},
    {.name = "force", .letter = 'f', .help = "a flag"},
    {.name = "quiet", .letter = 'q', .help = "another"},
    {0},
};

static int never(const struct cli_args *a)
{
	return 99;
}

static const struct cmd_entry cmd = {
    .name = "try",
    .summary = "s",
    .help = "h\n",
    .options = opts,
    .operands = "NAME...",
    .min_operands = 1,
    .max_operands = 2,
    .run = never,
};

/* Parse the NULL-terminated words after "try"; the parser's result. */
static int parse(struct cli_args *a, int *code, char **err_text, ...)
{
	static char *argv[32];
	static char errbuf[4096];
	int argc = 0, rc, saved;
	va_list ap;
	FILE *f;

	argv[argc++] = "try";
	va_start(ap, err_text);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	/* the errors go to stderr: catch them to count them */
	fflush(stderr);
	saved = dup(2);
	f = tmpfile();
	dup2(fileno(f), 2);
	*code = -1;
	rc = cli_parse(&cmd, argc, argv, a, code);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	errbuf[fread(errbuf, 1, sizeof errbuf - 1, f)] = '\0';
	fclose(f);
	*err_text = errbuf;
	return rc;
}

Test(parse, options_values_and_operands_in_any_order)
{
	struct cli_args a;
	char *err;
	int code;

	cr_assert_eq(parse(&a, &code, &err, "x", "--name", "web", "-g", "2m",
	                   "--count=3", "-fq", "y", NULL),
	             0, "%s", err);
	cr_assert_str_eq(a.value[O_NAME], "web");
	cr_assert_eq(a.num[O_GRACE], 120000);
	cr_assert_eq(a.num[O_COUNT], 3);
	cr_assert(cli_has(&a, O_FORCE) && cli_has(&a, O_QUIET));
	cr_assert_eq(a.noperands, 2);
	cr_assert_str_eq(a.operands[0], "x");
	cr_assert_str_eq(a.operands[1], "y");
	cr_assert(!a.json);
	cr_assert_str_eq(err, "");
}

Test(parse, short_values_attached_and_double_dash)
{
	struct cli_args a;
	char *err;
	int code;

	cr_assert_eq(parse(&a, &code, &err, "-nweb", "-g500ms", "--json", "--",
	                   "--name", NULL),
	             0, "%s", err);
	cr_assert_str_eq(a.value[O_NAME], "web");
	cr_assert_eq(a.num[O_GRACE], 500);
	cr_assert(a.json);
	cr_assert_eq(a.noperands, 1);
	cr_assert_str_eq(a.operands[0], "--name");
}

/* Each error is printed once, on its first line, and names the problem;
 * the exit code is usage's. */
static void error_once(const char *want, char *w1, char *w2, char *w3)
{
	struct cli_args a;
	char *err, *first;
	int code;

	cr_assert_eq(parse(&a, &code, &err, w1, w2, w3, NULL), 1);
	cr_assert_eq(code, insomnia_error_exit_code(INSOMNIA_ERR_USAGE));
	first = strchr(err, '\n');
	cr_assert_not_null(first, "%s", err);
	cr_assert(!strncmp(err, want, strlen(want)), "want %s, got: %s", want,
	          err);
	cr_assert_null(strstr(first, want), "printed twice: %s", err);
	cr_assert(strstr(first, "usage: podctl try"), "%s", err);
}

Test(parse, each_error_once_naming_it)
{
	error_once("podctl try: unknown option \"--x\"", "a", "--x", NULL);
	error_once("podctl try: unknown option \"-z\"", "a", "-fz", NULL);
	error_once("podctl try: --name needs a value", "a", "--name", NULL);
	error_once("podctl try: -n (--name) needs a value", "a", "-n", NULL);
	error_once("podctl try: --grace: bad duration \"5q\" (use 1s, 500ms,",
	           "a", "--grace", "5q");
	error_once("podctl try: --count: bad count \"-1\"", "a", "--count=-1",
	           NULL);
	error_once("podctl try: --force takes no value", "a", "--force=1",
	           NULL);
	error_once("podctl try: too many arguments (\"c\")", "a", "b", "c");
	error_once("podctl try: missing NAME...", "-f", NULL, NULL);
}

Test(parse, json_error_is_one_object_on_stdout, .init = cr_redirect_stdout)
{
	struct cli_args a;
	char *err;
	int code;

	cr_assert_eq(parse(&a, &code, &err, "--grace", "x", "--json", NULL), 1);
	cr_assert_str_eq(err, "");
	fflush(stdout);
	cr_assert_stdout_eq_str(
	    "{\"error\":{\"kind\":\"usage\",\"message\":\"try: --grace: bad "
	    "duration \\\"x\\\" (use 1s, 500ms, 2m, 1m30s; at most 30d)\","
	    "\"tail\":[]}}\n");
}

Test(parse, help_ends_the_command_with_zero, .init = cr_redirect_stdout)
{
	struct cli_args a;
	char *err;
	int code;

	cr_assert_eq(parse(&a, &code, &err, "--x", NULL), 1); /* error first */
	cr_assert_eq(parse(&a, &code, &err, "-h", "--x", NULL), 1);
	cr_assert_eq(code, 0);
	fflush(stdout);
	cr_assert_stdout_eq_str(
	    "usage: podctl try [-n|--name NAME] [-g|--grace TIME] [--count N] "
	    "[-f|--force]\n"
	    "                  [-q|--quiet] [--json] NAME...\n\n"
	    "s\n\noptions:\n"
	    "  -n, --name NAME        a name\n"
	    "  -g, --grace TIME       a time\n"
	    "      --count N          a count\n"
	    "  -f, --force            a flag\n"
	    "  -q, --quiet            another\n"
	    "      --json             print one JSON object on stdout\n"
	    "  -h, --help             print this help\n\nh\n");
}

/* ---- alternatives to the operands, limits, subcommands ------------- */

enum { S_GRACE, S_ALL, S_LAST };

static const struct cli_option stop_opts[] = {
    {.name = "grace",
     .letter = 'g',
     .kind = CLI_ARG_DURATION0,
     .metavar = "TIME",
     .help = "a grace",
     .max = 86400000},
    {.name = "all", .letter = 'a', .help = "all", .instead_of_operands = true},
    {.name = "last",
     .kind = CLI_ARG_STRING,
     .metavar = "NAME",
     .help = "last",
     .instead_of_operands = true},
    {0},
};

static int ran_sub(const struct cli_args *a)
{
	return 42 + a->noperands;
}

static const struct cli_option sub_opts[] = {
    {.name = "older-than",
     .kind = CLI_ARG_AGE,
     .metavar = "AGE",
     .help = "an age"},
    {0},
};

static const struct cmd_entry sub = {
    .name = "halt prune",
    .summary = "sub",
    .help = "sub help\n",
    .options = sub_opts,
    .max_operands = 0,
    .run = ran_sub,
};

static const struct cmd_entry stop_cmd = {
    .name = "halt",
    .summary = "s",
    .help = "h\n",
    .options = stop_opts,
    .operands = "NAME...",
    .min_operands = 1,
    .max_operands = -1,
    .run = never,
    .sub = &sub,
};

/* cli_run over the words (NULL-ended) after "halt"; stderr in *err_text. */
static int run_halt(char **err_text, ...)
{
	static char *argv[32];
	static char errbuf[4096];
	int argc = 0, rc, saved;
	va_list ap;
	FILE *f;

	argv[argc++] = "halt";
	va_start(ap, err_text);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	fflush(stderr);
	saved = dup(2);
	f = tmpfile();
	dup2(fileno(f), 2);
	rc = cli_run(&stop_cmd, argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	errbuf[fread(errbuf, 1, sizeof errbuf - 1, f)] = '\0';
	fclose(f);
	*err_text = errbuf;
	return rc;
}

static void halt_error(const char *want, char *w1, char *w2, char *w3)
{
	char *err;
	int code = run_halt(&err, w1, w2, w3, NULL);

	cr_assert_eq(code, insomnia_error_exit_code(INSOMNIA_ERR_USAGE),
	             "%d: %s", code, err);
	cr_assert(!strncmp(err, want, strlen(want)), "want %s, got: %s", want,
	          err);
	cr_assert_null(strstr(err + 1, want), "printed twice: %s", err);
}

Test(parse, an_option_may_stand_for_the_operands)
{
	char *err;

	cr_assert_eq(run_halt(&err, "--all", NULL), 99, "%s", err);
	cr_assert_eq(run_halt(&err, "--last", "web", NULL), 99, "%s", err);
	cr_assert_eq(run_halt(&err, "a", "b", "-g", "0", NULL), 99, "%s", err);
	halt_error("podctl halt: give NAME... or --all, not both", "--all", "a",
	           NULL);
	halt_error("podctl halt: missing NAME... (or --all, --last NAME)", "-g",
	           "1s", NULL);
}

Test(parse, an_options_own_limit_is_named)
{
	halt_error("podctl halt: --grace: bad duration \"2d\" (use 1s, 500ms, "
	           "2m, 1m30s; at most 1d)",
	           "a", "--grace", "2d");
	halt_error("podctl halt: --grace: bad duration \"31d\" (use 1s, "
	           "500ms, 2m, 1m30s; at most 1d)",
	           "a", "--grace", "31d");
}

Test(parse, a_subcommand_has_its_own_table_and_errors)
{
	char *err;

	cr_assert_eq(run_halt(&err, "prune", "--older-than", "7d", NULL), 42,
	             "%s", err);
	halt_error("podctl halt prune: --older-than: bad age \"7\" (a number "
	           "and a unit",
	           "prune", "--older-than", "7");
	halt_error("podctl halt prune: unknown option \"--all\"", "prune",
	           "--all", NULL);
	halt_error("podctl halt prune: too many arguments (\"x\")", "prune",
	           "x", NULL);
	/* the parent's own options are not the subcommand's */
	cr_assert_eq(run_halt(&err, "x", "prune", NULL), 99, "%s", err);
}

Test(parse, help_shows_the_alternatives_and_the_subcommand,
     .init = cr_redirect_stdout)
{
	char *err;

	cr_assert_eq(run_halt(&err, "--help", NULL), 0);
	fflush(stdout);
	cr_assert_stdout_eq_str(
	    "usage: podctl halt [-g|--grace TIME] [--json] "
	    "NAME...|--all|--last NAME\n"
	    "       podctl halt prune [--older-than AGE] [--json]\n\n"
	    "s\n\noptions:\n"
	    "  -g, --grace TIME       a grace\n"
	    "  -a, --all              all\n"
	    "      --last NAME        last\n"
	    "      --json             print one JSON object on stdout\n"
	    "  -h, --help             print this help\n"
	    "options of halt prune:\n"
	    "      --older-than AGE   an age\n\nh\n");
}

/* ---- the shared parser (common/duration.c) --------------------------- */

Test(duration_core, zero_and_units_without_bare_numbers)
{
	long long ms = -7;

	cr_assert_eq(duration_parse_ms("0ms", false, DURATION_MAX_MS, &ms), 0);
	cr_assert_eq(ms, 0);
	cr_assert_eq(duration_parse_ms("250ms", false, DURATION_MAX_MS, &ms),
	             0);
	cr_assert_eq(ms, 250);
	cr_assert_eq(duration_parse_ms("1m30s", false, DURATION_MAX_MS, &ms),
	             0);
	cr_assert_eq(ms, 90000);
	ms = -7;
	/* the manifest's form: a unit is required */
	cr_assert_eq(duration_parse_ms("5", false, DURATION_MAX_MS, &ms), -1);
	cr_assert_eq(ms, -7);
	cr_assert_eq(duration_parse_ms("5", true, DURATION_MAX_MS, &ms), 0);
	cr_assert_eq(ms, 5000);
}

Test(duration_core, the_limit_is_inclusive)
{
	long long ms = -7;

	cr_assert_eq(duration_parse_ms("30d", false, DURATION_MAX_MS, &ms), 0);
	cr_assert_eq(ms, DURATION_MAX_MS);
	cr_assert_eq(duration_parse_ms("30d1ms", false, DURATION_MAX_MS, &ms),
	             -1);
	cr_assert_eq(duration_parse_ms("2s", false, 1999, &ms), -1);
	cr_assert_eq(duration_parse_ms("1999ms", false, 1999, &ms), 0);
	cr_assert_eq(ms, 1999);
}
