/* method-status.c: state.json's fields plus what only the live pod
 * knows.  Answered in every pod state, starting and stopping too. */
#include "methods.h"

#include "jsonstr.h"
#include "supervisor.h"

static json_t *process_counts(const struct podctx *pod)
{
	size_t ready, total;

	supervisor_counts(pod->supervisor, &ready, &total);
	return json_pack("{s:I, s:I}", "ready", (json_int_t)ready, "total",
	                 (json_int_t)total);
}

static json_t *status_run(struct method_env *env, json_t *params,
                          struct method_fail *fail)
{
	const struct pod_state *st = env->pod->state;
	json_t *obj = state_to_json(st);

	if (!obj ||
	    json_object_set_new(obj, "description",
	                        jsonstr_new(st->description)) < 0 ||
	    json_object_set_new(obj, "uptime_ms",
	                        json_integer(state_uptime_ms(st))) < 0 ||
	    json_object_set_new(obj, "connections",
	                        json_integer((json_int_t)env->connections)) <
	        0 ||
	    json_object_set_new(obj, "processes", process_counts(env->pod)) <
	        0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

const struct method method_status = {"status", status_run};
