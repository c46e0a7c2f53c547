/* cli.c: output and parsing helpers shared by podctl's commands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "jsonstr.h"
#include "podctl.h"

/* ---- output -------------------------------------------------------- */

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

/* A pod's error reply carries its stable code in detail
 * (insomnia/control.h); every other kind, the pod's stderr tail. */
static bool detail_is_code(const struct insomnia_error *err)
{
	return err->kind == INSOMNIA_ERR_PROTOCOL && err->detail[0] &&
	       !strchr(err->detail, '\n');
}

static json_t *error_json(const struct insomnia_error *err)
{
	json_t *e = json_object();
	bool code = detail_is_code(err);

	json_object_set_new(e, "kind",
	                    json_string(insomnia_error_kind_name(err->kind)));
	json_object_set_new(e, "message", jsonstr_new(err->message));
	if (code)
		json_object_set_new(e, "code", jsonstr_new(err->detail));
	json_object_set_new(e, "tail", tail_lines(code ? "" : err->detail));
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
	if (detail_is_code(err)) {
		fprintf(stderr, "podctl: %s (code %s)\n", err->message,
		        err->detail);
		return;
	}
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
	        strerror(e));
	return code ? code : insomnia_error_exit_code(INSOMNIA_ERR_IO);
}

/* ---- durations ----------------------------------------------------- */

#define AGE_MAX_MS (36500LL * 86400 * 1000)

int cli_parse_duration_ms(const char *text, long long *ms)
{
	long long total;

	if (duration_parse_ms(text, true, DURATION_MAX_MS, &total) < 0 ||
	    total == 0)
		return -1;
	*ms = total;
	return 0;
}

int cli_parse_duration_or_zero_ms(const char *text, long long *ms)
{
	return duration_parse_ms(text, true, DURATION_MAX_MS, ms);
}

int cli_parse_age_ms(const char *text, long long *ms)
{
	long long total;

	if (duration_parse_ms(text, false, AGE_MAX_MS, &total) < 0 ||
	    total == 0)
		return -1;
	*ms = total;
	return 0;
}

/* The error for a duration over max_ms or not one at all. */
static const char *duration_error(const char *text, long long max_ms, char *buf,
                                  size_t size)
{
	char most[24];

	cli_format_age(max_ms, most, sizeof most);
	snprintf(buf, size,
	         "bad duration \"%s\" (use 1s, 500ms, 2m, 1m30s; at most %s)",
	         text, most);
	return buf;
}

void cli_format_age(long long ms, char *buf, size_t size)
{
	long long s = ms > 0 ? ms / 1000 : 0;

	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh", s / 3600);
	else
		snprintf(buf, size, "%lldd", s / 86400);
}

long long cli_parse_utc(const char *text)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	end = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
	/* a fraction of a second (processes' times carry milliseconds) */
	if (end && *end == '.' && end[1] >= '0' && end[1] <= '9')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (!end || strcmp(end, "Z"))
		return -1;
	return (long long)timegm(&tm);
}

/* ---- options from the table ---------------------------------------- */

/* The implicit options every command takes. */
static const struct cli_option opt_json = {
    .name = "json", .help = "print one JSON object on stdout"};
static const struct cli_option opt_help = {
    .name = "help", .letter = 'h', .help = "print this help"};

static int count_options(const struct cmd_entry *cmd)
{
	int n = 0;

	while (cmd->options && cmd->options[n].name)
		n++;
	return n;
}

/* One usage error, printed once: the message, then how to call it. */
static int usage_error(const struct cmd_entry *cmd, bool json, const char *fmt,
                       va_list ap)
{
	struct insomnia_error err;
	char msg[512];

	vsnprintf(msg, sizeof msg, fmt, ap);
	insomnia_error_set(&err, INSOMNIA_ERR_USAGE, "%s: %s", cmd->name, msg);
	if (json)
		return cli_fail(true, &err);
	fprintf(stderr, "podctl %s: %s\n", cmd->name, msg);
	cli_print_usage(cmd, stderr);
	fprintf(stderr, "`podctl help %s` says more.\n", cmd->name);
	return insomnia_error_exit_code(INSOMNIA_ERR_USAGE);
}

int cli_usage(const struct cmd_entry *cmd, bool json, const char *fmt, ...)
{
	va_list ap;
	int code;

	va_start(ap, fmt);
	code = usage_error(cmd, json, fmt, ap);
	va_end(ap);
	return code;
}

