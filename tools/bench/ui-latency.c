/* ui-latency: from a pod event to podui's screen showing it
 * (docs/benchmarks.md, "Terminal UI").
 *
 * podui runs in a pseudo-terminal this program owns (120x40,
 * TERM=xterm-256color, NO_COLOR=1).  Its output is read as soon as it is
 * written and fed to a small terminal emulator (cells, cursor, scroll
 * region, the sequences ncurses sends to such a terminal), so the screen
 * is known after every read, whatever part of a row ncurses chose to
 * rewrite: a row showing a state is matched on the emulated screen, never
 * on stale bytes.  The time a row first shows a state is the time of the
 * read that made it so.
 *
 * The events, each against a floor measured in the same run and loop:
 *  - a process stopping: `stop` sent on a control connection (the
 *    trigger) until its row shows "stopped"; floor: a plain subscriber
 *    (`subscribe`, kind process) receiving the "stopped" event;
 *  - a process starting: `start` until its row shows "ready"; the same
 *    floor with the "ready" event;
 *  - a pod ready: insomnia_spawn_start() of a second pod (no processes);
 *    the trigger is its ready callback (the spawn returns), the floor an
 *    insomnia_watch's READY for it.  Each is stopped again (blocking
 *    insomnia_stop) and its row seen no longer "ready" before the next. */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <insomnia/control.h>
#include <insomnia/spawn.h>
#include <insomnia/stop.h>
#include <insomnia/watch.h>

#include "benchlib.h"

#define ROWS    40
#define COLS    120
#define POD     "lat"
#define PROC    "sleeper"
#define SECOND  "second"
#define WARMUP  3
#define WAIT_MS 10000

static const char overlay[] = "[pod]\n"
                              "name = \"" POD "\"\n"
                              "[process." PROC "]\n"
                              "command = [\"sleep\", \"100000\"]\n";

static char home[BENCH_HOME_MAX];
/* what bench_fail() kills: the two pods and podui (a session leader) */
static pid_t pods[3];
static int npods = 3;

/* ---- the terminal emulator ---------------------------------------- */

enum vt_state { VT_GROUND, VT_ESC, VT_ESC_SKIP, VT_CSI, VT_OSC, VT_OSC_ESC };

#define VT_PARAMS 16

struct vt {
	char cell[ROWS][COLS];
	int row, col;      /* the cursor, from 0 */
	bool wrap_pending; /* the last column was written (xenl) */
	int top, bottom;   /* the scroll region, inclusive */
	int saved_row, saved_col;
	bool insert; /* IRM */
	char last;   /* the last character printed, for REP */
	enum vt_state state;
	int params[VT_PARAMS];
	int nparams;
	bool private_mode; /* CSI ? ... */
};

static void vt_reset(struct vt *v)
{
	memset(v, 0, sizeof *v);
	memset(v->cell, ' ', sizeof v->cell);
	v->bottom = ROWS - 1;
	v->last = ' ';
}

