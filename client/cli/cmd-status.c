/* podctl status: ask a pod itself how it is, through the control client
 * of the library (<insomnia/control.h>), as any program would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <insomnia/control.h>
#include <insomnia/pods.h>

#include "error.h" /* error_set, error_prefix: podctl's own messages */
#include "podctl.h"

/* How long the pod has to answer each request. */
#define STATUS_TIMEOUT_MS 5000

/* One blocking call, its result parsed. */
static int call(struct insomnia_control *c, const char *method, json_t **out,
                struct insomnia_error *err)
{
	json_error_t jerr;
	char *text;
	size_t len;

	if (insomnia_control_call_wait(c, method, NULL, STATUS_TIMEOUT_MS,
	                               &text, &len, err) < 0)
		return -1;
	*out = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	free(text);
	if (*out)
		return 0;
	return error_set(err, INSOMNIA_ERR_PROTOCOL,
	                 "the %s reply does not parse: %s", method, jerr.text);
}

/* hello then status over one connection.  A pod whose accept queue is
 * full is busy (socket_refused, "busy"), not an I/O error. */
static int ask(const struct insomnia_pod_info *info, json_t **hello,
               json_t **status, struct insomnia_error *err)
{
	struct insomnia_control *c =
	    insomnia_control_open_path(info->socket, err);
	int rc;

	if (!c) {
		error_prefix(err, "pod %s", info->name);
		return -1;
	}
	rc = call(c, "hello", hello, err);
	if (rc == 0)
		rc = call(c, "status", status, err);
	insomnia_control_close(c);
	return rc;
}

static void print_human(json_t *hello, json_t *status)
{
	const char *key;
	json_t *v;

	printf("%s: %s\n", json_string_value(json_object_get(status, "name")),
	       json_string_value(json_object_get(status, "state")));
	json_object_foreach(status, key, v)
	{
		char *text = json_dumps(v, JSON_ENCODE_ANY);
		if (json_is_string(v))
			printf("  %-12s %s\n", key, json_string_value(v));
		else
			printf("  %-12s %s\n", key, text ? text : "?");
		free(text);
	}
	printf(
	    "  %-12s %lld\n  %-12s %s\n", "protocol",
	    (long long)json_integer_value(json_object_get(hello, "protocol")),
	    "pod_version",
	    json_string_value(json_object_get(hello, "version")));
}

static int exec_status(int argc, char **argv)
{
	json_t *hello = NULL, *status = NULL;
	struct insomnia_pod_info info;
	struct insomnia_error err;
	bool json = false;
	int c;

	if (cli_json_only(&cmd_status_entry, argc, argv, 1, &json, &c))
		return c;
	insomnia_error_clear(&err);
	if (insomnia_pod_find(argv[optind], &info, &err) < 0)
		return cli_fail(json, &err);
	if (!info.alive) {
		error_set(&err, INSOMNIA_ERR_NOT_RUNNING,
		          "pod %s is not running (%s)", info.name, info.state);
		return cli_fail(json, &err);
	}
	if (ask(&info, &hello, &status, &err) < 0) {
		json_decref(hello);
		return cli_fail(json, &err);
	}
	if (json)
		return cli_print_json(
		    json_pack("{s:o, s:o}", "hello", hello, "status", status));
	print_human(hello, status);
	json_decref(hello);
	json_decref(status);
	return 0;
}

const struct cmd_entry cmd_status_entry = {
    "status",
    "NAME [--json]",
    "ask a live pod for its status",
    "Connects to the pod's socket and asks it for `hello` and `status`\n"
    "(see docs/protocol.md).  --json prints {\"hello\":{...},\n"
    "\"status\":{...}} exactly as the pod answered.\n",
    exec_status,
};
