/* cli.c: output and parsing helpers shared by podctl's commands. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "podctl.h"

/* The stderr tail as a JSON array of lines. */
static json_t *tail_lines(const char *detail)
{
	json_t *lines = json_array();
	const char *p = detail;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		json_array_append_new(lines, json_stringn(p, n));
		p += n + (nl ? 1 : 0);
	}
	return lines;
}

int cli_fail(bool json, const struct error *err)
{
	if (json) {
		json_t *e = json_pack(
		    "{s:s, s:s, s:o}", "kind", error_kind_name(err->kind),
		    "message", err->message, "tail", tail_lines(err->detail));
		if (err->exit_status >= 0)
			json_object_set_new(e, "exit_status",
			                    json_integer(err->exit_status));
		if (err->term_signal > 0)
			json_object_set_new(e, "signal",
			                    json_integer(err->term_signal));
		cli_print_json(json_pack("{s:o}", "error", e));
	} else {
		fprintf(stderr, "podctl: %s\n", err->message);
		if (err->detail[0])
			fprintf(stderr, "last lines of the pod's stderr:\n%s",
			        err->detail);
	}
	return error_exit_code(err->kind);
}

int cli_usage(const struct cmd_entry *cmd, bool json, const char *fmt, ...)
{
	struct error err;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	error_set(&err, ERR_USAGE, "%s (usage: podctl %s %s)", msg, cmd->name,
	          cmd->usage);
	return cli_fail(json, &err);
}

int cli_help(const struct cmd_entry *cmd)
{
	printf("usage: podctl %s %s\n\n%s\n\n%s", cmd->name, cmd->usage,
	       cmd->summary, cmd->help);
	return 0;
}

void cli_print_json(json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (text) {
		puts(text);
		free(text);
	}
	json_decref(value);
}

int cli_parse_seconds(const char *text)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(text, &end);
	if (errno || end == text || *end || !(s > 0) || s > 86400)
		return -1;
	return (int)ceil(s * 1000);
}

char *cli_read_file(const char *path, struct error *err)
{
	char *text;

	if (strcmp(path, "-") == 0) {
		if (fd_read_file_at(AT_FDCWD, "/dev/stdin", 16 << 20, &text,
		                    NULL) == 0)
			return text;
	} else if (fd_read_file_at(AT_FDCWD, path, 16 << 20, &text, NULL) ==
	           0) {
		return text;
	}
	error_set_errno(err, ERR_IO, errno, "cannot read %s", path);
	return NULL;
}

bool cli_json_only(const struct cmd_entry *cmd, int argc, char **argv,
                   int nargs, bool *json, int *exit_code)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*json = false;
	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		if (c == 'j') {
			*json = true;
		} else if (c == 'h') {
			*exit_code = cli_help(cmd);
			return true;
		} else {
			*exit_code = cli_usage(cmd, *json, "unknown option");
			return true;
		}
	}
	if (argc - optind != nargs) {
		*exit_code = cli_usage(cmd, *json,
		                       nargs ? "give one pod name"
		                             : "unexpected argument");
		return true;
	}
	return false;
}
