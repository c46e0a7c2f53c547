/* cli.c: output and parsing helpers shared by podctl's commands. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
	if (cmd->run)
		error_set(&err, INSOMNIA_ERR_USAGE,
		          "%s: %s (`podctl help %s` says more)", cmd->name, msg,
		          cmd->name);
	else
		error_set(&err, INSOMNIA_ERR_USAGE, "%s (usage: podctl %s %s)",
		          msg, cmd->name, cmd->usage);
	return cli_fail(json, &err);
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

bool cli_json_only(const struct cmd_entry *cmd, int argc, char **argv,
                   int nargs, bool *json, int *exit_code)
{
	/* The table parser, with the entry's own usage line: errors worded
	 * and printed as for the converted commands. */
	struct cmd_entry only = *cmd;
	struct cli_args a;

	only.options = NULL;
	only.operands = nargs ? "NAME" : NULL;
	only.min_operands = only.max_operands = nargs;
	if (cli_parse(&only, argc, argv, &a, exit_code) != 0) {
		*json = a.json;
		return true;
	}
	*json = a.json;
	optind = 1; /* the operands are gathered at argv[1] on */
	return false;
}

/* ---- durations ----------------------------------------------------- */

#define DURATION_MAX_MS (30LL * 86400 * 1000)

struct unit {
	const char *suffix;
	long long ms;
};

/* Longest suffix first: "ms" before "m". */
static const struct unit units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
};

/* Digits with an optional fraction at *p, times unit_ms, rounded up to
 * a whole millisecond, in integers: no float rounding to reason about. */
static int scale(const char **p, long long unit_ms, long long *out)
{
	long long whole = 0, frac = 0, div = 1;
	const char *s = *p;
	bool digits = false;

	for (; *s >= '0' && *s <= '9'; s++, digits = true)
		if ((whole = whole * 10 + (*s - '0')) > DURATION_MAX_MS)
			return -1;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++, digits = true)
			if (div < 1000000000LL) {
				frac = frac * 10 + (*s - '0');
				div *= 10;
			}
	if (!digits)
		return -1;
	*p = s;
	*out = whole * unit_ms + (frac * unit_ms + div - 1) / div;
	return 0;
}

static const struct unit *unit_at(const char *p)
{
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (!strncmp(p, units[i].suffix, strlen(units[i].suffix)))
			return &units[i];
	return NULL;
}

/* The number's end, before any unit: where its unit must start. */
static const char *number_end(const char *p)
{
	p += strspn(p, "0123456789");
	if (*p == '.')
		p += 1 + strspn(p + 1, "0123456789");
	return p;
}

/* The sum, 0 included; -1 when it does not parse or is too long. */
static int duration_total(const char *text, long long *ms)
{
	const char *p = text;
	const struct unit *u;
	long long total = 0, part;

	/* A bare number is seconds: the form before units existed. */
	if (*p && !*number_end(p)) {
		if (scale(&p, 1000, &total) < 0)
			return -1;
	} else if (!*p) {
		return -1;
	}
	while (*p) {
		if (!(u = unit_at(number_end(p))))
			return -1;
		if (scale(&p, u->ms, &part) < 0)
			return -1;
		p += strlen(u->suffix);
		if ((total += part) > DURATION_MAX_MS)
			return -1;
	}
	if (total > DURATION_MAX_MS)
		return -1;
	*ms = total;
	return 0;
}

int cli_parse_duration_ms(const char *text, long long *ms)
{
	long long total;

	if (duration_total(text, &total) < 0 || total == 0)
		return -1;
	*ms = total;
	return 0;
}

int cli_parse_duration_or_zero_ms(const char *text, long long *ms)
{
	return duration_total(text, ms);
}

const char *cli_duration_error(const char *text, char *buf, size_t size)
{
	snprintf(buf, size,
	         "bad duration \"%s\" (use 1s, 500ms, 2m, 1m30s; at most 30d)",
	         text);
	return buf;
}

