/* podctl.h: what every podctl command shares.
 *
 * Each command is one file, cmd-<name>.c, holding one table entry (as in
 * tmux): adding a command is one new file and one line in podctl.c. */
#ifndef INSOMNIA_PODCTL_H
#define INSOMNIA_PODCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include <insomnia/dirs.h>
#include <insomnia/error.h>

/* ---- options, parsed from the command's table entry ----------------
 *
 * A command lists its options in a table (struct cli_option, ended by a
 * zeroed entry) and its operands' count; cli_parse() reads argv against
 * it and fills a struct cli_args, so no command has a getopt loop and
 * every error is worded (and printed) once, the same way:
 *
 *   unknown option "--x"              --timeout needs a value
 *   --reuse takes no value            too many arguments ("b")
 *   --grace: bad duration "5q" (use 1s, 500ms, 2m, 1m30s; at most 30d)
 *   missing NAME...                   give NAME... or --all, not both
 *
 * Every command also takes --json and -h/--help without listing them;
 * `podctl help CMD` is CMD --help.  Long options take their value as
 * `--opt VALUE` or `--opt=VALUE`, short ones as `-o VALUE` or `-oVALUE`,
 * and short flags cluster (`-rq`).  Options and operands may mix; `--`
 * ends the options.  The usage line and the option list of --help are
 * generated from the table, so they always match what is parsed.
 *
 * A command:
 *   enum { OPT_GRACE, OPT_ALL };               (indexes into the table)
 *   static const struct cli_option opts[] = {
 *       {.name = "grace", .letter = 'g', .kind = CLI_ARG_DURATION0,
 *        .metavar = "TIME", .help = "..."},
 *       {.name = "all", .letter = 'a', .instead_of_operands = true,
 *        .help = "every running pod"},
 *       {0},
 *   };
 *   const struct cmd_entry cmd_stop_entry = {
 *       .name = "stop", .summary = "...", .help = "...",
 *       .options = opts, .operands = "NAME...", .min_operands = 1,
 *       .max_operands = -1, .run = run_stop,
 *   };
 *   static int run_stop(const struct cli_args *a)
 *   {
 *       long long grace_ms = cli_has(a, OPT_GRACE) ? a->num[OPT_GRACE]
 *                                                   : 5000;
 *       for (int i = 0; i < a->noperands; i++) ... a->operands[i] ...
 *       on error: return cli_fail(a->json, &err);
 *   } */

enum cli_arg_kind {
	CLI_ARG_NONE,      /* a flag: a->set[i] */
	CLI_ARG_STRING,    /* a->value[i] */
	CLI_ARG_DURATION,  /* a->num[i] in milliseconds (cli_parse_duration_ms)
	                    */
	CLI_ARG_DURATION0, /* the same, 0 allowed (stop's --grace 0) */
	CLI_ARG_AGE,       /* a->num[i] in milliseconds (cli_parse_age_ms) */
	CLI_ARG_COUNT,     /* a->num[i], a decimal integer >= 0 */
};

struct cli_option {
	const char *name; /* long name, without "--"; NULL ends */
	char letter;      /* short letter, or 0 for none */
	enum cli_arg_kind kind;
	const char *metavar; /* the value's name in usage: "NAME" */
	const char *help;    /* one line for --help and the man page */
	/* Durations: the largest value taken, in ms (0: the kind's own
	 * limit), e.g. 24h where the library takes an int of ms. */
	long long max;
	/* Given, it stands for the operands, which must then be absent:
	 * stop's --all, resume's --last NAME.  Shown in the usage line as
	 * an alternative to them ("NAME...|--all"), not among the options. */
	bool instead_of_operands;
};

#define CLI_OPTIONS_MAX 24

/* The library takes times as an int of milliseconds: a day at most. */
#define CLI_MS_OPTION_MAX (24LL * 3600 * 1000)

/* The options spawn and resume share, worded once. */
#define CLI_OPTION_OVERLAY                                                     \
	{                                                                      \
		.name = "overlay", .letter = 'o', .kind = CLI_ARG_STRING,      \
		.metavar = "TOML", .help = "TOML text merged on top"           \
	}
#define CLI_OPTION_OVERLAY_FILE                                                \
	{                                                                      \
		.name = "overlay-file", .letter = 'f', .kind = CLI_ARG_STRING, \
		.metavar = "FILE",                                             \
		.help = "TOML overlay read from FILE (- for stdin)"            \
	}
#define CLI_OPTION_TIMEOUT                                                     \
	{                                                                      \
		.name = "timeout", .letter = 't', .kind = CLI_ARG_DURATION,    \
		.metavar = "TIME", .help = "give up after TIME (default 20s)", \
		.max = CLI_MS_OPTION_MAX                                       \
	}
