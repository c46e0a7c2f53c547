/* method-ps.c: the pod's processes, in manifest order (docs/protocol.md,
 * "ps"). */
#include "method-args.h"

static json_t *ps_run(struct method_env *env, json_t *params,
                      struct method_fail *fail)
{
	struct method_names names;
	struct insomnia_error err;
	json_t *result;

	if (method_names_get(params, false, &names, fail) < 0)
		return NULL;
	insomnia_error_clear(&err);
	result = supervisor_ps(env->pod->supervisor, names.v, names.n, &err);
	method_names_free(&names);
	return result ? result : method_fail_from(fail, &err);
}

const struct method method_ps = {"ps", ps_run};
