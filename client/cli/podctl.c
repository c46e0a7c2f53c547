/* podctl: spawn, list, inspect and stop pods from a shell. */
#include <stdio.h>
#include <string.h>

#include <insomnia/version.h>

#include "podctl.h"

static const struct cmd_entry cmd_help_entry, cmd_version_entry;

static const struct cmd_entry *const commands[] = {
    &cmd_spawn_entry,   &cmd_ls_entry,       &cmd_status_entry,
    &cmd_ps_entry,      &cmd_start_entry,    &cmd_stop_entry,
    &cmd_restart_entry, &cmd_logs_entry,     &cmd_events_entry,
    &cmd_reap_entry,    &cmd_sessions_entry, &cmd_resume_entry,
    &cmd_watch_entry,   &cmd_call_entry,     &cmd_ui_entry,
    &cmd_help_entry,    &cmd_version_entry,  NULL,
};

static const struct cmd_entry *find(const char *name)
{
	for (int i = 0; commands[i]; i++)
		if (!strcmp(name, commands[i]->name))
			return commands[i];
	return NULL;
}

static int usage(FILE *out, int code)
{
	fputs("usage: podctl COMMAND [OPTIONS] [ARGS]\n"
	      "       podctl help [COMMAND]\n"
	      "       podctl -V|--version\n\ncommands:\n",
	      out);
	for (int i = 0; commands[i]; i++)
		fprintf(out, "  %-9s %s\n", commands[i]->name,
		        commands[i]->summary);
	fputs("\n`podctl help COMMAND` (or `podctl COMMAND --help`) describes "
	      "each one;\nevery command takes --json.  Times take units: "
	      "500ms, 2s, 1m30s, 7d\n(a bare timeout or grace is seconds; an "
	      "age needs its unit).  Exit codes:\nsee podctl(1).\n",
	      out);
	return code;
}

static int run_help(const struct cli_args *a)
{
	const struct cmd_entry *cmd;
	struct insomnia_error err;

	if (a->noperands == 0)
		return usage(stdout, 0);
	if (!(cmd = find(a->operands[0]))) {
		insomnia_error_set(&err, INSOMNIA_ERR_USAGE,
		                   "help: unknown command \"%s\"",
		                   a->operands[0]);
		return cli_fail(a->json, &err);
	}
	if (a->noperands == 2 && !(cmd = cli_subcommand(cmd, a->operands[1]))) {
		insomnia_error_set(&err, INSOMNIA_ERR_USAGE,
		                   "help: %s has no subcommand \"%s\"",
		                   a->operands[0], a->operands[1]);
		return cli_fail(a->json, &err);
	}
	return cli_help(cmd);
}

static const struct cmd_entry cmd_help_entry = {
    .name = "help",
    .summary = "describe podctl or one of its commands",
    .help = "With no COMMAND, lists the commands; with one, prints its\n"
            "usage, options and description (as COMMAND --help does);\n"
            "`podctl help sessions prune` that of a subcommand.\n",
    .operands = "[COMMAND [SUBCOMMAND]]",
    .max_operands = 2,
    .run = run_help,
};

static int run_version(const struct cli_args *a)
{
	if (a->json)
		return cli_print_json(json_pack(
		    "{s:s, s:s, s:i}", "podctl", INSOMNIA_VERSION_STRING,
		    "library", insomnia_version(), "protocol",
		    insomnia_protocol_version()));
	printf("podctl %s\nlibinsomnia %s (protocol %d)\n",
	       INSOMNIA_VERSION_STRING, insomnia_version(),
	       insomnia_protocol_version());
	return 0;
}

static const struct cmd_entry cmd_version_entry = {
    .name = "version",
    .summary = "print the versions of podctl, the library and the protocol",
    .help = "Prints podctl's version, that of the libinsomnia it loaded\n"
            "and the control protocol version the library speaks.  --json\n"
            "prints {\"podctl\", \"library\", \"protocol\"}.  Also -V and\n"
            "--version.\n",
    .max_operands = 0,
    .run = run_version,
};

static int run(int argc, char **argv)
{
	const struct cmd_entry *cmd;

	if (argc < 2)
		return usage(stderr,
		             insomnia_error_exit_code(INSOMNIA_ERR_USAGE));
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(stdout, 0);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cli_run(&cmd_version_entry, argc - 1, argv + 1);
	if ((cmd = find(argv[1])))
		return cli_run(cmd, argc - 1, argv + 1);
	fprintf(stderr,
	        "podctl: unknown command \"%s\" (`podctl help` lists "
	        "them)\n",
	        argv[1]);
	return insomnia_error_exit_code(INSOMNIA_ERR_USAGE);
}

int main(int argc, char **argv)
{
	return cli_exit(run(argc, argv));
}
