/* spawnlog.c: following stderr.log up to the ready line, each line
 * before it to the progress callback, and checking the ready line. */
#include "podspawn.h"

#include <string.h>

#include "fdio.h"
#include "unixsock.h"

static int on_line(const char *line, size_t len, bool cut, void *arg)
{
	struct insomnia_spawn *s = arg;

	if (!s->exited && ready_has_prefix(line, len)) {
		size_t n = len < READY_LINE_MAX ? len : READY_LINE_MAX;
		memcpy(s->ready_buf, line, n);
		s->ready_buf[n] = '\0';
		s->ready_len = n;
		s->ready_cut = cut || n < len;
		s->have_ready = true;
		return 1;
	}
	logtail_keep(&s->tail, line, len, cut);
	if (s->opts.progress && !s->exited && !s->cancelled) {
		char shown[LOGTAIL_LINE_MAX + 1];
		memcpy(shown, line, len);
		shown[len] = '\0';
		s->in_progress = true;
		s->opts.progress(shown, s->opts.arg);
		s->in_progress = false;
	}
	return s->cancelled; /* stop reading: the spawn is being dropped */
}

/* Everything the file holds beyond what was read; stops at the ready line
 * (whatever follows it belongs to the running pod, not to us).  Only for
 * a dead pod, whose file no longer grows. */
void spawn_read_log(struct insomnia_spawn *s)
{
	while (spawn_read_log_some(s) > 0)
		;
}

int spawn_read_log_some(struct insomnia_spawn *s)
{
	char buf[65536];
	size_t total = 0;
	ssize_t n = 0;

	while (!s->have_ready && !s->cancelled && total < SPAWN_LOG_CHUNK &&
	       (n = fd_read_some(s->log_fd, buf, sizeof buf)) > 0) {
		logtail_feed(&s->tail, buf, (size_t)n, on_line, s);
		total += (size_t)n;
	}
	return !s->have_ready && !s->cancelled && total >= SPAWN_LOG_CHUNK;
}

static void handle_ready(struct insomnia_spawn *s)
{
	struct ready_line rl;
	struct insomnia_error e;

	if (s->ready_cut) {
		spawn_fail(s, INSOMNIA_ERR_MALFORMED_READY,
		           "ready line is longer than %d bytes",
		           READY_LINE_MAX);
		return;
	}
	if (ready_parse(s->ready_buf, s->ready_len, &rl, &e) < 0) {
		spawn_fail(s, INSOMNIA_ERR_MALFORMED_READY, "%s: \"%s\"",
		           e.message, s->ready_buf);
		return;
	}
	if (strcmp(rl.name, s->name) != 0) {
		spawn_fail(s, INSOMNIA_ERR_NAME_MISMATCH,
		           "pod announced itself as \"%s\", not \"%s\"",
		           rl.name, s->name);
		return;
	}
	/* a full accept queue counts as listening (docs/handshake.md) */
	if (unixsock_check_listening(rl.socket, &e) < 0) {
		spawn_fail(s, INSOMNIA_ERR_SOCKET_REFUSED,
		           "pod announced ready but %s", e.message);
		return;
	}
	spawn_succeed(s, rl.socket, false);
}

static void on_more(evutil_socket_t fd, short what, void *arg)
{
	struct insomnia_spawn *s = arg;

	if (s->phase == PHASE_READY)
		spawn_on_log_event(s);
}

/* More may be there: go on at the loop's next turn, after its other
 * events and the deadline (a zero-delay timer waits for the next poll,
 * where event_active would run again before any I/O event). */
static int read_later(struct insomnia_spawn *s)
{
	struct timeval now = {0, 0};

	if (!s->ev_more)
		s->ev_more = evtimer_new(s->base, on_more, s);
	return s->ev_more ? evtimer_add(s->ev_more, &now) : -1;
}

/* The only place progress callbacks run: a cancel from one of them takes
 * effect here, once the callback has returned.  At most SPAWN_LOG_CHUNK
 * bytes per call: a pod flooding its stderr must not hold the caller's
 * loop nor outrun the deadline. */
void spawn_on_log_event(struct insomnia_spawn *s)
{
	int more = spawn_read_log_some(s);

	if (s->cancelled) {
		spawn_cancel_now(s);
		return;
	}
	if (s->have_ready) {
		handle_ready(s);
		return;
	}
	if (more && read_later(s) < 0)
		spawn_fail(s, INSOMNIA_ERR_INTERNAL,
		           "cannot schedule reading stderr.log");
}
