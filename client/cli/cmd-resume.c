/* podctl resume: a new pod for a recorded session.  Only the public API
 * (insomnia/sessions.h, insomnia/spawn.h through podctl_spawn_run). */
#include <stdio.h>
#include <string.h>

#include <insomnia/sessions.h>

#include "podctl.h"

/* The session an id, a unique id prefix or --last NAME means.  Whether
 * it is live is the spawn's to say (before any pod starts), with the
 * same error as `spawn --session`. */
static int find_session(const char *id, const char *last,
                        struct insomnia_session_info *info,
                        struct insomnia_error *err)
{
	if (last)
		return insomnia_session_last(last, info, err);
	return insomnia_session_find(id, info, err);
}

enum { OPT_LAST, OPT_OVERLAY, OPT_OVERLAY_FILE, OPT_TIMEOUT, OPT_QUIET };

static const struct cli_option resume_options[] = {
    {.name = "last",
     .letter = 'l',
     .kind = CLI_ARG_STRING,
     .metavar = "NAME",
     .help = "the session of pod NAME used last",
     .instead_of_operands = true},
    CLI_OPTION_OVERLAY,
    CLI_OPTION_OVERLAY_FILE,
    CLI_OPTION_TIMEOUT,
    CLI_OPTION_QUIET,
    {0},
};

static int run_resume(const struct cli_args *c)
{
	const char *last = c->value[OPT_LAST];
	struct insomnia_session_info info;
	struct insomnia_error err;
	struct spawn_args a = {0};

	a.json = c->json;
	a.overlay = c->value[OPT_OVERLAY];
	a.overlay_file = c->value[OPT_OVERLAY_FILE];
	a.timeout_ms = (int)c->num[OPT_TIMEOUT];
	a.quiet = cli_has(c, OPT_QUIET);
	insomnia_error_clear(&err);
	if (find_session(last ? NULL : c->operands[0], last, &info, &err) < 0)
		return cli_fail(a.json, &err);
	a.session = info.id;
	/* the session's name, unless an overlay renames the run; its cwd
	 * comes with the session (the library fills it in) */
	a.default_name = info.name;
	return podctl_spawn_run(&a);
}

const struct cmd_entry cmd_resume_entry = {
    .name = "resume",
    .summary = "start a pod for a recorded session",
    .help =
        "Spawns a pod with --session ID in the session's working directory.\n"
        "The session is given by its id, a unique prefix of it (an ambiguous\n"
        "one is refused naming the candidates), or --last NAME: the session\n"
        "of pod NAME used last.  The pod layers the session's recorded config\n"
        "under the overlay and appends to its journal; the pod keeps the\n"
        "session's name unless the overlay sets [pod] name.  A session held\n"
        "by a live pod (the same exit code as spawn --session), an unknown id\n"
        "and a malformed one are refused with their own exit codes.  TIME is\n"
        "500ms, 20s, 2m, 1m30s... (a bare number is seconds), at most 1d.\n"
        "Output as for spawn.\n",
    .options = resume_options,
    .operands = "ID|PREFIX",
    .min_operands = 1,
    .max_operands = 1,
    .run = run_resume,
};
