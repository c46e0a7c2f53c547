#include <criterion/criterion.h>
#include <string.h>

#include "ready.h"

static struct ready_line parsed;

static int parse(const char *line)
{
	struct insomnia_error err;
	return ready_parse(line, strlen(line), &parsed, &err);
}

static void malformed(const char *line, const char *reason_part)
{
	struct insomnia_error err;
	cr_assert_eq(ready_parse(line, strlen(line), &parsed, &err), -1,
	             "accepted \"%s\"", line);
	cr_assert_eq(err.kind, INSOMNIA_ERR_MALFORMED_READY);
	cr_assert(strstr(err.message, reason_part), "reason was \"%s\"",
	          err.message);
}

Test(ready, format_then_parse_round_trips)
{
	char buf[READY_LINE_MAX];
	int n = ready_format(buf, sizeof buf, "web", "/run/x/web/sock", NULL);
	cr_assert_eq(n, (int)strlen("INSOMNIA-READY\tweb\t/run/x/web/sock\n"));
	cr_assert_str_eq(buf, "INSOMNIA-READY\tweb\t/run/x/web/sock\n");
	cr_assert_eq(ready_parse(buf, (size_t)n - 1, &parsed, NULL), 0);
	cr_assert_str_eq(parsed.name, "web");
	cr_assert_str_eq(parsed.socket, "/run/x/web/sock");
}

Test(ready, prefix_constant_is_the_documented_one)
{
	cr_assert_str_eq(READY_PREFIX, "INSOMNIA-READY\t");
	cr_assert_eq(READY_DEFAULT_TIMEOUT_MS, 20000);
}

Test(ready, missing_fields_are_malformed)
{
	malformed("INSOMNIA-READY\tweb", "no socket field");
	malformed("INSOMNIA-READY\t", "no socket field");
	malformed("INSOMNIA-READY\t\t/s", "empty");
}

Test(ready, extra_tab_is_malformed)
{
	malformed("INSOMNIA-READY\tweb\t/s\textra", "too many fields");
}

Test(ready, carriage_return_before_newline_is_malformed)
{
	malformed("INSOMNIA-READY\tweb\t/s\r", "CR before LF");
}

Test(ready, empty_or_relative_socket_is_malformed)
{
	malformed("INSOMNIA-READY\tweb\t", "empty socket path");
	malformed("INSOMNIA-READY\tweb\tsock", "not absolute");
}

Test(ready, wrong_prefix_is_malformed)
{
	malformed("INSOMNIA-READ\tweb\t/s", "does not start");
	malformed("insomnia-ready\tweb\t/s", "does not start");
	malformed("INSOMNIA-READY web /s", "does not start");
	cr_assert_eq(ready_has_prefix("INSOMNIA-READYX", 15), 0);
}

Test(ready, invalid_name_is_malformed)
{
	malformed("INSOMNIA-READY\t../x\t/s", "invalid pod name");
}

Test(ready, line_over_4k_is_malformed)
{
	static char line[5000];
	strcpy(line, "INSOMNIA-READY\tweb\t/");
	memset(line + strlen(line), 'a', 4500);
	malformed(line, "at most 4096");
}

Test(ready, accepts_a_socket_path_with_spaces)
{
	cr_assert_eq(parse("INSOMNIA-READY\tweb\t/tmp/a b/sock"), 0);
	cr_assert_str_eq(parsed.socket, "/tmp/a b/sock");
}

Test(ready, format_refuses_a_bad_name)
{
	char buf[64];
	struct insomnia_error err;
	cr_assert_eq(ready_format(buf, sizeof buf, "a/b", "/s", &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_BAD_NAME);
}
