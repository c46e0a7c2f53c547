/* podctl call: send one request to a pod and print its result, through
 * the control client of the library (<insomnia/control.h>). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <insomnia/control.h>
#include <insomnia/pods.h>

#include "error.h" /* error_set: podctl's own messages */
#include "podctl.h"

#define CALL_DEFAULT_TIMEOUT_MS 10000

static int call_pod(const char *name, const char *method, const char *params,
                    int timeout_ms, bool json)
{
	struct insomnia_pod_info info;
	struct insomnia_error err;
	struct insomnia_control *c;
	char *result;
	int rc;

	insomnia_error_clear(&err);
	if (insomnia_pod_find(name, &info, &err) < 0)
		return cli_fail(json, &err);
	if (!info.alive) {
		error_set(&err, INSOMNIA_ERR_NOT_RUNNING,
		          "pod %s is not running (%s)", info.name, info.state);
		return cli_fail(json, &err);
	}
	c = insomnia_control_open_path(info.socket, &err);
	if (!c)
		return cli_fail(json, &err);
	rc = insomnia_control_call_wait(c, method, params, timeout_ms, &result,
	                                NULL, &err);
	insomnia_control_close(c);
	if (rc < 0)
		return cli_fail(json, &err);
	/* The pod's own text: compact JSON, one line. */
	printf("%s\n", result);
	free(result);
	return 0;
}

static int exec_call(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, timeout_ms = CALL_DEFAULT_TIMEOUT_MS;
	bool json = false;

	while ((c = getopt_long(argc, argv, "t:jh", longopts, NULL)) != -1) {
		if (c == 't') {
			if ((timeout_ms = cli_parse_seconds(optarg)) < 0)
				return cli_usage(&cmd_call_entry, json,
				                 "bad --timeout \"%s\"",
				                 optarg);
		} else if (c == 'j') {
			json = true;
		} else if (c == 'h') {
			return cli_help(&cmd_call_entry);
		} else {
			return cli_usage(&cmd_call_entry, json,
			                 "unknown option");
		}
	}
	if (argc - optind < 2 || argc - optind > 3)
		return cli_usage(&cmd_call_entry, json,
		                 "give a pod name, a method and optional "
		                 "params");
	return call_pod(argv[optind], argv[optind + 1],
	                argc - optind == 3 ? argv[optind + 2] : NULL,
	                timeout_ms, json);
}

const struct cmd_entry cmd_call_entry = {
    "call",
    "NAME METHOD [PARAMS_JSON] [--timeout SECONDS] [--json]",
    "send one request to a live pod",
    "Sends METHOD with PARAMS_JSON (a JSON object; none: {}) on the pod's\n"
    "control socket (see docs/protocol.md) and prints its result as one\n"
    "line of compact JSON.  An error reply is an error of\n"
    "kind protocol whose detail is the pod's code.  --timeout (default\n"
    "10 s) bounds the wait for the reply.\n",
    exec_call,
};
