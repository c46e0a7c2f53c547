/* podlog.h: the pod's lines on stderr.
 *
 * stderr is the pod's only log and the client tails it as a file, so each
 * line goes out in one write(2): a reader never sees half a line, even
 * when the line is long. */
#ifndef INSOMNIA_POD_PODLOG_H
#define INSOMNIA_POD_PODLOG_H

/* Write "pod: <message>\n" to fd 2. */
void podlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
