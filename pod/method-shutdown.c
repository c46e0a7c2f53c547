/* method-shutdown.c: a graceful stop, asked for over the socket.  The
 * reply goes out first, so the caller knows it was heard. */
#include "methods.h"

static json_t *shutdown_run(struct method_env *env, json_t *params,
                            struct method_fail *fail)
{
	env->stop_after_reply = true;
	return json_pack("{s:b}", "stopping", 1);
}

const struct method method_shutdown = {"shutdown", shutdown_run};
