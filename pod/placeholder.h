/* placeholder.h: ${...} in a process's command, shell, env and cwd
 * (docs/manifest.md): ${port.NAME} (a port of this process or of one of
 * its dependencies), ${pod.name}, ${pod.dir} (runtime dir),
 * ${session.dir}.  "$${" is a literal "${". */
#ifndef INSOMNIA_POD_PLACEHOLDER_H
#define INSOMNIA_POD_PLACEHOLDER_H

#include <stddef.h>

#include "error.h"

struct placeholder_port {
	const char *name;
	int port;
};

struct placeholder_env {
	const char *pod_name;
	const char *pod_dir;
	const char *session_dir;
	const struct placeholder_port *ports; /* own + dependencies' */
	size_t nports;
};

/* Is every placeholder in text one env could expand?  port_names (NULL-
 * terminated) are the port names in reach; the values are not needed.
 * INSOMNIA_ERR_CONFIG naming the first unknown one: "unknown placeholder
 * ${port.htp}". */
int placeholder_check(const char *text, const char *const *port_names,
                      struct insomnia_error *err);

/* text with every placeholder replaced: a malloc'd string, or NULL with
 * err (an unknown one, out of memory). */
char *placeholder_expand(const char *text, const struct placeholder_env *env,
                         struct insomnia_error *err);

#endif
