/* inotify_cache.c: a small pool of idle inotify instances. */
#include "inotify_cache.h"

#include <pthread.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "fdio.h"

#define CACHE_MAX 8 /* enough for a TUI starting a handful at once */

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static int cache_fds[CACHE_MAX];
static int cache_count;
static pid_t cache_owner;

/* A forked child sees its parent's instances: they are not its own to
 * reuse.  Dropping its references is cheap (the parent still holds the
 * instances, so nothing is torn down). */
static void forget_if_inherited(void)
{
	if (cache_owner == getpid())
		return;
	while (cache_count > 0)
		close(cache_fds[--cache_count]);
	cache_owner = getpid();
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

	pthread_mutex_lock(&cache_lock);
	forget_if_inherited();
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
	pthread_mutex_lock(&cache_lock);
	forget_if_inherited();
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
	pthread_mutex_lock(&cache_lock);
	while (cache_count > 0)
		close(cache_fds[--cache_count]);
	pthread_mutex_unlock(&cache_lock);
}