static int clamp(int x, int lo, int hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

static void vt_move(struct vt *v, int row, int col)
{
	v->row = clamp(row, 0, ROWS - 1);
	v->col = clamp(col, 0, COLS - 1);
	v->wrap_pending = false;
}

static void vt_blank(struct vt *v, int row, int from, int to)
{
	for (int c = from; c < to && c < COLS; c++)
		v->cell[row][c] = ' ';
}

/* Rows top..bottom move up by n (down when n < 0); blank rows come in. */
static void vt_scroll(struct vt *v, int top, int bottom, int n)
{
	int h = bottom - top + 1;

	if (n > h)
		n = h;
	if (n < -h)
		n = -h;
	if (n > 0) {
		memmove(v->cell[top], v->cell[top + n], (size_t)(h - n) * COLS);
		for (int r = bottom - n + 1; r <= bottom; r++)
			vt_blank(v, r, 0, COLS);
	} else if (n < 0) {
		memmove(v->cell[top - n], v->cell[top], (size_t)(h + n) * COLS);
		for (int r = top; r < top - n; r++)
			vt_blank(v, r, 0, COLS);
	}
}

static void vt_linefeed(struct vt *v)
{
	v->wrap_pending = false;
	if (v->row == v->bottom)
		vt_scroll(v, v->top, v->bottom, 1);
	else if (v->row < ROWS - 1)
		v->row++;
}

static void vt_reverse_index(struct vt *v)
{
	v->wrap_pending = false;
	if (v->row == v->top)
		vt_scroll(v, v->top, v->bottom, -1);
	else if (v->row > 0)
		v->row--;
}

static void vt_put(struct vt *v, char ch)
{
	char *line;

	if (v->wrap_pending) {
		v->col = 0;
		vt_linefeed(v);
	}
	line = v->cell[v->row];
	if (v->insert)
		memmove(line + v->col + 1, line + v->col,
		        (size_t)(COLS - v->col - 1));
	line[v->col] = ch;
	v->last = ch;
	if (v->col == COLS - 1)
		v->wrap_pending = true;
	else
		v->col++;
}

static int vt_arg(const struct vt *v, int i, int def)
{
	return i < v->nparams && v->params[i] > 0 ? v->params[i] : def;
}

static void vt_erase_display(struct vt *v, int how)
{
	int from = how == 0 ? v->row + 1 : 0;
	int to = how == 1 ? v->row : ROWS;

	if (how == 0)
		vt_blank(v, v->row, v->col, COLS);
	else if (how == 1)
		vt_blank(v, v->row, 0, v->col + 1);
	for (int r = from; r < to; r++)
		vt_blank(v, r, 0, COLS);
}

static void vt_erase_line(struct vt *v, int how)
{
	if (how == 0)
		vt_blank(v, v->row, v->col, COLS);
	else if (how == 1)
		vt_blank(v, v->row, 0, v->col + 1);
	else
		vt_blank(v, v->row, 0, COLS);
}

static void vt_chars(struct vt *v, char op, int n)
{
	char *line = v->cell[v->row];
	int rest = COLS - v->col;

	n = clamp(n, 1, rest);
	if (op == '@') { /* ICH */
		memmove(line + v->col + n, line + v->col, (size_t)(rest - n));
		vt_blank(v, v->row, v->col, v->col + n);
	} else if (op == 'P') { /* DCH */
		memmove(line + v->col, line + v->col + n, (size_t)(rest - n));
		vt_blank(v, v->row, COLS - n, COLS);
	} else { /* ECH */
		vt_blank(v, v->row, v->col, v->col + n);
	}
}

static void vt_lines(struct vt *v, char op, int n)
{
	if (v->row < v->top || v->row > v->bottom)
		return;
	vt_scroll(v, v->row, v->bottom, op == 'L' ? -n : n);
	v->col = 0;
	v->wrap_pending = false;
}

static void vt_mode(struct vt *v, bool on)
{
	for (int i = 0; i < v->nparams; i++) {
		if (!v->private_mode && v->params[i] == 4)
			v->insert = on;
		/* the alternate screen starts clear */
		if (v->private_mode && v->params[i] == 1049 && on)
			vt_erase_display(v, 2);
	}
}

static void vt_region(struct vt *v)
{
	int top = vt_arg(v, 0, 1) - 1, bottom = vt_arg(v, 1, ROWS) - 1;

	if (top < bottom && bottom < ROWS) {
		v->top = top;
		v->bottom = bottom;
	}
	vt_move(v, 0, 0);
}

static void vt_repeat(struct vt *v, int n)
{
	for (int i = 0; i < n && i < ROWS * COLS; i++)
		vt_put(v, v->last);
}

static void vt_csi(struct vt *v, char final)
{
	int n = vt_arg(v, 0, 1);

	switch (final) {
	case 'H':
	case 'f':
		vt_move(v, n - 1, vt_arg(v, 1, 1) - 1);
		break;
	case 'A':
		vt_move(v, v->row - n, v->col);
		break;
	case 'B':
	case 'e':
		vt_move(v, v->row + n, v->col);
		break;
	case 'C':
	case 'a':
		vt_move(v, v->row, v->col + n);
		break;
	case 'D':
		vt_move(v, v->row, v->col - n);
		break;
	case 'E':
		vt_move(v, v->row + n, 0);
		break;
	case 'F':
		vt_move(v, v->row - n, 0);
		break;
	case 'G':
	case '`':
		vt_move(v, v->row, n - 1);
		break;
	case 'd':
		vt_move(v, n - 1, v->col);
		break;
	case 'J':
		vt_erase_display(v, vt_arg(v, 0, 0));
		break;
	case 'K':
		vt_erase_line(v, vt_arg(v, 0, 0));
		break;
	case '@':
	case 'P':
	case 'X':
		vt_chars(v, final, n);
		break;
	case 'L':
	case 'M':
		vt_lines(v, final, n);
		break;
	case 'S':
		vt_scroll(v, v->top, v->bottom, n);
		break;
	case 'T':
		if (!v->private_mode && v->nparams <= 1)
			vt_scroll(v, v->top, v->bottom, -n);
		break;
	case 'r':
		if (!v->private_mode)
			vt_region(v);
		break;
	case 'b':
		vt_repeat(v, n);
		break;
	case 'h':
	case 'l':
		vt_mode(v, final == 'h');
		break;
	case 's':
		v->saved_row = v->row;
		v->saved_col = v->col;
		break;
	case 'u':
		vt_move(v, v->saved_row, v->saved_col);
		break;
	default: /* SGR and the rest change no cell */
		break;
	}
}

static void vt_control(struct vt *v, unsigned char ch)
{
	switch (ch) {
	case '\r':
		vt_move(v, v->row, 0);
		break;
	case '\n':
	case '\v':
	case '\f':
		vt_linefeed(v);
		break;
	case '\b':
		vt_move(v, v->row, v->col - 1);
		break;
	case '\t':
		vt_move(v, v->row, (v->col / 8 + 1) * 8);
		break;
	case 0x1b:
		v->state = VT_ESC;
		break;
	default: /* BEL, SO, SI */
		break;
	}
}

static void vt_escape(struct vt *v, unsigned char ch)
{
	v->state = VT_GROUND;
	switch (ch) {
	case '[':
		v->state = VT_CSI;
		v->nparams = 0;
		v->private_mode = false;
		memset(v->params, 0, sizeof v->params);
		break;
	case ']':
		v->state = VT_OSC;
		break;
	case '(':
	case ')':
	case '*':
	case '+':
	case '#':
		v->state = VT_ESC_SKIP; /* a charset: one more byte */
		break;
	case '7':
		v->saved_row = v->row;
		v->saved_col = v->col;
		break;
	case '8':
		vt_move(v, v->saved_row, v->saved_col);
		break;
	case 'M':
		vt_reverse_index(v);
		break;
	case 'D':
		vt_linefeed(v);
		break;
	case 'E':
		vt_move(v, v->row, 0);
		vt_linefeed(v);
		break;
	case 'c':
		vt_reset(v);
		break;
	default: /* keypad modes and the like */
		break;
	}
}

static void vt_csi_byte(struct vt *v, unsigned char ch)
{
	if (ch >= '0' && ch <= '9') {
		if (v->nparams == 0)
			v->nparams = 1;
		if (v->params[v->nparams - 1] < 100000)
			v->params[v->nparams - 1] =
			    v->params[v->nparams - 1] * 10 + (ch - '0');
	} else if (ch == ';') {
		if (v->nparams == 0)
			v->nparams = 1;
		if (v->nparams < VT_PARAMS)
			v->nparams++;
	} else if (ch >= 0x3c && ch <= 0x3f) {
		v->private_mode = true;
	} else if (ch >= 0x40 && ch <= 0x7e) {
		v->state = VT_GROUND;
		vt_csi(v, (char)ch);
	} else if (ch == 0x1b) {
		v->state = VT_ESC;
	}
	/* intermediates (0x20-0x2f) and stray controls: nothing */
}

static void vt_byte(struct vt *v, unsigned char ch)
{
	switch (v->state) {
	case VT_ESC:
		vt_escape(v, ch);
		return;
	case VT_ESC_SKIP:
		v->state = VT_GROUND;
		return;
	case VT_CSI:
		vt_csi_byte(v, ch);
		return;
	case VT_OSC:
		if (ch == 0x07)
			v->state = VT_GROUND;
		else if (ch == 0x1b)
			v->state = VT_OSC_ESC;
		return;
	case VT_OSC_ESC:
		v->state = ch == '\\' ? VT_GROUND : VT_OSC;
		return;
	case VT_GROUND:
		break;
	}
	if (ch < 0x20)
		vt_control(v, ch);
	else if (ch < 0x7f)
		vt_put(v, (char)ch);
	else if (ch >= 0xc0) /* a UTF-8 lead byte: one cell, not ASCII */
		vt_put(v, '~');
	/* DEL and UTF-8 continuation bytes take no cell */
}

static void vt_feed(struct vt *v, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		vt_byte(v, (unsigned char)buf[i]);
}

static bool is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Whether a row reads, as the tests' regexes say, `^\W*NAME\s+WORD\b`
 * (any word when word is NULL). */
static bool vt_row_shows(const struct vt *v, const char *name, const char *word)
{
	size_t nlen = strlen(name), wlen = word ? strlen(word) : 0;

	for (int r = 0; r < ROWS; r++) {
		const char *p = v->cell[r], *end = p + COLS;

		while (p < end && !is_word_char(*p))
			p++;
		if ((size_t)(end - p) < nlen + 2 || memcmp(p, name, nlen) ||
		    p[nlen] != ' ')
			continue;
		p += nlen;
		while (p < end && *p == ' ')
			p++;
		if (!word && p < end && is_word_char(*p))
			return true;
		if (word && (size_t)(end - p) >= wlen &&
		    !memcmp(p, word, wlen) &&
		    (p + wlen == end || !is_word_char(p[wlen])))
			return true;
	}
	return false;
}

static void vt_print(const struct vt *v, FILE *f)
{
	for (int r = 0; r < ROWS; r++) {
		int len = COLS;

		while (len > 0 && v->cell[r][len - 1] == ' ')
			len--;
		fprintf(f, "  |%.*s\n", len, v->cell[r]);
	}
}

/* ---- the benchmark's state ---------------------------------------- */

struct bench {
	struct event_base *base;
	int pty;       /* the master side */
	pid_t podui;   /* 0 once reaped */
	int status;    /* podui's wait status, once reaped */
	bool gone;     /* the pty said podui is gone (EIO, EOF) */
	bool quitting; /* q was sent: podui going is expected */
	FILE *trace;   /* --trace: everything podui wrote */
	char errlog[BENCH_HOME_MAX + 32];
	struct event *pty_ev;
	struct vt vt;
	uint64_t bytes; /* read from the pty in all */

	/* the sample being taken; a time is 0 until it happened */
	const char *row, *word; /* awaited on screen */
	int64_t screen_t;
	const char *event_state; /* awaited from the subscription */
	int64_t floor_t;
	bool reply_pending; /* a start or stop not answered yet */
	bool watch_armed;   /* a READY of SECOND is awaited */
	int64_t watch_t;
	int64_t spawn_t;

	struct insomnia_control *sub, *ctl;
	bool subscribed;
	struct insomnia_watch *watch;
	bool synced;
	bool timed_out;
};

static void podui_died(struct bench *b);

/* ---- podui in its pseudo-terminal --------------------------------- */

static void reap_children(struct bench *b)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (pid == b->podui) {
			b->podui = 0;
			b->status = status;
			pods[2] = 0;
		}
}

