/* logtail.c: line splitting with a bounded buffer and a tail ring. */
#include "logtail.h"

#include <stdio.h>
#include <string.h>

void logtail_init(struct logtail *t)
{
	t->partial_len = 0;
	t->cutting = false;
	t->kept_count = 0;
}

#define CUT_MARK " [line cut]"

void logtail_keep(struct logtail *t, const char *line, size_t len, bool cut)
{
	char *slot = t->kept[t->kept_count % LOGTAIL_KEEP];
	size_t n = len < LOGTAIL_SHOW_MAX - 1 ? len : LOGTAIL_SHOW_MAX - 1;
	bool mark = cut || n < len;

	if (mark && n > LOGTAIL_SHOW_MAX - sizeof CUT_MARK)
		n = LOGTAIL_SHOW_MAX - sizeof CUT_MARK;
	memcpy(slot, line, n);
	if (mark)
		memcpy(slot + n, CUT_MARK, sizeof CUT_MARK);
	else
		slot[n] = '\0';
	t->kept_count++;
}

void logtail_keep_partial(struct logtail *t)
{
	if (t->partial_len > 0 || t->cutting)
		logtail_keep(t, t->partial, t->partial_len, t->cutting);
	t->partial_len = 0;
	t->cutting = false;
}

/* Append to the partial line, cutting at the bound. */
static void append(struct logtail *t, const char *p, size_t n)
{
	size_t room = LOGTAIL_LINE_MAX - t->partial_len;

	if (n > room) {
		n = room;
		t->cutting = true;
	}
	memcpy(t->partial + t->partial_len, p, n);
	t->partial_len += n;
}

size_t logtail_feed(struct logtail *t, const char *buf, size_t len,
                    logtail_line_fn fn, void *arg)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		int stop;

		append(t, buf + pos, n);
		pos += n;
		if (!nl)
			break;
		pos++; /* the newline */
		stop = fn(t->partial, t->partial_len, t->cutting, arg);
		t->partial_len = 0;
		t->cutting = false;
		if (stop)
			break;
	}
	return pos;
}

void logtail_format(const struct logtail *t, char *out, size_t size)
{
	unsigned first =
	    t->kept_count > LOGTAIL_KEEP ? t->kept_count - LOGTAIL_KEEP : 0;
	size_t used = 0;

	if (size == 0)
		return;
	out[0] = '\0';
	for (unsigned i = first; i < t->kept_count && used + 1 < size; i++) {
		int n = snprintf(out + used, size - used, "%s\n",
		                 t->kept[i % LOGTAIL_KEEP]);
		if (n < 0)
			break;
		used += (size_t)n < size - used ? (size_t)n : size - used - 1;
	}
}
