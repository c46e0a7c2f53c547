/* method-stop.c: stop the named processes; the reply comes when they
 * got there (docs/protocol.md, "stop"). */
#include "method-args.h"

static json_t *stop_run(struct method_env *env, json_t *params,
                        struct method_fail *fail)
{
	return method_act(env, params, fail, SUPERVISOR_STOP);
}

const struct method method_stop = {"stop", stop_run};