static void on_pty(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof buf);
	int64_t t = bench_now_ns();

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* EIO: every slave descriptor closed */
		b->gone = true;
		event_del(b->pty_ev);
		return;
	}
	b->bytes += (uint64_t)n;
	if (b->trace)
		fwrite(buf, 1, (size_t)n, b->trace);
	vt_feed(&b->vt, buf, (size_t)n);
	if (b->row && !b->screen_t && vt_row_shows(&b->vt, b->row, b->word))
		b->screen_t = t;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void podui_exec(const char *exe, const char *slave, int errfd)
{
	char *argv[] = {(char *)exe, NULL};
	int s;

	if (setsid() < 0)
		_exit(126);
	s = open(slave, O_RDWR); /* the session's controlling terminal */
	if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0)
		_exit(126);
	if (dup2(s, 0) < 0 || dup2(s, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(126);
	if (s > 2)
		close(s);
	execv(exe, argv);
	_exit(127);
}

static int pty_open(char *slave, size_t size)
{
	struct winsize ws = {.ws_row = ROWS, .ws_col = COLS};
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 ||
	    ptsname_r(m, slave, size) != 0 || ioctl(m, TIOCSWINSZ, &ws) < 0)
		bench_fail("pseudo-terminal: %s", strerror(errno));
	if (fcntl(m, F_SETFL, O_NONBLOCK) < 0)
		bench_fail("fcntl: %s", strerror(errno));
	return m;
}

