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

/* Does the live process behind pidfd (whose pid is pid) hold the file
 * dev/ino open?  Holding a pod's `lock` is what proves a pid names that
 * pod: anyone may hold the lock for a moment (a reaper, a spawner
 * cleaning up, a pod that has not yet written its pid) while `pid` still
 * names a dead pod, and its number a stranger since.  false when it does
 * not, is gone, or its descriptors cannot be read. */
bool procsig_has_open(int pidfd, pid_t pid, dev_t dev, ino_t ino);

/* Send sig to what is left of a dead pod's session: every process whose
 * group and session are both pgid, each through a pidfd of its own after
 * checking that again, and only while the leader is gone (no process, or
 * a zombie, has pid pgid).  A pod leads its own session (sid == pgid ==
 * its pid), and while a session or group has members Linux does not hand
 * its id out as a pid, so such members are the pod's.  A group that
 * merely has that id (the pid was since reused by a pipeline's leader
 * that exited, in someone else's session) is left alone.  0 when sent to
 * some, 1 when left alone (a live leader: a stranger that reused the pid;
 * or no such member), -1 with errno. */
int procsig_kill_leaderless_group(pid_t pgid, int sig);

#endif
