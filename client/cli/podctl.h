/* podctl.h: what every podctl command shares.
 *
 * Each command is one file, cmd-<name>.c, holding one table entry (as in
 * tmux): adding a command is one new file and one line in podctl.c. */
#ifndef INSOMNIA_PODCTL_H
#define INSOMNIA_PODCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"

/* ---- options, parsed from the command's table entry ----------------
 *
 * A command lists its options in a table (struct cli_option, ended by a
 * zeroed entry) and its operands' count; cli_parse() reads argv against
 * it and fills a struct cli_args, so no command has a getopt loop and
 * every error is worded (and printed) once, the same way:
 *
 *   unknown option "--x"              --timeout needs a value
 *   --reuse takes no value            too many arguments
 *   --grace: bad duration "5q" (use 1s, 500ms, 2m)
 *   missing NAME
 *
 * Every command also takes --json and -h/--help without listing them;
 * `podctl help CMD` is CMD --help.  Long options take their value as
 * `--opt VALUE` or `--opt=VALUE`, short ones as `-o VALUE` or `-oVALUE`,
 * and short flags cluster (`-rq`).  Options and operands may mix; `--`
 * ends the options.  The usage line and the option list of --help are
 * generated from the table, so they always match what is parsed.
 *
 * Converting a command (see cmd-ls.c, cmd-reap.c, cmd-spawn.c):
 *   enum { OPT_GRACE };                        (indexes into the table)
 *   static const struct cli_option opts[] = {
 *       {"grace", 'g', CLI_ARG_DURATION0, "TIME", "grace (5s)"},
 *       {NULL},
 *   };
 *   const struct cmd_entry cmd_stop_entry = {
 *       .name = "stop", .summary = "...", .help = "...",
 *       .options = opts, .operands = "NAME...", .min_operands = 1,
 *       .max_operands = -1, .run = run_stop,
 *   };
 *   static int run_stop(const struct cli_args *a)
 *   {
 *       long long grace_ms = cli_has(a, OPT_GRACE) ? a->num[OPT_GRACE]
 *                                                   : 2000;
 *       for (int i = 0; i < a->noperands; i++) ... a->operands[i] ...
 *       on error: return cli_fail(a->json, &err);
 *   }
 * .exec is then left NULL; main calls cli_parse and .run. */

enum cli_arg_kind {
	CLI_ARG_NONE,      /* a flag: a->set[i] */
	CLI_ARG_STRING,    /* a->value[i] */
	CLI_ARG_DURATION,  /* a->num[i] in milliseconds (cli_parse_duration_ms)
	                    */
	CLI_ARG_DURATION0, /* the same, 0 allowed (stop's --grace 0) */
	CLI_ARG_COUNT,     /* a->num[i], a decimal integer >= 0 */
};

struct cli_option {
	const char *name; /* long name, without "--"; NULL ends */
	char letter;      /* short letter, or 0 for none */
	enum cli_arg_kind kind;
	const char *metavar; /* the value's name in usage: "NAME" */
	const char *help;    /* one line for --help and the man page */
};

#define CLI_OPTIONS_MAX 24

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

/* The entries of status, stop, sessions and resume still list the first
 * five fields by position, which -Wextra flags as missing the new ones
 * (they are meant to be zero).  Drop this once they use designated
 * initialisers. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct cmd_entry {
	const char *name;
	const char *usage;   /* old style: options after the command name;
	                        NULL: generated from .options and .operands */
	const char *summary; /* one line for `podctl help` */
	const char *help;    /* the rest of `podctl help CMD` */
	int (*exec)(int argc, char **argv); /* old style: parses itself */
	/* New style (exec NULL): */
	const struct cli_option *options; /* NULL: none but --json, --help */
	const char *operands;             /* their names in usage, e.g.
	                                     "NAME", "[NAME...]"; NULL: none */
	int min_operands, max_operands;   /* max -1: no limit */
	int (*run)(const struct cli_args *a);
};

/* Parse argv (argv[0] is the command's name) against cmd's table.  0 and
 * a filled; or 1 when the command must end now with *exit_code (after
 * --help, or a usage error already printed once). */
int cli_parse(const struct cmd_entry *cmd, int argc, char **argv,
              struct cli_args *a, int *exit_code);

/* Run a command, whichever style it is; returns the exit code. */
int cli_run(const struct cmd_entry *cmd, int argc, char **argv);

/* Print cmd's usage line(s) ("usage: podctl NAME ...\n") to out. */
void cli_print_usage(const struct cmd_entry *cmd, FILE *out);

/* A duration: a number with a unit (ms, s, m, h, d), or several summed
 * ("1m30s"); a bare number is seconds, decimals allowed ("2", "0.5": the
 * old form, kept working).  Whitespace, signs and a zero total are
 * refused, as is anything over 30 days.  0 and *ms (rounded up to the
 * next millisecond), or -1. */
int cli_parse_duration_ms(const char *text, long long *ms);

/* The same with 0 allowed ("0", "0s"): for a time where 0 means "at
 * once", as stop's --grace. */
int cli_parse_duration_or_zero_ms(const char *text, long long *ms);

/* What a duration error says about text: "bad duration \"5q\" (use 1s,
 * 500ms, 2m)".  Writes into buf. */
const char *cli_duration_error(const char *text, char *buf, size_t size);

/* ms as a person reads an age: "5s", "3m", "2h", "4d" (truncated to the
 * largest unit, as ps and kubectl do); negative is "0s". */
void cli_format_age(long long ms, char *buf, size_t size);

extern const struct cmd_entry cmd_spawn_entry;
extern const struct cmd_entry cmd_ls_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_reap_entry;
extern const struct cmd_entry cmd_sessions_entry;
extern const struct cmd_entry cmd_resume_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_call_entry;

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

/* Report err: on stdout as {"error":{kind,message,tail}} with json, else
 * as "podctl: message" plus the tail on stderr.  Returns the exit code of
 * its kind. */
int cli_fail(bool json, const struct insomnia_error *err);

/* A usage error for cmd, reported like any other error. */
int cli_usage(const struct cmd_entry *cmd, bool json, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Old style: parse a command that takes only --json and --help, and nargs
 * operands (new commands set .options/.run instead).  Returns true when the
 * command must end now, with *exit_code (after --help, or a usage error already
 * reported). */
bool cli_json_only(const struct cmd_entry *cmd, int argc, char **argv,
                   int nargs, bool *json, int *exit_code);

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

/* Old: seconds (decimals allowed, > 0) to milliseconds; -1 when invalid.
 * Now cli_parse_duration_ms underneath (so "2s" and "500ms" work too);
 * kept for the commands not converted yet. */
int cli_parse_seconds(const char *text);

#endif