static void podui_start(struct bench *b, const char *exe)
{
	char slave[128];
	int errfd;
	pid_t pid;

	b->pty = pty_open(slave, sizeof slave);
	snprintf(b->errlog, sizeof b->errlog, "%s/podui.stderr", home);
	errfd = open(b->errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (errfd < 0)
		bench_fail("%s: %s", b->errlog, strerror(errno));
	setenv("TERM", "xterm-256color", 1);
	setenv("NO_COLOR", "1", 1);
	setenv("LC_ALL", "C.UTF-8", 1);
	pid = fork();
	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid == 0)
		podui_exec(exe, slave, errfd);
	close(errfd);
	b->podui = pods[2] = pid;
	vt_reset(&b->vt);
	b->pty_ev = event_new(b->base, b->pty, EV_READ | EV_PERSIST, on_pty, b);
	if (!b->pty_ev || event_add(b->pty_ev, NULL) < 0)
		bench_fail("event_new failed");
}

static void podui_key(struct bench *b, const char *keys)
{
	if (write(b->pty, keys, strlen(keys)) != (ssize_t)strlen(keys))
		bench_fail("write to the pty: %s", strerror(errno));
}

static void print_stderr(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "re");

	while (f && fgets(line, sizeof line, f))
		fprintf(stderr, "  podui stderr: %s", line);
	if (f)
		fclose(f);
}

