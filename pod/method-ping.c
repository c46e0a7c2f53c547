/* method-ping.c: the cheapest proof that the pod's loop is turning. */
#include "methods.h"

static json_t *ping_run(struct method_env *env, json_t *params,
                        struct method_fail *fail)
{
	return json_pack("{s:b}", "pong", 1);
}

const struct method method_ping = {"ping", ping_run};
