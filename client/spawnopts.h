/* spawnopts.h: what a spawn's options mean once filled in, before any
 * file is touched (insomnia/spawn.h, docs/sessions.md).
 *
 *  - session_id alone: the name and cwd come from the session.  A name
 *    given that is not the one the run will have (the overlay's [pod]
 *    name, else the session's) is INSOMNIA_ERR_NAME_MISMATCH; a live
 *    session is INSOMNIA_ERR_SESSION_LIVE; both before any pod starts.
 *  - name alone: `[pod] name` is added to the overlay when it has none
 *    (the pod refuses to start nameless); an overlay naming another pod
 *    is INSOMNIA_ERR_CONFIG.  No name: the overlay's, if it sets one. */
#ifndef INSOMNIA_SPAWNOPTS_H
#define INSOMNIA_SPAWNOPTS_H

#include <insomnia/sessions.h>
#include <insomnia/spawn.h>

#include "error.h"

struct spawnopts {
	/* The resolved options: strings point into this struct or are the
	 * caller's; valid until spawnopts_release. */
	struct insomnia_spawn_options opts;
	char name[INSOMNIA_NAME_MAX + 1];
	char cwd[INSOMNIA_PATH_MAX];
	char session_id[INSOMNIA_SESSION_ID_MAX];
	char *overlay; /* malloc'd when rewritten, else NULL */
};

/* Resolve in into out.  0, or -1 and err (out needs no release then). */
int spawnopts_resolve(const struct insomnia_spawn_options *in,
                      struct spawnopts *out, struct insomnia_error *err);

void spawnopts_release(struct spawnopts *r);

#endif
