/* podctl watch: print pods coming and going until interrupted
 * (insomnia_watch_start in a loop of its own). */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>

#include "jsonstr.h"
#include "podctl.h"
#include <insomnia/watch.h>

struct watch_cli {
	struct event_base *base;
	bool json;
	int code;
};

static json_t *event_json(const struct insomnia_watch_event *ev)
{
	const struct insomnia_pod_info *info = ev->info;

	if (ev->err)
		return json_pack("{s:s, s:{s:s, s:o}}", "event",
		                 insomnia_watch_kind_name(ev->kind), "error",
		                 "kind",
		                 insomnia_error_kind_name(ev->err->kind),
		                 "message", jsonstr_new(ev->err->message));
	if (!info)
		return json_pack("{s:s}", "event",
		                 insomnia_watch_kind_name(ev->kind));
	return json_pack("{s:s, s:o, s:b, s:o, s:o}", "event",
	                 insomnia_watch_kind_name(ev->kind), "name",
	                 jsonstr_new(ev->name), "alive", info->alive, "pid",
	                 info->pid ? json_integer(info->pid) : json_null(),
	                 "state", jsonstr_new(info->state));
}

/* One line per event, flushed at once: a reader waits for each. */
static void print_event(const struct insomnia_watch_event *ev, void *arg)
{
	struct watch_cli *c = arg;
	const char *kind = insomnia_watch_kind_name(ev->kind);

	if (c->json)
		cli_print_json(event_json(ev));
	else if (ev->err)
		fprintf(stderr, "podctl: %s\n", ev->err->message);
	else if (ev->info && ev->info->pid)
		printf("%s %s %ld\n", kind, ev->name, (long)ev->info->pid);
	else
		printf("%s%s%s\n", kind, ev->name ? " " : "",
		       ev->name ? ev->name : "");
	if (fflush(stdout) != 0 || ev->err) {
		c->code = ev->err ? insomnia_error_exit_code(ev->err->kind)
		                  : insomnia_error_exit_code(INSOMNIA_ERR_IO);
		event_base_loopbreak(c->base);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/* Watch until SIGINT, SIGTERM or SIGHUP (a success) or a failure. */
static int watch_run(struct watch_cli *c)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct event *evs[3] = {NULL, NULL, NULL};
	struct insomnia_watch *w;
	struct insomnia_error err;

	for (int i = 0; i < 3; i++) {
		evs[i] = evsignal_new(c->base, sigs[i], on_signal, c->base);
		if (evs[i])
			evsignal_add(evs[i], NULL);
	}
	insomnia_error_clear(&err);
	w = insomnia_watch_start(c->base, print_event, c, &err);
	if (w)
		event_base_dispatch(c->base);
	else
		c->code = cli_fail(c->json, &err);
	insomnia_watch_free(w);
	for (int i = 0; i < 3; i++)
		if (evs[i])
			event_free(evs[i]);
	return c->code;
}

static int run_watch(const struct cli_args *a)
{
	struct watch_cli c = {.json = a->json};
	struct insomnia_error err;
	int code;

	c.base = event_base_new();
	if (!c.base) {
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "cannot create an event loop");
		return cli_fail(c.json, &err);
	}
	code = watch_run(&c);
	event_base_free(c.base);
	return code;
}

const struct cmd_entry cmd_watch_entry = {
    .name = "watch",
    .summary = "print pods coming and going until interrupted",
    .help =
        "Prints the pods there are, then \"synced\", then every change as it\n"
        "happens, one line each: \"KIND NAME [PID]\", KIND one of appeared,\n"
        "ready, stopped (a clean shutdown), died (crashed or killed), gone\n"
        "(its dir removed); \"resync\" when events were lost (a listing and\n"
        "\"synced\" follow).  --json prints {\"event\", \"name\", \"alive\",\n"
        "\"pid\", \"state\"} per line.  No polling: inotify on the runtime\n"
        "root, which need not exist yet.  Runs until SIGINT, SIGTERM or\n"
        "SIGHUP (exit 0).\n",
    .max_operands = 0,
    .run = run_watch,
};
