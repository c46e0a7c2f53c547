/* logline.c: a process log's record, made and read back (logline.h). */
#include "logline.h"

#include <string.h>
#include <time.h>

#define STREAM_LEN 3 /* "out", "err" */

static const char *const stream_names[] = {
    [LOGLINE_OUT] = "out",
    [LOGLINE_ERR] = "err",
};

/* n as width decimal digits at s, most significant first. */
static char *put_digits(char *s, long n, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		s[i] = (char)('0' + n % 10);
		n /= 10;
	}
	return s + width;
}

void logline_now(char *buf)
{
	struct timespec ts;
	struct tm tm;
	char *s = buf;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* Fixed widths (a year past 9999 wraps): the length is constant,
	 * so times compare as strings. */
	s = put_digits(s, (tm.tm_year + 1900L) % 10000, 4);
	*s++ = '-';
	s = put_digits(s, tm.tm_mon + 1, 2);
	*s++ = '-';
	s = put_digits(s, tm.tm_mday, 2);
	*s++ = 'T';
	s = put_digits(s, tm.tm_hour, 2);
	*s++ = ':';
	s = put_digits(s, tm.tm_min, 2);
	*s++ = ':';
	s = put_digits(s, tm.tm_sec, 2);
	*s++ = '.';
	s = put_digits(s, ts.tv_nsec / 1000000, 3);
	*s++ = 'Z';
	*s = '\0';
}

size_t logline_prefix(char *buf, const char *time, enum logline_stream stream,
                      bool continued)
{
	size_t n = LOGLINE_TIME_LEN;

	if (time)
		memcpy(buf, time, LOGLINE_TIME_LEN);
	else
		logline_now(buf);
	buf[n++] = ' ';
	memcpy(buf + n, stream_names[stream], STREAM_LEN);
	n += STREAM_LEN;
	if (continued)
		buf[n++] = '+';
	buf[n++] = ' ';
	return n;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ": digits where the template has a 'd', the
 * template's own byte elsewhere.  The shape is checked, not the calendar:
 * a reader only sorts and shows the time. */
static bool time_valid(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	for (size_t i = 0; i < LOGLINE_TIME_LEN; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9')
		                    : s[i] != shape[i])
			return false;
	}
	return true;
}

static bool stream_of(const char *s, enum logline_stream *out)
{
	for (size_t i = 0; i < sizeof stream_names / sizeof stream_names[0];
	     i++) {
		if (memcmp(s, stream_names[i], STREAM_LEN) == 0) {
			*out = (enum logline_stream)i;
			return true;
		}
	}
	return false;
}

bool logline_decode(const char *line, size_t len, struct logline *out)
{
	size_t n = LOGLINE_TIME_LEN + 1 + STREAM_LEN;

	if (len < n + 1 || !time_valid(line) || line[LOGLINE_TIME_LEN] != ' ' ||
	    !stream_of(line + LOGLINE_TIME_LEN + 1, &out->stream))
		return false;
	out->continued = line[n] == '+';
	if (out->continued)
		n++;
	if (n >= len || line[n] != ' ')
		return false;
	n++;
	if (memchr(line + n, '\n', len - n))
		return false;
	memcpy(out->time, line, LOGLINE_TIME_LEN);
	out->time[LOGLINE_TIME_LEN] = '\0';
	out->text = line + n;
	out->len = len - n;
	return true;
}
