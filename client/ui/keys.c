/* keys.c: what each key does.  One table, one entry per action (its
 * keys, the help screen's text, the status line's hint, the function);
 * the help screen and the hints are drawn from it.  An open prompt
 * takes every key; the help screen leaves on any key; the sessions
 * view has its own few keys. */
#include "view.h"

#include <curses.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum {
	KEY_TAB = '\t',
	KEY_ESCAPE = 0x1b,
};

static bool is_enter(int key)
{
	return key == '\n' || key == '\r' || key == KEY_ENTER;
}

static struct ui_pod *selected_pod(struct ui *ui)
{
	return ui->sel_pod[0] != '\0' ? ui_pod_find(ui, ui->sel_pod) : NULL;
}

static void select_pod(struct ui *ui, const char *name)
{
	if (strcmp(ui->sel_pod, name) == 0)
		return;
	snprintf(ui->sel_pod, sizeof(ui->sel_pod), "%s", name);
	ui->sel_proc[0] = '\0';
	ui->procs_top = 0;
	ui_log_select(ui);
}

static void select_proc(struct ui *ui, const char *name)
{
	if (strcmp(ui->sel_proc, name) == 0)
		return;
	snprintf(ui->sel_proc, sizeof(ui->sel_proc), "%s", name);
	ui_log_select(ui);
}

/* The next index in 0..n-1 from i (SIZE_MAX: none yet, the first). */
static size_t step(size_t i, size_t n, int delta)
{
	if (i == SIZE_MAX || i >= n)
		return 0;
	if (delta < 0)
		return i > 0 ? i - 1 : 0;
	return i + 1 < n ? i + 1 : i;
}

