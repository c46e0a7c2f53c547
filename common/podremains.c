/* podremains.c: killing what a dead pod's processes left (podremains.h). */
#include "podremains.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fdio.h"
#include "procrec.h"
#include "proctree.h"
#include "statefile.h"

/* Boot time, from /proc/stat's btime; 0 when unknown. */
static time_t boot_time(void)
{
	char *text, *p;
	long long btime = 0;

	if (fd_read_file_at(AT_FDCWD, "/proc/stat", 1 << 20, &text, NULL) < 0)
		return 0;
	if ((p = strstr(text, "\nbtime ")))
		btime = strtoll(p + 7, NULL, 10);
	free(text);
	return (time_t)btime;
}

/* A pod that started before this boot left no process: its numbers now
 * name others' (a persistent runtime root keeps state.json across
 * reboots).  A start time that cannot be read proves nothing either way;
 * the session check still holds then. */
bool podremains_started_before_boot(const char *started_at)
{
	struct tm tm = {0};
	const char *end = strptime(started_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
	time_t boot = boot_time();

	return end && !*end && boot > 0 && timegm(&tm) < boot;
}

/* What the dead pod's processes left (procrec.h): each recorded group
 * while its leader is the recorded process, and all that carries the
 * process's token.  After a reboot a pid and start time may name
 * another's process again; the token, which names the session, never
 * does. */
struct remains {
	int dirfd;
	bool old_boot;       /* the pod started before this boot */
	const char *session; /* state.json's session id, or NULL */
	/* "<session>/<instance>/": the dead pod's own tokens, from its
	 * records; "" when none names its session */
	char prefix[PROCTREE_TOKEN_MAX];
};

/* A record's token up to its process name, when it is of the session
 * state.json names: what every process of that pod carried. */
static void note_prefix(struct remains *rm, const char *token)
{
	size_t len = rm->session ? strlen(rm->session) : 0;
	const char *last = strrchr(token, '/');

	if (rm->prefix[0] || !len || !last ||
	    strncmp(token, rm->session, len) || token[len] != '/')
		return;
	snprintf(rm->prefix, sizeof rm->prefix, "%.*s", (int)(last - token + 1),
	         token);
}

static int kill_process(const struct procrec *rec, void *arg)
{
	struct remains *rm = arg;

	note_prefix(rm, rec->token);
	if (!rm->old_boot) {
		procrec_kill_remains(rm->dirfd, rec);
	} else {
		proctree_signal_marked(rec->token, SIGKILL, NULL);
		procrec_remove(rm->dirfd, rec->name);
	}
	return 0;
}

/* A session id goes into a token prefix: one with a '/' would widen it
 * to another's. */
static bool session_ok(const struct statefile *sf)
{
	return (sf->known & STATEFILE_SESSION_ID) && sf->session_id[0] &&
	       !strchr(sf->session_id, '/');
}

/* A process may fork while a pass reads /proc, its child listed where
 * the pass has already been: pass again while one finds someone.  One
 * SIGKILLed but not yet exited is found again, so the passes are
 * bounded; a zombie carries no environment and ends them. */
#define KILL_PASSES 8

static void kill_marked(const char *prefix)
{
	size_t n = 1;

	for (int i = 0; i < KILL_PASSES && n > 0; i++)
		if (proctree_signal_marked(prefix, SIGKILL, &n) < 0)
			break;
}

void podremains_kill(int dirfd)
{
	struct statefile sf;
	struct remains rm = {dirfd, false, NULL, ""};

	if (statefile_read(dirfd, &sf) < 0)
		memset(&sf, 0, sizeof sf);
	rm.old_boot = (sf.known & STATEFILE_STARTED_AT) &&
	              podremains_started_before_boot(sf.started_at);
	rm.session = session_ok(&sf) ? sf.session_id : NULL;
	procrec_each(dirfd, kill_process, &rm);
	/* a process whose record the pod had no time to write still
	 * carries the pod's instance in its token; a later pod of the same
	 * session (a resume, maybe live now under another name) has
	 * another instance, so it is never reached */
	if (rm.prefix[0])
		kill_marked(rm.prefix);
}