#define CLI_OPTION_QUIET                                                       \
	{                                                                      \
		.name = "quiet", .letter = 'q',                                \
		.help = "no progress lines on stderr"                          \
	}

struct cli_args {
	bool set[CLI_OPTIONS_MAX];          /* given (the last one counts) */
	const char *value[CLI_OPTIONS_MAX]; /* its text; NULL for a flag */
	long long num[CLI_OPTIONS_MAX];     /* durations and counts */
	char **operands;                    /* points into argv */
	int noperands;
	bool json;
};

static inline bool cli_has(const struct cli_args *a, int i)
{
	return a->set[i];
}

struct cmd_entry {
	const char *name;    /* "sessions"; a subcommand's "sessions prune" */
	const char *summary; /* one line for `podctl help` */
	const char *help;    /* the rest of `podctl help CMD` */
	const struct cli_option *options; /* NULL: none but --json, --help */
	const char *operands;             /* their names in usage, e.g.
	                                     "NAME", "[NAME...]"; NULL: none */
	int min_operands, max_operands;   /* max -1: no limit */
	int (*run)(const struct cli_args *a);
	/* A subcommand, chosen by its last word as the first argument
	 * (`podctl sessions prune ...`): its own table, usage and errors;
	 * the parent's help shows both.  NULL: none. */
	const struct cmd_entry *sub;
};

/* Parse argv (argv[0] is the command's name) against cmd's table.  0 and
 * a filled; or 1 when the command must end now with *exit_code (after
 * --help, or a usage error already printed once). */
int cli_parse(const struct cmd_entry *cmd, int argc, char **argv,
              struct cli_args *a, int *exit_code);

/* Run a command (or its subcommand named by argv[1]); returns the exit
 * code. */
int cli_run(const struct cmd_entry *cmd, int argc, char **argv);

/* cmd's subcommand whose last word is word ("prune"), or NULL. */
const struct cmd_entry *cli_subcommand(const struct cmd_entry *cmd,
                                       const char *word);

/* Print cmd's usage line(s) ("usage: podctl NAME ...\n") to out. */
void cli_print_usage(const struct cmd_entry *cmd, FILE *out);

/* A duration: a number with a unit (ms, s, m, h, d, w), or several
 * summed ("1m30s"); a bare number is seconds, decimals allowed ("2",
 * "0.5": the old form, kept working).  Whitespace, signs and a zero
 * total are refused, as is anything over 30 days.  0 and *ms (rounded up
 * to the next millisecond), or -1. */
int cli_parse_duration_ms(const char *text, long long *ms);

/* The same with 0 allowed ("0", "0s"): for a time where 0 means "at
 * once", as stop's --grace. */
int cli_parse_duration_or_zero_ms(const char *text, long long *ms);

/* An age to compare things with (sessions prune --older-than): as a
 * duration, but a unit is required (a bare "7" is more likely 7 days
 * than 7 seconds, and a wrong guess deletes) and up to 100 years. */
int cli_parse_age_ms(const char *text, long long *ms);

/* ms as a person reads an age: "5s", "3m", "2h", "4d" (truncated to the
 * largest unit, as ps and kubectl do); negative is "0s". */
void cli_format_age(long long ms, char *buf, size_t size);

/* "2026-01-02T03:04:05Z" (RFC 3339, UTC, as state.json and the pod's
 * status carry it; a fraction of a second, "05.123Z", is allowed and
 * dropped) as seconds since the epoch; -1 when not in that form. */
long long cli_parse_utc(const char *text);

extern const struct cmd_entry cmd_spawn_entry;
extern const struct cmd_entry cmd_ls_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_ui_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_reap_entry;
extern const struct cmd_entry cmd_sessions_entry;
extern const struct cmd_entry cmd_resume_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_call_entry;
extern const struct cmd_entry cmd_ps_entry;
extern const struct cmd_entry cmd_start_entry;
extern const struct cmd_entry cmd_restart_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_events_entry;

/* What spawn and resume share. */
struct spawn_args {
	const char *name, *overlay, *overlay_file, *session, *cwd;
	const char *manifest, *pod_command; /* NULL: the defaults */
	/* The name when neither --name nor an overlay gives one (resume:
	 * the session's); NULL: the manifests'. */
	const char *default_name;
	int timeout_ms;
	bool reuse, quiet, json;
};

/* Compose the overlay, spawn, print the result; returns the exit code. */
int podctl_spawn_run(const struct spawn_args *a);

/* ---- POD/PROC targets and talking to a pod (podconn.c) -------------
 *
 * A process inside a pod is addressed as POD/PROC, like tmux's targets
 * (a slash never occurs in a name); both parts follow the name rule. */

struct cli_target {
	char pod[INSOMNIA_NAME_MAX + 1];
	char proc[INSOMNIA_NAME_MAX + 1]; /* "" for the pod itself */
};

