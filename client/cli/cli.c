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
#include "jsonstr.h"
#include "podctl.h"

/* What a script gets when even the error object cannot be built. */
static const char oom_json[] =
    "{\"error\":{\"kind\":\"internal\",\"message\":\"out of memory\","
    "\"tail\":[]}}";

/* The stderr tail as a JSON array of lines. */
static json_t *tail_lines(const char *detail)
{
	json_t *lines = json_array();
	const char *p = detail;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		json_array_append_new(lines, jsonstr_newn(p, n));
		p += n + (nl ? 1 : 0);
	}
	return lines;
}

static json_t *error_json(const struct insomnia_error *err)
{
	json_t *e = json_object();

	json_object_set_new(e, "kind",
	                    json_string(insomnia_error_kind_name(err->kind)));
	json_object_set_new(e, "message", jsonstr_new(err->message));
	json_object_set_new(e, "tail", tail_lines(err->detail));
	if (err->exit_status >= 0)
		json_object_set_new(e, "exit_status",
		                    json_integer(err->exit_status));
	if (err->term_signal > 0)
		json_object_set_new(e, "signal",
		                    json_integer(err->term_signal));
	return json_pack("{s:o}", "error", e);
}

static void print_prose(const struct insomnia_error *err)
{
	fprintf(stderr, "podctl: %s\n", err->message);
	if (err->detail[0])
		fprintf(stderr, "last lines of the pod's stderr:\n%s",
		        err->detail);
}

int cli_fail(bool json, const struct insomnia_error *err)
{
	/* The object lost on a stdout that cannot be written is still
	 * told on stderr; cli_exit says why stdout failed. */
	if (!json || cli_print_json(error_json(err)) != 0 ||
	    fflush(stdout) != 0)
		print_prose(err);
	return insomnia_error_exit_code(err->kind);
}

int cli_usage(const struct cmd_entry *cmd, bool json, const char *fmt, ...)
{
	struct insomnia_error err;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	error_set(&err, INSOMNIA_ERR_USAGE, "%s (usage: podctl %s %s)", msg,
	          cmd->name, cmd->usage);
	return cli_fail(json, &err);
}

int cli_help(const struct cmd_entry *cmd)
{
	printf("usage: podctl %s %s\n\n%s\n\n%s", cmd->name, cmd->usage,
	       cmd->summary, cmd->help);
	return 0;
}

int cli_print_json(json_t *value)
{
	char *text =
	    value ? json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	int rc = 0;

	/* Never print nothing: a script waits for one line. */
	if (!text) {
		puts(oom_json);
		rc = insomnia_error_exit_code(INSOMNIA_ERR_INTERNAL);
	} else {
		puts(text);
	}
	free(text);
	json_decref(value);
	return rc;
}

int cli_exit(int code)
{
	int e;

	errno = 0;
	if (fflush(stdout) == 0 && !ferror(stdout))
		return code;
	e = errno ? errno : EIO;
	fprintf(stderr, "podctl: cannot write to standard output: %s\n",
	        fd_strerror(e));
	return code ? code : insomnia_error_exit_code(INSOMNIA_ERR_IO);
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