int cli_parse_seconds(const char *text)
{
	long long ms;

	if (cli_parse_duration_ms(text, &ms) < 0 || ms > 86400 * 1000)
		return -1;
	return (int)ms;
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

/* ---- options from the table ---------------------------------------- */

/* The implicit options every new-style command takes. */
static const struct cli_option opt_json = {"json", 0, CLI_ARG_NONE, NULL,
                                           "print one JSON object on stdout"};
static const struct cli_option opt_help = {"help", 'h', CLI_ARG_NONE, NULL,
                                           "print this help"};

static int count_options(const struct cmd_entry *cmd)
{
	int n = 0;

	while (cmd->options && cmd->options[n].name)
		n++;
	return n;
}

/* One usage error, printed once: the message, then how to call it. */
static int parse_error(const struct cmd_entry *cmd, bool json, const char *fmt,
                       ...) __attribute__((format(printf, 3, 4)));

static int parse_error(const struct cmd_entry *cmd, bool json, const char *fmt,
                       ...)
{
	struct insomnia_error err;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	error_set(&err, INSOMNIA_ERR_USAGE, "%s: %s", cmd->name, msg);
	if (json)
		return cli_fail(true, &err);
	fprintf(stderr, "podctl %s: %s\n", cmd->name, msg);
	cli_print_usage(cmd, stderr);
	fprintf(stderr, "`podctl help %s` says more.\n", cmd->name);
	return insomnia_error_exit_code(INSOMNIA_ERR_USAGE);
}

/* Store opt's value; -1 after printing why it is bad. */
static int take_value(const struct cmd_entry *cmd, struct cli_args *a, int i,
                      const char *value, int *exit_code)
{
	const struct cli_option *o = &cmd->options[i];
	char why[256], *end;

	a->set[i] = true;
	a->value[i] = value;
	if ((o->kind == CLI_ARG_DURATION &&
	     cli_parse_duration_ms(value, &a->num[i]) < 0) ||
	    (o->kind == CLI_ARG_DURATION0 &&
	     cli_parse_duration_or_zero_ms(value, &a->num[i]) < 0)) {
		*exit_code =
		    parse_error(cmd, a->json, "--%s: %s", o->name,
		                cli_duration_error(value, why, sizeof why));
		return -1;
	}
	if (o->kind == CLI_ARG_COUNT) {
		errno = 0;
		a->num[i] = strtoll(value, &end, 10);
		if (errno || end == value || *end || a->num[i] < 0 ||
		    *value == '+' || *value == ' ') {
			*exit_code = parse_error(
			    cmd, a->json,
			    "--%s: bad count \"%s\" (a whole number >= 0)",
			    o->name, value);
			return -1;
		}
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
		    parse_error(cmd, a->json, "--%s takes no value", name);
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
				    parse_error(cmd, a->json,
				                "--%s takes no value", o->name);
				return -1;
			}
			a->set[i] = true;
			return 1;
		}
		if (!eq && at + 1 >= argc) {
			*exit_code = parse_error(cmd, a->json,
			                         "--%s needs a value", o->name);
			return -1;
		}
		if (take_value(cmd, a, i, eq ? eq + 1 : argv[at + 1],
		               exit_code) < 0)
			return -1;
		return eq ? 1 : 2;
	}
	*exit_code = parse_error(cmd, a->json, "unknown option \"--%s\"", name);
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
			*exit_code = parse_error(cmd, a->json,
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
			*exit_code = parse_error(cmd, a->json,
			                         "-%c (--%s) needs a value", *p,
			                         o->name);
			return -1;
		}
		return take_value(cmd, a, i, argv[at + 1], exit_code) < 0 ? -1
		                                                          : 2;
	}
	return 1;
}

static int check_operands(const struct cmd_entry *cmd, struct cli_args *a,
                          int *exit_code)
{
	if (a->noperands < cmd->min_operands) {
		*exit_code =
		    parse_error(cmd, a->json, "missing %s",
		                cmd->operands ? cmd->operands : "argument");
		return 1;
	}
	if (cmd->max_operands >= 0 && a->noperands > cmd->max_operands) {
		*exit_code =
		    parse_error(cmd, a->json, "too many arguments (\"%s\")",
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

void cli_print_usage(const struct cmd_entry *cmd, FILE *out)
{
	size_t indent, col;
	char word[128];

	if (!cmd->run) {
		fprintf(out, "usage: podctl %s %s\n", cmd->name, cmd->usage);
		return;
	}
	col = (size_t)fprintf(out, "usage: podctl %s", cmd->name);
	indent = col > 24 ? 8 : col + 1;
	for (int i = 0; cmd->options && cmd->options[i].name; i++) {
		option_word(&cmd->options[i], word, sizeof word);
		usage_word(out, word, indent, &col);
	}
	usage_word(out, "[--json]", indent, &col);
	if (cmd->operands)
		usage_word(out, cmd->operands, indent, &col);
	fputc('\n', out);
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

int cli_help(const struct cmd_entry *cmd)
{
	cli_print_usage(cmd, stdout);
	printf("\n%s\n\n", cmd->summary);
	if (cmd->run) {
		fputs("options:\n", stdout);
		for (int i = 0; cmd->options && cmd->options[i].name; i++)
			option_help(&cmd->options[i]);
		option_help(&opt_json);
		option_help(&opt_help);
		fputc('\n', stdout);
	}
	fputs(cmd->help, stdout);
	return 0;
}

int cli_run(const struct cmd_entry *cmd, int argc, char **argv)
{
	struct cli_args a;
	int code;

	if (!cmd->run)
		return cmd->exec(argc, argv);
	if (cli_parse(cmd, argc, argv, &a, &code) != 0)
		return code;
	return cmd->run(&a);
}
