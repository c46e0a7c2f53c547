/* test_logline.c: a process log's record, made and read back. */
#include <criterion/criterion.h>
#include <string.h>

#include "logline.h"

#define T "2026-12-02T05:21:28.123Z"

static size_t record(char *buf, enum logline_stream stream, bool continued,
                     const char *text)
{
	size_t n = logline_prefix(buf, T, stream, continued);

	memcpy(buf + n, text, strlen(text));
	return n + strlen(text);
}

static struct logline decoded(const char *rec, size_t len)
{
	struct logline l;

	cr_assert(logline_decode(rec, len, &l), "not decoded: %.*s", (int)len,
	          rec);
	return l;
}

Test(logline, a_record_reads_back_as_written)
{
	char buf[256];
	size_t n = record(buf, LOGLINE_OUT, false, "hello world");
	struct logline l;

	cr_assert_eq(n, sizeof T " out hello world" - 1);
	cr_assert_eq(memcmp(buf, T " out hello world", n), 0);
	l = decoded(buf, n);
	cr_assert_str_eq(l.time, T);
	cr_assert_eq(l.stream, LOGLINE_OUT);
	cr_assert_not(l.continued);
	cr_assert_eq(l.len, 11);
	cr_assert_eq(memcmp(l.text, "hello world", 11), 0);
}

Test(logline, a_continued_err_record_keeps_its_marker_and_stream)
{
	char buf[256];
	size_t n = record(buf, LOGLINE_ERR, true, " two  spaces ");
	struct logline l;

	cr_assert_eq(memcmp(buf, T " err+  two  spaces ", n), 0);
	l = decoded(buf, n);
	cr_assert_eq(l.stream, LOGLINE_ERR);
	cr_assert(l.continued);
	cr_assert_eq(l.len, 13);
	cr_assert_eq(memcmp(l.text, " two  spaces ", 13), 0);
}

Test(logline, an_empty_line_and_any_bytes_but_newline_are_text)
{
	char buf[256];
	size_t n = record(buf, LOGLINE_OUT, false, "");
	struct logline l = decoded(buf, n);
	const char bytes[] = "\xff\x00\r\t+";

	cr_assert_eq(l.len, 0);
	n = logline_prefix(buf, T, LOGLINE_ERR, false);
	memcpy(buf + n, bytes, sizeof bytes - 1);
	l = decoded(buf, n + sizeof bytes - 1);
	cr_assert_eq(l.len, sizeof bytes - 1);
	cr_assert_eq(memcmp(l.text, bytes, l.len), 0);
	cr_assert_not(l.continued);
}

Test(logline, the_prefix_fits_its_maximum)
{
	char buf[LOGLINE_PREFIX_MAX];

	cr_assert_eq(logline_prefix(buf, T, LOGLINE_ERR, true),
	             (size_t)LOGLINE_PREFIX_MAX);
}

Test(logline, now_is_an_rfc3339_utc_time_in_milliseconds)
{
	char now[LOGLINE_TIME_LEN + 1], buf[LOGLINE_PREFIX_MAX + 1];
	struct logline l;
	size_t n;

	logline_now(now);
	cr_assert_eq(strlen(now), LOGLINE_TIME_LEN);
	cr_assert_eq(now[10], 'T');
	cr_assert_eq(now[19], '.');
	cr_assert_eq(now[23], 'Z');
	cr_assert_eq(strncmp(now, "20", 2), 0, "year of %s", now);
	/* no time given: the prefix is stamped now, and decodes */
	n = logline_prefix(buf, NULL, LOGLINE_OUT, false);
	l = decoded(buf, n);
	cr_assert_geq(strcmp(l.time, now), 0);
}

static void assert_refused(const char *rec)
{
	struct logline l;

	cr_assert_not(logline_decode(rec, strlen(rec), &l), "decoded: %s", rec);
}

Test(logline, what_is_not_a_record_is_refused)
{
	assert_refused("");
	assert_refused("hello");
	assert_refused(T);
	assert_refused(T " out");       /* no space after the stream */
	assert_refused(T " out+");      /* nor after the marker */
	assert_refused(T " bad text");  /* unknown stream */
	assert_refused(T " outx text"); /* a stream run on */
	assert_refused(T "_out text");  /* no space after the time */
	assert_refused(T " out\ttext"); /* a tab is not the separator */
	assert_refused(T " out two\nlines");
	assert_refused("2026-12-02 05:21:28.123Z out x"); /* no 'T' */
	assert_refused("2026-12-02T05:21:28,123Z out x");
	assert_refused("2026-12-02T05:21:28.123+ out x"); /* not UTC */
	assert_refused("2026-1a-02T05:21:28.123Z out x");
	assert_refused("2026-12-02T05:21:28.12Z out x"); /* 2 digits */
}
