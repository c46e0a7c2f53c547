/* method-subscribe.c: the event stream (docs/protocol.md, "subscribe"):
 * after its reply, the connection receives the events its filter takes
 * (pod/events.h) until it closes. */
#include "methods.h"

#include <stdio.h>
#include <string.h>

#include "events.h"
#include "proto.h"
#include "supervisor.h"

/* A list of names is at most the pod's processes, or a few of them. */
#define SUBSCRIBE_NAMES_MAX 1024

static const struct {
	const char *name;
	unsigned bit;
} kind_names[] = {
    {"pod", EVENT_POD},
    {"process", EVENT_PROCESS},
    {"log", EVENT_LOG},
    {"status", EVENT_STATUS},
};

static json_t *refuse(struct method_fail *fail, const char *code,
                      const char *msg, const char *what)
{
	fail->code = code;
	snprintf(fail->message, sizeof fail->message, "%s%s", msg,
	         what ? what : "");
	return NULL;
}

static unsigned kind_bit(const char *name)
{
	for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
		if (strcmp(kind_names[i].name, name) == 0)
			return kind_names[i].bit;
	return 0;
}

/* 0 (with fail) on a bad list; every kind when absent. */
static unsigned parse_kinds(const json_t *kinds, struct method_fail *fail)
{
	unsigned bits = 0, bit;
	size_t i;
	json_t *k;

	if (!kinds)
		return EVENT_POD | EVENT_PROCESS | EVENT_LOG | EVENT_STATUS;
	if (!json_is_array(kinds) || json_array_size(kinds) == 0) {
		refuse(fail, PROTO_ERR_BAD_REQUEST,
		       "\"kinds\" must be a non-empty array", NULL);
		return 0;
	}
	json_array_foreach(kinds, i, k)
	{
		bit = json_is_string(k) ? kind_bit(json_string_value(k)) : 0;
		if (!bit) {
			refuse(fail, PROTO_ERR_BAD_REQUEST,
			       "\"kinds\" holds pod, process, status or log",
			       NULL);
			return 0;
		}
		bits |= bit;
	}
	return bits;
}

/* names' strings into out (borrowed from the request); -1 with fail. */
static int parse_names(struct method_env *env, const json_t *names,
                       const char **out, size_t *n, struct method_fail *fail)
{
	size_t i;
	json_t *v;

	*n = 0;
	if (!names)
		return 0;
	if (!json_is_array(names) ||
	    json_array_size(names) > SUBSCRIBE_NAMES_MAX) {
		refuse(fail, PROTO_ERR_BAD_REQUEST,
		       "\"names\" must be an array of process names", NULL);
		return -1;
	}
	json_array_foreach(names, i, v)
	{
		if (!json_is_string(v)) {
			refuse(fail, PROTO_ERR_BAD_REQUEST,
			       "\"names\" must be an array of process names",
			       NULL);
			return -1;
		}
		if (!supervisor_has(env->pod->supervisor,
		                    json_string_value(v))) {
			refuse(fail,
			       insomnia_error_kind_name(
			           INSOMNIA_ERR_UNKNOWN_PROCESS),
			       "no process called ", json_string_value(v));
			return -1;
		}
		out[(*n)++] = json_string_value(v);
	}
	return 0;
}

static json_t *subscribe_run(struct method_env *env, json_t *params,
                             struct method_fail *fail)
{
	static const char *names[SUBSCRIBE_NAMES_MAX];
	unsigned kinds;
	size_t n;

	if (params && !json_is_object(params))
		return refuse(fail, PROTO_ERR_BAD_REQUEST,
		              "params must be an object", NULL);
	kinds = parse_kinds(json_object_get(params, "kinds"), fail);
	if (!kinds || parse_names(env, json_object_get(params, "names"), names,
	                          &n, fail) < 0)
		return NULL;
	if (method_subscribe(env, kinds, n ? names : NULL, n) < 0)
		return NULL;
	return json_pack("{s:b}", "subscribed", 1);
}

const struct method method_subscribe_method = {"subscribe", subscribe_run};
