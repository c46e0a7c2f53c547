/* term.c: the terminal.  Curses goes on with the locale set (UTF-8),
 * in cbreak mode (not raw: Ctrl-C stays SIGINT and Ctrl-\ SIGQUIT,
 * which the loop handles like SIGTERM and SIGHUP: it quits); keys are
 * read from a libevent event on stdin.  Every way out restores the tty:
 * ui_term_end (idempotent) on the normal paths and ui_fatal, and a
 * fatal signal's handler that only makes async-signal-safe calls
 * before the signal goes on to the action it had before us (a
 * sanitizer's report, or death by the signal). */
#include "view.h"

#include <curses.h>
#include <errno.h>
#include <event2/event.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <term.h>
#include <termios.h>
#include <unistd.h>

/* What the fatal signal handler needs, prepared before it can run. */
static struct termios saved_tio;
static volatile sig_atomic_t curses_on;
static char leave_seq[256]; /* terminfo: attributes off, cursor, screen */
static size_t leave_len;
static SCREEN *screen;
/* SIGQUIT's loop event: struct ui has no field for it. */
static struct event *sig_quit;

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL,
                                    SIGTRAP, SIGSYS, SIGXCPU, SIGXFSZ};
#define NFATAL (sizeof(fatal_signals) / sizeof(*fatal_signals))
/* Each one's action before ours (ASan's handler, or the default);
 * caught[i]: ours replaced it (not when it was ignored). */
static struct sigaction fatal_saved[NFATAL];
static bool fatal_caught[NFATAL];

bool view_term_on(void)
{
	return curses_on;
}

/* Append a terminfo string without its padding ("$<5>"): the handler
 * cannot call tputs. */
static void leave_add(const char *cap)
{
	const char *s = tigetstr(cap);

	if (s == NULL || s == (const char *)-1)
		return;
	for (; *s != '\0' && leave_len + 1 < sizeof(leave_seq); s++) {
		if (s[0] == '$' && s[1] == '<' && strchr(s, '>') != NULL) {
			s = strchr(s, '>');
			continue;
		}
		leave_seq[leave_len++] = *s;
	}
}

/* The action sig had before ours, back in place. */
static void restore_fatal_action(int sig)
{
	for (size_t i = 0; i < NFATAL; i++)
		if (fatal_signals[i] == sig)
			sigaction(sig, &fatal_saved[i], NULL);
}

/* The code faulted (the kernel's signal, not a kill): returning runs
 * the faulting instruction again, which faults into the restored
 * action with its true address and context, as a sanitizer reports. */
static bool refaults(int sig, const siginfo_t *info)
{
	return info != NULL && info->si_code > 0 &&
	       (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
	        sig == SIGILL);
}

static void on_fatal_signal(int sig, siginfo_t *info, void *context)
{
	int saved = errno;

	(void)context;
	if (curses_on) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		if (write(STDOUT_FILENO, leave_seq, leave_len) < 0)
			errno = saved;
	}
	restore_fatal_action(sig);
	errno = saved;
	/* SA_NODEFER: a raised signal reaches the restored action at
	 * once (the default one dies of it here). */
	if (!refaults(sig, info))
		raise(sig);
}

/* Each fatal signal's action is saved, then ours takes its place;
 * one that was ignored stays ignored (a SIGXFSZ ignored by whoever
 * started us makes write fail instead of killing: nothing to restore). */
static void catch_fatal_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal_signal;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NFATAL; i++) {
		if (fatal_caught[i] ||
		    sigaction(fatal_signals[i], NULL, &fatal_saved[i]) != 0 ||
		    (!(fatal_saved[i].sa_flags & SA_SIGINFO) &&
		     fatal_saved[i].sa_handler == SIG_IGN))
			continue;
		fatal_caught[i] = sigaction(fatal_signals[i], &sa, NULL) == 0;
	}
}

static void start_colors(struct ui *ui)
{
	const char *no_color = getenv("NO_COLOR");
	short bg = COLOR_BLACK;

	ui->color = (no_color == NULL || no_color[0] == '\0') && has_colors();
	if (!ui->color)
		return;
	start_color();
	if (use_default_colors() == OK)
		bg = -1;
	init_pair(VIEW_GREEN, COLOR_GREEN, bg);
	init_pair(VIEW_RED, COLOR_RED, bg);
	init_pair(VIEW_YELLOW, COLOR_YELLOW, bg);
}

static void on_winch(evutil_socket_t fd, short what, void *arg)
{
	struct ui *ui = arg;
	struct winsize ws;

	(void)fd;
	(void)what;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	ui_dirty(ui);
}

