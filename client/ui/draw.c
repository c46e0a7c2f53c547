/* draw.c: the screen, from struct ui.  Changes call ui_dirty, which
 * activates one event: however many changes a loop turn makes, the
 * screen is drawn once after them (erase, draw everything, refresh:
 * curses sends the terminal only the cells that changed).  The only
 * timer is the age tick, armed after a draw for the moment the soonest
 * age on screen changes its text, and not at all while none shows. */
#define NCURSES_WIDECHAR 1
#include "view.h"

#include <curses.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

/* Smaller than this, only a notice fits. */
enum { MIN_ROWS = 10, MIN_COLS = 40 };

/* Columns of the pods and processes rows (the headers line up). */
enum {
	POD_NAME = 2,
	POD_STATE = 22,
	POD_AGE = 32,
	POD_PROCS = 38,
	POD_PID = 45,
	POD_END = 56,
	PROC_NAME = 2,
	PROC_STATE = 22,
	PROC_PID = 33,
	PROC_RESTARTS = 41,
	PROC_EXIT = 51,
	PROC_READY = 58,
	PROC_STATUS = 65,
	SES_ID = 2,
	SES_NAME = 12,
	SES_CREATED = 33,
	SES_STATE = 51,
	SES_LIVE = 63,
};

/* The panes' rows at the last draw. */
struct layout {
	int pods_y, pods_rows;
	int procs_y, procs_rows;
	int log_y, log_rows;
};

size_t view_log_rows(const struct ui *ui)
{
	return ui->log_rows > 0 ? ui->log_rows : 1;
}

/* ---- The shown pods ------------------------------------------------ */

size_t view_shown_count(struct ui *ui)
{
	size_t n = 0;

	for (size_t i = 0; i < ui->npods; i++)
		n += ui_pod_shown(ui, ui->pods[i]);
	return n;
}

struct ui_pod *view_shown_nth(struct ui *ui, size_t nth)
{
	for (size_t i = 0; i < ui->npods; i++)
		if (ui_pod_shown(ui, ui->pods[i]) && nth-- == 0)
			return ui->pods[i];
	return NULL;
}

size_t view_shown_index(struct ui *ui, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < ui->npods; i++) {
		if (!ui_pod_shown(ui, ui->pods[i]))
			continue;
		if (strcmp(ui->pods[i]->name, name) == 0)
			return n;
		n++;
	}
	return SIZE_MAX;
}

/* ---- Text ------------------------------------------------------------ */

/* One character of s (UTF-8 in a UTF-8 locale): its wide char and
 * bytes; an invalid byte is one replacement character, a control
 * character a '?' (a tab a space). */
static size_t next_char(const char *s, size_t len, wchar_t *wc)
{
	mbstate_t st;
	size_t k;

	memset(&st, 0, sizeof(st));
	k = mbrtowc(wc, s, len, &st);
	if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
		*wc = MB_CUR_MAX > 1 ? L'\xfffd' : L'?';
		return 1;
	}
	if (*wc == L'\t')
		*wc = L' ';
	else if (wcwidth(*wc) < 0)
		*wc = L'?';
	return k;
}

/* Print s at (y, x), cut to at most width columns (wide characters
 * count two, none is split); the columns used. */
static int put_text(int y, int x, const char *s, int width)
{
	wchar_t buf[64];
	size_t len = strlen(s);
	int n = 0, used = 0;

	if (width <= 0 || y < 0 || y >= LINES || x >= COLS)
		return 0;
	if (width > COLS - x)
		width = COLS - x;
	move(y, x);
	while (len > 0) {
		wchar_t wc;
		size_t k = next_char(s, len, &wc);
		int w = wcwidth(wc);

		if (used + w > width)
			break;
		if (n == (int)(sizeof(buf) / sizeof(*buf))) {
			addnwstr(buf, n);
			n = 0;
		}
		buf[n++] = wc;
		used += w;
		s += k;
		len -= k;
	}
	if (n > 0)
		addnwstr(buf, n);
	return used;
}