static size_t proc_index(const struct ui_pod *pod, const char *name)
{
	for (size_t i = 0; i < pod->nprocs; i++)
		if (strcmp(pod->procs[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

static void move_pods(struct ui *ui, int delta)
{
	size_t n = view_shown_count(ui);
	size_t i;

	if (n == 0)
		return;
	i = step(view_shown_index(ui, ui->sel_pod), n, delta);
	select_pod(ui, view_shown_nth(ui, i)->name);
}

static void move_procs(struct ui *ui, int delta)
{
	struct ui_pod *pod = selected_pod(ui);
	size_t i;

	if (pod == NULL || pod->nprocs == 0)
		return;
	i = step(proc_index(pod, ui->sel_proc), pod->nprocs, delta);
	select_proc(ui, pod->procs[i].name);
}

static void move_selection(struct ui *ui, int delta)
{
	if (ui->focus == UI_FOCUS_PODS)
		move_pods(ui, delta);
	else
		move_procs(ui, delta);
}

static void key_quit(struct ui *ui)
{
	ui->quit = true;
}

static void key_help(struct ui *ui)
{
	ui->mode = UI_MODE_HELP;
}

/* Into the processes: the first is selected when none was, so that
 * s/x/r have a process at once (and the log shows it). */
static void key_focus(struct ui *ui)
{
	struct ui_pod *pod = selected_pod(ui);

	if (ui->focus == UI_FOCUS_PROCS) {
		ui->focus = UI_FOCUS_PODS;
		return;
	}
	ui->focus = UI_FOCUS_PROCS;
	if (pod != NULL && pod->nprocs > 0 && ui->sel_proc[0] == '\0')
		select_proc(ui, pod->procs[0].name);
}

static void key_up(struct ui *ui)
{
	move_selection(ui, -1);
}

static void key_down(struct ui *ui)
{
	move_selection(ui, 1);
}

/* On the processes: the log of this one (the first if none is
 * selected yet); on the pods: go to its processes. */
static void key_enter(struct ui *ui)
{
	struct ui_pod *pod = selected_pod(ui);

	if (ui->focus == UI_FOCUS_PODS) {
		key_focus(ui);
		return;
	}
	if (pod != NULL && pod->nprocs > 0 && ui->sel_proc[0] == '\0')
		select_proc(ui, pod->procs[0].name);
}

/* Also the way to try a lost control connection again (the pane
 * retries by itself only when another pod is selected). */
static void key_all(struct ui *ui)
{
	if (ui->sel_pod[0] != '\0')
		ui_pod_retry(ui, ui->sel_pod);
	select_proc(ui, "");
}

static void key_page_up(struct ui *ui)
{
	size_t page = view_log_rows(ui);
	size_t most = ui->log.count > page ? ui->log.count - page : 0;

	ui->log.scroll =
	    ui->log.scroll + page < most ? ui->log.scroll + page : most;
}

static void key_page_down(struct ui *ui)
{
	size_t page = view_log_rows(ui);

	ui->log.scroll = ui->log.scroll > page ? ui->log.scroll - page : 0;
}

static void key_follow(struct ui *ui)
{
	ui->log.scroll = 0;
}

static void key_spawn(struct ui *ui)
{
	ui->prompt.spawn_name[0] = '\0';
	ui->prompt.spawn_cwd[0] = '\0';
	ui_prompt_open(ui, UI_ASK_SPAWN_NAME, "spawn name: ", "");
}

/* The name rule at once, not after two more questions. */
static bool name_ok(struct ui *ui, const char *name)
{
	struct insomnia_error err;

	if (insomnia_name_check(name, &err) == 0)
		return true;
	ui_message(ui, true, "%s", err.message);
	return false;
}

static bool need_pod(struct ui *ui)
{
	if (ui->sel_pod[0] != '\0')
		return true;
	ui_message(ui, true, "no pod selected");
	return false;
}

static void key_cancel(struct ui *ui)
{
	if (need_pod(ui))
		ui_spawn_cancel(ui, ui->sel_pod);
}

/* The question names the pod, and the answer stops that one: the
 * selection may move while it is open (the pod went, a list changed). */
static void key_stop_pod(struct ui *ui)
{
	char label[sizeof(ui->prompt.label)];

	if (!need_pod(ui))
		return;
	snprintf(ui->prompt.target, sizeof(ui->prompt.target), "%s",
	         ui->sel_pod);
	snprintf(label, sizeof(label), "stop %.40s? (y/n) ", ui->sel_pod);
	ui_prompt_open(ui, UI_ASK_CONFIRM_STOP, label, "");
}

static void proc_action(struct ui *ui, const char *method)
{
	if (!need_pod(ui))
		return;
	if (ui->sel_proc[0] == '\0') {
		ui_message(ui, true, "select a process (Tab)");
		return;
	}
	ui_proc_action(ui, ui->sel_pod, ui->sel_proc, method);
}

static void key_start(struct ui *ui)
{
	proc_action(ui, "start");
}

static void key_stop(struct ui *ui)
{
	proc_action(ui, "stop");
}

static void key_restart(struct ui *ui)
{
	proc_action(ui, "restart");
}

static void key_filter(struct ui *ui)
{
	ui_prompt_open(ui, UI_ASK_FILTER, "filter: ", "");
}

static void key_sessions(struct ui *ui)
{
	ui_sessions_load(ui);
	ui->sel_session = 0;
	ui->mode = UI_MODE_SESSIONS;
}

static void key_reap(struct ui *ui)
{
	ui_reap(ui);
}

/* The hints are short and in the order of importance: at 80 columns
 * they all fit on the last row ("q quit n new S stop s/x/r proc ...
 * ? help", 79 columns); narrower, draw.c drops them from the end,
 * keeping "e sessions" and "? help". */
const struct view_key view_keys[] = {
    {{'q'},
     "q",
     "quit (also Ctrl-C, Ctrl-\\, SIGTERM, SIGHUP)",
     "q quit",
     key_quit},
    {{'n'},
     "n",
     "spawn a pod: name, then cwd, then manifest",
     "n new",
     key_spawn},
    {{'S'}, "S", "stop the selected pod (asks y/n)", "S stop", key_stop_pod},
    {{'s'}, "s", "start the selected process", "s/x/r proc", key_start},
    {{'x'}, "x", "stop the selected process", NULL, key_stop},
    {{'r'}, "r", "restart the selected process", NULL, key_restart},
    {{'c'}, "c", "cancel the selected pod's spawn", "c cancel", key_cancel},
    {{'/'},
     "/",
     "filter pods by name (substring; empty clears)",
     "/ filter",
     key_filter},
    {{'e'},
     "e",
     "sessions view (Enter resumes; e, q or Escape back)",
     "e sessions",
     key_sessions},
    {{'R'}, "R", "reap: remove what dead pods left", "R reap", key_reap},
    {{KEY_TAB, KEY_BTAB}, "Tab", "focus pods <-> processes", "Tab", key_focus},
    {{KEY_UP, 'k'}, "Up/k", "move the selection up", NULL, key_up},
    {{KEY_DOWN, 'j'}, "Down/j", "move the selection down", NULL, key_down},
    {{'\n', '\r', KEY_ENTER},
     "Enter",
     "(processes) the log of this process; (pods) to its processes",
     NULL,
     key_enter},
    {{'a'},
     "a",
     "the log of all the pod's processes (and try a lost connection again)",
     "a",
     key_all},
    {{KEY_PPAGE}, "PgUp", "scroll the log back", NULL, key_page_up},
    {{KEY_NPAGE}, "PgDn", "scroll the log forward", NULL, key_page_down},
    {{KEY_END, 'G'},
     "End/G",
     "follow the end of the log again",
     NULL,
     key_follow},
    {{'?'}, "?", "this help (any key leaves it)", "? help", key_help},
};
const size_t view_nkeys = sizeof(view_keys) / sizeof(*view_keys);

static const struct view_key *find_key(int key)
{
	for (size_t i = 0; i < view_nkeys; i++)
		for (size_t k = 0; k < 4 && view_keys[i].keys[k] != 0; k++)
			if (view_keys[i].keys[k] == key)
				return &view_keys[i];
	return NULL;
}

/* Copy src into dst, cut at a character's start when too long. */
static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void spawn_answer(struct ui *ui, enum ui_ask ask)
{
	struct ui_prompt *p = &ui->prompt;

	switch (ask) {
	case UI_ASK_SPAWN_NAME:
		if (p->text[0] == '\0')
			return;
		if (p->len >= sizeof(p->spawn_name)) {
			ui_message(ui, true, "name too long (at most %d bytes)",
			           INSOMNIA_NAME_MAX);
			return;
		}
		if (!name_ok(ui, p->text))
			return;
		copy_cut(p->spawn_name, sizeof(p->spawn_name), p->text);
		ui_prompt_open(ui, UI_ASK_SPAWN_CWD, "cwd (empty: here): ", "");
		return;
	case UI_ASK_SPAWN_CWD:
		copy_cut(p->spawn_cwd, sizeof(p->spawn_cwd), p->text);
		ui_prompt_open(ui, UI_ASK_SPAWN_MANIFEST,
		               "manifest (empty: the pod searches): ", "");
		return;
	default:
		break;
	}
	/* The manifest: empty answers are NULL (the defaults). */
	ui_spawn(ui, p->spawn_name, p->spawn_cwd[0] ? p->spawn_cwd : NULL,
	         p->text[0] ? p->text : NULL);
	if (ui_pod_find(ui, p->spawn_name) != NULL)
		select_pod(ui, p->spawn_name);
}

static void prompt_answer(struct ui *ui, enum ui_ask ask)
{
	switch (ask) {
	case UI_ASK_FILTER:
		copy_cut(ui->filter, sizeof(ui->filter), ui->prompt.text);
		ui->pods_top = 0;
		break;
	case UI_ASK_SPAWN_NAME:
	case UI_ASK_SPAWN_CWD:
	case UI_ASK_SPAWN_MANIFEST:
		spawn_answer(ui, ask);
		break;
	default:
		break;
	}
}

/* y/n takes one key, not a line: y stops the pod the question named
 * (never what is selected now), anything else does not. */
static void confirm_key(struct ui *ui, int key)
{
	const char *name = ui->prompt.target;

	ui->prompt.ask = UI_ASK_NONE;
	if (key != 'y' && key != 'Y')
		return;
	if (ui_pod_find(ui, name) == NULL)
		ui_message(ui, true, "%s: gone", name);
	else
		ui_pod_stop(ui, name);
}

static void prompt_key(struct ui *ui, int key)
{
	enum ui_ask ask = ui->prompt.ask;
	bool accepted;

	if (ask == UI_ASK_CONFIRM_STOP) {
		confirm_key(ui, key);
		return;
	}
	if (ui_prompt_key(ui, key, &accepted) && accepted)
		prompt_answer(ui, ask);
}

/* Resume, back to the main screen, on the resumed pod. */
static void resume_selected(struct ui *ui)
{
	const struct insomnia_session_info *s = &ui->sessions[ui->sel_session];
	char name[INSOMNIA_NAME_MAX + 1];

	snprintf(name, sizeof(name), "%s", s->name);
	ui->mode = UI_MODE_MAIN;
	ui_resume(ui, s->id);
	if (name[0] != '\0' && ui_pod_find(ui, name) != NULL)
		select_pod(ui, name);
}

static void sessions_key(struct ui *ui, int key)
{
	if (key == KEY_UP || key == 'k') {
		if (ui->sel_session > 0)
			ui->sel_session--;
	} else if (key == KEY_DOWN || key == 'j') {
		if (ui->sel_session + 1 < ui->nsessions)
			ui->sel_session++;
	} else if (is_enter(key)) {
		if (ui->sel_session < ui->nsessions)
			resume_selected(ui);
	} else if (key == 'e' || key == 'q' || key == KEY_ESCAPE) {
		ui->mode = UI_MODE_MAIN;
	}
}

static void main_key(struct ui *ui, int key)
{
	const struct view_key *k = find_key(key);

	if (k != NULL)
		k->fn(ui);
}

void ui_key(struct ui *ui, int key)
{
	/* A message stays until the next key.  Every key redraws the whole
	 * screen from the model as it is now: the model does not call
	 * ui_dirty for what the help and sessions screens do not show, so
	 * leaving them (any mode change) must not rely on earlier draws. */
	ui->message[0] = '\0';
	ui->message_is_error = false;
	ui_dirty(ui);
	if (key == KEY_RESIZE)
		return;
	if (ui->prompt.ask != UI_ASK_NONE)
		prompt_key(ui, key);
	else if (ui->mode == UI_MODE_HELP)
		ui->mode = UI_MODE_MAIN;
	else if (ui->mode == UI_MODE_SESSIONS)
		sessions_key(ui, key);
	else
		main_key(ui, key);
}
