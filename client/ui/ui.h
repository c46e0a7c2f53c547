/* ui.h: podui, the terminal UI, as its parts share it.
 *
 * podui is an application of libinsomnia's public API and nothing else
 * (<insomnia/...>, jansson for the replies' JSON, ncursesw for the
 * screen): the proof that a real event loop lives on the library.
 *
 * The parts, one job each:
 *   main.c      arguments, set-up, the loop, teardown (one place)
 *   term.c      the terminal: curses on and off, colours, signals
 *               (SIGWINCH/SIGTERM/SIGINT/SIGHUP in the loop, a fatal
 *               signal restores the tty before dying)
 *   draw.c      the screen from the model: layout, panes, status line,
 *               help; the redraw is coalesced (ui_dirty) and the age
 *               tick runs only while an age is on screen
 *   keys.c      the key table (one entry per action: key, name, help)
 *   prompt.c    the one-line editor (spawn form, filter, confirm)
 *   pods.c      the model of pods: the watch, and per live pod one
 *               control connection (`ps`, then `subscribe` pod+process)
 *   logs.c      the log pane's source: a `logs` follow stream, a pod's
 *               stderr.log, or a spawn's progress lines
 *   sessions.c  the sessions view's list
 *   actions.c   what the keys do to pods: spawn (and resume), cancel,
 *               stop, start/stop/restart a process, reap
 *
 * The model (pods.c, logs.c, sessions.c, actions.c) never draws: it
 * changes struct ui and calls ui_dirty().  The view (draw.c) never talks
 * to a pod: it reads struct ui and calls the model's functions below.
 * Everything runs in one thread, from ui->base's loop. */
#ifndef PODUI_UI_H
#define PODUI_UI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <insomnia/insomnia.h>

struct event;
struct event_base;

/* ---- The model ---------------------------------------------------- */

enum ui_pod_state {
	UI_POD_STARTING, /* its dir appeared, or our spawn runs */
	UI_POD_READY,
	UI_POD_STOPPING, /* its `pod` event said so, or state.json */
	UI_POD_STOPPED,  /* it cleaned up after itself */
	UI_POD_FAILED,   /* its spawn failed */
	UI_POD_CRASHED,  /* it died without cleaning up */
};

/* "starting", "ready", "stopping", "stopped", "failed", "crashed". */
const char *ui_pod_state_name(enum ui_pod_state s);

/* Sizes of the texts a row keeps (NUL included): longer ones are cut. */
#define UI_PROC_STATE_MAX 16
#define UI_EXIT_MAX       24
#define UI_TEXT_MAX       256

/* One process as `ps` and the `process` events say. */
struct ui_proc {
	char name[INSOMNIA_NAME_MAX + 1];
	char state[UI_PROC_STATE_MAX]; /* the pod's word: "ready", ... */
	pid_t pid;                     /* 0: none */
	int restarts;
	char exit[UI_EXIT_MAX];   /* last run: "0", "1", "TERM"; "" none */
	bool ready;               /* state is "ready" (the pod's count) */
	char status[UI_TEXT_MAX]; /* its STATUS= (sd_notify), "" none */
	char reason[UI_TEXT_MAX]; /* why blocked/failed/..., "" none */
};

/* Why a live pod's processes are not shown. */
enum ui_link {
	UI_LINK_NONE,       /* not alive: no connection */
	UI_LINK_CONNECTING, /* `ps` asked, no answer yet */
	UI_LINK_UP,         /* `ps` answered, events follow */
	UI_LINK_LOST,       /* the connection failed; link_error says why */
};

struct ui_op;  /* actions.c's operation in flight */
struct ui_ops; /* actions.c's operations in flight */

struct ui_pod {
	char name[INSOMNIA_NAME_MAX + 1];
	enum ui_pod_state state;
	pid_t pid;                                /* 0: unknown */
	char session_id[INSOMNIA_SESSION_ID_MAX]; /* "": unknown */
	int64_t started_ms; /* CLOCK_REALTIME ms since the epoch; 0: unknown
	                       (the age column is blank) */
	int exit_status;    /* FAILED: the pod's exit code, else -1 */
	int term_signal;    /* FAILED: the signal that ended it, else 0 */
	bool has_dir;       /* the watch reported it (not only our spawn) */

	enum ui_link link;
	char link_error[UI_TEXT_MAX];
	struct insomnia_control *events; /* pods.c's: ps + subscribe */
	struct ui_proc *procs;           /* in the pod's (manifest) order */
	size_t nprocs;
	size_t nready; /* procs whose state is "ready" */

	struct ui_op *spawn; /* our spawn in progress, else NULL */
	/* The spawn's progress, and on failure its error (kind, message,
	 * then the stderr tail), one line each: what the log pane shows
	 * for this pod while it spawns and after its spawn failed. */
	char **spawn_lines;
	size_t nspawn_lines;
};

/* The log pane: a ring of the last UI_LOG_LINES lines of one source. */
#define UI_LOG_LINES 2000

