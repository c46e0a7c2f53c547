/* podctl events: follow what happens in a pod (the `subscribe` method,
 * docs/protocol.md "Events"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonstr.h"
#include "podctl.h"

struct events_out {
	bool json;
	int code; /* an overflow ends the stream badly */
};

/* " pid 4242", " exit 3" ... for the fields a process event has. */
static void print_details(json_t *d)
{
	json_t *v, *exit = json_object_get(d, "exit");

	if (json_is_integer(v = json_object_get(d, "pid")))
		printf(" pid %lld", (long long)json_integer_value(v));
	if (json_is_integer(v = json_object_get(exit, "code")))
		printf(" exit %lld", (long long)json_integer_value(v));
	if (json_is_string(v = json_object_get(exit, "signal")))
		printf(" signal SIG%s", json_string_value(v));
	if (json_is_integer(v = json_object_get(d, "delay_ms")))
		printf(" retry in %lldms", (long long)json_integer_value(v));
	if (json_is_integer(v = json_object_get(d, "restarts")))
		printf(" restarts %lld", (long long)json_integer_value(v));
	if (json_is_string(v = json_object_get(d, "reason")))
		printf(" (%s)", json_string_value(v));
}

static const char *str(json_t *d, const char *key)
{
	const char *s = json_string_value(json_object_get(d, key));

	return s ? s : "?";
}

/* One line per event:
 *   pod ready
 *   process db backoff pid 4242 exit 3 retry in 400ms restarts 2
 *   log db | text
 *   status db Ready to accept connections
 *   overflow 12 lost */
static void print_human(const char *name, json_t *d, const char *data)
{
	json_t *text = json_object_get(d, "text");

	if (!strcmp(name, "pod")) {
		printf("pod %s", str(d, "state"));
		if (json_is_string(json_object_get(d, "reason")))
			printf(" (%s)", str(d, "reason"));
	} else if (!strcmp(name, "process")) {
		printf("process %s %s", str(d, "process"), str(d, "state"));
		print_details(d);
	} else if (!strcmp(name, "log")) {
		printf("log %s %c ", str(d, "process"),
		       !strcmp(str(d, "stream"), "err") ? '!' : '|');
		if (json_is_string(text))
			fwrite(json_string_value(text), 1,
			       json_string_length(text), stdout);
	} else if (!strcmp(name, "status")) {
		printf("status %s %s", str(d, "process"),
		       json_is_string(json_object_get(d, "status"))
		           ? str(d, "status")
		           : "(cleared)");
	} else if (!strcmp(name, "overflow")) {
		printf("overflow %lld lost", (long long)json_integer_value(
		                                 json_object_get(d, "lost")));
	} else {
		printf("%s %s", name, data); /* newer than this podctl */
	}
	putchar('\n');
}

static int on_event(const char *name, const char *data, size_t len, void *arg)
{
	struct events_out *o = arg;
	json_t *d =
	    json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	json_t *n = jsonstr_new(name);
	char *quoted = n ? json_dumps(n, JSON_ENCODE_ANY) : NULL;

	if (o->json)
		printf("{\"event\":%s,\"data\":%s}\n", quoted ? quoted : "null",
		       data);
	else
		print_human(name, d, data);
	if (!strcmp(name, "overflow") && !o->code) {
		/* the pod closes the stream after it: say so, and fail */
		fprintf(stderr, "podctl: events were lost (too slow a "
		                "reader): the pod ended the stream\n");
		o->code = insomnia_error_exit_code(INSOMNIA_ERR_IO);
	}
	free(quoted);
	json_decref(n);
	json_decref(d);
	return 0;
}

static int run_events(const struct cli_args *a)
{
	struct events_out o = {.json = a->json};
	struct cli_stream s = {NULL, on_event, &o};
	struct insomnia_error err;
	struct cli_target t;
	json_t *p;
	char *params;
	int code;

	insomnia_error_clear(&err);
	if (cli_target_parse(a->operands[0], CLI_TARGET_POD, &t, &err) < 0)
		return cli_fail(a->json, &err);
	p = t.proc[0] ? json_pack("{s:[o]}", "names", jsonstr_new(t.proc))
	              : json_object();
	params = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (!params) {
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "out of memory");
		return cli_fail(a->json, &err);
	}
	code = cli_follow(t.pod, "subscribe", params, &s, a->json);
	free(params);
	return code ? code : o.code;
}

const struct cmd_entry cmd_events_entry = {
    .name = "events",
    .summary = "follow what happens in a pod",
    .help =
        "Subscribes to the pod's events and prints each as it comes, one\n"
        "line each, until Ctrl-C, SIGTERM or SIGHUP (exit 0) or the pod\n"
        "ends (exit 0):\n"
        "  pod stopping\n"
        "  process db backoff pid 4242 exit 3 retry in 400ms restarts 2\n"
        "  log db | Ready to accept connections\n"
        "With POD/PROC, only the events of that process.  --json prints the\n"
        "event lines as the pod sends them, {\"event\", \"data\"}.  A reader\n"
        "too slow for the pod gets \"overflow N lost\" and the pod ends the\n"
        "stream: podctl then exits with the io code (12).\n",
    .operands = "POD[/PROC]",
    .min_operands = 1,
    .max_operands = 1,
    .run = run_events,
};
