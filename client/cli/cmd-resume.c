/* podctl resume: a new pod for a recorded session. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <insomnia/overlay.h>
#include "podctl.h"
#include "session.h"

/* The session as recorded; a live one is refused here with its pod. */
static int read_session(const char *id, struct session_info *info,
                        struct insomnia_error *err)
{
	char canon[SESSION_ID_LEN + 1];
	int fd, rc;

	if (session_id_normalize(id, canon, err) < 0)
		return -1;
	fd = session_open_root(false, NULL, 0, err);
	if (fd < 0)
		return error_set(err, INSOMNIA_ERR_SESSION_UNKNOWN,
		                 "no session %s (no sessions yet)", canon);
	rc = session_read_info(fd, canon, info, err);
	close(fd);
	if (rc < 0)
		return -1;
	if (info->live)
		return error_set(
		    err, INSOMNIA_ERR_SESSION_LIVE,
		    "session %s is live in pod %s (pid %ld)", info->id,
		    info->run_name[0] ? info->run_name : info->name,
		    (long)info->pid);
	return 0;
}

static int exec_resume(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"overlay", required_argument, NULL, 'o'},
	    {"overlay-file", required_argument, NULL, 'f'},
	    {"timeout", required_argument, NULL, 't'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct spawn_args a = {0};
	struct session_info info;
	struct insomnia_error err;
	int c;

	for (int i = 1; i < argc; i++)
		a.json |= strcmp(argv[i], "--json") == 0;
	while ((c = getopt_long(argc, argv, "o:f:t:qjh", longopts, NULL)) !=
	       -1) {
		switch (c) {
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
	if (optind + 1 != argc)
		return cli_usage(&cmd_resume_entry, a.json,
		                 "give one session id");
	insomnia_error_clear(&err);
	if (read_session(argv[optind], &info, &err) < 0)
		return cli_fail(a.json, &err);
	a.session = info.id;
	a.cwd = info.cwd[0] ? info.cwd : NULL;
	/* the session's name, unless an overlay renames the pod */
	a.default_name = info.name;
	return podctl_spawn_run(&a);
}

const struct cmd_entry cmd_resume_entry = {
    "resume",
    "ID [--overlay-file FILE|-] [--overlay TOML] [--timeout SEC]\n"
    "       [--quiet] [--json]",
    "start a pod for a recorded session",
    "Spawns a pod with --session ID in the session's working directory.\n"
    "The pod layers the session's recorded config under the overlay and\n"
    "appends to its journal; the pod keeps the session's name unless the\n"
    "overlay sets [pod] name.  A session held by a live pod, an unknown\n"
    "id and a malformed one are refused with their own exit codes.\n"
    "Output as for spawn.\n",
    exec_resume,
};
