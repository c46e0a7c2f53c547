/* proctree.h: a pod's processes and everything they started, found
 * wherever they moved, and signalled without ever touching a stranger.
 *
 * Every process the pod starts carries INSOMNIA_PROCESS_TOKEN=<token> in
 * its environment (proctree_token), and everything it starts inherits it,
 * whether it double-forks or calls setsid().  The token names the session
 * and the process, so it is unique to this pod's work: a stranger that
 * reused a pid does not carry it.  /proc/<pid>/environ is the initial
 * environment, which a process cannot lose by unsetenv(). */
#ifndef INSOMNIA_PROCTREE_H
#define INSOMNIA_PROCTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCTREE_TOKEN_VAR "INSOMNIA_PROCESS_TOKEN"
/* "<session uuid>/<pid>.<start time>/<process name>" */
#define PROCTREE_TOKEN_MAX    192
#define PROCTREE_INSTANCE_MAX 48

/* The token of a process: "<session id>/<instance>/<process name>".
 * The instance names the pod that started it (proctree_self_instance),
 * so a later pod of the same session (a resume, under any name) has
 * other tokens: a reaper of the dead one never reaches the live one's
 * processes. */
void proctree_token(char *buf, size_t size, const char *session_id,
                    const char *instance, const char *process);

/* The calling process as an instance: "<pid>.<start time>", unique for
 * the life of the boot. */
void proctree_self_instance(char *buf, size_t size);

/* Start time of pid in clock ticks since boot (/proc/<pid>/stat field
 * 22): with the pid, what names one process for the life of the boot.
 * 0, or -1 with errno. */
int proctree_start_time(pid_t pid, uint64_t *ticks);

/* The parent of pid (/proc/<pid>/stat field 4; a zombie's too): > 0,
 * or 0 when pid is gone, unreadable, or has none (pid 1's is 0). */
pid_t proctree_parent(pid_t pid);

/* Does pid's initial environment hold INSOMNIA_PROCESS_TOKEN=<token>,
 * the whole value?  false when it cannot be read (gone, a zombie, not
 * ours) or token is empty. */
bool proctree_has_token(pid_t pid, const char *token);

/* Send sig to every process of ours (same uid, not the caller) whose
 * environment carries the token whose prefix is token_prefix: a whole
 * token ("<session>/<process>", matched whole: "<s>/web" is not
 * "<s>/web2") for one process's leftovers, or "<session>/" (ending in
 * '/': a prefix) for all of a pod's.  An empty one is EINVAL.  Each
 * through a pidfd opened and then checked again (the environment
 * re-read), so a pid reused meanwhile is left alone.  *count (may be
 * NULL) is how many were signalled.  0, or -1 with errno when /proc
 * cannot be read. */
int proctree_signal_marked(const char *token_prefix, int sig, size_t *count);

/* Send sig to every live process of ours (same uid, not the caller, not
 * a zombie) whose session id (/proc/<pid>/stat field 6) is sid: what a
 * session leader started in its session, token or not.  A session id is
 * not handed out again while a member of the session lives, so a run's
 * session names only what that run started.  Each through a pidfd opened
 * and then checked again (the session re-read).  sid <= 0 or the
 * caller's own session is EINVAL.  *count (may be NULL) is how many were
 * signalled.  0, or -1 with errno when /proc cannot be read. */
int proctree_signal_session(pid_t sid, int sig, size_t *count);

#endif
