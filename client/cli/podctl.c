/* podctl: spawn, list, inspect and stop pods from a shell. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "podctl.h"

static const struct cmd_entry *const commands[] = {
    &cmd_spawn_entry,  &cmd_ls_entry,   &cmd_status_entry,
    &cmd_stop_entry,   &cmd_reap_entry, &cmd_sessions_entry,
    &cmd_resume_entry, &cmd_call_entry, NULL,
};

static int usage(FILE *out, int code)
{
	fputs("usage: podctl COMMAND [OPTIONS]\n\ncommands:\n", out);
	for (int i = 0; commands[i]; i++)
		fprintf(out, "  %-9s %s\n", commands[i]->name,
		        commands[i]->summary);
	fputs("\n`podctl COMMAND --help` describes each one; every listing "
	      "takes --json.\nExit codes: see podctl(1).\n",
	      out);
	return code;
}

static int run(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr,
		             insomnia_error_exit_code(INSOMNIA_ERR_USAGE));
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(stdout, 0);
	if (!strcmp(argv[1], "--version")) {
		printf("podctl %s\n", INSOMNIA_VERSION);
		return 0;
	}
	for (int i = 0; commands[i]; i++)
		if (!strcmp(argv[1], commands[i]->name))
			return commands[i]->exec(argc - 1, argv + 1);
	fprintf(stderr, "podctl: unknown command \"%s\"\n", argv[1]);
	return usage(stderr, insomnia_error_exit_code(INSOMNIA_ERR_USAGE));
}

int main(int argc, char **argv)
{
	return cli_exit(run(argc, argv));
}
