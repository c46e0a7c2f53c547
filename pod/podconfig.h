/* podconfig.h: the pod's effective configuration (DESIGN.md, "The pod
 * binary"): built-in defaults < user manifest < project manifest <
 * resumed session's recorded config < overlay, merged key by key, then
 * checked against the schema.
 * (Not "config.h": that name is the generated header with the version.) */
#ifndef INSOMNIA_POD_PODCONFIG_H
#define INSOMNIA_POD_PODCONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "paths.h"
#include <insomnia/dirs.h>
#include "toml.h"

/* Layers: defaults, user, project, session, overlay. */
#define PODCONFIG_LAYERS_MAX 5

struct podconfig_args {
	const char *overlay;  /* TOML text from --overlay, or NULL */
	const char *manifest; /* --manifest PATH, or NULL to search */
	const char *cwd;      /* where the project manifest search starts */
	/* A resumed session's recorded [config] table (borrowed), or NULL;
	 * its values carry their origin ("session <uuid>"), which also
	 * names the layer. */
	const struct toml_value *session;
};

struct pod_config {
	struct toml_value *tree; /* the merged tree, for later keys */
	char name[INSOMNIA_NAME_MAX + 1];
	char *description; /* malloc'd, or NULL when unset */
	/* [pod] idle_timeout: stop once no control connection has been
	 * open this long; 0 when unset (never). */
	int64_t idle_timeout_ms;
	/* The layers that were read, lowest first, for progress lines. */
	char layers[PODCONFIG_LAYERS_MAX][INSOMNIA_PATH_MAX + 32];
	size_t nlayers;
};

/* Read, merge and check every layer against the schema: the keys of
 * [pod] and of each [process.<name>] (a user-chosen name, checked by the
 * pod-name rule) and the shapes of their values; what the values mean is
 * manifest.h's.  Errors are INSOMNIA_ERR_CONFIG with "<layer>:<line>:<col>: "
 * in front when a value is to blame, or INSOMNIA_ERR_BAD_NAME for a pod
 * name the name rule refuses.  A top-level table the schema does not know
 * (another tool's, e.g. [[scope.allow]]) is kept in cfg->tree and warned
 * about, one line on stderr per table; any other unknown key is an
 * error. */
int podconfig_load(const struct podconfig_args *args, struct pod_config *cfg,
                   struct insomnia_error *err);

void podconfig_free(struct pod_config *cfg);

#endif
