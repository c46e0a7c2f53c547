/* test_proclog.c: a process's output through pod/proclog.c to its log
 * file, on a real libevent loop with real pipes and children.  Every
 * wait is on the log's end-of-file hook or on waitpid, never a sleep. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../unit/tmpdir.h"
#include "fdio.h"
#include "logline.h"
#include "proclog.h"
#include "utf8seq.h"

extern char **environ;

static struct tmpdir dir;
static struct event_base *base;
static struct proclog *plog;
static int eofs;
static size_t hooked;
static char hook_last[64];

static void on_eof(void *arg)
{
	(void)arg;
	eofs++;
	event_base_loopbreak(base);
}

/* The hook's record is already in the file. */
static void on_line(void *arg, const struct logline *line)
{
	char *data;
	size_t len;

	(void)arg;
	hooked++;
	snprintf(hook_last, sizeof hook_last, "%.*s", (int)line->len,
	         line->text);
	cr_assert_eq(fd_read_file_at(dir.fd, "p.log", 1 << 20, &data, &len), 0);
	cr_assert_not_null(memmem(data, len, line->text, line->len));
	free(data);
}

static int fds_at_start;

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void setup(void)
{
	tmpdir_make(&dir, "test-proclog");
	base = event_base_new();
	cr_assert_not_null(base);
	fds_at_start = open_fds();
}

/* The end of each test (Criterion does not fail a test on an assertion
 * in .fini): every pipe and file of the log closed, no child left. */
static void nothing_left(void)
{
	proclog_free(plog);
	plog = NULL;
	cr_assert_eq(open_fds(), fds_at_start);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1);
	cr_assert_eq(errno, ECHILD);
}

static void teardown(void)
{
	proclog_free(plog);
	plog = NULL;
	event_base_free(base);
	tmpdir_remove(&dir);
}

TestSuite(proclog, .init = setup, .fini = teardown);

static void open_log(int64_t max_size, int keep, bool hook)
{
	struct logs_conf conf = {.max_size = max_size, .keep = keep};
	struct proclog_hooks hooks = {.eof = on_eof,
	                              .line = hook ? on_line : NULL};
	struct insomnia_error err;

	plog = proclog_new(base, dir.fd, "p", &conf, &hooks, &err);
	cr_assert_not_null(plog, "%s", err.message);
}

/* argv's stdout and stderr into two pipes, handed to the log. */
static pid_t spawn(char *const argv[])
{
	int out[2], errp[2];
	posix_spawn_file_actions_t fa;
	struct insomnia_error err;
	pid_t pid;

	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(errp, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	cr_assert_eq(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(errp[1]);
	cr_assert_eq(proclog_attach(plog, out[0], errp[0], &err), 0, "%s",
	             err.message);
	return pid;
}

static pid_t spawn_sh(const char *script)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};

	return spawn(argv);
}

/* A child of ours writing len bytes of data to its stdout. */
static pid_t spawn_writer(const char *data, size_t len)
{
	int out[2];
	struct insomnia_error err;
	pid_t pid;

	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(out[0]);
		_exit(fd_write_all(out[1], data, len) == 0 ? 0 : 1);
	}
	close(out[1]);
	cr_assert_eq(proclog_attach(plog, out[0], -1, &err), 0);
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

/* Run the loop until both pipes are at their end, then reap. */
static void run_to_eof(pid_t pid)
{
	int before = eofs;

	while (eofs == before)
		cr_assert_geq(event_base_dispatch(base), 0);
	cr_assert_not(proclog_open(plog));
	reap(pid);
}

/* ---- reading the file back ---------------------------------------- */

struct file {
	char *data;
	size_t len, at;
};

static struct file file_of(const char *name)
{
	struct file f = {0};

	cr_assert_eq(fd_read_file_at(dir.fd, name, 64 << 20, &f.data, &f.len),
	             0, "%s: %s", name, strerror(errno));
	cr_assert(f.len == 0 || f.data[f.len - 1] == '\n',
	          "%s ends inside a record", name);
	return f;
}

/* The next record, asserted to be one; false at the end. */
static bool next_record(struct file *f, struct logline *l)
{
	char *nl;

	if (f->at >= f->len)
		return false;
	nl = memchr(f->data + f->at, '\n', f->len - f->at);
	cr_assert_not_null(nl);
	cr_assert(
	    logline_decode(f->data + f->at, (size_t)(nl - f->data) - f->at, l),
	    "not a record at %zu", f->at);
	f->at = (size_t)(nl - f->data) + 1;
	return true;
}

