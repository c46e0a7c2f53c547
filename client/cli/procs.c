/* procs.c: start, stop or restart processes of several pods at once:
 * one request per pod ({"names":[...]}), all in one event loop, each
 * reply coming when the pod is done (docs/protocol.md). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <insomnia/control.h>

#include "jsonstr.h"
#include "podctl.h"

/* One pod's request and, once answered, how it went. */
struct pod_call {
	const struct cli_pod_group *group;
	json_t *result; /* {"processes":[...]} */
	struct insomnia_error err;
	bool failed;
};

static void on_reply(struct insomnia_control *c,
                     const struct insomnia_control_reply *r, void *arg)
{
	struct pod_call *call = arg;
	json_error_t jerr;

	if (r->status != INSOMNIA_CONTROL_RESULT) {
		call->failed = true;
		call->err = *r->err;
		cli_pod_error(&call->err);
		insomnia_error_prefix(&call->err, "pod %s", call->group->pod);
	} else if (!(call->result =
	                 json_loadb(r->json, r->len, JSON_ALLOW_NUL, &jerr))) {
		call->failed = true;
		insomnia_error_set(&call->err, INSOMNIA_ERR_PROTOCOL,
		                   "pod %s: the reply does not parse: %s",
		                   call->group->pod, jerr.text);
	}
	/* nothing else is asked: the loop ends with the last one */
	insomnia_control_close(c);
}

/* Send the request; a pod that cannot be asked fails at once. */
static void send_one(struct event_base *base, const char *method,
                     struct pod_call *call)
{
	char path[INSOMNIA_PATH_MAX], *params = NULL;
	struct insomnia_control *c = NULL;
	json_t *obj;

	insomnia_error_clear(&call->err);
	if (cli_pod_socket(call->group->pod, path, sizeof path, &call->err) <
	        0 ||
	    !(c = insomnia_control_connect_path(base, path, &call->err)))
		goto failed;
	obj = json_pack("{s:O}", "names", call->group->names);
	params = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!params) {
		insomnia_error_set(&call->err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory");
		goto failed;
	}
	if (insomnia_control_call(c, method, params, on_reply, call,
	                          &call->err) == 0) {
		free(params);
		return;
	}
failed:
	free(params);
	insomnia_control_close(c);
	call->failed = true;
}

/* "web/db: ready (pid 4242)" per process of the reply. */
static void print_processes(const char *pod, json_t *result)
{
	json_t *procs = json_object_get(result, "processes"), *p, *pid;
	size_t i;

	json_array_foreach(procs, i, p)
	{
		const char *name =
		    json_string_value(json_object_get(p, "name"));
		const char *state =
		    json_string_value(json_object_get(p, "state"));

		pid = json_object_get(p, "pid");
		printf("%s/%s: %s", pod, name ? name : "?",
		       state ? state : "?");
		if (json_is_integer(pid))
			printf(" (pid %lld)",
			       (long long)json_integer_value(pid));
		putchar('\n');
	}
}

static int report(const struct pod_call *call, bool json)
{
	const char *pod = call->group->pod;

	if (call->failed && !json)
		return cli_fail(false, &call->err);
	if (call->failed)
		return cli_print_json(
		           json_pack("{s:o, s:{s:s, s:o}}", "pod",
		                     jsonstr_new(pod), "error", "kind",
		                     insomnia_error_kind_name(call->err.kind),
		                     "message", jsonstr_new(call->err.message)))
		           ? insomnia_error_exit_code(INSOMNIA_ERR_INTERNAL)
		           : insomnia_error_exit_code(call->err.kind);
	if (json)
		return cli_print_json(json_pack(
		    "{s:o, s:O}", "pod", jsonstr_new(pod), "processes",
		    json_object_get(call->result, "processes")));
	print_processes(pod, call->result);
	return 0;
}

int cli_procs_act(const char *method, const struct cli_groups *g, bool json)
{
	struct pod_call *calls = calloc(g->n ? g->n : 1, sizeof *calls);
	struct event_base *base = event_base_new();
	struct insomnia_error err;
	int code = 0, rc;

	if (!calls || !base) {
		free(calls);
		if (base)
			event_base_free(base);
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory");
		return cli_fail(json, &err);
	}
	for (size_t i = 0; i < g->n; i++) {
		calls[i].group = &g->v[i];
		send_one(base, method, &calls[i]);
	}
	/* returns once every connection is closed: every reply is in */
	event_base_dispatch(base);
	for (size_t i = 0; i < g->n; i++) {
		if ((rc = report(&calls[i], json)) && !code)
			code = rc;
		json_decref(calls[i].result);
	}
	event_base_free(base);
	free(calls);
	return code;
}

int cli_procs_targets(const struct cli_args *a, struct cli_groups *g)
{
	struct insomnia_error err;
	struct cli_target t;

	for (int i = 0; i < a->noperands; i++) {
		insomnia_error_clear(&err);
		if (cli_target_parse(a->operands[i], CLI_TARGET_PROC, &t,
		                     &err) < 0)
			return cli_fail(a->json, &err);
		if (cli_groups_add(g, &t) < 0) {
			insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
			                   "out of memory");
			return cli_fail(a->json, &err);
		}
	}
	return -1;
}

int cli_procs_command(const char *method, const struct cli_args *a)
{
	struct cli_groups g = {NULL, 0, 0};
	int code = cli_procs_targets(a, &g);

	if (code < 0)
		code = cli_procs_act(method, &g, a->json);
	cli_groups_free(&g);
	return code;
}
