/* podctl status: ask a pod itself how it is, through the control client
 * of the library (<insomnia/control.h>), as any program would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <insomnia/control.h>
#include <insomnia/pods.h>

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
	return insomnia_error_set(err, INSOMNIA_ERR_PROTOCOL,
	                          "the %s reply does not parse: %s", method,
	                          jerr.text);
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
		insomnia_error_prefix(err, "pod %s", info->name);
		return -1;
	}
	rc = call(c, "hello", hello, err);
	if (rc == 0)
		rc = call(c, "status", status, err);
	insomnia_control_close(c);
	return rc;
}

/* ---- the human form ---------------------------------------------------
 *
 *   web: ready
 *     uptime       3m
 *     started_at   2026-01-02T03:04:05Z (3m ago)
 *     pid          4242
 *     ...
 *
 * Times as a person reads them; an unknown value (null) as "-"; fields
 * this podctl does not know yet as the pod sent them. */

/* "2026-01-02T03:04:05Z (3m ago)", or the text alone when it is not a
 * time podctl can read. */
static void started_text(const char *at, char *buf, size_t size)
{
	long long t = cli_parse_utc(at);
	char age[24];

	if (t < 0) {
		snprintf(buf, size, "%s", at);
		return;
	}
	cli_format_age(((long long)time(NULL) - t) * 1000, age, sizeof age);
	snprintf(buf, size, "%s (%s ago)", at, age);
}

static void print_field(const char *key, json_t *v)
{
	char text[256], *dumped;

	if (!v || json_is_null(v)) {
		printf("  %-12s -\n", key);
	} else if (!strcmp(key, "uptime_ms") && json_is_integer(v)) {
		cli_format_age((long long)json_integer_value(v), text,
		               sizeof text);
		printf("  %-12s %s\n", "uptime", text);
	} else if (!strcmp(key, "processes") && json_is_object(v)) {
		/* {"ready":1,"total":2}: `podctl ps` has the rest */
		printf(
		    "  %-12s %lld ready of %lld\n", key,
		    (long long)json_integer_value(json_object_get(v, "ready")),
		    (long long)json_integer_value(json_object_get(v, "total")));
	} else if (!strcmp(key, "started_at") && json_is_string(v)) {
		started_text(json_string_value(v), text, sizeof text);
		printf("  %-12s %s\n", key, text);
	} else if (json_is_string(v)) {
		printf("  %-12s %s\n", key, json_string_value(v));
	} else {
		dumped = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		printf("  %-12s %s\n", key, dumped ? dumped : "?");
		free(dumped);
	}
}

/* The fields people look for first, in this order; then the rest. */
static const char *const first_fields[] = {
    "uptime_ms", "started_at", "pid", "pgid", "session_id", "socket", NULL,
};

static bool is_first(const char *key)
{
	for (int i = 0; first_fields[i]; i++)
		if (!strcmp(key, first_fields[i]))
			return true;
	return !strcmp(key, "name") || !strcmp(key, "state");
}

static const char *string_or_dash(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : "-";
}

static void print_human(json_t *hello, json_t *status)
{
	const char *key;
	json_t *v;

	printf("%s: %s\n", string_or_dash(json_object_get(status, "name")),
	       string_or_dash(json_object_get(status, "state")));
	for (int i = 0; first_fields[i]; i++)
		if ((v = json_object_get(status, first_fields[i])))
			print_field(first_fields[i], v);
	json_object_foreach(status, key, v)
	{
		if (!is_first(key))
			print_field(key, v);
	}
	print_field("protocol", json_object_get(hello, "protocol"));
	print_field("pod_version", json_object_get(hello, "version"));
}

static int run_status(const struct cli_args *a)
{
	json_t *hello = NULL, *status = NULL;
	struct insomnia_pod_info info;
	struct insomnia_error err;

	insomnia_error_clear(&err);
	if (insomnia_pod_find(a->operands[0], &info, &err) < 0)
		return cli_fail(a->json, &err);
	if (!info.alive) {
		insomnia_error_set(&err, INSOMNIA_ERR_NOT_RUNNING,
		                   "pod %s is not running (%s)", info.name,
		                   info.state);
		return cli_fail(a->json, &err);
	}
	if (ask(&info, &hello, &status, &err) < 0) {
		json_decref(hello);
		return cli_fail(a->json, &err);
	}
	if (a->json)
		return cli_print_json(
		    json_pack("{s:o, s:o}", "hello", hello, "status", status));
	print_human(hello, status);
	json_decref(hello);
	json_decref(status);
	return 0;
}

const struct cmd_entry cmd_status_entry = {
    .name = "status",
    .summary = "ask a live pod for its status",
    .help =
        "Connects to the pod's socket and asks it for `hello` and `status`\n"
        "(see docs/protocol.md), and prints the answer: its uptime (3m),\n"
        "when it started (with how long ago), pid, process group, session,\n"
        "socket, then the rest (processes: \"1 ready of 3\"), and the\n"
        "protocol and version of the pod.\n"
        "A value the pod does not know is shown as \"-\".  --json prints\n"
        "{\"hello\":{...}, \"status\":{...}} exactly as the pod answered.\n",
    .operands = "NAME",
    .min_operands = 1,
    .max_operands = 1,
    .run = run_status,
};