/* A duration of o's kind into *ms: 0, or -1 after printing why not. */
static int take_duration(const struct cmd_entry *cmd, const struct cli_args *a,
                         const struct cli_option *o, const char *value,
                         long long *ms, int *exit_code)
{
	long long most = o->kind == CLI_ARG_AGE ? AGE_MAX_MS : DURATION_MAX_MS;
	char why[256];
	int rc;

	if (o->max > 0 && o->max < most)
		most = o->max;
	if (o->kind == CLI_ARG_AGE)
		rc = cli_parse_age_ms(value, ms);
	else if (o->kind == CLI_ARG_DURATION0)
		rc = cli_parse_duration_or_zero_ms(value, ms);
	else
		rc = cli_parse_duration_ms(value, ms);
	if (rc == 0 && *ms <= most)
		return 0;
	if (o->kind == CLI_ARG_AGE)
		*exit_code = cli_usage(cmd, a->json,
		                       "--%s: bad age \"%s\" (a number and a "
		                       "unit: 90s, 12h, 7d, 2w)",
		                       o->name, value);
	else
		*exit_code =
		    cli_usage(cmd, a->json, "--%s: %s", o->name,
		              duration_error(value, most, why, sizeof why));
	return -1;
}

static int take_count(const struct cmd_entry *cmd, const struct cli_args *a,
                      const struct cli_option *o, const char *value,
                      long long *n, int *exit_code)
{
	char *end;

	errno = 0;
	*n = strtoll(value, &end, 10);
	if (!errno && end != value && !*end && *n >= 0 && *value != '+' &&
	    *value != ' ')
		return 0;
	*exit_code = cli_usage(cmd, a->json,
	                       "--%s: bad count \"%s\" (a whole number >= 0)",
	                       o->name, value);
	return -1;
}

/* Store opt's value; -1 after printing why it is bad. */
static int take_value(const struct cmd_entry *cmd, struct cli_args *a, int i,
                      const char *value, int *exit_code)
{
	const struct cli_option *o = &cmd->options[i];

	a->set[i] = true;
	a->value[i] = value;
	switch (o->kind) {
	case CLI_ARG_DURATION:
	case CLI_ARG_DURATION0:
	case CLI_ARG_AGE:
		return take_duration(cmd, a, o, value, &a->num[i], exit_code);
	case CLI_ARG_COUNT:
		return take_count(cmd, a, o, value, &a->num[i], exit_code);
	case CLI_ARG_NONE:
	case CLI_ARG_STRING:
		break;
	}
	return 0;
}

/* -1: help shown, -2: not an implicit option. */
static int implicit(const struct cmd_entry *cmd, struct cli_args *a,
                    const char *name, char letter, int *exit_code)
{
	if ((name && !strcmp(name, "help")) || letter == 'h') {
		*exit_code = cli_help(cmd);
		return -1;
	}
	if (name && !strcmp(name, "json")) {
		a->json = true;
		return 0;
	}
	return -2;
}

/* "--name", "--name=VALUE", "--name VALUE"; returns argv slots used. */
static int parse_long(const struct cmd_entry *cmd, struct cli_args *a,
                      char **argv, int argc, int at, int *exit_code)
{
	const char *arg = argv[at] + 2, *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	int n = count_options(cmd), rc;
	char name[64];

	snprintf(name, sizeof name, "%.*s", (int)len, arg);
	if (eq && (!strcmp(name, "json") || !strcmp(name, "help"))) {
		*exit_code =
		    cli_usage(cmd, a->json, "--%s takes no value", name);
		return -1;
	}
	if ((rc = implicit(cmd, a, name, 0, exit_code)) != -2)
		return rc < 0 ? -1 : 1;
	for (int i = 0; i < n; i++) {
		const struct cli_option *o = &cmd->options[i];

		if (strlen(o->name) != len || strncmp(o->name, arg, len))
			continue;
		if (o->kind == CLI_ARG_NONE) {
			if (eq) {
				*exit_code =
				    cli_usage(cmd, a->json,
				              "--%s takes no value", o->name);
				return -1;
			}
			a->set[i] = true;
			return 1;
		}
		if (!eq && at + 1 >= argc) {
			*exit_code = cli_usage(cmd, a->json,
			                       "--%s needs a value", o->name);
			return -1;
		}
		if (take_value(cmd, a, i, eq ? eq + 1 : argv[at + 1],
		               exit_code) < 0)
			return -1;
		return eq ? 1 : 2;
	}
	*exit_code = cli_usage(cmd, a->json, "unknown option \"--%s\"", name);
	return -1;
}

