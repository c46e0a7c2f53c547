/* compat.h: kernel interfaces newer than some kernels we run on, behind
 * one small door each, so no caller holds a raw syscall(2) or an #ifdef.
 *
 * pidfd_open(2) and pidfd_send_signal(2) came with Linux 5.3 and have no
 * fallback (a pid alone cannot be named safely): a kernel or a seccomp
 * filter without them gives ENOSYS, which callers report by name.
 * close_range(2) came with 5.9; without it the descriptors are closed one
 * by one, as /proc/self/fd lists them, else up to the rlimit. */
#ifndef INSOMNIA_COMPAT_H
#define INSOMNIA_COMPAT_H

#include <sys/types.h>

/* A pidfd for pid (close-on-exec, as the kernel makes every pidfd): the
 * fd, or -1 with errno (ESRCH: no such process; ENOSYS: Linux < 5.3). */
int compat_pidfd_open(pid_t pid);

/* Send sig (0: only check the process is still there) to the process
 * behind pidfd.  0, or -1 with errno (ESRCH: it has exited). */
int compat_pidfd_send_signal(int pidfd, int sig);

/* Close every descriptor from lowfd up.  Async-signal-safe only when
 * close_range(2) is there (the fallback lists /proc/self/fd). */
void compat_close_from(int lowfd);

#endif
