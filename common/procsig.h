/* procsig.h: signals only where we own them (DESIGN.md, "Signals go only
 * where we own them").
 *
 * A process is named by a pidfd, never by a recorded number alone: the
 * pidfd cannot be fooled by pid reuse.  Its group is signalled only when
 * the process leads that group (pgid == pid, read from the live process
 * while the pidfd proves it is still the same one); otherwise the process
 * alone is signalled through the pidfd.  While a group's leader lives,
 * Linux does not hand its pid out again, so -pid names that group and no
 * other. */
#ifndef INSOMNIA_PROCSIG_H
#define INSOMNIA_PROCSIG_H

#include <stdbool.h>
#include <sys/types.h>

/* pidfd_open(2); -1 with errno (ESRCH: no such process, ENOSYS: kernel
 * older than 5.3). */
int procsig_pidfd_open(pid_t pid);

/* State letter ('R', 'S', 'Z', ...) and process group of pid, from
 * /proc/<pid>/stat.  0, or -1 with errno. */
int procsig_stat(pid_t pid, char *state, pid_t *pgid);

/* Does the live process behind pidfd (whose pid is pid) lead its own
 * process group?  false when it does not, is gone, or cannot be read. */
bool procsig_leads_group(int pidfd, pid_t pid);

/* Send sig to the process behind pidfd and, when it leads its group, to
 * the whole group.  *group (may be NULL) tells which was done.  0, or -1
 * with errno (ESRCH: already gone). */
int procsig_send(int pidfd, pid_t pid, int sig, bool *group);

/* Send sig to the process group pgid only while its leader is gone (no
 * process, or a zombie, has pid pgid): a dead pod's stragglers.  While a
 * group has members Linux does not hand its id out as a pid, so a
 * leaderless group is still the one whose leader we knew.  0 when sent,
 * 1 when left alone (a live leader: a stranger that reused the pid; or
 * no such group), -1 with errno. */
int procsig_kill_leaderless_group(pid_t pgid, int sig);

#endif