enum ui_log_source {
	UI_LOG_NOTHING, /* no pod selected */
	UI_LOG_SPAWN,   /* the pod's spawn_lines (spawning, or it failed) */
	UI_LOG_STDERR,  /* <runtime root>/<pod>/stderr.log */
	UI_LOG_PROCS,   /* the pod's `logs` stream (one process or all) */
};

struct ui_log {
	enum ui_log_source source;
	char title[UI_TEXT_MAX];   /* "web: all processes", "web: db",
	                              "web: stderr.log", "web: spawn" */
	char *lines[UI_LOG_LINES]; /* ring; malloc'd, no newline */
	size_t first;              /* index of the oldest */
	size_t count;
	/* Lines scrolled back from the end; 0 follows the end.  The view
	 * changes it; logs.c keeps it pointing at the same line while
	 * lines are appended (it grows by what was appended, up to what
	 * the ring holds). */
	size_t scroll;
	struct insomnia_control *stream; /* logs.c's, for UI_LOG_PROCS */
	/* logs.c's: stream reopens since the last `log` record; a note kept
	 * at the top of one pod's pane (its spawn's "ready: ..." line) */
	int quiet_reopens;
	char note_pod[INSOMNIA_NAME_MAX + 1]; /* "": no note */
	char note[UI_TEXT_MAX];
	/* Added by the model (logs.c's): whose lines these are, so that
	 * ui_log_select reopens only when the source changes; for
	 * UI_LOG_STDERR and UI_LOG_SPAWN, the pod's state when they were
	 * read (read again once it changed: the file may have grown). */
	char pod[INSOMNIA_NAME_MAX + 1];  /* "" with UI_LOG_NOTHING */
	char proc[INSOMNIA_NAME_MAX + 1]; /* UI_LOG_PROCS: "" all */
	enum ui_pod_state pod_state;
};

/* ---- The view's state --------------------------------------------- */

/* Draws closer than a frame to the one before count as a burst; after
 * UI_BURST of them in a row, the next waits for the frame: 250 draws a
 * second at most under a flood, none delayed in a short burst (a
 * process's starting, running, ready). */
#define UI_FRAME_US 4000
#define UI_BURST    4

enum ui_mode {
	UI_MODE_MAIN,     /* pods, processes, log */
	UI_MODE_SESSIONS, /* the sessions list */
	UI_MODE_HELP,     /* the keys */
};

enum ui_focus {
	UI_FOCUS_PODS,
	UI_FOCUS_PROCS,
};

/* What the prompt line is asking for; its answer goes to keys.c. */
enum ui_ask {
	UI_ASK_NONE,
	UI_ASK_SPAWN_NAME,
	UI_ASK_SPAWN_CWD,
	UI_ASK_SPAWN_MANIFEST,
	UI_ASK_FILTER,
	UI_ASK_CONFIRM_STOP, /* y/n: stop the selected pod */
};

struct ui_prompt {
	enum ui_ask ask;
	char label[64];
	char text[INSOMNIA_PATH_MAX]; /* UTF-8, as typed */
	size_t len;                   /* bytes in text */
	/* the spawn form's answers so far */
	char spawn_name[INSOMNIA_NAME_MAX + 1];
	char spawn_cwd[INSOMNIA_PATH_MAX];
	/* UI_ASK_CONFIRM_STOP: the pod the question names (the selection
	 * may move while it is open) */
	char target[INSOMNIA_NAME_MAX + 1];
};

struct ui {
	struct event_base *base;
	struct insomnia_watch *watch;
	bool synced; /* the watch's first listing is complete */

	/* Every pod the watch reported or we are spawning, sorted by name;
	 * a GONE pod (and a failed spawn that never made a dir, once
	 * dismissed) is removed. */
	struct ui_pod **pods;
	size_t npods;

	struct ui_log log;

	struct insomnia_session_info *sessions; /* newest first */
	size_t nsessions;
	size_t sel_session;

	enum ui_mode mode;
	enum ui_focus focus;
	struct ui_prompt prompt;
	char filter[INSOMNIA_NAME_MAX + 1]; /* "" shows every pod */
	/* The selection, by name so that it survives re-sorting; "" none.
	 * sel_proc "" means the log pane shows all of the pod's
	 * processes. */
	char sel_pod[INSOMNIA_NAME_MAX + 1];
	char sel_proc[INSOMNIA_NAME_MAX + 1];
	size_t pods_top; /* first row shown in each list */
	size_t procs_top;
	size_t sessions_top;
	size_t log_rows; /* the log pane's rows at the last draw (a page) */

	char message[UI_TEXT_MAX]; /* the last result or error, one line */
	bool message_is_error;

	struct ui_ops *ops; /* actions.c's: spawns and stops in flight */

	bool color; /* NO_COLOR unset and the terminal has colours */
	bool quit;  /* leave the loop after this turn */
	int exit_code;
	char failure[UI_TEXT_MAX]; /* ui_fail's message, printed at exit */