static int find_letter(const struct cmd_entry *cmd, char c)
{
	int n = count_options(cmd);

	for (int i = 0; i < n; i++)
		if (cmd->options[i].letter == c)
			return i;
	return -1;
}

/* "-rq", "-n NAME", "-nNAME"; returns argv slots used. */
static int parse_short(const struct cmd_entry *cmd, struct cli_args *a,
                       char **argv, int argc, int at, int *exit_code)
{
	for (const char *p = argv[at] + 1; *p; p++) {
		int i = find_letter(cmd, *p);
		const struct cli_option *o;

		if (i < 0) {
			if (implicit(cmd, a, NULL, *p, exit_code) == -1)
				return -1;
			*exit_code = cli_usage(cmd, a->json,
			                       "unknown option \"-%c\"", *p);
			return -1;
		}
		o = &cmd->options[i];
		if (o->kind == CLI_ARG_NONE) {
			a->set[i] = true;
			continue;
		}
		if (p[1])
			return take_value(cmd, a, i, p + 1, exit_code) < 0 ? -1
			                                                   : 1;
		if (at + 1 >= argc) {
			*exit_code =
			    cli_usage(cmd, a->json, "-%c (--%s) needs a value",
			              *p, o->name);
			return -1;
		}
		return take_value(cmd, a, i, argv[at + 1], exit_code) < 0 ? -1
		                                                          : 2;
	}
	return 1;
}

/* The option given that stands for the operands (stop --all), or -1. */
static int instead_given(const struct cmd_entry *cmd, const struct cli_args *a)
{
	for (int i = 0; cmd->options && cmd->options[i].name; i++)
		if (cmd->options[i].instead_of_operands && a->set[i])
			return i;
	return -1;
}

/* " (or --all)", " (or --last NAME)": what may stand for the operands. */
static void alternatives(const struct cmd_entry *cmd, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; cmd->options && cmd->options[i].name; i++) {
		const struct cli_option *o = &cmd->options[i];
		if (!o->instead_of_operands || used >= size)
			continue;
		used +=
		    (size_t)snprintf(buf + used, size - used, "%s--%s%s%s",
		                     used ? ", " : " (or ", o->name,
		                     o->kind != CLI_ARG_NONE ? " " : "",
		                     o->kind != CLI_ARG_NONE ? o->metavar : "");
	}
	if (used && used < size)
		snprintf(buf + used, size - used, ")");
}

static int check_operands(const struct cmd_entry *cmd, struct cli_args *a,
                          int *exit_code)
{
	const char *names = cmd->operands ? cmd->operands : "argument";
	int instead = instead_given(cmd, a);
	char alt[128];

	if (instead >= 0 && a->noperands > 0) {
		*exit_code =
		    cli_usage(cmd, a->json, "give %s or --%s, not both", names,
		              cmd->options[instead].name);
		return 1;
	}
	if (instead < 0 && a->noperands < cmd->min_operands) {
		alternatives(cmd, alt, sizeof alt);
		*exit_code =
		    cli_usage(cmd, a->json, "missing %s%s", names, alt);
		return 1;
	}
	if (cmd->max_operands >= 0 && a->noperands > cmd->max_operands) {
		*exit_code =
		    cli_usage(cmd, a->json, "too many arguments (\"%s\")",
		              a->operands[cmd->max_operands]);
		return 1;
	}
	return 0;
}

int cli_parse(const struct cmd_entry *cmd, int argc, char **argv,
              struct cli_args *a, int *exit_code)
{
	bool options = true;
	int used;

	memset(a, 0, sizeof *a);
	/* Known before any error, so the first one is already JSON. */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		a->json |= !strcmp(argv[i], "--json");
	/* Operands are gathered at the front of argv, in order. */
	a->operands = argv + 1;
	for (int at = 1; at < argc; at += used) {
		char *arg = argv[at];

		used = 1;
		if (options && !strcmp(arg, "--")) {
			options = false;
			continue;
		}
		if (!options || arg[0] != '-' || !arg[1]) {
			/* its slot is at or before this one: already read */
			a->operands[a->noperands++] = arg;
			continue;
		}
		used = arg[1] == '-'
		           ? parse_long(cmd, a, argv, argc, at, exit_code)
		           : parse_short(cmd, a, argv, argc, at, exit_code);
		if (used < 0)
			return 1;
	}
	return check_operands(cmd, a, exit_code);
}

/* ---- usage and help, from the table -------------------------------- */

