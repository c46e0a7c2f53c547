/* method-args.h: what the process methods (ps, start, stop, restart,
 * logs; docs/protocol.md) share: reading their "names" parameter, and
 * turning an insomnia_error into an error reply's code and message. */
#ifndef INSOMNIA_POD_METHOD_ARGS_H
#define INSOMNIA_POD_METHOD_ARGS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "methods.h"
#include "supervisor.h"

/* The names a request gave, borrowed from its params (valid while they
 * are): v NULL and n 0 when "names" was absent. */
struct method_names {
	const char **v;
	size_t n;
};

/* params' "names": an array of strings, each a valid process name (the
 * pod-name rule).  required: it must be there and not empty.  0, or -1
 * with fail (bad_request, or code NULL when out of memory). */
int method_names_get(json_t *params, bool required, struct method_names *out,
                     struct method_fail *fail);

void method_names_free(struct method_names *names);

/* fail from err: its kind's name as the code (unknown_process,
 * process_state, process_failed...), its message.  An err still
 * INSOMNIA_ERR_NONE means out of memory (code NULL).  Returns NULL, so a
 * run can `return method_fail_from(fail, &err);`. */
json_t *method_fail_from(struct method_fail *fail,
                         const struct insomnia_error *err);

/* A bad_request fail; returns NULL. */
json_t *method_bad_request(struct method_fail *fail, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* start, stop and restart: act on the named processes and answer once
 * the supervisor is done (METHOD_LATER), or at once with an error. */
json_t *method_act(struct method_env *env, json_t *params,
                   struct method_fail *fail, enum supervisor_verb verb);

#endif
