/* proctree.c: finding a pod's processes by the token in their initial
 * environment, and signalling each through a pidfd. */
#include "proctree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"
#include "fdio.h"

/* A stat line is bounded: comm is at most 16 bytes (TASK_COMM_LEN, the
 * kernel escapes nothing), then some 50 numbers. */
#define STAT_MAX 1024
/* environ is read in pieces of this size: it may be megabytes long. */
#define ENVIRON_CHUNK 4096
/* Field 22 (starttime) is the 20th after the state (field 3). */
#define STARTTIME_AFTER_STATE 19

void proctree_token(char *buf, size_t size, const char *session_id,
                    const char *instance, const char *process)
{
	snprintf(buf, size, "%s/%s/%s", session_id, instance, process);
}

void proctree_self_instance(char *buf, size_t size)
{
	uint64_t start = 0;

	proctree_start_time(getpid(), &start);
	snprintf(buf, size, "%ld.%llu", (long)getpid(),
	         (unsigned long long)start);
}

/* All of a small /proc file (its content is made in one go, but a short
 * read is allowed by read(2)): the length, or -1 with errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n = 1;
	int saved;

	if (fd < 0)
		return -1;
	while (len < size - 1 &&
	       (n = fd_read_some(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Skip n space-separated fields of s: where the next one starts. */
static const char *skip_fields(const char *s, int n)
{
	for (int i = 0; i < n && s; i++) {
		s = strchr(s, ' ');
		if (s)
			s++;
	}
	return s;
}

int proctree_start_time(pid_t pid, uint64_t *ticks)
{
	char path[64], buf[STAT_MAX], *end;
	const char *p;
	unsigned long long v;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (read_small(path, buf, sizeof buf) < 0)
		return -1;
	/* comm may hold spaces and parens: what follows the last ')' is
	 * the kernel's own numbers, " S 1 2 ..." */
	p = strrchr(buf, ')');
	p = p && p[1] == ' ' ? skip_fields(p + 2, STARTTIME_AFTER_STATE) : NULL;
	if (!p || *p < '0' || *p > '9') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end != '\0')) {
		errno = EINVAL;
		return -1;
	}
	*ticks = v;
	return 0;
}

/* Field 4 (ppid) is the 1st after the state (field 3). */
#define PPID_AFTER_STATE 1

pid_t proctree_parent(pid_t pid)
{
	char path[64], buf[STAT_MAX], *end;
	const char *p;
	long v;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (pid <= 0 || read_small(path, buf, sizeof buf) < 0)
		return 0;
	p = strrchr(buf, ')');
	p = p && p[1] == ' ' ? skip_fields(p + 2, PPID_AFTER_STATE) : NULL;
	if (!p)
		return 0;
	errno = 0;
	v = strtol(p, &end, 10);
	return errno || end == p || *end != ' ' || v <= 0 ? 0 : (pid_t)v;
}

/* ---- the token in an environment ---------------------------------- */

/* Matching NUL-separated entries against "VAR=<prefix>" a byte at a time,
 * so the environment is never held whole. */
struct matcher {
	const char *needle; /* "INSOMNIA_PROCESS_TOKEN=<prefix>" */
	size_t len;
	bool exact;  /* the entry must end with the needle */
	size_t pos;  /* bytes of the current entry matched */
	bool failed; /* the current entry cannot match any more */
	bool found;
};

static void matcher_feed(struct matcher *m, const char *buf, size_t n)
{
	for (size_t i = 0; i < n && !m->found; i++) {
		if (buf[i] == '\0') {
			m->found = !m->failed && m->pos == m->len;
			m->pos = 0;
			m->failed = false;
		} else if (m->failed) {
			continue;
		} else if (m->pos < m->len && buf[i] == m->needle[m->pos]) {
			m->pos++;
			/* a prefix needs no more; a whole token needs its end
			 */
			m->found = !m->exact && m->pos == m->len;
		} else {
			m->failed = true;
		}
	}
}

/* Does /proc/<pid>/environ hold the entry?  false when it cannot be read
 * (gone, a zombie, not ours). */
static bool environ_has(pid_t pid, const char *needle, size_t len, bool exact)
{
	struct matcher m = {needle, len, exact, 0, false, false};
	char path[64], buf[ENVIRON_CHUNK];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/environ", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (!m.found && (n = fd_read_some(fd, buf, sizeof buf)) > 0)
		matcher_feed(&m, buf, (size_t)n);
	close(fd);
	/* the last entry may lack its NUL (a process that wrote its own) */
	return m.found || (!m.failed && m.pos == m.len);
}

bool proctree_has_token(pid_t pid, const char *token)
{
	char needle[sizeof PROCTREE_TOKEN_VAR + PROCTREE_TOKEN_MAX];
	int n =
	    snprintf(needle, sizeof needle, "%s=%s", PROCTREE_TOKEN_VAR, token);

	if (pid <= 0 || !token[0] || n < 0 || (size_t)n >= sizeof needle)
		return false;
	return environ_has(pid, needle, (size_t)n, true);
}

