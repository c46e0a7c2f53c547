/* podname.h: the pod name rule (DESIGN.md): 1 to 63 of [A-Za-z0-9._-],
 * not starting with '.' or '-'.  Names become directory names, so this is
 * what keeps path traversal out. */
#ifndef INSOMNIA_PODNAME_H
#define INSOMNIA_PODNAME_H

#include "error.h"

#define PODNAME_MAX 63

/* 0 when valid; else -1 and err (ERR_BAD_NAME) gives the reason. */
int podname_check(const char *name, struct error *err);

#endif