static void on_quit_signal(evutil_socket_t fd, short what, void *arg)
{
	struct ui *ui = arg;

	(void)fd;
	(void)what;
	ui->quit = true;
	event_base_loopbreak(ui->base);
}

/* Readable with no key and nothing left to read: the terminal is gone
 * (EOF); leave rather than spin on an always-readable descriptor. */
static bool input_gone(void)
{
	int pending = 0;

	return ioctl(STDIN_FILENO, FIONREAD, &pending) != 0 || pending == 0;
}

static void on_input(evutil_socket_t fd, short what, void *arg)
{
	struct ui *ui = arg;
	int key;
	bool any = false;

	(void)fd;
	(void)what;
	while (!ui->quit && (key = getch()) != ERR) {
		any = true;
		ui_key(ui, key);
	}
	if (!any && input_gone())
		ui->quit = true;
	if (ui->quit)
		event_base_loopbreak(ui->base);
}

static struct event *add_signal(struct ui *ui, int sig, event_callback_fn fn)
{
	struct event *ev = evsignal_new(ui->base, sig, fn, ui);

	if (ev != NULL && event_add(ev, NULL) != 0) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}

/* After curses: it installs its own SIGWINCH (and SIGINT, SIGTERM)
 * handlers, which these replace. */
static int start_events(struct ui *ui)
{
	ui->sig_winch = add_signal(ui, SIGWINCH, on_winch);
	ui->sig_term = add_signal(ui, SIGTERM, on_quit_signal);
	ui->sig_int = add_signal(ui, SIGINT, on_quit_signal);
	ui->sig_hup = add_signal(ui, SIGHUP, on_quit_signal);
	/* Ctrl-\: its default dumps core with the tty in cbreak mode. */
	sig_quit = add_signal(ui, SIGQUIT, on_quit_signal);
	ui->input = event_new(ui->base, STDIN_FILENO, EV_READ | EV_PERSIST,
	                      on_input, ui);
	if (ui->input != NULL && event_add(ui->input, NULL) != 0) {
		event_free(ui->input);
		ui->input = NULL;
	}
	if (ui->sig_winch == NULL || ui->sig_term == NULL ||
	    ui->sig_int == NULL || ui->sig_hup == NULL || sig_quit == NULL ||
	    ui->input == NULL)
		return -1;
	return 0;
}

static void set_modes(void)
{
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	/* no typeahead check during refresh: three polls of stdin per
	 * draw, and keys are read from the loop anyway */
	typeahead(-1);
}

/* main checked that stdin and stdout are a terminal. */
int ui_term_start(struct ui *ui)
{
	if (tcgetattr(STDIN_FILENO, &saved_tio) != 0) {
		fprintf(stderr, "podui: the terminal: %s\n", strerror(errno));
		return -1;
	}
	setlocale(LC_ALL, "");
	screen = newterm(NULL, stdout, stdin);
	if (screen == NULL) {
		fprintf(stderr, "podui: cannot use the terminal (TERM=%s)\n",
		        getenv("TERM") ? getenv("TERM") : "");
		return -1;
	}
	/* a terminal that cannot move its cursor (TERM=dumb) would show
	 * every row on one line */
	if (tigetstr("cup") == NULL || tigetstr("cup") == (char *)-1) {
		endwin();
		delscreen(screen);
		screen = NULL;
		fprintf(stderr,
		        "podui: the terminal cannot address the cursor "
		        "(TERM=%s)\n",
		        getenv("TERM") ? getenv("TERM") : "");
		return -1;
	}
	leave_add("sgr0");
	leave_add("rmkx");
	leave_add("cnorm");
	leave_add("rmcup");
	curses_on = 1;
	catch_fatal_signals();
	set_modes();
	start_colors(ui);
	if (start_events(ui) != 0) {
		ui_term_end(ui);
		fprintf(stderr, "podui: cannot set up the event loop\n");
		return -1;
	}
	return 0;
}

void ui_term_end(struct ui *ui)
{
	(void)ui;
	/* Before the loop's base is freed (main's teardown ends the
	 * terminal first). */
	if (sig_quit != NULL)
		event_free(sig_quit);
	sig_quit = NULL;
	if (!curses_on)
		return;
	curs_set(1);
	endwin();
	curses_on = 0;
	delscreen(screen);
	screen = NULL;
	/* endwin restores what curses saved; this is what we saw before
	 * curses, in case it differs. */
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

void ui_fatal(struct ui *ui, const char *fmt, ...)
{
	va_list ap;

	ui_term_end(ui);
	fputs("podui: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void ui_fail(struct ui *ui, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ui->failure, sizeof ui->failure, fmt, ap);
	va_end(ap);
	ui->exit_code = 1;
	ui->quit = true;
	event_base_loopbreak(ui->base);
}
