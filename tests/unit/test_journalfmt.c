/* journalfmt: a journal record to its line and back (docs/sessions.md). */
#include <criterion/criterion.h>
#include <string.h>

#include "journalfmt.h"

/* Encode e and decode the line (its '\n' cut off). */
static struct journal_record round_trip(const struct journal_entry *e)
{
	struct journal_record r;
	size_t len = 0;
	char *line = journalfmt_encode(e, false, &len);

	cr_assert_not_null(line);
	cr_assert_eq(line[len - 1], '\n');
	cr_assert_null(memchr(line, '\n', len - 1), "one line: %s", line);
	cr_assert(journalfmt_decode(line, len - 1, &r), "%s", line);
	free(line);
	return r;
}

Test(journalfmt, a_start_record_round_trips)
{
	struct journal_entry e = {
	    .event = SESSION_EV_RESUMED, .pid = 4242, .name = "web"};
	struct journal_record r = round_trip(&e);

	cr_assert_str_eq(r.event, "resumed");
	cr_assert_eq(r.pid, 4242);
	cr_assert_str_eq(r.name, "web");
	cr_assert(journalfmt_is_start(&r));
	/* RFC 3339 UTC with milliseconds */
	cr_assert_eq(strlen(r.ts), 24, "%s", r.ts);
	cr_assert_eq(r.ts[23], 'Z');
	cr_assert_eq(r.ts[19], '.');
}

Test(journalfmt, the_key_order_and_spelling_are_the_documented_ones)
{
	struct journal_entry e = {
	    .event = SESSION_EV_STARTED, .pid = 7, .name = "web"};
	size_t len;
	char *line = journalfmt_encode(&e, false, &len);

	cr_assert(strncmp(line, "{\"ts\":\"", 7) == 0, "%s", line);
	cr_assert(strstr(line, "\",\"event\":\"started\",\"pid\":7,"
	                       "\"name\":\"web\"}\n"),
	          "%s", line);
	free(line);
}

Test(journalfmt, a_stopped_record_carries_its_error)
{
	struct journal_entry e = {.event = SESSION_EV_STOPPED,
	                          .error = "cannot listen"};
	struct journal_record r = round_trip(&e);

	cr_assert_str_eq(r.error, "cannot listen");
	cr_assert_eq(r.pid, 0);
	cr_assert(!journalfmt_is_start(&r));
}

Test(journalfmt, absent_fields_are_left_out)
{
	struct journal_entry e = {.event = SESSION_EV_READY};
	size_t len;
	char *line = journalfmt_encode(&e, false, &len);

	cr_assert_null(strstr(line, "pid"), "%s", line);
	cr_assert_null(strstr(line, "name"), "%s", line);
	cr_assert_null(strstr(line, "error"), "%s", line);
	free(line);
}

Test(journalfmt, after_a_torn_tail_the_record_starts_its_own_line)
{
	struct journal_entry e = {.event = SESSION_EV_READY};
	size_t len;
	char *line = journalfmt_encode(&e, true, &len);

	cr_assert_eq(line[0], '\n');
	cr_assert_eq(line[1], '{');
	free(line);
}

Test(journalfmt, what_is_not_a_record_is_refused)
{
	static const char *const bad[] = {
	    "",
	    "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"eve",
	    "[1,2]",
	    "{\"event\":\"ready\"}",
	    "{\"ts\":\"x\",\"event\":3}",
	    "garbage",
	};
	struct journal_record r;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert(!journalfmt_decode(bad[i], strlen(bad[i]), &r), "%s",
		          bad[i]);
}

Test(journalfmt, unknown_events_and_fields_are_allowed)
{
	const char *line = "{\"ts\":\"2024-05-01T12:00:00.123Z\","
	                   "\"event\":\"future\",\"extra\":[1]}";
	struct journal_record r;

	cr_assert(journalfmt_decode(line, strlen(line), &r));
	cr_assert_str_eq(r.event, "future");
}

Test(journalfmt, a_negative_or_huge_pid_reads_as_unknown)
{
	const char *neg = "{\"ts\":\"t\",\"event\":\"started\",\"pid\":-5}";
	const char *big =
	    "{\"ts\":\"t\",\"event\":\"started\",\"pid\":99999999999}";
	struct journal_record r;

	cr_assert(journalfmt_decode(neg, strlen(neg), &r));
	cr_assert_eq(r.pid, 0);
	cr_assert(journalfmt_decode(big, strlen(big), &r));
	cr_assert_eq(r.pid, 0);
}

Test(journalfmt, a_process_record_round_trips_with_a_zero_exit_and_delay)
{
	struct journal_entry e = {.event = SESSION_EV_PROCESS,
	                          .pid = 77,
	                          .process = "db",
	                          .state = "backoff",
	                          .exited = true,
	                          .exit_code = 0,
	                          .delayed = true,
	                          .delay_ms = 0,
	                          .reason = "exited",
	                          .restarts = 2};
	struct journal_record r = round_trip(&e);

	cr_assert_str_eq(r.event, "process");
	cr_assert_str_eq(r.process, "db");
	cr_assert_str_eq(r.state, "backoff");
	cr_assert_eq(r.pid, 77);
	/* 0 is a value here, not "absent" */
	cr_assert_eq(r.exit_code, 0);
	cr_assert_eq(r.delay_ms, 0);
	cr_assert_eq(r.restarts, 2);
	cr_assert_str_eq(r.signal, "");
	cr_assert(!journalfmt_is_start(&r));
}

Test(journalfmt, a_process_record_spells_its_keys_as_documented)
{
	struct journal_entry e = {.event = SESSION_EV_PROCESS,
	                          .pid = 9,
	                          .process = "api",
	                          .state = "exited",
	                          .signal = "TERM"};
	size_t len;
	char *line = journalfmt_encode(&e, false, &len);

	cr_assert(strstr(line, "\"event\":\"process\",\"pid\":9,"
	                       "\"process\":\"api\",\"state\":\"exited\","
	                       "\"signal\":\"TERM\"}\n"),
	          "%s", line);
	free(line);
}

Test(journalfmt, absent_process_fields_read_as_absent)
{
	const char *line = "{\"ts\":\"2024-05-01T12:00:00.000Z\","
	                   "\"event\":\"process\",\"process\":\"db\","
	                   "\"state\":\"ready\",\"exit_code\":300}";
	struct journal_record r;

	cr_assert(journalfmt_decode(line, strlen(line), &r));
	cr_assert_str_eq(r.state, "ready");
	cr_assert_eq(r.exit_code, -1, "out of range is unknown");
	cr_assert_eq(r.delay_ms, -1);
	cr_assert_eq(r.restarts, 0);
}