static void podui_died(struct bench *b)
{
	for (int i = 0; i < 50 && b->podui; i++) {
		reap_children(b);
		if (b->podui)
			usleep(10000);
	}
	fprintf(stderr, "ui-latency: podui died; the last screen:\n");
	vt_print(&b->vt, stderr);
	print_stderr(b->errlog);
	if (!b->podui && WIFEXITED(b->status))
		bench_fail("podui exited %d", WEXITSTATUS(b->status));
	if (!b->podui && WIFSIGNALED(b->status))
		bench_fail("podui killed by signal %d", WTERMSIG(b->status));
	bench_fail("podui closed its terminal");
}

/* ---- waiting in the loop ------------------------------------------ */

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	((struct bench *)arg)->timed_out = true;
}

/* Run the loop until done(b), podui's death (fatal) or ms. */
static bool wait_until(struct bench *b, bool (*done)(const struct bench *),
                       int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	struct event *deadline = evtimer_new(b->base, on_deadline, b);

	if (!deadline || evtimer_add(deadline, &tv) < 0)
		bench_fail("evtimer_new failed");
	b->timed_out = false;
	while (!done(b) && !b->timed_out && !b->gone) {
		bench_check_signal();
		if (event_base_loop(b->base, EVLOOP_ONCE) < 0)
			bench_fail("event_base_loop failed");
	}
	event_free(deadline);
	if (b->gone && !b->quitting)
		podui_died(b);
	return done(b);
}

static void must_wait(struct bench *b, bool (*done)(const struct bench *),
                      const char *what)
{
	if (wait_until(b, done, WAIT_MS))
		return;
	fprintf(stderr, "ui-latency: no %s within %d ms; the screen:\n", what,
	        WAIT_MS);
	vt_print(&b->vt, stderr);
	print_stderr(b->errlog);
	bench_fail("timed out");
}

static bool screen_shows(const struct bench *b)
{
	return b->screen_t != 0;
}

static bool subscribed(const struct bench *b)
{
	return b->subscribed;
}

static bool synced(const struct bench *b)
{
	return b->synced;
}

static bool process_done(const struct bench *b)
{
	return b->screen_t && b->floor_t && !b->reply_pending;
}

static bool pod_done(const struct bench *b)
{
	return b->screen_t && b->watch_t && b->spawn_t;
}

/* after its stop: "stopped", or its row gone, but not "ready" any more */
static bool second_not_ready(const struct bench *b)
{
	return !vt_row_shows(&b->vt, SECOND, "ready");
}

static void await_row(struct bench *b, const char *row, const char *word)
{
	b->row = row;
	b->word = word;
	b->screen_t = vt_row_shows(&b->vt, row, word) ? bench_now_ns() : 0;
}

/* ---- the floors: a subscriber and a watch ------------------------- */

static void on_sub_started(struct insomnia_control *c,
                           const struct insomnia_control_reply *r, void *arg)
{
	((struct bench *)arg)->subscribed = true;
}

static void on_sub_event(struct insomnia_control *c, const char *name,
                         const char *data, size_t len, void *arg)
{
	struct bench *b = arg;
	int64_t t = bench_now_ns();
	const char *proc = NULL, *state = NULL;
	json_t *j;

	if (strcmp(name, "process") || !b->event_state || b->floor_t)
		return;
	j = json_loadb(data, len, 0, NULL);
	if (j &&
	    !json_unpack(j, "{s:s, s:s}", "process", &proc, "state", &state) &&
	    !strcmp(proc, PROC) && !strcmp(state, b->event_state))
		b->floor_t = t;
	json_decref(j);
}

static void on_sub_ended(struct insomnia_control *c,
                         const struct insomnia_error *err, void *arg)
{
	bench_fail("the subscription ended: %s", err ? err->message : "EOF");
}

static void on_watch(const struct insomnia_watch_event *ev, void *arg)
{
	struct bench *b = arg;
	int64_t t = bench_now_ns();

	if (ev->kind == INSOMNIA_WATCH_FAILED)
		bench_fail("the watch failed: %s", ev->err->message);
	if (ev->kind == INSOMNIA_WATCH_SYNCED)
		b->synced = true;
	if (ev->kind == INSOMNIA_WATCH_READY && b->watch_armed &&
	    !strcmp(ev->name, SECOND) && !b->watch_t)
		b->watch_t = t;
}