static bool exists(const char *name)
{
	struct stat st;

	return fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool text_is(const struct logline *l, const char *text)
{
	return l->len == strlen(text) && memcmp(l->text, text, l->len) == 0;
}

static long number_of(const struct logline *l)
{
	char text[32];

	cr_assert_lt(l->len, sizeof text);
	memcpy(text, l->text, l->len);
	text[l->len] = '\0';
	return strtol(text, NULL, 10);
}

/* ---- the tests ----------------------------------------------------- */

Test(proclog, a_hundred_thousand_lines_are_all_in_the_file_in_order)
{
	char *argv[] = {"seq", "1", "100000", NULL};
	char last[LOGLINE_TIME_LEN + 1] = "";
	struct logline l;
	struct file f;
	long n = 0;

	open_log(1000 * 1000 * 1000, 3, false);
	run_to_eof(spawn(argv));
	f = file_of("p.log");
	while (next_record(&f, &l)) {
		cr_assert_eq(number_of(&l), ++n);
		cr_assert_eq(l.stream, LOGLINE_OUT);
		cr_assert_not(l.continued);
		cr_assert_geq(strcmp(l.time, last), 0, "time goes back");
		memcpy(last, l.time, sizeof last);
	}
	cr_assert_eq(n, 100000);
	free(f.data);
	nothing_left();
}

/* 1 MiB of "xé" (3 bytes: a cut at 64 KiB would fall inside a
 * character) and a newline. */
Test(proclog, a_1mib_line_is_split_into_records_that_join_back)
{
	size_t len = 1 << 20, joined = 0, records = 0;
	char *line = malloc(len + 1);
	struct logline l;
	struct file f;

	cr_assert_not_null(line);
	for (size_t i = 0; i < len; i++)
		line[i] = "x\xc3\xa9"[i % 3];
	line[len - 1] = 'x'; /* whole characters only */
	line[len] = '\n';
	open_log(100 << 20, 3, false);
	run_to_eof(spawn_writer(line, len + 1));
	f = file_of("p.log");
	while (next_record(&f, &l)) {
		records++;
		cr_assert_leq(l.len, LOGLINE_TEXT_MAX);
		cr_assert(utf8_valid(l.text, l.len), "a character was cut");
		cr_assert_eq(memcmp(l.text, line + joined, l.len), 0);
		joined += l.len;
		cr_assert_eq(l.continued, joined < len, "marker at %zu",
		             joined);
	}
	cr_assert_eq(joined, len);
	cr_assert_geq(records, len / LOGLINE_TEXT_MAX);
	free(f.data);
	free(line);
	nothing_left();
}

/* Each file: whole records, under max_size, the numbers running on from
 * the older file to the newer. */
static long check_rotated(const char *name, long next, int64_t max_size)
{
	struct logline l;
	struct file f = file_of(name);

	cr_assert_leq((int64_t)f.len, max_size, "%s is too big", name);
	cr_assert_gt(f.len, 0);
	while (next_record(&f, &l)) {
		if (next < 0)
			next = number_of(&l);
		cr_assert_eq(number_of(&l), next, "%s", name);
		next++;
	}
	free(f.data);
	return next;
}

Test(proclog, rotation_keeps_keep_files_of_whole_records)
{
	char *argv[] = {"seq", "1", "20000", NULL};
	long next;

	open_log(10000, 2, false);
	run_to_eof(spawn(argv));
	cr_assert(exists("p.log.2"));
	cr_assert_not(exists("p.log.3"));
	next = check_rotated("p.log.2", -1, 10000);
	next = check_rotated("p.log.1", next, 10000);
	next = check_rotated("p.log", next, 10000);
	cr_assert_eq(next, 20001);
	nothing_left();
}

Test(proclog, keep_zero_starts_the_file_afresh)
{
	char *argv[] = {"seq", "1", "20000", NULL};

	open_log(10000, 0, false);
	run_to_eof(spawn(argv));
	cr_assert_not(exists("p.log.1"));
	cr_assert_eq(check_rotated("p.log", -1, 10000), 20001);
	nothing_left();
}

Test(proclog, a_record_larger_than_max_size_goes_whole_in_a_file)
{
	char line[5001];
	struct logline l;
	struct file f;

	memset(line, 'y', 5000);
	line[5000] = '\n';
	open_log(1000, 1, false);
	proclog_note(plog, "before");
	run_to_eof(spawn_writer(line, sizeof line));
	f = file_of("p.log");
	cr_assert(next_record(&f, &l));
	cr_assert_eq(l.len, 5000);
	cr_assert_not(next_record(&f, &l));
	free(f.data);
	f = file_of("p.log.1");
	cr_assert(next_record(&f, &l));
	cr_assert(text_is(&l, "pod: before"), "%.*s", (int)l.len, l.text);
	free(f.data);
	nothing_left();
}

Test(proclog, stdout_and_stderr_are_tagged)
{
	struct logline l;
	struct file f;
	int outs = 0, errs = 0;

	open_log(1 << 20, 1, false);
	run_to_eof(spawn_sh("echo to-out; echo to-err >&2"));
	f = file_of("p.log");
	while (next_record(&f, &l)) {
		if (l.stream == LOGLINE_OUT) {
			outs++;
			cr_assert(text_is(&l, "to-out"), "%.*s", (int)l.len,
			          l.text);
		} else {
			errs++;
			cr_assert(text_is(&l, "to-err"), "%.*s", (int)l.len,
			          l.text);
		}
	}
	cr_assert_eq(outs, 1);
	cr_assert_eq(errs, 1);
	free(f.data);
	nothing_left();
}

Test(proclog, an_unterminated_last_line_is_kept_at_eof)
{
	const char data[] = "first\nno newline";
	struct logline l;
	struct file f;

	open_log(1 << 20, 1, false);
	run_to_eof(spawn_writer(data, sizeof data - 1));
	f = file_of("p.log");
	cr_assert(next_record(&f, &l));
	cr_assert(text_is(&l, "first"), "%.*s", (int)l.len, l.text);
	cr_assert(next_record(&f, &l));
	cr_assert_eq(l.len, 10);
	cr_assert_eq(memcmp(l.text, "no newline", 10), 0);
	cr_assert_not(l.continued);
	cr_assert_not(next_record(&f, &l));
	free(f.data);
	nothing_left();
}

Test(proclog, the_tail_holds_the_last_lines_cut_between_characters)
{
	const char *lines[PROCLOG_TAIL_LINES];
	char data[4096];
	size_t n = 0, got;

	for (int i = 1; i <= 20; i++)
		n +=
		    (size_t)snprintf(data + n, sizeof data - n, "line %d\n", i);
	/* a long line of 2-byte characters after one byte: 512 falls
	 * inside a character */
	data[n++] = 'a';
	for (int i = 0; i < 600; i++) {
		data[n++] = '\xc3';
		data[n++] = '\xa9';
	}
	data[n++] = '\n';
	open_log(1 << 20, 1, false);
	run_to_eof(spawn_writer(data, n));
	got = proclog_tail(plog, lines, PROCLOG_TAIL_LINES);
	cr_assert_eq(got, PROCLOG_TAIL_LINES);
	cr_assert_str_eq(lines[0], "line 14");
	cr_assert_str_eq(lines[6], "line 20");
	cr_assert_eq(strlen(lines[7]), 511);
	cr_assert(utf8_valid(lines[7], 511));
	got = proclog_tail(plog, lines, 2);
	cr_assert_eq(got, 2);
	cr_assert_str_eq(lines[0], "line 20");
	nothing_left();
}

struct collected {
	long first, next;
	size_t count;
};

static void collect(void *arg, const char *line, size_t len)
{
	struct collected *c = arg;
	struct logline l;

	cr_assert(logline_decode(line, len, &l));
	if (c->count++ == 0)
		c->first = c->next = number_of(&l);
	cr_assert_eq(number_of(&l), c->next);
	c->next++;
}

static struct collected read_last(size_t n)
{
	struct collected c = {0};
	struct insomnia_error err;

	cr_assert_eq(proclog_read_last(dir.fd, "p", n, collect, &c, &err), 0,
	             "%s", err.message);
	return c;
}

Test(proclog, read_last_reads_across_rotated_files_oldest_first)
{
	char *argv[] = {"seq", "1", "20000", NULL};
	struct collected c;
	struct file f;
	size_t in_current = 0;
	struct logline l;

	open_log(10000, 3, false);
	run_to_eof(spawn(argv));
	f = file_of("p.log");
	while (next_record(&f, &l))
		in_current++;
	free(f.data);
	c = read_last(10);
	cr_assert_eq(c.count, 10);
	cr_assert_eq(c.first, 19991);
	c = read_last(in_current + 5); /* 5 from p.log.1 */
	cr_assert_eq(c.count, in_current + 5);
	cr_assert_eq(c.next, 20001);
	c = read_last(100000); /* all that is kept */
	cr_assert_gt(c.count, in_current + 3 * 200);
	cr_assert_lt(c.count, 20000);
	cr_assert_eq(c.next, 20001);
	c = read_last(0);
	cr_assert_eq(c.count, 0);
	nothing_left();
}

Test(proclog, read_last_of_a_missing_log_is_nothing)
{
	struct collected c = read_last(10);

	cr_assert_eq(c.count, 0);
	nothing_left();
}

Test(proclog, a_symlink_or_a_fifo_at_the_log_path_is_refused)
{
	struct logs_conf conf = {.max_size = 1000, .keep = 1};
	struct insomnia_error err;

	cr_assert_eq(symlinkat("elsewhere", dir.fd, "p.log"), 0);
	cr_assert_null(proclog_new(base, dir.fd, "p", &conf, NULL, &err));
	cr_assert_eq(err.kind, INSOMNIA_ERR_IO);
	cr_assert_eq(err.errnum, ELOOP);
	cr_assert_not(exists("elsewhere"));
	cr_assert_eq(mkfifoat(dir.fd, "q.log", 0600), 0);
	cr_assert_null(proclog_new(base, dir.fd, "q", &conf, NULL, &err));
	cr_assert_neq(err.errnum, 0);
	cr_assert_eq(err.kind, INSOMNIA_ERR_IO, "errno %d", err.errnum);
	nothing_left();
}

Test(proclog, the_line_hook_sees_each_record_once_it_is_in_the_file)
{
	open_log(1 << 20, 1, true);
	run_to_eof(spawn_sh("echo one; echo two; echo three >&2"));
	cr_assert_eq(hooked, 3);
	proclog_note(plog, "exited with status 3");
	cr_assert_eq(hooked, 4);
	cr_assert_str_eq(hook_last, "pod: exited with status 3");
	nothing_left();
}

Test(proclog, a_note_is_an_err_record_one_per_line)
{
	struct logline l;
	struct file f;

	open_log(1 << 20, 1, false);
	proclog_note(plog, "first\nsecond");
	f = file_of("p.log");
	cr_assert(next_record(&f, &l));
	cr_assert_eq(l.stream, LOGLINE_ERR);
	cr_assert(text_is(&l, "pod: first"), "%.*s", (int)l.len, l.text);
	cr_assert(next_record(&f, &l));
	cr_assert(text_is(&l, "pod: second"), "%.*s", (int)l.len, l.text);
	cr_assert_not(next_record(&f, &l));
	free(f.data);
	nothing_left();
}

/* The process is gone and the loop has not run: drain reads its last
 * words, so an error message can show them at once. */
Test(proclog, drain_reads_what_an_exited_process_left_in_its_pipes)
{
	const char *lines[2];

	open_log(1 << 20, 1, false);
	reap(spawn_sh("echo last words; printf 'no newline' >&2"));
	proclog_drain(plog);
	/* stdout is drained first */
	cr_assert_eq(proclog_tail(plog, lines, 2), 2);
	cr_assert_str_eq(lines[0], "last words");
	cr_assert_str_eq(lines[1], "no newline");
	cr_assert_not(proclog_open(plog));
	/* the eof hook comes from the loop, not from inside drain */
	cr_assert_eq(eofs, 0);
	cr_assert_geq(event_base_dispatch(base), 0);
	cr_assert_eq(eofs, 1);
	nothing_left();
}

/* 64 MiB in one line: memory must not follow the line (each pipe has a
 * fixed buffer, the log one fixed stage). */
Test(proclog, memory_stays_bounded_whatever_the_line_length)
{
	size_t len = 64 << 20;
	char *data = malloc(len);
	struct rusage before, after;
	struct stat st;

	cr_assert_not_null(data);
	memset(data, 'z', len);
	open_log(1LL << 40, 1, false);
	cr_assert_eq(getrusage(RUSAGE_SELF, &before), 0);
	run_to_eof(spawn_writer(data, len));
	cr_assert_eq(getrusage(RUSAGE_SELF, &after), 0);
	/* ru_maxrss in KiB; the data itself is already resident */
	cr_assert_lt(after.ru_maxrss - before.ru_maxrss, 8 * 1024,
	             "grew by %ld KiB", after.ru_maxrss - before.ru_maxrss);
	cr_assert_eq(fstatat(dir.fd, "p.log", &st, 0), 0);
	/* 1023 "+" records and a last plain one, none lost */
	cr_assert_eq((size_t)st.st_size,
	             len + 1024 * (LOGLINE_PREFIX_MAX + 1) - 1);
	free(data);
	nothing_left();
}

/* The file size limit stands in for a full disk (a write fails once
 * part of it is in): what fails is dropped whole and counted, and a note
 * of the count goes before the next write that succeeds.  Every byte of
 * output is in the file or in a note's count. */
Test(proclog, a_failed_write_is_dropped_whole_and_noted_once_space_returns)
{
	char *argv[] = {"seq", "1", "2000", NULL};
	/* 2000 records of a 29-byte prefix, the digits and '\n' */
	size_t all = 2000 * 30 + (9 + 90 * 2 + 900 * 3 + 1001 * 4);
	size_t kept = 0, counted = 0, notes = 0;
	struct rlimit small = {.rlim_cur = 1000, .rlim_max = RLIM_INFINITY};
	struct rlimit big = {.rlim_cur = RLIM_INFINITY,
	                     .rlim_max = RLIM_INFINITY};
	unsigned long long lost;
	struct logline l;
	struct file f;
	char note[128];

	cr_assert_neq(signal(SIGXFSZ, SIG_IGN), SIG_ERR);
	open_log(1 << 30, 1, false);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	run_to_eof(spawn(argv));
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &big), 0);
	proclog_note(plog, "after");
	f = file_of("p.log"); /* whole records only */
	while (next_record(&f, &l)) {
		if (l.stream == LOGLINE_OUT) {
			kept += LOGLINE_PREFIX_MAX + l.len;
			continue;
		}
		snprintf(note, sizeof note, "%.*s", (int)l.len, l.text);
		if (strcmp(note, "pod: after") == 0)
			break;
		cr_assert_eq(
		    sscanf(note, "pod: %llu bytes of output lost: ", &lost), 1,
		    "%s", note);
		cr_assert_not_null(strstr(note, "File too large"), "%s", note);
		counted += lost;
		notes++;
	}
	cr_assert_gt(notes, 0);
	cr_assert_eq(kept + counted, all, "%zu + %zu", kept, counted);
	cr_assert_str_eq(note, "pod: after");
	cr_assert_not(next_record(&f, &l));
	free(f.data);
	nothing_left();
}

