/* podlog.c: one line, one write. */
#include "podlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fdio.h"

/* Longer messages are cut rather than split over several writes. */
#define PODLOG_LINE_MAX 4096

void podlog(const char *fmt, ...)
{
	char line[PODLOG_LINE_MAX];
	size_t used = sizeof "pod: " - 1;
	va_list ap;
	int n;

	memcpy(line, "pod: ", used);
	va_start(ap, fmt);
	n = vsnprintf(line + used, sizeof line - used - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	used += (size_t)n < sizeof line - used - 1 ? (size_t)n
	                                           : sizeof line - used - 2;
	line[used++] = '\n';
	/* Nothing sensible to do when stderr itself fails. */
	(void)fd_write_all(2, line, used);
}
