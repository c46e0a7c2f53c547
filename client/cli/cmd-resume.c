/* podctl resume: a new pod for a recorded session.  Only the public API
 * (insomnia/sessions.h, insomnia/spawn.h through podctl_spawn_run). */
#include <getopt.h>
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

static int exec_resume(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"last", required_argument, NULL, 'l'},
	    {"overlay", required_argument, NULL, 'o'},
	    {"overlay-file", required_argument, NULL, 'f'},
	    {"timeout", required_argument, NULL, 't'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct spawn_args a = {0};
	struct insomnia_session_info info;
	struct insomnia_error err;
	const char *last = NULL;
	int c, operands;

	for (int i = 1; i < argc; i++)
		a.json |= strcmp(argv[i], "--json") == 0;
	while ((c = getopt_long(argc, argv, "l:o:f:t:qjh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'l':
			last = optarg;
			break;
		case 'o':
			a.overlay = optarg;
			break;
		case 'f':
			a.overlay_file = optarg;
			break;
		case 't':
			if ((a.timeout_ms = cli_parse_seconds(optarg)) < 0)
				return cli_usage(&cmd_resume_entry, a.json,
				                 "bad --timeout \"%s\"",
				                 optarg);
			break;
		case 'q':
			a.quiet = true;
			break;
		case 'j':
			break;
		case 'h':
			return cli_help(&cmd_resume_entry);
		default:
			return cli_usage(&cmd_resume_entry, a.json,
			                 "unknown option");
		}
	}
	operands = argc - optind;
	if (last ? operands != 0 : operands != 1)
		return cli_usage(&cmd_resume_entry, a.json,
		                 last ? "give --last NAME or an id, not both"
		                      : "give one session id (or a unique "
		                        "prefix of one), or --last NAME");
	insomnia_error_clear(&err);
	if (find_session(last ? NULL : argv[optind], last, &info, &err) < 0)
		return cli_fail(a.json, &err);
	a.session = info.id;
	/* the session's name, unless an overlay renames the run; its cwd
	 * comes with the session (the library fills it in) */
	a.default_name = info.name;
	return podctl_spawn_run(&a);
}

const struct cmd_entry cmd_resume_entry = {
    "resume",
    "ID|PREFIX|--last NAME [--overlay-file FILE|-] [--overlay TOML]\n"
    "       [--timeout SEC] [--quiet] [--json]",
    "start a pod for a recorded session",
    "Spawns a pod with --session ID in the session's working directory.\n"
    "The session is given by its id, a unique prefix of it (an ambiguous\n"
    "one is refused naming the candidates), or --last NAME: the session\n"
    "of pod NAME used last.  The pod layers the session's recorded config\n"
    "under the overlay and appends to its journal; the pod keeps the\n"
    "session's name unless the overlay sets [pod] name.  A session held\n"
    "by a live pod (the same exit code as spawn --session), an unknown id\n"
    "and a malformed one are refused with their own exit codes.\n"
    "Output as for spawn.\n",
    exec_resume,
};
