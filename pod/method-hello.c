/* method-hello.c: who answers, and which protocol it speaks. */
#include "methods.h"

#include "config.h" /* the generated one: INSOMNIA_VERSION */
#include "proto.h"

static json_t *hello_run(struct method_env *env, json_t *params,
                         struct method_fail *fail)
{
	const struct pod_state *st = env->pod->state;

	return json_pack("{s:i, s:s, s:s, s:I, s:s}", "protocol",
	                 INSOMNIA_PROTOCOL_VERSION, "version", INSOMNIA_VERSION,
	                 "name", st->file.name, "pid", (json_int_t)st->file.pid,
	                 "session_id", st->file.session_id);
}

const struct method method_hello = {"hello", hello_run};
