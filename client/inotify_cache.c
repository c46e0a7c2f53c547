/* inotify_cache.c: a small pool of idle inotify instances. */
#include "inotify_cache.h"

#include <pthread.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "fdio.h"

#define CACHE_MAX 8 /* enough for a TUI starting a handful at once */

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static int cache_fds[CACHE_MAX];
static int cache_count;

/* A forked child must not reuse its parent's instances (they are the
 * parent's, watches and events included).  It drops them in the fork
 * itself, while the numbers still name them: later, after the child has
 * closed and reused its descriptors (a daemon's first steps), closing
 * those numbers would close files of its own. */
static void before_fork(void)
{
	pthread_mutex_lock(&cache_lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&cache_lock);
}

static void after_fork_child(void)
{
	while (cache_count > 0)
		close(cache_fds[--cache_count]);
	pthread_mutex_unlock(&cache_lock);
}

static void register_fork_handlers(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static void lock_cache(void)
{
	pthread_once(&fork_once, register_fork_handlers);
	pthread_mutex_lock(&cache_lock);
}

/* Events queued before the last watch was removed (IN_IGNORED at least)
 * must not reach the next user. */
static void drain(int fd)
{
	char buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	while (fd_read_some(fd, buf, sizeof buf) > 0)
		;
}

int inotify_cache_get(void)
{
	int fd = -1;

	lock_cache();
	if (cache_count > 0)
		fd = cache_fds[--cache_count];
	pthread_mutex_unlock(&cache_lock);
	if (fd >= 0) {
		drain(fd);
		return fd;
	}
	return inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
}

void inotify_cache_put(int fd)
{
	if (fd < 0)
		return;
	lock_cache();
	if (cache_count < CACHE_MAX) {
		cache_fds[cache_count++] = fd;
		fd = -1;
	}
	pthread_mutex_unlock(&cache_lock);
	if (fd >= 0)
		close(fd); /* the slow path, only past CACHE_MAX */
}

void inotify_cache_clear(void)
{
	lock_cache();
	while (cache_count > 0)
		close(cache_fds[--cache_count]);
	pthread_mutex_unlock(&cache_lock);
}
