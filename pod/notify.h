/* notify.h: the pod as a Type=notify service (sd_notify(3)'s protocol,
 * written here from its documentation): when the pod's own environment
 * has NOTIFY_SOCKET, the pod sends "READY=1" with MAINPID and a STATUS
 * summary right after its ready line, and "STOPPING=1" when it begins
 * to stop.  The variable is taken out of the environment at once, so no
 * process the pod starts speaks to the pod's supervisor in its name. */
#ifndef INSOMNIA_POD_NOTIFY_H
#define INSOMNIA_POD_NOTIFY_H

#include <stddef.h>

/* Read and unset NOTIFY_SOCKET; open a datagram socket when set.  A bad
 * value is logged and ignored (the pod runs as well without it). */
void notify_init(void);

/* Send one message ("READY=1\nSTATUS=...").  Best effort: a supervisor
 * that went away is not the pod's failure.  Nothing without a socket. */
void notify_send(const char *msg);

/* Close the socket. */
void notify_close(void);

#endif