static void floors_start(struct bench *b)
{
	const struct insomnia_control_stream stream = {
	    .started = on_sub_started,
	    .event = on_sub_event,
	    .ended = on_sub_ended,
	    .arg = b,
	};
	struct insomnia_error err;

	b->sub = insomnia_control_connect(b->base, POD, &err);
	if (!b->sub || insomnia_control_subscribe(
	                   b->sub, "subscribe",
	                   "{\"kinds\":[\"process\"],\"names\":[\"" PROC "\"]}",
	                   &stream, &err) < 0)
		bench_fail("subscribe: %s", err.message);
	b->ctl = insomnia_control_connect(b->base, POD, &err);
	if (!b->ctl)
		bench_fail("connect: %s", err.message);
	b->watch = insomnia_watch_start(b->base, on_watch, b, &err);
	if (!b->watch)
		bench_fail("watch: %s", err.message);
	must_wait(b, subscribed, "subscription");
	must_wait(b, synced, "watch listing");
}

/* ---- the samples -------------------------------------------------- */

static void on_reply(struct insomnia_control *c,
                     const struct insomnia_control_reply *r, void *arg)
{
	if (r->status != INSOMNIA_CONTROL_RESULT)
		bench_fail("start/stop: %s", r->err->message);
	((struct bench *)arg)->reply_pending = false;
}

/* One process event: `method` sent at t0, then its row shows `word` on
 * screen and the subscriber gets the event of that state. */
static void process_sample(struct bench *b, const char *method,
                           const char *word, double *screen, double *fl)
{
	struct insomnia_error err;
	int64_t t0;

	b->event_state = word;
	b->floor_t = 0;
	b->reply_pending = true;
	b->row = NULL; /* armed only once the trigger is out */
	t0 = bench_now_ns();
	if (insomnia_control_call(b->ctl, method, "{\"names\":[\"" PROC "\"]}",
	                          on_reply, b, &err) < 0)
		bench_fail("%s: %s", method, err.message);
	await_row(b, PROC, word);
	must_wait(b, process_done, word);
	*screen = (double)(b->screen_t - t0) / 1e6;
	*fl = (double)(b->floor_t - t0) / 1e6;
	b->event_state = NULL;
}

static void on_spawn_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct bench *b = arg;

	b->spawn_t = bench_now_ns();
	pods[1] = res->pid;
}

static void on_spawn_failed(const struct insomnia_error *err, void *arg)
{
	bench_fail("spawn %s: %s\n%s", SECOND, err->message, err->detail);
}

/* One pod ready: the second pod spawned in the loop; the trigger is its
 * ready callback.  Then it is stopped and seen not ready, untimed. */
static void pod_sample(struct bench *b, double *screen, double *fl)
{
	const struct insomnia_spawn_options opts = {
	    .name = SECOND, .arg = b, .cwd = home};
	struct insomnia_error err;

	b->watch_t = b->spawn_t = 0;
	b->watch_armed = true;
	await_row(b, SECOND, "ready");
	if (!insomnia_spawn_start(b->base, &opts, on_spawn_ready,
	                          on_spawn_failed, &err))
		bench_fail("spawn: %s", err.message);
	must_wait(b, pod_done, "pod ready");
	*screen = (double)(b->screen_t - b->spawn_t) / 1e6;
	*fl = (double)(b->watch_t - b->spawn_t) / 1e6;
	b->watch_armed = false;
	if (insomnia_stop(SECOND, 2000, NULL, NULL, &err) < 0)
		bench_fail("stop %s: %s", SECOND, err.message);
	pods[1] = 0;
	reap_children(b);
	b->row = NULL;
	must_wait(b, second_not_ready, SECOND " no longer ready");
}

/* ---- the report --------------------------------------------------- */

struct dist {
	double median, p95;
};

static struct dist dist_of(const double *v, int n)
{
	double *s = bench_samples(n);
	struct dist d;

	memcpy(s, v, (size_t)n * sizeof *s);
	d.median = bench_stat_of(s, n).median; /* sorts s */
	d.p95 = s[(95 * n + 99) / 100 - 1];
	free(s);
	return d;
}

