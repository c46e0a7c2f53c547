/* spawnblock.c: the blocking spawn: the same machine in a private loop. */
#include <insomnia/spawn.h>

#include <event2/event.h>

#include "error.h"

struct blocking {
	const struct insomnia_spawn_options
	    *opts; /* the caller's, for progress */
	struct insomnia_spawn_result *res;
	struct insomnia_error *err;
	int rc;
};

static void blocking_ready(const struct insomnia_spawn_result *res, void *arg)
{
	struct blocking *b = arg;

	*b->res = *res;
	b->rc = 0;
}

static void blocking_failed(const struct insomnia_error *err, void *arg)
{
	struct blocking *b = arg;

	if (b->err)
		*b->err = *err;
	b->rc = -1;
}

static void relay_progress(const char *line, void *arg)
{
	struct blocking *b = arg;

	b->opts->progress(line, b->opts->arg);
}

int insomnia_spawn(const struct insomnia_spawn_options *opts,
                   struct insomnia_spawn_result *res,
                   struct insomnia_error *err)
{
	struct blocking b = {opts, res, err, -1};
	struct insomnia_spawn_options inner = *opts;
	struct event_base *base = event_base_new();
	struct insomnia_spawn *s;

	if (!base)
		return insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                          "cannot create an event loop");
	/* all callbacks get one arg: b carries the caller's progress and
	 * our result slots */
	inner.progress = opts->progress ? relay_progress : NULL;
	inner.arg = &b;
	s = insomnia_spawn_start(base, &inner, blocking_ready, blocking_failed,
	                         err);
	if (s)
		event_base_dispatch(base);
	event_base_free(base);
	return s ? b.rc : -1;
}
