/* logs.c: the log pane's source.  One of: nothing, a spawn's progress
 * lines (the pod's spawn_lines, then what ui_log_add brings), the tail
 * of the pod's stderr.log (read once per state of the pod), or a `logs`
 * follow stream on a connection of its own.  Every line is cleaned of
 * what could drive the terminal before it is kept. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model-util.h"
#include "ui.h"

/* A kept line's bytes at most (longer ones are cut): bounds the ring. */
#define LOG_LINE_MAX 1024
/* What the pane reads of a stderr.log: its end. */
#define LOG_STDERR_MAX (1024 * 1024)
/* Records asked of a pod's logs before the follow. */
#define LOG_HISTORY 500
/* Reopens of the stream in a row with no record heard in between
 * before giving up: a pod that ends every stream at once is not asked
 * forever. */
#define LOG_REOPEN_MAX 3

/* ---- shared helpers ------------------------------------------------- */

int64_t model_time_ms(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0;
	int64_t ms = 0, scale = 100;
	struct tm tm = {0};
	time_t t;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
	           &n) != 6 ||
	    n == 0)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10)
			ms += (*s - '0') * scale;
	if (*s != 'Z' && *s != 'z')
		return -1; /* the pod and the library write UTC */
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	return (int64_t)t * 1000 + ms;
}

/* The length of the valid UTF-8 character at s (n bytes left), or 0
 * when it is not one or is a C1 control (U+0080..U+009F). */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f)
		return 0;
	return len;
}

void model_text_clean(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0, n;

	while (i < len) {
		if (s[i] < 0x80) {
			n = 1;
			if (o + 1 >= size)
				break;
			dst[o++] = s[i] == '\t'                  ? ' '
			           : s[i] < 0x20 || s[i] == 0x7f ? '?'
			                                         : (char)s[i];
		} else if (!(n = utf8_char(s + i, len - i))) {
			n = 1;
			if (o + 1 >= size)
				break;
			dst[o++] = '?';
		} else {
			if (o + n >= size)
				break;
			memcpy(dst + o, s + i, n);
			o += n;
		}
		i += n;
	}
	dst[o] = '\0';
}

/* ---- the ring ---------------------------------------------------------- */

static void ring_clear(struct ui_log *log)
{
	for (size_t i = 0; i < log->count; i++)
		free(log->lines[(log->first + i) % UI_LOG_LINES]);
	log->first = 0;
	log->count = 0;
	log->scroll = 0;
}

/* Keep a copy of a clean line; the oldest goes when the ring is full.
 * A line scrolled back to stays in view. */
static void ring_push(struct ui *ui, const char *line)
{
	struct ui_log *log = &ui->log;
	char *copy = strdup(line);

	if (!copy)
		ui_fatal(ui, "out of memory");
	if (log->count == UI_LOG_LINES) {
		free(log->lines[log->first]);
		log->first = (log->first + 1) % UI_LOG_LINES;
		log->count--;
	}
	log->lines[(log->first + log->count) % UI_LOG_LINES] = copy;
	log->count++;
	if (log->scroll > 0 && log->scroll < log->count)
		log->scroll++;
	model_dirty(ui);
}

static void push_text(struct ui *ui, const char *text, size_t len)
{
	char clean[LOG_LINE_MAX];

	model_text_clean(clean, sizeof clean, text, len);
	ring_push(ui, clean);
}

void ui_log_add(struct ui *ui, const char *pod, enum ui_log_source source,
                const char *line)
{
	if (ui->log.source != source || ui->log.source == UI_LOG_NOTHING)
		return;
	if (pod && strcmp(pod, ui->log.pod))
		return;
	push_text(ui, line, strlen(line));
}

/* ---- stderr.log ----------------------------------------------------- */

/* Open <root>/<pod>/stderr.log without following a link anywhere below
 * the root and without blocking on a FIFO; -1 and errno. */