	/* draw.c's */
	struct event *redraw; /* one-shot, activated by ui_dirty */
	struct event *tick;   /* the age tick, armed only while needed */
	struct event *paced;  /* a redraw held back: at most one per
	                         UI_FRAME_US (a log flood) */
	int64_t drawn_us;     /* CLOCK_MONOTONIC of the last draw */
	int rapid_draws;      /* draws in a row less than a frame apart */
	/* term.c's */
	struct event *sig_winch, *sig_term, *sig_int, *sig_hup;
	struct event *input; /* stdin readable */
};

/* ---- Calls between the parts ------------------------------------- */

/* draw.c: the screen needs drawing again; the draw runs once, after the
 * current callback, however many changes called this. */
void ui_dirty(struct ui *ui);
/* draw.c: set the status line's message (printf-style, one line). */
void ui_message(struct ui *ui, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* draw.c: create the redraw and tick events; free them. */
int ui_draw_init(struct ui *ui);
void ui_draw_free(struct ui *ui);
/* draw.c: draw now (ui_dirty's event calls it). */
void ui_draw(struct ui *ui);

/* term.c: curses on, signals into the loop.  0, or -1 with a message
 * on stderr (not a terminal, no such TERM). */
int ui_term_start(struct ui *ui);
/* term.c: curses off, the tty as it was.  Safe to call twice. */
void ui_term_end(struct ui *ui);
/* term.c: print the message after restoring the terminal and exit(1):
 * for failures the UI cannot go on from (out of memory, the watch
 * failed). */
void ui_fatal(struct ui *ui, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* term.c: end the loop with exit code 1 and this message, printed on
 * stderr once main's teardown restored the terminal (spawns in flight
 * cancelled, as on q): for a failure inside a callback that the UI
 * cannot go on from but can still clean up after (the watch failed). */
void ui_fail(struct ui *ui, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* keys.c: one key (a curses key code or a character) in the main, help
 * or sessions mode, or to the prompt when one is open. */
void ui_key(struct ui *ui, int key);

/* prompt.c: open the prompt; ui_prompt_key edits it and returns true
 * when Enter or Escape ended it (ui->prompt.ask is then UI_ASK_NONE
 * and *accepted says which), with the text in ui->prompt.text. */
void ui_prompt_open(struct ui *ui, enum ui_ask ask, const char *label,
                    const char *initial);
bool ui_prompt_key(struct ui *ui, int key, bool *accepted);

/* pods.c: start the watch (0, or -1 and err); free every pod and
 * connection. */
int ui_pods_start(struct ui *ui, struct insomnia_error *err);
void ui_pods_free(struct ui *ui);
/* pods.c: the pod of that name, or NULL. */
struct ui_pod *ui_pod_find(struct ui *ui, const char *name);
/* pods.c: the pod of that name, made (state STARTING, has_dir false)
 * when there is none; NULL only when out of memory. */
struct ui_pod *ui_pod_get(struct ui *ui, const char *name);
/* pods.c: remove a pod that has no dir and no spawn (a dismissed
 * failed spawn). */
void ui_pod_forget(struct ui *ui, const char *name);
/* pods.c: connect again to a live pod whose control connection was
 * lost (a key: never from a loop of events). */
void ui_pod_retry(struct ui *ui, const char *name);
/* pods.c: whether the filter shows this pod (a substring of the name). */
bool ui_pod_shown(const struct ui *ui, const struct ui_pod *pod);

/* logs.c: point the log pane at what ui->sel_pod and ui->sel_proc
 * select (call after changing either); also when that pod changed
 * state (pods.c and actions.c call it: a spawn became ready, a pod
 * stopped).  Reopens only when the source changes. */
void ui_log_select(struct ui *ui);
/* logs.c: append one line (copied) to the pane, if it shows `source`
 * for `pod` (NULL: whatever it shows). */
void ui_log_add(struct ui *ui, const char *pod, enum ui_log_source source,
                const char *line);
void ui_log_free(struct ui *ui);

/* sessions.c: (re)read the sessions, newest first, into ui->sessions.
 * 0, or -1 with the error in the message line. */
int ui_sessions_load(struct ui *ui);
void ui_sessions_free(struct ui *ui);

/* actions.c: each reports its outcome with ui_message (and the log
 * pane, for a spawn's progress and failure). */
void ui_spawn(struct ui *ui, const char *name, const char *cwd,
              const char *manifest);
void ui_resume(struct ui *ui, const char *session_id);
void ui_spawn_cancel(struct ui *ui, const char *name);
void ui_pod_stop(struct ui *ui, const char *name);
/* method: "start", "stop" or "restart". */
void ui_proc_action(struct ui *ui, const char *pod, const char *proc,
                    const char *method);
void ui_reap(struct ui *ui);
/* Cancel every spawn and stop in progress (at exit: a spawn cancelled
 * stops its pod; a pod being stopped goes on stopping by itself). */
void ui_actions_free(struct ui *ui);

#endif