enum cli_target_form {
	CLI_TARGET_POD,  /* POD[/PROC]: the PROC part optional */
	CLI_TARGET_PROC, /* POD/PROC only */
};

/* Parse text as form says: 0, or -1 and err: a target of the wrong
 * shape (no PROC where one is needed, an empty part, two slashes) is a
 * usage error, a part that breaks the name rule INSOMNIA_ERR_BAD_NAME;
 * either message quotes text. */
int cli_target_parse(const char *text, enum cli_target_form form,
                     struct cli_target *t, struct insomnia_error *err);

/* Targets grouped by pod, in the order each pod first appears, with
 * each pod's process names once, in the order given: start, stop and
 * restart send one request per pod. */
struct cli_pod_group {
	const char *pod;
	json_t *names; /* array of strings */
};

struct cli_groups {
	struct cli_pod_group *v;
	size_t n, cap;
};

/* Add t (a POD/PROC target): 0, or -1 out of memory. */
int cli_groups_add(struct cli_groups *g, const struct cli_target *t);
void cli_groups_free(struct cli_groups *g);

/* The socket of the live pod called name: 0, or -1 and err
 * (INSOMNIA_ERR_NOT_RUNNING "pod NAME is not running (stopped)"). */
int cli_pod_socket(const char *name, char *path, size_t size,
                   struct insomnia_error *err);

/* A pod's error reply names a kind of insomnia/error.h by its code
 * (unknown_process, process_state, process_failed, ...): make err that
 * kind, so the exit code is that kind's.  Other errors stay as they are. */
void cli_pod_error(struct insomnia_error *err);

/* Start, stop or restart processes: method sent to every pod of g at
 * once, one request each ({"names":[...]}), waiting for every reply.
 * Reports each pod in g's order: "POD/PROC: STATE (pid N)" per process
 * on stdout (with json, {"pod","processes"} per pod), or the error
 * ({"pod","error":{"kind","message"}}).  Returns the exit code of the
 * first pod that failed, 0 when none did. */
int cli_procs_act(const char *method, const struct cli_groups *g, bool json);

/* Every operand of a as a POD/PROC target into g: -1 when all were
 * added, else the exit code after reporting the first bad one (nothing
 * is sent then). */
int cli_procs_targets(const struct cli_args *a, struct cli_groups *g);

/* start and restart: the targets of a, then cli_procs_act. */
int cli_procs_command(const char *method, const struct cli_args *a);

/* A stream from a pod (logs -f, events): started gets the reply's
 * result text, event each event; both return 0, or an exit code to end
 * with.  Runs until the pod closes the stream (0), SIGINT, SIGTERM or
 * SIGHUP (0, as watch) or a failure (its exit code, reported). */
struct cli_stream {
	int (*started)(const char *json, size_t len, void *arg);
	int (*event)(const char *name, const char *data, size_t len, void *arg);
	void *arg;
};

int cli_follow(const char *pod, const char *method, const char *params,
               const struct cli_stream *s, bool json);

/* "05:21:28.123" in local time from a record's RFC 3339 UTC time
 * ("2026-12-02T05:21:28.123Z"); the text itself when it is not one. */
void cli_format_clock(const char *rfc3339, char *buf, size_t size);

/* ---- errors ----------------------------------------------------------
 *
 * podctl fills the library's public struct insomnia_error for its own
 * failures too (insomnia_error_set), so every error is reported the one
 * way (cli_fail). */

/* Report err: on stdout as {"error":{kind,message,tail}} with json, else
 * as "podctl: message" plus the tail on stderr.  Returns the exit code of
 * its kind. */
int cli_fail(bool json, const struct insomnia_error *err);

/* A usage error for cmd found after parsing (e.g. two options that
 * exclude each other), worded and printed as the parser's own: "podctl
 * CMD: message", the usage line and where to read more; with json one
 * error object on stdout.  Returns the exit code (usage's). */
int cli_usage(const struct cmd_entry *cmd, bool json, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print `podctl CMD --help` for cmd; returns 0. */
int cli_help(const struct cmd_entry *cmd);

/* Print a JSON value on stdout (compact, one line, ASCII) and drop it.
 * Returns the exit code: 0, or for NULL (a value that could not be
 * built: out of memory) that of INSOMNIA_ERR_INTERNAL after printing an
 * internal error object instead, so a script never reads nothing.  Build
 * strings from bytes with jsonstr_new (jsonstr.h), never json_string or
 * json_pack's "s", which fail on invalid UTF-8. */
int cli_print_json(json_t *value);

/* Every command's last step (main calls it): flush stdout and check it
 * was written.  A write error is reported on stderr; the exit code is
 * code, or that of INSOMNIA_ERR_IO when code is 0. */
int cli_exit(int code);

#endif
