/* spawnopts.c: filling in a spawn's name, overlay and cwd (spawnopts.h). */
#include "spawnopts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <insomnia/overlay.h>

#include "session.h"

#define OVERLAY_SOURCE "the overlay"

/* The [pod] name the overlay sets: 1 and name, 0 none, -1 when it does
 * not parse (err says where). */
static int overlay_name(const char *overlay, char *name, size_t size,
                        struct insomnia_error *err)
{
	if (!overlay)
		return 0;
	return insomnia_overlay_name(overlay, OVERLAY_SOURCE, name, size, err);
}

/* ---- a new pod ----------------------------------------------------------- */

/* Add `[pod] name` to an overlay that lacks it. */
static int add_name(const struct insomnia_spawn_options *in,
                    struct spawnopts *out, struct insomnia_error *err)
{
	struct insomnia_overlay_part part = {in->overlay, OVERLAY_SOURCE};

	out->overlay = insomnia_overlay_compose(&part, 1, in->name, out->name,
	                                        sizeof out->name, err);
	if (!out->overlay)
		return -1;
	out->opts.overlay = out->overlay;
	return 0;
}

static int resolve_new(const struct insomnia_spawn_options *in,
                       struct spawnopts *out, struct insomnia_error *err)
{
	char set[INSOMNIA_NAME_MAX + 1];
	struct insomnia_error parse;
	int rc;

	if (in->name && insomnia_name_check(in->name, err) < 0)
		return -1;
	rc = overlay_name(in->overlay, set, sizeof set, &parse);
	if (rc < 0 && in->name) {
		/* the pod reports it, as it always has, with its exit code */
		snprintf(out->name, sizeof out->name, "%s", in->name);
		return 0;
	}
	if (rc < 0) {
		if (err)
			*err = parse;
		return -1;
	}
	if (rc == 0 && !in->name)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_BAD_NAME,
		    "no pod name given (set the name option, or "
		    "[pod] name in the overlay)");
	if (rc == 0)
		return add_name(in, out, err);
	if (in->name && strcmp(in->name, set) != 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_CONFIG,
		    "the overlay names pod \"%s\" but \"%s\" was "
		    "asked for",
		    set, in->name);
	snprintf(out->name, sizeof out->name, "%s", set);
	return insomnia_name_check(out->name, err);
}

/* ---- a resume ---------------------------------------------------------- */

/* The same words as the pod's refusal (pod/podsession.c). */
static int live_error(const struct session_info *s, struct insomnia_error *err)
{
	const char *name = s->run_name[0] ? s->run_name : s->name;

	if (s->pid > 0 && strcmp(s->last_event, SESSION_EV_STOPPED) != 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_SESSION_LIVE,
		    "session %s is live in pod %s (pid %ld)", s->id, name,
		    (long)s->pid);
	return insomnia_error_set(err, INSOMNIA_ERR_SESSION_LIVE,
	                          "session %s is live in pod %s (pid unknown)",
	                          s->id, name);
}

static int read_session(const char *id, struct session_info *s,
                        struct insomnia_error *err)
{
	char canon[SESSION_ID_LEN + 1];
	struct insomnia_error e;
	int fd, rc;

	if (session_id_normalize(id, canon, err) < 0)
		return -1;
	fd = session_open_root(false, NULL, 0, &e);
	if (fd < 0 && e.errnum == ENOENT)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_SESSION_UNKNOWN,
		    "unknown session %s: there are no sessions yet", canon);
	if (fd < 0) {
		if (err)
			*err = e;
		return -1;
	}
	rc = session_read_info(fd, canon, s, err);
	close(fd);
	if (rc == 0 && s->live)
		return live_error(s, err);
	return rc;
}

static int resolve_session(const struct insomnia_spawn_options *in,
                           struct spawnopts *out, struct insomnia_error *err)
{
	char set[INSOMNIA_NAME_MAX + 1];
	struct session_info s;
	const char *run;

	if (read_session(in->session_id, &s, err) < 0)
		return -1;
	/* the run's name: the overlay's over the session's, as the pod
	 * layers them; an overlay that does not parse is the pod's to
	 * report */
	run = overlay_name(in->overlay, set, sizeof set, NULL) == 1 ? set
	                                                            : s.name;
	if (in->name && strcmp(in->name, run) != 0)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_NAME_MISMATCH,
		    "session %s is pod \"%s\"'s, not \"%s\": leave "
		    "the name out, or rename the run with [pod] "
		    "name in the overlay",
		    s.id, run, in->name);
	snprintf(out->name, sizeof out->name, "%s", run);
	snprintf(out->session_id, sizeof out->session_id, "%s", s.id);
	out->opts.session_id = out->session_id;
	if (!in->cwd && s.cwd[0]) {
		snprintf(out->cwd, sizeof out->cwd, "%s", s.cwd);
		out->opts.cwd = out->cwd;
	}
	return insomnia_name_check(out->name, err);
}

int spawnopts_resolve(const struct insomnia_spawn_options *in,
                      struct spawnopts *out, struct insomnia_error *err)
{
	int rc;

	memset(out, 0, sizeof *out);
	out->opts = *in;
	rc = in->session_id ? resolve_session(in, out, err)
	                    : resolve_new(in, out, err);
	if (rc < 0) {
		spawnopts_release(out);
		return -1;
	}
	out->opts.name = out->name;
	return 0;
}

void spawnopts_release(struct spawnopts *r)
{
	free(r->overlay);
	r->overlay = NULL;
}
