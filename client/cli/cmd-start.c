/* podctl start: start processes of pods (the `start` method). */
#include "podctl.h"

static int run_start(const struct cli_args *a)
{
	return cli_procs_command("start", a);
}

const struct cmd_entry cmd_start_entry = {
    .name = "start",
    .summary = "start processes of pods (POD/PROC...)",
    .help =
        "Starts each POD/PROC, with the dependencies it needs, and waits\n"
        "until each is running (ready, once it has readiness checks).\n"
        "The processes of one pod go in one request, several pods at once.\n"
        "Prints \"POD/PROC: STATE (pid N)\" per process; --json one line\n"
        "per pod: {\"pod\", \"processes\":[...as ps...]} or {\"pod\",\n"
        "\"error\":{\"kind\", \"message\"}}.  A process already running is\n"
        "an error (process_state, exit 21), as are an unknown process\n"
        "(unknown_process, 20), one that could not start (process_failed,\n"
        "19) and a pod that is not running (not_running, 13).  The exit\n"
        "code is that of the first pod (in the order given) that failed.\n",
    .operands = "POD/PROC...",
    .min_operands = 1,
    .max_operands = -1,
    .run = run_start,
};
