/* supervisor-none.c: THROWAWAY stand-in for supervisor.c (and
 * manifest.c) with zero processes, so the pod's core builds and its
 * asynchronous start and stop can be tested before the real supervisor
 * lands.  The lead drops this file at merge.  Like the real one, its
 * hooks fire from the loop, never from inside the call that caused them. */
#include "supervisor.h"

#include <stdlib.h>
#include <string.h>

struct supervisor {
	struct supervisor_hooks hooks;
	struct event *ready, *stopped;
	bool stopping;
};

static void ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *s = arg;

	s->hooks.ready(s->hooks.arg);
}

static void stopped_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor *s = arg;

	s->hooks.stopped(s->hooks.arg);
}

struct supervisor *
supervisor_new(struct event_base *base, const struct manifest *m,
               const struct supervisor_env *env, struct events *ev,
               const struct supervisor_hooks *hooks, struct insomnia_error *err)
{
	struct supervisor *s = calloc(1, sizeof *s);

	if (!s)
		goto fail;
	s->hooks = *hooks;
	s->ready = event_new(base, -1, 0, ready_cb, s);
	s->stopped = event_new(base, -1, 0, stopped_cb, s);
	if (s->ready && s->stopped)
		return s;
	supervisor_free(s);
fail:
	insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "out of memory");
	return NULL;
}

int supervisor_start(struct supervisor *s, struct insomnia_error *err)
{
	event_active(s->ready, 0, 0);
	return 0;
}

void supervisor_stop_all(struct supervisor *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	event_del(s->ready);
	event_active(s->stopped, 0, 0);
}

void supervisor_free(struct supervisor *s)
{
	if (!s)
		return;
	if (s->ready)
		event_free(s->ready);
	if (s->stopped)
		event_free(s->stopped);
	free(s);
}

void supervisor_counts(const struct supervisor *s, size_t *ready, size_t *total)
{
	*ready = 0;
	*total = 0;
}

static int unknown(const char *const *names, size_t n,
                   struct insomnia_error *err)
{
	return insomnia_error_set(err, INSOMNIA_ERR_UNKNOWN_PROCESS,
	                          "no process called %s", names[0]);
}

json_t *supervisor_ps(const struct supervisor *s, const char *const *names,
                      size_t n, struct insomnia_error *err)
{
	if (names && n > 0) {
		unknown(names, n, err);
		return NULL;
	}
	return json_pack("{s:[]}", "processes");
}

struct supervisor_op *supervisor_act(struct supervisor *s,
                                     enum supervisor_verb verb,
                                     const char *const *names, size_t n,
                                     supervisor_done_fn done, void *arg,
                                     struct insomnia_error *err)
{
	if (s->stopping)
		insomnia_error_set(err, INSOMNIA_ERR_PROCESS_STATE,
		                   "the pod is stopping");
	else if (n > 0)
		unknown(names, n, err);
	else
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL, "no names");
	return NULL;
}

void supervisor_op_cancel(struct supervisor_op *op)
{
}

int supervisor_logs_dirfd(const struct supervisor *s)
{
	return -1;
}

bool supervisor_has(const struct supervisor *s, const char *name)
{
	return false;
}
