/* podctl call: send one request to a pod and print its result, through
 * the control client of the library (<insomnia/control.h>). */
#include <stdio.h>
#include <stdlib.h>

#include <insomnia/control.h>
#include <insomnia/pods.h>

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
		insomnia_error_set(&err, INSOMNIA_ERR_NOT_RUNNING,
		                   "pod %s is not running (%s)", info.name,
		                   info.state);
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

enum { OPT_TIMEOUT };

static const struct cli_option call_options[] = {
    {.name = "timeout",
     .letter = 't',
     .kind = CLI_ARG_DURATION,
     .metavar = "TIME",
     .help = "wait at most TIME for the reply (default 10s)",
     .max = CLI_MS_OPTION_MAX},
    {0},
};

static int run_call(const struct cli_args *a)
{
	int timeout_ms = CALL_DEFAULT_TIMEOUT_MS;

	if (cli_has(a, OPT_TIMEOUT))
		timeout_ms = (int)a->num[OPT_TIMEOUT];
	return call_pod(a->operands[0], a->operands[1],
	                a->noperands == 3 ? a->operands[2] : NULL, timeout_ms,
	                a->json);
}

const struct cmd_entry cmd_call_entry = {
    .name = "call",
    .summary = "send one request to a live pod",
    .help =
        "Sends METHOD with PARAMS_JSON (a JSON object; none: {}) on the pod's\n"
        "control socket (see docs/protocol.md: hello, ping, status,\n"
        "shutdown) and prints its result as one line of compact JSON.  An\n"
        "error reply is an error of kind protocol whose detail is the pod's\n"
        "code.  --timeout (default 10s; TIME is 500ms, 10s, 1m...) bounds\n"
        "the wait for the reply.\n",
    .options = call_options,
    .operands = "NAME METHOD [PARAMS_JSON]",
    .min_operands = 2,
    .max_operands = 3,
    .run = run_call,
};
