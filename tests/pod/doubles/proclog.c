/* Test double of pod/proclog.c: output read from the pipes on the loop,
 * only the last lines kept (no file). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proclog.h"

struct pipe_rd {
	struct proclog *l;
	struct event *ev;
	int fd;
	char part[4096];
	size_t plen;
};

struct proclog {
	struct event_base *base;
	struct pipe_rd pipes[8];
	char tail[PROCLOG_TAIL_LINES][256];
	size_t ntail, next;
};

static void keep(struct proclog *l, const char *text, size_t len)
{
	if (len > 255)
		len = 255;
	memcpy(l->tail[l->next], text, len);
	l->tail[l->next][len] = '\0';
	l->next = (l->next + 1) % PROCLOG_TAIL_LINES;
	if (l->ntail < PROCLOG_TAIL_LINES)
		l->ntail++;
}

static void close_pipe(struct pipe_rd *p)
{
	if (p->ev)
		event_free(p->ev);
	p->ev = NULL;
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* 1 more may come, 0 EOF or error, -1 nothing now. */
static int read_some(struct pipe_rd *p)
{
	char buf[4096];
	ssize_t n = read(p->fd, buf, sizeof buf);

	if (n < 0 && errno == EAGAIN)
		return -1;
	if (n <= 0) {
		close_pipe(p);
		return 0;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || p->plen == sizeof p->part) {
			keep(p->l, p->part, p->plen);
			p->plen = 0;
		} else {
			p->part[p->plen++] = buf[i];
		}
	}
	return 1;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	read_some(arg);
}

struct proclog *proclog_new(struct event_base *base, int logs_dirfd,
                            const char *name, const struct logs_conf *conf,
                            const struct proclog_hooks *hooks,
                            struct insomnia_error *err)
{
	struct proclog *l = calloc(1, sizeof *l);

	if (!l)
		return NULL;
	l->base = base;
	for (int i = 0; i < 8; i++)
		l->pipes[i].fd = -1;
	return l;
}

static int add(struct proclog *l, int fd)
{
	for (int i = 0; i < 8; i++) {
		struct pipe_rd *p = &l->pipes[i];
		if (p->fd >= 0)
			continue;
		*p = (struct pipe_rd){.l = l, .fd = fd};
		fcntl(fd, F_SETFL, O_NONBLOCK);
		p->ev =
		    event_new(l->base, fd, EV_READ | EV_PERSIST, on_read, p);
		event_add(p->ev, NULL);
		return 0;
	}
	close(fd);
	return -1;
}

int proclog_attach(struct proclog *l, int out_fd, int err_fd,
                   struct insomnia_error *err)
{
	add(l, out_fd);
	add(l, err_fd);
	return 0;
}

void proclog_note(struct proclog *l, const char *text)
{
	(void)l;
	(void)text;
}

size_t proclog_tail(const struct proclog *l, const char **lines, size_t n)
{
	size_t k = l->ntail < n ? l->ntail : n;
	size_t first = (l->next + PROCLOG_TAIL_LINES - k) % PROCLOG_TAIL_LINES;

	for (size_t i = 0; i < k; i++)
		lines[i] = l->tail[(first + i) % PROCLOG_TAIL_LINES];
	return k;
}

void proclog_drain(struct proclog *l)
{
	for (int i = 0; i < 8; i++)
		while (l->pipes[i].fd >= 0 && read_some(&l->pipes[i]) > 0)
			;
}

bool proclog_open(const struct proclog *l)
{
	for (int i = 0; i < 8; i++)
		if (l->pipes[i].fd >= 0)
			return true;
	return false;
}

void proclog_free(struct proclog *l)
{
	if (!l)
		return;
	for (int i = 0; i < 8; i++)
		close_pipe(&l->pipes[i]);
	free(l);
}
