/* podctl restart: restart processes of pods (the `restart` method). */
#include "podctl.h"

static int run_restart(const struct cli_args *a)
{
	return cli_procs_command("restart", a);
}

const struct cmd_entry cmd_restart_entry = {
    .name = "restart",
    .summary = "restart processes of pods (POD/PROC...)",
    .help =
        "Stops each POD/PROC (its stop signal, the grace, then SIGKILL),\n"
        "starts it again with its restart count reset (after a crash loop\n"
        "too), and waits until it is running.\n"
        "The processes of one pod go in one request, several pods at once.\n"
        "Output, --json and exit codes as for `podctl start`.\n",
    .operands = "POD/PROC...",
    .min_operands = 1,
    .max_operands = -1,
    .run = run_restart,
};