static void print_row(const char *what, const double *screen, const double *fl,
                      int n)
{
	double *diff = bench_samples(n);
	struct dist s, f, d;

	for (int i = 0; i < n; i++)
		diff[i] = screen[i] - fl[i];
	s = dist_of(screen, n);
	f = dist_of(fl, n);
	d = dist_of(diff, n);
	printf("%-30s %4d %8.2f %8.2f %8.2f %8.2f ", what, n, s.median, s.p95,
	       f.median, f.p95);
	/* a floor at or before the trigger (the watch's READY comes before
	 * the spawn returns) has no meaningful ratio */
	if (f.median > 0)
		printf("%7.1fx", s.median / f.median);
	else
		printf("%8s", "-");
	printf(" %8.2f %8.2f\n", d.median, d.p95);
	free(diff);
}

static const char *fs_name(const char *path)
{
	struct statfs st;

	if (statfs(path, &st) < 0)
		return "?";
	if ((unsigned long)st.f_type == 0x01021994UL)
		return "tmpfs";
	if ((unsigned long)st.f_type == 0xEF53UL)
		return "ext2/3/4";
	return "other";
}

static void print_load(const char *when)
{
	char buf[128] = "?";
	FILE *f = fopen("/proc/loadavg", "re");

	if (f && fgets(buf, sizeof buf, f))
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
	printf("load average %s: %s\n", when, buf);
}

/* ---- set-up and the end ------------------------------------------- */

static void spawn_first_pod(void)
{
	const struct insomnia_spawn_options opts = {
	    .name = POD, .overlay = overlay, .cwd = home};
	struct insomnia_spawn_result res;
	struct insomnia_error err;

	if (insomnia_spawn(&opts, &res, &err) < 0)
		bench_fail("spawn %s: %s\n%s", POD, err.message, err.detail);
	pods[0] = res.pid;
}

/* Both rows there: the pod ready, its process ready.  The processes
 * pane shows the selected pod's: select it if podui did not. */
static void podui_settle(struct bench *b)
{
	await_row(b, POD, "ready");
	must_wait(b, screen_shows, "row of " POD " ready");
	await_row(b, PROC, "ready");
	if (!wait_until(b, screen_shows, 2000)) {
		podui_key(b, "j");
		must_wait(b, screen_shows, "row of " PROC " ready");
	}
}

static bool podui_reaped(const struct bench *b)
{
	return b->gone;
}

/* q, then podui must leave by itself with status 0. */
static void podui_quit(struct bench *b)
{
	podui_key(b, "q");
	b->row = NULL;
	b->quitting = true;
	if (!wait_until(b, podui_reaped, WAIT_MS))
		bench_fail("podui still runs %d ms after q", WAIT_MS);
	for (int i = 0; i < 500 && b->podui; i++) {
		reap_children(b);
		if (b->podui)
			usleep(10000);
	}
	if (b->podui)
		bench_fail("podui closed its terminal but did not exit");
	if (!WIFEXITED(b->status) || WEXITSTATUS(b->status) != 0) {
		print_stderr(b->errlog);
		bench_fail("podui ended with wait status 0x%x after q",
		           b->status);
	}
}

/* --screen FILE: the screen a raw trace (--trace) leaves, to check the
 * emulator against a real terminal (cat the trace in tmux). */
static int print_screen(const char *path)
{
	char buf[65536];
	struct vt *v = malloc(sizeof *v);
	FILE *f = fopen(path, "re");
	size_t n;

	if (!v || !f) {
		fprintf(stderr, "ui-latency: %s: %s\n", path, strerror(errno));
		return 1;
	}
	vt_reset(v);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		vt_feed(v, buf, n);
	fclose(f);
	vt_print(v, stdout);
	free(v);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: ui-latency [-n RUNS] [--pods RUNS] [--quick] "
	                "[--home-dir DIR] [--pod PATH] [--podui PATH] "
	                "[--trace FILE]\n");
	exit(64);
}

struct options {
	int n, npod;
	const char *dir, *trace;
	char pod[PATH_MAX], podui[PATH_MAX];
};

static void parse(int argc, char **argv, struct options *o)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			o->n = 10;
			o->npod = 5;
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			o->n = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--pods") && i + 1 < argc) {
			o->npod = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--home-dir") && i + 1 < argc) {
			o->dir = argv[++i];
		} else if (!strcmp(argv[i], "--trace") && i + 1 < argc) {
			o->trace = argv[++i];
		} else if (!strcmp(argv[i], "--pod") && i + 1 < argc) {
			snprintf(o->pod, sizeof o->pod, "%s", argv[++i]);
		} else if (!strcmp(argv[i], "--podui") && i + 1 < argc) {
			snprintf(o->podui, sizeof o->podui, "%s", argv[++i]);
		} else {
			usage();
		}
	}
	if (o->n < 1 || o->npod < 1)
		usage();
}