/* "[-n NAME|--name NAME]" style words, wrapped under the command. */
static void usage_word(FILE *out, const char *word, size_t indent, size_t *col)
{
	size_t len = strlen(word);

	if (*col + 1 + len > 78) {
		fprintf(out, "\n%*s", (int)indent, "");
		*col = indent;
	} else {
		fputc(' ', out);
		(*col)++;
	}
	fputs(word, out);
	*col += len;
}

static void option_word(const struct cli_option *o, char *buf, size_t size)
{
	char value[64] = "";

	if (o->kind != CLI_ARG_NONE)
		snprintf(value, sizeof value, " %s", o->metavar);
	if (o->letter)
		snprintf(buf, size, "[-%c|--%s%s]", o->letter, o->name, value);
	else
		snprintf(buf, size, "[--%s%s]", o->name, value);
}

/* The operands with what may stand for them: "NAME...|--all". */
static void operands_word(const struct cmd_entry *cmd, char *buf, size_t size)
{
	size_t used = (size_t)snprintf(buf, size, "%s", cmd->operands);

	for (int i = 0; cmd->options && cmd->options[i].name; i++) {
		const struct cli_option *o = &cmd->options[i];
		if (!o->instead_of_operands || used >= size)
			continue;
		used += (size_t)snprintf(
		    buf + used, size - used, "|--%s%s%s", o->name,
		    o->kind != CLI_ARG_NONE ? " " : "",
		    o->kind != CLI_ARG_NONE ? o->metavar : "");
	}
}

/* One line (wrapped) after lead ("usage:", or blanks as wide). */
static void usage_line(const struct cmd_entry *cmd, const char *lead, FILE *out)
{
	size_t indent, col;
	char word[128];

	col = (size_t)fprintf(out, "%s podctl %s", lead, cmd->name);
	indent = col > 24 ? 8 : col + 1;
	for (int i = 0; cmd->options && cmd->options[i].name; i++) {
		if (cmd->options[i].instead_of_operands)
			continue;
		option_word(&cmd->options[i], word, sizeof word);
		usage_word(out, word, indent, &col);
	}
	usage_word(out, "[--json]", indent, &col);
	if (cmd->operands) {
		operands_word(cmd, word, sizeof word);
		usage_word(out, word, indent, &col);
	}
	fputc('\n', out);
}

void cli_print_usage(const struct cmd_entry *cmd, FILE *out)
{
	usage_line(cmd, "usage:", out);
	if (cmd->sub)
		usage_line(cmd->sub, "      ", out);
}

static void option_help(const struct cli_option *o)
{
	char left[96];
	int n;

	n = o->letter
	        ? snprintf(left, sizeof left, "  -%c, --%s", o->letter, o->name)
	        : snprintf(left, sizeof left, "      --%s", o->name);
	if (o->kind != CLI_ARG_NONE && n > 0 && (size_t)n < sizeof left)
		snprintf(left + n, sizeof left - (size_t)n, " %s", o->metavar);
	if (strlen(left) < 24)
		printf("%-24s %s\n", left, o->help);
	else
		printf("%s\n%25s%s\n", left, "", o->help);
}

static void options_help(const struct cmd_entry *cmd, const char *title)
{
	printf("%s:\n", title);
	for (int i = 0; cmd->options && cmd->options[i].name; i++)
		option_help(&cmd->options[i]);
}

int cli_help(const struct cmd_entry *cmd)
{
	char title[64];

	cli_print_usage(cmd, stdout);
	printf("\n%s\n\n", cmd->summary);
	options_help(cmd, "options");
	option_help(&opt_json);
	option_help(&opt_help);
	if (cmd->sub) {
		snprintf(title, sizeof title, "options of %s", cmd->sub->name);
		options_help(cmd->sub, title);
	}
	fputc('\n', stdout);
	fputs(cmd->help, stdout);
	return 0;
}

const struct cmd_entry *cli_subcommand(const struct cmd_entry *cmd,
                                       const char *word)
{
	const char *last;

	if (!cmd->sub)
		return NULL;
	last = strrchr(cmd->sub->name, ' ');
	last = last ? last + 1 : cmd->sub->name;
	return strcmp(word, last) ? NULL : cmd->sub;
}

int cli_run(const struct cmd_entry *cmd, int argc, char **argv)
{
	const struct cmd_entry *sub =
	    argc > 1 ? cli_subcommand(cmd, argv[1]) : NULL;
	struct cli_args a;
	int code;

	if (sub)
		return cli_run(sub, argc - 1, argv + 1);
	if (cli_parse(cmd, argc, argv, &a, &code) != 0)
		return code;
	return cmd->run(&a);
}
