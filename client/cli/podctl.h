/* podctl.h: what every podctl command shares.
 *
 * Each command is one file, cmd-<name>.c, holding one table entry (as in
 * tmux): adding a command is one new file and one line in podctl.c. */
#ifndef INSOMNIA_PODCTL_H
#define INSOMNIA_PODCTL_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

struct cmd_entry {
	const char *name;
	const char *usage;   /* options after the command name */
	const char *summary; /* one line for `podctl --help` */
	const char *help;    /* the rest of `podctl CMD --help` */
	int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry cmd_spawn_entry;
extern const struct cmd_entry cmd_ls_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_reap_entry;
extern const struct cmd_entry cmd_sessions_entry;
extern const struct cmd_entry cmd_resume_entry;
extern const struct cmd_entry cmd_call_entry;

/* What spawn and resume share. */
struct spawn_args {
	const char *name, *overlay, *overlay_file, *session, *cwd;
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

/* Parse a command that takes only --json and --help, and nargs
 * operands.  Returns true when the command must end now, with
 * *exit_code (after --help, or a usage error already reported). */
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

/* Seconds (decimals allowed, > 0) to milliseconds; -1 when invalid. */
int cli_parse_seconds(const char *text);

#endif