static void measure_processes(struct bench *b, int n)
{
	double *stop_s = bench_samples(n + WARMUP),
	       *stop_f = bench_samples(n + WARMUP);
	double *start_s = bench_samples(n + WARMUP),
	       *start_f = bench_samples(n + WARMUP);

	for (int i = 0; i < n + WARMUP; i++) {
		process_sample(b, "stop", "stopped", &stop_s[i], &stop_f[i]);
		process_sample(b, "start", "ready", &start_s[i], &start_f[i]);
	}
	print_row("process stop -> \"stopped\"", stop_s + WARMUP,
	          stop_f + WARMUP, n);
	print_row("process start -> \"ready\"", start_s + WARMUP,
	          start_f + WARMUP, n);
	free(stop_s);
	free(stop_f);
	free(start_s);
	free(start_f);
}

static void measure_pods(struct bench *b, int n)
{
	double *s = bench_samples(n + 1), *f = bench_samples(n + 1);

	for (int i = 0; i < n + 1; i++)
		pod_sample(b, &s[i], &f[i]);
	print_row("pod ready (spawn returned)", s + 1, f + 1, n);
	free(s);
	free(f);
}

static void teardown(struct bench *b)
{
	struct insomnia_error err;

	insomnia_control_close(b->sub);
	insomnia_control_close(b->ctl);
	insomnia_watch_free(b->watch);
	event_free(b->pty_ev);
	close(b->pty);
	if (insomnia_stop(POD, 2000, NULL, NULL, &err) < 0)
		bench_fail("stop %s: %s", POD, err.message);
	pods[0] = 0;
	bench_kill_children_until_none();
	event_base_free(b->base);
	if (b->trace)
		fclose(b->trace);
	bench_remove_home(home);
}

int main(int argc, char **argv)
{
	struct options o = {.n = 100, .npod = 30, .dir = "/dev/shm"};
	char self[PATH_MAX], template[BENCH_HOME_MAX];
	struct bench b = {.pty = -1};
	struct bench_host h;

	if (argc == 3 && !strcmp(argv[1], "--screen"))
		return print_screen(argv[2]);
	parse(argc, argv, &o);
	setvbuf(stdout, NULL, _IOLBF, 0); /* in order with bench_fail() */
	bench_self_exe(self, sizeof self);
	bench_on_failure("ui-latency", home, pods, &npods);
	bench_catch_signals();
	if (bench_resolve_exe(o.pod, sizeof o.pod, self, "../../pod/pod"))
		bench_fail("no pod binary (give --pod PATH)");
	if (bench_resolve_exe(o.podui, sizeof o.podui, self,
	                      "../../client/ui/podui"))
		bench_fail("no podui binary (give --podui PATH)");
	if (snprintf(template, sizeof template, "%s/insomnia-bench-ui-XXXXXX",
	             o.dir) >= (int)sizeof template)
		bench_fail("%s: too long for a home", o.dir);
	bench_setup_home(home, sizeof home, template, o.pod);
	bench_use_build_monitor(self);
	if (o.trace && !(b.trace = fopen(o.trace, "we")))
		bench_fail("%s: %s", o.trace, strerror(errno));
	bench_host(&h);
	printf("ui-latency %s, %s, %ld CPUs, Linux %s\n", h.date, h.model,
	       h.cpus, h.u.release);
	printf("podui %s, %dx%d, TERM=xterm-256color NO_COLOR=1\n", o.podui,
	       COLS, ROWS);
	printf("pod %s, home %s (%s)\n", o.pod, home, fs_name(home));
	print_load("at start");
	spawn_first_pod();
	b.base = event_base_new();
	if (!b.base)
		bench_fail("event_base_new failed");
	podui_start(&b, o.podui);
	floors_start(&b);
	podui_settle(&b);
	printf("ms after the trigger; median and p95 of: screen (podui's row "
	       "shows it), floor (subscriber or watch), diff (screen - floor, "
	       "per event); ratio of the medians\n");
	printf("%-30s %4s %8s %8s %8s %8s %8s %8s %8s\n", "event", "N",
	       "screen", "p95", "floor", "p95", "ratio", "diff", "p95");
	measure_processes(&b, o.n);
	measure_pods(&b, o.npod);
	print_load("at end");
	podui_quit(&b);
	printf("podui wrote %llu bytes to its terminal and exited 0 on q\n",
	       (unsigned long long)b.bytes);
	teardown(&b);
	return 0;
}
