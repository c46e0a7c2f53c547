/* method-start.c: start the named processes; the reply comes when they
 * got there (docs/protocol.md, "start"). */
#include "method-args.h"

static json_t *start_run(struct method_env *env, json_t *params,
                         struct method_fail *fail)
{
	return method_act(env, params, fail, SUPERVISOR_START);
}

const struct method method_start = {"start", start_run};
