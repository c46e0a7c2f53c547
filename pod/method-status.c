/* method-status.c: state.json's fields plus what only the live pod
 * knows. */
#include "methods.h"

#include "jsonstr.h"

static json_t *status_run(struct method_env *env, json_t *params,
                          struct method_fail *fail)
{
	const struct pod_state *st = env->state;
	json_t *obj = state_to_json(st);

	if (!obj ||
	    json_object_set_new(obj, "description",
	                        jsonstr_new(st->description)) < 0 ||
	    json_object_set_new(obj, "uptime_ms",
	                        json_integer(state_uptime_ms(st))) < 0 ||
	    json_object_set_new(obj, "connections",
	                        json_integer((json_int_t)env->connections)) <
	        0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

const struct method method_status = {"status", status_run};