/* A column: s cut so that one blank column always follows it. */
static void put_field(int y, int x, const char *s, int width)
{
	put_text(y, x, s, width - 1);
}

static void color_on(struct ui *ui, int pair)
{
	if (ui->color && pair != 0)
		attron(COLOR_PAIR(pair));
}

static void color_off(struct ui *ui, int pair)
{
	if (ui->color && pair != 0)
		attroff(COLOR_PAIR(pair));
}

static int state_color(const char *state)
{
	static const struct {
		const char *word;
		int pair;
	} colors[] = {
	    {"ready", VIEW_GREEN},     {"running", VIEW_GREEN},
	    {"failed", VIEW_RED},      {"crashed", VIEW_RED},
	    {"fatal", VIEW_RED},       {"starting", VIEW_YELLOW},
	    {"stopping", VIEW_YELLOW}, {"backoff", VIEW_YELLOW},
	};

	for (size_t i = 0; i < sizeof(colors) / sizeof(*colors); i++)
		if (strcmp(colors[i].word, state) == 0)
			return colors[i].pair;
	return 0;
}

static void put_state(struct ui *ui, int y, int x, const char *state, int width)
{
	int pair = state_color(state);

	color_on(ui, pair);
	put_field(y, x, state, width);
	color_off(ui, pair);
}

/* " TITLE ─────" across the screen. */
static void put_title(int y, const char *title)
{
	int used;

	if (y < 0 || y >= LINES - 1)
		return;
	mvaddch(y, 0, ' ');
	used = 1 + put_text(y, 1, title, COLS - 2);
	if (used + 1 < COLS)
		mvhline(y, used + 1, ACS_HLINE, COLS - used - 1);
}

/* A row starts: the selection marker, and in the focused list the
 * whole row reversed (its colours kept) until row_end. */
static void row_begin(int y, bool selected, bool focused)
{
	if (selected && focused) {
		attron(A_REVERSE);
		move(y, 0);
		for (int x = 0; x < COLS; x++)
			addch(' ');
	}
	if (selected)
		mvaddch(y, 0, '>');
}

static void row_end(void)
{
	attroff(A_REVERSE);
}

/* ---- Ages ------------------------------------------------------------ */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "42s", "12m", "5h", "3d"; *next: ms until the text changes. */
static void age_text(int64_t age, char *buf, size_t size, int64_t *next)
{
	static const struct {
		int64_t unit, below;
		char suffix;
	} units[] = {
	    {1000, 60000, 's'},
	    {60000, 3600000, 'm'},
	    {3600000, 86400000, 'h'},
	    {86400000, INT64_MAX, 'd'},
	};
	size_t i = 0;

	if (age < 0)
		age = 0;
	while (age >= units[i].below)
		i++;
	snprintf(buf, size, "%lld%c", (long long)(age / units[i].unit),
	         units[i].suffix);
	*next = units[i].unit - age % units[i].unit;
}

/* A pod whose process runs: only its pid and age mean something (a
 * dead pod's pid may be anyone's by now). */
static bool pod_alive(const struct ui_pod *pod)
{
	return pod->state == UI_POD_STARTING || pod->state == UI_POD_READY ||
	       pod->state == UI_POD_STOPPING;
}

/* Whether the pod's age shows: it runs and its start is known. */
static bool pod_has_age(const struct ui_pod *pod)
{
	return pod->started_ms != 0 && pod_alive(pod);
}

/* ---- Selection -------------------------------------------------------- */

