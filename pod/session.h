/* session.h: the pod's session identity.
 *
 * For now a session is only its UUID: a fresh one, or the one given with
 * --session.  The session directory, its lock, the recorded config layer
 * and the journal (DESIGN.md, "Sessions") come later behind this same
 * module, which is why main.c resolves the session before the config. */
#ifndef INSOMNIA_POD_SESSION_H
#define INSOMNIA_POD_SESSION_H

#include <stdbool.h>

#include "error.h"

/* A UUID in its canonical text form, without the NUL. */
#define SESSION_ID_LEN 36

struct session {
	char id[SESSION_ID_LEN + 1]; /* lower-case */
	bool resumed;                /* given with --session */
};

/* Take requested (may be NULL) as the session id, or make a new random
 * one.  A requested id that is not a UUID is ERR_BAD_SESSION_ID. */
int session_init(struct session *s, const char *requested, struct error *err);

#endif
