/* method-args.c: parameters and errors of the process methods, and the
 * deferred reply of start, stop and restart. */
#include "method-args.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "utf8seq.h"

/* How much of a bad name a message quotes. */
#define NAME_QUOTE_MAX 64

json_t *method_bad_request(struct method_fail *fail, const char *fmt, ...)
{
	va_list ap;

	fail->code = PROTO_ERR_BAD_REQUEST;
	va_start(ap, fmt);
	vsnprintf(fail->message, sizeof fail->message, fmt, ap);
	va_end(ap);
	return NULL;
}

json_t *method_fail_from(struct method_fail *fail,
                         const struct insomnia_error *err)
{
	size_t len;

	if (err->kind == INSOMNIA_ERR_NONE) {
		fail->code = NULL; /* out of memory */
		return NULL;
	}
	fail->code = insomnia_error_kind_name(err->kind);
	/* cut on a character boundary: the reply stays valid UTF-8 */
	len = utf8_cut(err->message, strlen(err->message),
	               sizeof fail->message - 1);
	memcpy(fail->message, err->message, len);
	fail->message[len] = '\0';
	return NULL;
}

/* A name that is not one is quoted only when it is text, cut on a
 * character boundary: the reply must stay valid UTF-8. */
static int bad_name(struct method_fail *fail, size_t i, const char *name)
{
	size_t len = strlen(name);
	int quoted = (int)utf8_cut(name, len, NAME_QUOTE_MAX);

	if (!utf8_valid(name, len))
		method_bad_request(fail,
		                   "names[%zu] is not a valid process "
		                   "name",
		                   i);
	else
		method_bad_request(
		    fail,
		    "names[%zu]: \"%.*s%s\" is not a valid "
		    "process name (1 to 63 of A-Z a-z 0-9 . _ -, "
		    "not starting with . or -)",
		    i, quoted, name, (size_t)quoted < len ? "..." : "");
	return -1;
}

static int check_names(json_t *names, bool required, struct method_fail *fail)
{
	if (!names) {
		if (required)
			method_bad_request(fail, "names is required: an array "
			                         "of process names");
		return required ? -1 : 0;
	}
	if (!json_is_array(names)) {
		method_bad_request(fail, "names must be an array of strings");
		return -1;
	}
	if (required && json_array_size(names) == 0) {
		method_bad_request(fail, "names must not be empty");
		return -1;
	}
	return 0;
}

int method_names_get(json_t *params, bool required, struct method_names *out,
                     struct method_fail *fail)
{
	json_t *names = json_object_get(params, "names"), *v;
	size_t i;

	out->v = NULL;
	out->n = 0;
	if (check_names(names, required, fail) < 0)
		return -1;
	if (!names || json_array_size(names) == 0)
		return 0;
	out->v = calloc(json_array_size(names), sizeof *out->v);
	if (!out->v) {
		fail->code = NULL;
		return -1;
	}
	json_array_foreach(names, i, v)
	{
		if (!json_is_string(v)) {
			method_names_free(out);
			method_bad_request(fail, "names[%zu] is not a string",
			                   i);
			return -1;
		}
		if (insomnia_name_check(json_string_value(v), NULL) < 0) {
			method_names_free(out);
			return bad_name(fail, i, json_string_value(v));
		}
		out->v[out->n++] = json_string_value(v);
	}
	return 0;
}

void method_names_free(struct method_names *names)
{
	free(names->v);
	names->v = NULL;
	names->n = 0;
}

/* ---- start, stop, restart: the reply comes when the work is done ---- */

struct act_call {
	struct reply *reply;
	struct supervisor_op *op;
};

static void act_done(void *arg, json_t *result,
                     const struct insomnia_error *err)
{
	struct act_call *call = arg;

	if (err)
		reply_error(call->reply, insomnia_error_kind_name(err->kind),
		            "%s", err->message);
	else
		reply_result(call->reply, json_incref(result));
	free(call);
}

/* The caller went away: the processes carry on, nobody is told. */
static void act_cancel(void *arg)
{
	struct act_call *call = arg;

	supervisor_op_cancel(call->op);
	free(call);
}

json_t *method_act(struct method_env *env, json_t *params,
                   struct method_fail *fail, enum supervisor_verb verb)
{
	struct method_names names;
	struct insomnia_error err;
	struct act_call *call;

	if (method_names_get(params, true, &names, fail) < 0)
		return NULL;
	insomnia_error_clear(&err);
	call = calloc(1, sizeof *call);
	/* done runs later, from the loop: call->reply is set by then. */
	if (call)
		call->op = supervisor_act(env->pod->supervisor, verb, names.v,
		                          names.n, act_done, call, &err);
	method_names_free(&names);
	if (!call || !call->op) {
		free(call);
		return method_fail_from(fail, &err);
	}
	if (!(call->reply = method_defer(env))) {
		act_cancel(call);
		fail->code = NULL;
		return NULL;
	}
	reply_on_cancel(call->reply, act_cancel, call);
	return METHOD_LATER;
}
