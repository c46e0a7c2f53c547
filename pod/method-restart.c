/* method-restart.c: restart the named processes; the reply comes when they
 * got there (docs/protocol.md, "restart"). */
#include "method-args.h"

static json_t *restart_run(struct method_env *env, json_t *params,
                           struct method_fail *fail)
{
	return method_act(env, params, fail, SUPERVISOR_RESTART);
}

const struct method method_restart = {"restart", restart_run};