static void count_line(void *arg, const char *line, size_t len)
{
	size_t *lens = arg;

	lens[++lens[0]] = len;
	(void)line;
}

/* A file damaged by hand: a line far longer than any record (its head
 * is shown, counted once) and a last line without its newline. */
Test(proclog, read_last_counts_odd_lines_as_lines)
{
	size_t big = 300 * 1024, lens[8] = {0};
	char *data = malloc(big + 64);
	struct insomnia_error err;
	size_t n = 0;
	int fd;

	cr_assert_not_null(data);
	n += (size_t)sprintf(data, "one\n");
	memset(data + n, 'x', big);
	n += big;
	n += (size_t)sprintf(data + n, "\ntwo\nthree");
	fd = openat(dir.fd, "p.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fd_write_all(fd, data, n), 0);
	close(fd);
	cr_assert_eq(proclog_read_last(dir.fd, "p", 3, count_line, lens, &err),
	             0);
	cr_assert_eq(lens[0], 3);
	cr_assert_lt(lens[1], big); /* the head of the long line only */
	cr_assert_gt(lens[1], LOGLINE_TEXT_MAX);
	cr_assert_eq(lens[2], 3);
	cr_assert_eq(lens[3], 5);
	memset(lens, 0, sizeof lens);
	cr_assert_eq(proclog_read_last(dir.fd, "p", 7, count_line, lens, &err),
	             0);
	cr_assert_eq(lens[0], 4);
	cr_assert_eq(lens[1], 3);
	free(data);
	nothing_left();
}

/* A previous pod wrote a later time (the clock was set back since):
 * the times in the file still only go forward. */
Test(proclog, times_go_on_from_the_last_record_of_an_existing_file)
{
	const char rec[] = "2999-01-01T00:00:00.000Z out from the future\n";
	struct logline l;
	struct file f;
	int fd;

	fd = openat(dir.fd, "p.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(fd_write_all(fd, rec, sizeof rec - 1), 0);
	close(fd);
	open_log(1 << 20, 1, false);
	proclog_note(plog, "now");
	f = file_of("p.log");
	cr_assert(next_record(&f, &l));
	cr_assert(next_record(&f, &l));
	cr_assert(text_is(&l, "pod: now"));
	cr_assert_str_eq(l.time, "2999-01-01T00:00:00.000Z");
	free(f.data);
	nothing_left();
}
