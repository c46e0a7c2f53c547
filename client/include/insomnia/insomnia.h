/* insomnia/insomnia.h: the whole public API of libinsomnia in one
 * include.  Each header says what it covers and how long what it hands
 * out lives; docs/library.md walks through a complete program. */
#ifndef INSOMNIA_INSOMNIA_H
#define INSOMNIA_INSOMNIA_H

#include <insomnia/control.h>
#include <insomnia/dirs.h>
#include <insomnia/error.h>
#include <insomnia/overlay.h>
#include <insomnia/pods.h>
#include <insomnia/reap.h>
#include <insomnia/sessions.h>
#include <insomnia/spawn.h>
#include <insomnia/stop.h>
#include <insomnia/version.h>
#include <insomnia/watch.h>

#endif