static size_t proc_index(const struct ui_pod *pod, const char *name)
{
	for (size_t i = 0; i < pod->nprocs; i++)
		if (strcmp(pod->procs[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

/* The selection names a shown pod (the first, when it named none) and
 * one of its processes or "" (all). */
static void fix_selection(struct ui *ui)
{
	struct ui_pod *pod = NULL;
	bool changed = false;

	if (ui->sel_pod[0] != '\0' &&
	    view_shown_index(ui, ui->sel_pod) != SIZE_MAX)
		pod = ui_pod_find(ui, ui->sel_pod);
	if (pod == NULL) {
		pod = view_shown_nth(ui, 0);
		changed = strcmp(ui->sel_pod, pod ? pod->name : "") != 0;
		snprintf(ui->sel_pod, sizeof(ui->sel_pod), "%s",
		         pod ? pod->name : "");
		if (changed) {
			ui->sel_proc[0] = '\0';
			ui->procs_top = 0;
		}
	}
	/* Processes are known only once `ps` answered. */
	if (pod != NULL && pod->link == UI_LINK_UP && ui->sel_proc[0] != '\0' &&
	    proc_index(pod, ui->sel_proc) == SIZE_MAX) {
		ui->sel_proc[0] = '\0';
		changed = true;
	}
	if (ui->nsessions > 0 && ui->sel_session >= ui->nsessions)
		ui->sel_session = ui->nsessions - 1;
	if (changed)
		ui_log_select(ui);
}

/* The first row shown so that row sel is among the rows shown. */
static size_t scroll_to(size_t top, size_t sel, size_t n, size_t rows)
{
	if (sel != SIZE_MAX && sel < top)
		top = sel;
	if (sel != SIZE_MAX && sel >= top + rows)
		top = sel - rows + 1;
	if (top + rows > n)
		top = n > rows ? n - rows : 0;
	return top;
}

/* ---- The main mode ---------------------------------------------------- */

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int proc_rows_wanted(const struct ui_pod *pod)
{
	if (pod != NULL && pod->link == UI_LINK_UP && pod->nprocs > 0)
		return (int)pod->nprocs;
	return 1;
}

/* Two lists of at most 3/10 of the rows each, the log the rest; each
 * list at least one row (from MIN_ROWS up, 3/10 of the rest is 0). */
static struct layout layout_of(struct ui *ui, const struct ui_pod *pod)
{
	int content = LINES - 2 - 5; /* header, last row; titles, headers */
	int cap = content * 3 / 10 > 1 ? content * 3 / 10 : 1;
	struct layout l;

	l.pods_y = 1;
	l.pods_rows = clamp((int)view_shown_count(ui), 1, cap);
	l.procs_y = l.pods_y + 2 + l.pods_rows;
	l.procs_rows = clamp(proc_rows_wanted(pod), 1, cap);
	l.log_y = l.procs_y + 2 + l.procs_rows;
	l.log_rows = LINES - 1 - (l.log_y + 1);
	return l;
}

static void draw_header(struct ui *ui)
{
	char text[UI_TEXT_MAX];
	int n = snprintf(text, sizeof(text), "podui  %zu pod%s", ui->npods,
	                 ui->npods == 1 ? "" : "s");

	if (ui->filter[0] != '\0' && n > 0 && (size_t)n < sizeof(text))
		snprintf(text + n, sizeof(text) - n, "  filter \"%s\"",
		         ui->filter);
	put_text(0, 0, text, COLS);
}

static void draw_pod_row(struct ui *ui, int y, struct ui_pod *pod, int64_t now,
                         int64_t *next)
{
	char buf[32];
	int64_t change;

	row_begin(y, strcmp(pod->name, ui->sel_pod) == 0,
	          ui->focus == UI_FOCUS_PODS);
	put_field(y, POD_NAME, pod->name, POD_STATE - POD_NAME);
	put_state(ui, y, POD_STATE, ui_pod_state_name(pod->state),
	          POD_AGE - POD_STATE);
	if (pod_has_age(pod)) {
		age_text(now - pod->started_ms, buf, sizeof(buf), &change);
		put_field(y, POD_AGE, buf, POD_PROCS - POD_AGE);
		if (change < *next)
			*next = change;
	}
	if (pod->link == UI_LINK_UP)
		snprintf(buf, sizeof(buf), "%zu/%zu", pod->nready, pod->nprocs);
	else
		snprintf(buf, sizeof(buf), "-");
	put_field(y, POD_PROCS, buf, POD_PID - POD_PROCS);
	if (pod->pid > 0 && pod_alive(pod))
		snprintf(buf, sizeof(buf), "%ld", (long)pod->pid);
	else
		snprintf(buf, sizeof(buf), "-");
	put_field(y, POD_PID, buf, POD_END - POD_PID);
	row_end();
}

/* The pods pane; *next: ms until a shown age changes (INT64_MAX none). */
static void draw_pods(struct ui *ui, const struct layout *l, int64_t *next)
{
	size_t n = view_shown_count(ui);
	int64_t now = now_ms();
	int y = l->pods_y + 2;

	put_title(l->pods_y, "PODS");
	mvaddstr(l->pods_y + 1, 0,
	         "  NAME                STATE     AGE   "
	         "PROCS  PID");
	ui->pods_top =
	    scroll_to(ui->pods_top, view_shown_index(ui, ui->sel_pod), n,
	              (size_t)l->pods_rows);
	if (n == 0)
		put_text(y, 2,
		         ui->filter[0] ? "(no pod matches the filter)"
		                       : (ui->synced ? "(no pods: n spawns one)"
		                                     : "(listing)"),
		         COLS - 2);
	for (int r = 0; r < l->pods_rows && ui->pods_top + r < n; r++)
		draw_pod_row(ui, y + r, view_shown_nth(ui, ui->pods_top + r),
		             now, next);
}

static void draw_proc_row(struct ui *ui, int y, const struct ui_proc *p)
{
	char buf[32];

	row_begin(y, strcmp(p->name, ui->sel_proc) == 0,
	          ui->focus == UI_FOCUS_PROCS);
	put_field(y, PROC_NAME, p->name, PROC_STATE - PROC_NAME);
	put_state(ui, y, PROC_STATE, p->state, PROC_PID - PROC_STATE);
	if (p->pid > 0)
		snprintf(buf, sizeof(buf), "%ld", (long)p->pid);
	else
		snprintf(buf, sizeof(buf), "-");
	put_field(y, PROC_PID, buf, PROC_RESTARTS - PROC_PID);
	snprintf(buf, sizeof(buf), "%d", p->restarts);
	put_field(y, PROC_RESTARTS, buf, PROC_EXIT - PROC_RESTARTS);
	put_field(y, PROC_EXIT, p->exit[0] ? p->exit : "-",
	          PROC_READY - PROC_EXIT);
	put_field(y, PROC_READY, p->ready ? "yes" : "no",
	          PROC_STATUS - PROC_READY);
	put_text(y, PROC_STATUS, p->status[0] ? p->status : p->reason,
	         COLS - PROC_STATUS);
	row_end();
}

/* Why a pod shows no process rows; NULL: it shows them. */
static const char *no_procs_text(const struct ui_pod *pod, char *buf,
                                 size_t size)
{
	switch (pod->link) {
	case UI_LINK_UP:
		return pod->nprocs == 0 ? "(no processes)" : NULL;
	case UI_LINK_CONNECTING:
		return "(connecting)";
	case UI_LINK_LOST:
		snprintf(buf, size, "(no control connection: %s)",
		         pod->link_error);
		return buf;
	case UI_LINK_NONE:
		break;
	}
	return pod->state == UI_POD_STARTING ? "(starting)" : "(not running)";
}

static void draw_procs(struct ui *ui, const struct layout *l,
                       struct ui_pod *pod)
{
	char title[UI_TEXT_MAX + 16];
	char why[UI_TEXT_MAX + 32];
	const char *none;
	int y = l->procs_y + 2;

	snprintf(title, sizeof(title), pod ? "PROCESSES of %s" : "PROCESSES",
	         pod ? pod->name : "");
	put_title(l->procs_y, title);
	mvaddstr(l->procs_y + 1, 0,
	         "  NAME                STATE      PID     "
	         "RESTARTS  EXIT   READY  STATUS");
	if (pod == NULL)
		return;
	none = no_procs_text(pod, why, sizeof(why));
	if (none != NULL) {
		color_on(ui, pod->link == UI_LINK_LOST ? VIEW_RED : 0);
		put_text(y, 2, none, COLS - 2);
		color_off(ui, pod->link == UI_LINK_LOST ? VIEW_RED : 0);
		return;
	}
	ui->procs_top = scroll_to(ui->procs_top, proc_index(pod, ui->sel_proc),
	                          pod->nprocs, (size_t)l->procs_rows);
	for (int r = 0; r < l->procs_rows && ui->procs_top + r < pod->nprocs;
	     r++)
		draw_proc_row(ui, y + r, &pod->procs[ui->procs_top + r]);
}

static void draw_log_line(struct ui *ui, int y, const char *line)
{
	int pair = strncmp(line, "spawn failed:", 13) == 0 ? VIEW_RED : 0;

	color_on(ui, pair);
	put_text(y, 0, line, COLS);
	color_off(ui, pair);
}

static void draw_log(struct ui *ui, const struct layout *l)
{
	struct ui_log *log = &ui->log;
	char title[UI_TEXT_MAX + 48];
	size_t rows = l->log_rows > 0 ? (size_t)l->log_rows : 0;
	size_t most = log->count > rows ? log->count - rows : 0;
	size_t end, start;
	int n;

	/* Back at most to the oldest line on the top row: further would
	 * empty the pane (logs.c grows the scroll as lines come, the pane
	 * may have grown taller since PgUp). */
	if (log->scroll > most)
		log->scroll = most;

	if (log->source == UI_LOG_NOTHING)
		n = snprintf(title, sizeof(title), "LOG");
	else
		n = snprintf(title, sizeof(title), "LOG %s", log->title);
	if (log->scroll > 0 && n > 0 && (size_t)n < sizeof(title))
		snprintf(title + n, sizeof(title) - n, " (scrolled back %zu)",
		         log->scroll);
	put_title(l->log_y, title);
	ui->log_rows = rows;
	end = log->count > log->scroll ? log->count - log->scroll : 0;
	start = end > rows ? end - rows : 0;
	for (size_t i = start; i < end; i++)
		draw_log_line(ui, l->log_y + 1 + (int)(i - start),
		              log->lines[(log->first + i) % UI_LOG_LINES]);
}

/* Hints kept however narrow the screen: the help, and the sessions
 * view (its key is the only way to it). */
static bool hint_kept(const struct view_key *k)
{
	return k->keys[0] == '?' || k->keys[0] == 'e';
}

/* The columns the kept hints after the i-th take, a space each. */
static int kept_after(size_t i)
{
	int cols = 0;

	while (++i < view_nkeys)
		if (view_keys[i].hint != NULL && hint_kept(&view_keys[i]))
			cols += (int)strlen(view_keys[i].hint) + 1;
	return cols;
}

/* "S stop": the key (all before the last space) bold, then the word;
 * single spaces between hints, the keys' bold tells them apart. */
static int put_hint(int x, const char *hint)
{
	const char *word = strrchr(hint, ' ');
	int keylen = word ? (int)(word - hint) : (int)strlen(hint);
	char key[16];

	snprintf(key, sizeof(key), "%.*s", keylen, hint);
	attron(A_BOLD);
	x += put_text(LINES - 1, x, key, COLS - x);
	attroff(A_BOLD);
	if (word != NULL)
		x += put_text(LINES - 1, x, word, COLS - x);
	return x;
}

/* The hints in the table's order, which is their importance (the last
 * column left blank): from the first that does not fit, the others
 * drop (a short one further on is less important), the kept ones stay
 * (their room is reserved). */
static void draw_hints(void)
{
	bool full = false;
	int x = 0;

	for (size_t i = 0; i < view_nkeys; i++) {
		const char *hint = view_keys[i].hint;
		int room = COLS - 1 - x - kept_after(i);

		if (hint == NULL || (full && !hint_kept(&view_keys[i])))
			continue;
		if ((int)strlen(hint) > room) {
			full = true;
			continue;
		}
		x = put_hint(x, hint) + 1;
	}
}

/* The columns the len bytes at s take on screen. */
static int text_cols_n(const char *s, size_t len)
{
	int cols = 0;

	while (len > 0) {
		wchar_t wc;
		size_t k = next_char(s, len, &wc);

		cols += wcwidth(wc);
		s += k;
		len -= k;
	}
	return cols;
}

static void draw_prompt(struct ui *ui)
{
	const struct ui_prompt *p = &ui->prompt;
	int used = put_text(LINES - 1, 0, p->label, COLS);
	int room = COLS - used - 1; /* the last for the cursor '_' */
	const char *text = p->text + p->len;
	int cols = 0, w;

	/* Too long: show its end, from a character's start; one walk back
	 * from the end, so a pasted line of thousands stays cheap per key */
	while (text > p->text) {
		const char *start = text - 1;

		while (start > p->text &&
		       ((unsigned char)*start & 0xc0) == 0x80)
			start--;
		w = text_cols_n(start, (size_t)(text - start));
		if (cols + w > room)
			break;
		cols += w;
		text = start;
	}
	used += put_text(LINES - 1, used, text, room);
	put_text(LINES - 1, used, "_", 1);
}

static void draw_last_row(struct ui *ui)
{
	if (ui->prompt.ask != UI_ASK_NONE) {
		draw_prompt(ui);
	} else if (ui->message[0] != '\0') {
		if (ui->message_is_error)
			attron(A_BOLD);
		color_on(ui, ui->message_is_error ? VIEW_RED : 0);
		put_text(LINES - 1, 0, ui->message, COLS);
		color_off(ui, ui->message_is_error ? VIEW_RED : 0);
		attroff(A_BOLD);
	} else if (ui->mode == UI_MODE_MAIN) {
		draw_hints();
	} else if (ui->mode == UI_MODE_SESSIONS) {
		put_text(LINES - 1, 0,
		         "Up/Down move  Enter resume  e/q/Escape back", COLS);
	} else {
		put_text(LINES - 1, 0, "any key: back", COLS);
	}
}

/* The main mode; *next as draw_pods. */
static void draw_main(struct ui *ui, int64_t *next)
{
	struct ui_pod *pod =
	    ui->sel_pod[0] ? ui_pod_find(ui, ui->sel_pod) : NULL;
	struct layout l = layout_of(ui, pod);

	draw_header(ui);
	draw_pods(ui, &l, next);
	draw_procs(ui, &l, pod);
	draw_log(ui, &l);
}

/* ---- Help and sessions ----------------------------------------------- */

static void draw_help(void)
{
	char line[160];
	int y = 1;

	put_title(0, "podui keys");
	for (size_t i = 0; i < view_nkeys && y < LINES - 1; i++, y++) {
		snprintf(line, sizeof(line), "  %-8s %s", view_keys[i].label,
		         view_keys[i].help);
		put_text(y, 0, line, COLS);
	}
	if (y < LINES - 1)
		put_text(y, 0, "  Escape   cancel any prompt", COLS);
}

static void draw_session_row(struct ui *ui, int y, size_t i)
{
	const struct insomnia_session_info *s = &ui->sessions[i];
	char created[32] = "";
	char id[9];
	time_t t = (time_t)(s->created_ms / 1000);
	struct tm tm;

	row_begin(y, i == ui->sel_session, true);
	snprintf(id, sizeof(id), "%.8s", s->id);
	if (s->created_ms != 0 && localtime_r(&t, &tm) != NULL)
		strftime(created, sizeof(created), "%Y-%m-%d %H:%M", &tm);
	put_field(y, SES_ID, id, SES_NAME - SES_ID);
	put_field(y, SES_NAME, s->name, SES_CREATED - SES_NAME);
	put_field(y, SES_CREATED, created, SES_STATE - SES_CREATED);
	put_state(ui, y, SES_STATE, insomnia_session_state_name(s->state),
	          SES_LIVE - SES_STATE);
	put_text(y, SES_LIVE, s->live ? "live" : "", COLS - SES_LIVE);
	row_end();
}

static void draw_sessions(struct ui *ui)
{
	size_t rows = (size_t)(LINES - 3);

	put_title(0, "SESSIONS");
	mvaddstr(1, 0,
	         "  ID        NAME                 CREATED           "
	         "STATE       LIVE");
	if (ui->nsessions == 0)
		put_text(2, 2, "(no sessions)", COLS - 2);
	ui->sessions_top =
	    scroll_to(ui->sessions_top, ui->sel_session, ui->nsessions, rows);
	for (size_t r = 0; r < rows && ui->sessions_top + r < ui->nsessions;
	     r++)
		draw_session_row(ui, 2 + (int)r, ui->sessions_top + r);
}

/* ---- The redraw and the tick ---------------------------------------- */

static void arm_tick(struct ui *ui, int64_t next)
{
	struct timeval tv;

	if (ui->tick == NULL)
		return;
	if (next == INT64_MAX) {
		evtimer_del(ui->tick);
		return;
	}
	/* A few ms late rather than early: early would draw the same
	 * text and wake again at once. */
	next += 5;
	tv.tv_sec = next / 1000;
	tv.tv_usec = (next % 1000) * 1000;
	evtimer_add(ui->tick, &tv);
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ui_draw(struct ui *ui)
{
	int64_t next = INT64_MAX, now;

	if (!view_term_on())
		return;
	fix_selection(ui);
	erase();
	if (LINES < MIN_ROWS || COLS < MIN_COLS)
		put_text(0, 0, "podui: the terminal is too small", COLS);
	else if (ui->mode == UI_MODE_HELP)
		draw_help();
	else if (ui->mode == UI_MODE_SESSIONS)
		draw_sessions(ui);
	else
		draw_main(ui, &next);
	if (LINES >= MIN_ROWS && COLS >= MIN_COLS)
		draw_last_row(ui);
	refresh();
	arm_tick(ui, next);
	now = now_us();
	ui->rapid_draws =
	    now - ui->drawn_us < UI_FRAME_US ? ui->rapid_draws + 1 : 0;
	ui->drawn_us = now;
	if (ui->paced != NULL)
		evtimer_del(ui->paced);
}

static void on_redraw(evutil_socket_t fd, short what, void *arg)
{
	struct ui *ui = arg;

	(void)fd;
	(void)what;
	if (ui->quit) {
		event_base_loopbreak(ui->base);
		return;
	}
	ui_draw(ui);
}

/* A change is drawn in this turn of the loop, unless the last
 * UI_BURST draws came less than a frame apart each: then once, a frame
 * after the last.  A process flooding its log (each read of the stream
 * a change) then costs at most one draw per frame, not one per read,
 * while a lone event, or a short burst, is shown at once. */
void ui_dirty(struct ui *ui)
{
	int64_t wait = ui->drawn_us + UI_FRAME_US - now_us();
	struct timeval tv = {0, (suseconds_t)wait};

	if (ui->redraw == NULL)
		return;
	if (wait <= 0 || ui->rapid_draws < UI_BURST)
		event_active(ui->redraw, EV_TIMEOUT, 0);
	else if (!evtimer_pending(ui->paced, NULL))
		evtimer_add(ui->paced, &tv);
}

void ui_message(struct ui *ui, bool error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ui->message, sizeof(ui->message), fmt, ap);
	va_end(ap);
	/* One line: the last row. */
	for (char *c = ui->message; *c != '\0'; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	ui->message_is_error = error;
	ui_dirty(ui);
}

int ui_draw_init(struct ui *ui)
{
	ui->redraw = event_new(ui->base, -1, 0, on_redraw, ui);
	ui->tick = evtimer_new(ui->base, on_redraw, ui);
	ui->paced = evtimer_new(ui->base, on_redraw, ui);
	if (ui->redraw == NULL || ui->tick == NULL || ui->paced == NULL) {
		ui_draw_free(ui);
		return -1;
	}
	return 0;
}

void ui_draw_free(struct ui *ui)
{
	if (ui->redraw != NULL)
		event_free(ui->redraw);
	if (ui->tick != NULL)
		event_free(ui->tick);
	if (ui->paced != NULL)
		event_free(ui->paced);
	ui->redraw = NULL;
	ui->tick = NULL;
	ui->paced = NULL;
}
