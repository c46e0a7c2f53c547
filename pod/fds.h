/* fds.h: descriptors the pod did not open itself.
 *
 * Whatever the starter leaked into the pod (a pipe it waits on for EOF,
 * a terminal) would otherwise stay open for the pod's whole life and pass
 * on to everything the pod later runs.  conmon does the same before it
 * publishes any state. */
#ifndef INSOMNIA_POD_FDS_H
#define INSOMNIA_POD_FDS_H

/* Close every descriptor above stderr.  Call before opening anything. */
void fds_close_inherited(void);

#endif