static int stderr_open(const char *pod, char *why, size_t size)
{
	char root[INSOMNIA_PATH_MAX];
	struct insomnia_error err;
	int rfd, dfd, fd = -1;

	if (insomnia_runtime_root(root, sizeof root, &err) < 0) {
		model_text_clean(why, size, err.message, strlen(err.message));
		return -1;
	}
	if ((rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	dfd = openat(rfd, pod, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(rfd);
	if (dfd < 0)
		goto fail;
	fd = openat(dfd, "stderr.log",
	            O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	close(dfd);
	if (fd >= 0)
		return fd;
fail:
	snprintf(why, size, "%s", strerror(errno));
	return -1;
}

/* Read the last LOG_STDERR_MAX bytes of a regular file into buf (NUL
 * after them); the length, or -1 with why. */
static ssize_t stderr_tail(int fd, char *buf, off_t *start, char *why,
                           size_t size)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;

	if (fstat(fd, &st) < 0) {
		snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, size, "not a regular file");
		return -1;
	}
	*start = st.st_size > LOG_STDERR_MAX ? st.st_size - LOG_STDERR_MAX : 0;
	while (got < LOG_STDERR_MAX &&
	       (n = pread(fd, buf + got, LOG_STDERR_MAX - got,
	                  *start + (off_t)got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, size, "%s", strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

static void push_lines(struct ui *ui, const char *p, const char *end)
{
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;

		push_text(ui, p, (size_t)(stop - p));
		p = stop + 1;
	}
}

static void stderr_read(struct ui *ui, const char *pod)
{
	char why[UI_TEXT_MAX], line[UI_TEXT_MAX + 32], *buf = NULL, *p;
	off_t start = 0;
	ssize_t n = -1;
	int fd = stderr_open(pod, why, sizeof why);

	if (fd >= 0 && !(buf = malloc(LOG_STDERR_MAX + 1)))
		snprintf(why, sizeof why, "out of memory");
	else if (fd >= 0)
		n = stderr_tail(fd, buf, &start, why, sizeof why);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		snprintf(line, sizeof line, "(no stderr.log: %s)", why);
		push_text(ui, line, strlen(line));
	} else {
		p = buf;
		/* a tail starting inside a line: that line is cut, skip it */
		if (start > 0 && (p = memchr(buf, '\n', (size_t)n)))
			p++;
		if (p)
			push_lines(ui, p, buf + n);
	}
	free(buf);
}

/* ---- the `logs` stream -------------------------------------------------- */

/* "HH:MM:SS <proc> <text>" in local time. */
static void push_record(struct ui *ui, json_t *rec)
{
	json_t *text = json_object_get(rec, "text");
	const char *proc = json_string_value(json_object_get(rec, "process"));
	const char *when = json_string_value(json_object_get(rec, "time"));
	char clock[16] = "??:??:??", name[INSOMNIA_NAME_MAX + 1];
	char clean[LOG_LINE_MAX],
	    line[sizeof clock + sizeof name + LOG_LINE_MAX];
	int64_t ms = when ? model_time_ms(when) : -1;
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms >= 0 && localtime_r(&t, &tm))
		strftime(clock, sizeof clock, "%H:%M:%S", &tm);
	model_text_clean(name, sizeof name, proc ? proc : "?",
	                 proc ? strlen(proc) : 1);
	model_text_clean(clean, sizeof clean,
	                 json_is_string(text) ? json_string_value(text) : "",
	                 json_string_length(text));
	snprintf(line, sizeof line, "%s %s %s", clock, name, clean);
	ring_push(ui, line);
}

static bool stream_ours(struct ui *ui, struct insomnia_control *c)
{
	return c && c == ui->log.stream;
}

static void push_note(struct ui *ui, const char *fmt, const char *what)
{
	char line[LOG_LINE_MAX + 64];

	snprintf(line, sizeof line, fmt, what);
	push_text(ui, line, strlen(line));
}

static void on_logs_started(struct insomnia_control *c,
                            const struct insomnia_control_reply *r, void *arg)
{
	struct ui *ui = arg;
	json_t *v, *rec, *omitted;
	size_t i;

	if (!stream_ours(ui, c) ||
	    !(v = json_loadb(r->json, r->len, JSON_ALLOW_NUL, NULL)))
		return;
	omitted = json_object_get(v, "omitted");
	if (json_is_integer(omitted)) {
		char n[32];

		snprintf(n, sizeof n, "%lld",
		         (long long)json_integer_value(omitted));
		push_note(ui, "(%s older lines left out)", n);
	}
	json_array_foreach(json_object_get(v, "lines"), i, rec)
	    push_record(ui, rec);
	json_decref(v);
}

static void stream_reopen(struct ui *ui, const char *why);

static void on_log_event(struct insomnia_control *c, const char *name,
                         const char *data, size_t len, void *arg)
{
	struct ui *ui = arg;
	char why[64];
	json_t *v;

	if (!stream_ours(ui, c) ||
	    !(v = json_loadb(data, len, JSON_ALLOW_NUL, NULL)))
		return;
	if (!strcmp(name, "log")) {
		ui->log.quiet_reopens = 0;
		push_record(ui, v);
	} else if (!strcmp(name, "overflow")) {
		/* the pod closes the stream after this: follow it again */
		snprintf(
		    why, sizeof why, "(%lld lines lost)",
		    (long long)json_integer_value(json_object_get(v, "lost")));
		stream_reopen(ui, why);
	}
	json_decref(v);
}

static void on_logs_ended(struct insomnia_control *c,
                          const struct insomnia_error *err, void *arg)
{
	struct ui *ui = arg;

	if (!stream_ours(ui, c))
		return;
	if (err) {
		insomnia_control_close(c);
		ui->log.stream = NULL;
		push_note(ui, "(the log stream ended: %s)", err->message);
	} else {
		stream_reopen(ui, "(the log stream ended)");
	}
}

static char *logs_params(const char *proc, int history)
{
	char *text;
	json_t *p = json_pack("{s:i, s:b}", "lines", history, "follow", 1);

	if (p && proc[0])
		json_object_set_new(p, "names", json_pack("[s]", proc));
	text = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	return text;
}

/* A `logs` follow stream of the pod (proc "": all), or NULL and err. */
static struct insomnia_control *stream_start(struct ui *ui, const char *pod,
                                             const char *proc, int history,
                                             struct insomnia_error *err)
{
	struct insomnia_control_stream s = {.started = on_logs_started,
	                                    .event = on_log_event,
	                                    .ended = on_logs_ended,
	                                    .arg = ui};
	struct insomnia_control *c;
	char *params = logs_params(proc, history);

	insomnia_error_clear(err);
	if (!params)
		ui_fatal(ui, "out of memory");
	if ((c = insomnia_control_connect(ui->base, pod, err)) &&
	    insomnia_control_subscribe(c, "logs", params, &s, err) < 0) {
		insomnia_control_close(c);
		c = NULL;
	}
	free(params);
	return c;
}

static void stream_open(struct ui *ui, const char *pod, const char *proc)
{
	struct insomnia_error err;

	if (!(ui->log.stream = stream_start(ui, pod, proc, LOG_HISTORY, &err)))
		push_note(ui, "(no log stream: %s)", err.message);
}

static void push_pod_note(struct ui *ui)
{
	if (ui->log.note_pod[0] && !strcmp(ui->log.note_pod, ui->log.pod))
		push_text(ui, ui->log.note, strlen(ui->log.note));
}

/* The pod ended the stream (cleanly, or after an overflow) while the
 * pane follows it: while the pod lives and is not stopping, follow it
 * again, on a fresh history (the ring starts again from it: no line
 * twice) after the note `why`; else keep what is shown and add the
 * note.  A pane scrolled back keeps its lines (a flood would take the
 * reader's place away every second): the stream then starts with no
 * history, after the note.  Called from the stream's callbacks
 * (closing it is allowed). */
static void stream_reopen(struct ui *ui, const char *why)
{
	struct ui_log *log = &ui->log;
	struct ui_pod *pod = ui_pod_find(ui, log->pod);
	struct insomnia_control *c = NULL;
	struct insomnia_error err;

	insomnia_control_close(log->stream);
	log->stream = NULL;
	bool keep = log->scroll > 0;

	if (pod && model_pod_alive(pod) && pod->state != UI_POD_STOPPING &&
	    ui->log.quiet_reopens < LOG_REOPEN_MAX)
		c = stream_start(ui, log->pod, log->proc,
		                 keep ? 0 : LOG_HISTORY, &err);
	if (!c) {
		push_text(ui, why, strlen(why));
		return;
	}
	ui->log.quiet_reopens++;
	if (!keep) {
		ring_clear(log);
		push_pod_note(ui);
	}
	push_text(ui, why, strlen(why));
	log->stream = c;
}

void model_log_note(struct ui *ui, const char *pod, const char *line)
{
	snprintf(ui->log.note_pod, sizeof ui->log.note_pod, "%s", pod);
	model_text_clean(ui->log.note, sizeof ui->log.note, line, strlen(line));
}

/* ---- choosing the source ------------------------------------------------ */

static bool has_proc(const struct ui_pod *pod, const char *name)
{
	for (size_t i = 0; i < pod->nprocs; i++)
		if (!strcmp(pod->procs[i].name, name))
			return true;
	return false;
}

/* What the selection asks for; *proc is "" for all processes. */
static enum ui_log_source wanted(struct ui *ui, struct ui_pod **podp,
                                 const char **proc)
{
	struct ui_pod *pod =
	    ui->sel_pod[0] ? ui_pod_find(ui, ui->sel_pod) : NULL;

	*podp = pod;
	*proc = "";
	if (!pod)
		return UI_LOG_NOTHING;
	if (pod->spawn || (pod->state == UI_POD_FAILED && pod->nspawn_lines))
		return UI_LOG_SPAWN;
	if (!model_pod_alive(pod) || pod->link != UI_LINK_UP ||
	    pod->nprocs == 0)
		return UI_LOG_STDERR;
	if (ui->sel_proc[0] && has_proc(pod, ui->sel_proc))
		*proc = ui->sel_proc;
	return UI_LOG_PROCS;
}

/* Whether the pane already shows that (a stream that ended, and a
 * stderr.log or spawn read before the pod's state changed, are shown
 * again). */
static bool showing(const struct ui *ui, enum ui_log_source source,
                    const struct ui_pod *pod, const char *proc)
{
	const struct ui_log *log = &ui->log;

	if (source != log->source)
		return false;
	if (source == UI_LOG_NOTHING)
		return true;
	if (strcmp(pod->name, log->pod) || strcmp(proc, log->proc))
		return false;
	if (source == UI_LOG_PROCS)
		return log->stream != NULL;
	/* the file may have grown; a spawn started again starts afresh */
	return log->pod_state == pod->state;
}

static void set_title(struct ui_log *log)
{
	const char *what = log->source == UI_LOG_SPAWN    ? "spawn"
	                   : log->source == UI_LOG_STDERR ? "stderr.log"
	                   : log->proc[0]                 ? log->proc
	                                                  : "all processes";

	if (log->source == UI_LOG_NOTHING)
		log->title[0] = '\0';
	else
		snprintf(log->title, sizeof log->title, "%s: %s", log->pod,
		         what);
}

static void log_reset(struct ui *ui)
{
	insomnia_control_close(ui->log.stream);
	ui->log.stream = NULL;
	ring_clear(&ui->log);
}

/* Open the source: the pane's lines start again. */
static void log_open(struct ui *ui, enum ui_log_source source,
                     struct ui_pod *pod, const char *proc)
{
	struct ui_log *log = &ui->log;

	log_reset(ui);
	ui->log.quiet_reopens = 0;
	log->source = source;
	snprintf(log->pod, sizeof log->pod, "%s", pod ? pod->name : "");
	snprintf(log->proc, sizeof log->proc, "%s", proc);
	log->pod_state = pod ? pod->state : UI_POD_STARTING;
	set_title(log);
	/* the note is of the pod's last spawn: a new one, or another
	 * pod's pane, ends it */
	if (source == UI_LOG_SPAWN || strcmp(ui->log.note_pod, log->pod))
		ui->log.note_pod[0] = '\0';
	push_pod_note(ui);
	if (source == UI_LOG_SPAWN)
		for (size_t i = 0; i < pod->nspawn_lines; i++)
			push_text(ui, pod->spawn_lines[i],
			          strlen(pod->spawn_lines[i]));
	else if (source == UI_LOG_STDERR)
		stderr_read(ui, pod->name);
	else if (source == UI_LOG_PROCS)
		stream_open(ui, pod->name, proc);
	model_dirty(ui);
}

void ui_log_select(struct ui *ui)
{
	enum ui_log_source source;
	struct ui_pod *pod;
	const char *proc;
	bool moved;

	source = wanted(ui, &pod, &proc);
	/* another pod selected (a stderr.log is read again on return) */
	moved = pod && strcmp(pod->name, ui->log.pod);
	if (!showing(ui, source, pod, proc))
		log_open(ui, source, pod, proc);
	/* after the pane moved: a link tried again changes it no more */
	if (moved)
		model_pod_relink(ui, pod);
}

void ui_log_free(struct ui *ui)
{
	log_reset(ui);
	ui->log.note_pod[0] = '\0';
	ui->log.source = UI_LOG_NOTHING;
	ui->log.pod[0] = '\0';
	ui->log.title[0] = '\0';
}
