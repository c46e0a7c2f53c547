/* stream.c: follow a stream of a pod (logs -f, events) in an event loop
 * of its own until the pod closes it or podctl is told to stop. */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>

#include <insomnia/control.h>

#include "podctl.h"

struct follow {
	struct event_base *base;
	const struct cli_stream *s;
	bool json;
	int code;
	bool done;
};

static void stop_with(struct follow *f, int code)
{
	if (f->done)
		return;
	f->done = true;
	f->code = code;
	event_base_loopbreak(f->base);
}

/* Each line is flushed at once: a reader (a pipe, a test) waits for it.
 * stdout gone (a closed pipe) ends the stream. */
static void flushed(struct follow *f, int code)
{
	if (code)
		stop_with(f, code);
	else if (fflush(stdout) != 0)
		stop_with(f, insomnia_error_exit_code(INSOMNIA_ERR_IO));
}

static void on_started(struct insomnia_control *c,
                       const struct insomnia_control_reply *r, void *arg)
{
	struct follow *f = arg;

	flushed(f,
	        f->s->started ? f->s->started(r->json, r->len, f->s->arg) : 0);
}

static void on_event(struct insomnia_control *c, const char *name,
                     const char *data, size_t len, void *arg)
{
	struct follow *f = arg;

	if (!f->done)
		flushed(f, f->s->event(name, data, len, f->s->arg));
}

static void on_ended(struct insomnia_control *c,
                     const struct insomnia_error *err, void *arg)
{
	struct follow *f = arg;
	struct insomnia_error e;

	if (!err) {
		stop_with(f, 0); /* the pod closed it: it stopped */
		return;
	}
	e = *err;
	cli_pod_error(&e);
	stop_with(f, cli_fail(f->json, &e));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	stop_with(arg, 0);
}

static int run_loop(struct follow *f, const char *path, const char *method,
                    const char *params)
{
	struct insomnia_control_stream st = {on_started, on_event, on_ended, f};
	struct insomnia_control *c;
	struct insomnia_error err;

	insomnia_error_clear(&err);
	c = insomnia_control_connect_path(f->base, path, &err);
	if (!c || insomnia_control_subscribe(c, method, params, &st, &err)) {
		insomnia_control_close(c);
		return cli_fail(f->json, &err);
	}
	event_base_dispatch(f->base);
	insomnia_control_close(c);
	return f->code;
}

int cli_follow(const char *pod, const char *method, const char *params,
               const struct cli_stream *s, bool json)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct event *evs[3] = {NULL, NULL, NULL};
	struct follow f = {.s = s, .json = json};
	char path[INSOMNIA_PATH_MAX];
	struct insomnia_error err;
	int code;

	insomnia_error_clear(&err);
	if (cli_pod_socket(pod, path, sizeof path, &err) < 0)
		return cli_fail(json, &err);
	if (!(f.base = event_base_new())) {
		insomnia_error_set(&err, INSOMNIA_ERR_INTERNAL,
		                   "cannot create an event loop");
		return cli_fail(json, &err);
	}
	for (int i = 0; i < 3; i++) {
		evs[i] = evsignal_new(f.base, sigs[i], on_signal, &f);
		if (evs[i])
			evsignal_add(evs[i], NULL);
	}
	code = run_loop(&f, path, method, params);
	for (int i = 0; i < 3; i++)
		if (evs[i])
			event_free(evs[i]);
	event_base_free(f.base);
	return code;
}