/* ---- the scan ------------------------------------------------------ */

struct scan {
	char needle[sizeof PROCTREE_TOKEN_VAR + PROCTREE_TOKEN_MAX];
	size_t len;
	bool exact;
	int sig;
	uid_t uid;
	pid_t self;
	size_t count;
};

/* A numerically named entry of /proc: its pid, else 0. */
static pid_t entry_pid(const char *name)
{
	char *end;
	long v;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	errno = 0;
	v = strtol(name, &end, 10);
	return errno || *end || v <= 0 ? 0 : (pid_t)v;
}

/* One process; true when signalled. */
static bool signal_one(struct scan *s, int procfd, const char *name)
{
	pid_t pid = entry_pid(name);
	struct stat st;
	bool sent;
	int pidfd;

	if (pid <= 0 || pid == s->self || fstatat(procfd, name, &st, 0) < 0 ||
	    st.st_uid != s->uid ||
	    !environ_has(pid, s->needle, s->len, s->exact))
		return false;
	pidfd = compat_pidfd_open(pid);
	if (pidfd < 0)
		return false;
	/* read again now that pidfd holds the process: what we read before
	 * may have been another's that since gave up the pid.  Should this
	 * one die and its pid be reused while we read, the signal through
	 * pidfd still goes to it (gone: ESRCH), never to the newcomer. */
	sent = environ_has(pid, s->needle, s->len, s->exact) &&
	       compat_pidfd_send_signal(pidfd, s->sig) == 0;
	close(pidfd);
	return sent;
}

int proctree_signal_marked(const char *token_prefix, int sig, size_t *count)
{
	struct scan s = {.sig = sig, .uid = geteuid(), .self = getpid()};
	size_t plen = strlen(token_prefix);
	struct dirent *e;
	DIR *d;
	int n;

	if (count)
		*count = 0;
	n = snprintf(s.needle, sizeof s.needle, "%s=%s", PROCTREE_TOKEN_VAR,
	             token_prefix);
	if (plen == 0 || n < 0 || (size_t)n >= sizeof s.needle) {
		errno = EINVAL; /* an empty prefix would match every pod */
		return -1;
	}
	s.len = (size_t)n;
	/* "<session>/" is a prefix; a whole token names one process, and
	 * "<session>/web" must not reach "<session>/web2" */
	s.exact = token_prefix[plen - 1] != '/';
	d = opendir("/proc");
	if (!d)
		return -1;
	while ((e = readdir(d)))
		s.count += signal_one(&s, dirfd(d), e->d_name);
	closedir(d);
	if (count)
		*count = s.count;
	return 0;
}

/* ---- by session ---------------------------------------------------- */

/* Field 6 (session) is the 3rd after the state (field 3). */
#define SESSION_AFTER_STATE 3

/* The session of a live process (not a zombie), else 0. */
static pid_t live_session(pid_t pid)
{
	char path[64], buf[STAT_MAX], *end;
	const char *p;
	long v;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (read_small(path, buf, sizeof buf) < 0)
		return 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	p = skip_fields(p + 2, SESSION_AFTER_STATE);
	if (!p)
		return 0;
	errno = 0;
	v = strtol(p, &end, 10);
	return errno || end == p || *end != ' ' || v <= 0 ? 0 : (pid_t)v;
}

/* One process of session sid; true when signalled. */
static bool signal_member(const struct scan *s, pid_t sid, int procfd,
                          const char *name)
{
	pid_t pid = entry_pid(name);
	struct stat st;
	bool sent;
	int pidfd;

	if (pid <= 0 || pid == s->self || live_session(pid) != sid ||
	    fstatat(procfd, name, &st, 0) < 0 || st.st_uid != s->uid)
		return false;
	pidfd = compat_pidfd_open(pid);
	if (pidfd < 0)
		return false;
	/* as in signal_one: the pid may have changed hands meanwhile */
	sent = live_session(pid) == sid &&
	       compat_pidfd_send_signal(pidfd, s->sig) == 0;
	close(pidfd);
	return sent;
}

int proctree_signal_session(pid_t sid, int sig, size_t *count)
{
	struct scan s = {.sig = sig, .uid = geteuid(), .self = getpid()};
	struct dirent *e;
	DIR *d;

	if (count)
		*count = 0;
	if (sid <= 0 || sid == getsid(0)) {
		errno = EINVAL;
		return -1;
	}
	d = opendir("/proc");
	if (!d)
		return -1;
	while ((e = readdir(d)))
		s.count += signal_member(&s, sid, dirfd(d), e->d_name);
	closedir(d);
	if (count)
		*count = s.count;
	return 0;
}
