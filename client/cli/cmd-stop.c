/* podctl stop: shut a pod down (request, SIGTERM, SIGKILL). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "jsonstr.h"
#include "podctl.h"
#include <insomnia/stop.h>

#define STOP_DEFAULT_GRACE_MS 5000

/* Seconds as for every option, or exactly 0: SIGKILL at once. */
static int parse_grace(const char *text)
{
	char *end;
	double s = strtod(text, &end);

	if (end != text && !*end && s == 0)
		return 0;
	return cli_parse_seconds(text);
}

static int exec_stop(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"grace", required_argument, NULL, 'g'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, grace_ms = STOP_DEFAULT_GRACE_MS;
	enum insomnia_stop_how how;
	struct insomnia_error err;
	bool json = false;
	pid_t pid = 0;

	while ((c = getopt_long(argc, argv, "g:jh", longopts, NULL)) != -1) {
		if (c == 'g') {
			if ((grace_ms = parse_grace(optarg)) < 0)
				return cli_usage(&cmd_stop_entry, json,
				                 "bad --grace \"%s\"", optarg);
		} else if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			return cli_help(&cmd_stop_entry);
		} else {
			return cli_usage(&cmd_stop_entry, json,
			                 "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage(&cmd_stop_entry, json, "give one pod name");
	insomnia_error_clear(&err);
	if (insomnia_stop(argv[optind], grace_ms, &how, &pid, &err) < 0)
		return cli_fail(json, &err);
	if (json)
		return cli_print_json(
		    json_pack("{s:o, s:I, s:s}", "name",
		              jsonstr_new(argv[optind]), "pid", (json_int_t)pid,
		              "stopped_by", insomnia_stop_how_name(how)));
	printf("%s: stopped (%s)\n", argv[optind], insomnia_stop_how_name(how));
	return 0;
}

const struct cmd_entry cmd_stop_entry = {
    "stop",
    "NAME [--grace SEC] [--json]",
    "stop a pod: request, then SIGTERM, then SIGKILL",
    "Asks the pod to shut down over its socket; --grace seconds after the\n"
    "request (default 5) it gets SIGTERM, and another grace later\n"
    "SIGKILL.  A pod that cannot be asked or hangs up without replying\n"
    "gets SIGTERM at once.  --grace 0 sends SIGKILL at once.  The signals\n"
    "go to the pod's process group only when the pod leads it, else to\n"
    "the pod alone.  Returns once the pod has exited; each wait is on the\n"
    "pod's pidfd, not a polling loop.  --json prints\n"
    "{\"name\", \"pid\", \"stopped_by\": "
    "\"request\"|\"sigterm\"|\"sigkill\"}.\n",
    exec_stop,
};
