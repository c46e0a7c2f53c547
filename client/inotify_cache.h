/* inotify_cache.h: inotify instances kept for reuse.
 *
 * Closing an inotify instance that has held a watch makes close() wait
 * for the kernel's deferred teardown of the watch (an SRCU grace period):
 * about 10-20 ms here, which would be most of a spawn.  So a spawn that
 * is done removes its watch (inotify_rm_watch does not wait) and gives
 * the instance back; the next spawn takes it.  This is the one piece of
 * process-wide state in the library: a cache of idle descriptors, with no
 * effect on behaviour, guarded by a mutex; a forked child drops its
 * copies in the fork itself (pthread_atfork), so it never shares its
 * parent's instances nor later closes numbers it reused. */
#ifndef INSOMNIA_INOTIFY_CACHE_H
#define INSOMNIA_INOTIFY_CACHE_H

/* A non-blocking, close-on-exec inotify instance with no watch and no
 * pending event; -1 with errno on failure. */
int inotify_cache_get(void);

/* Give back an instance whose watches were all removed. */
void inotify_cache_put(int fd);

/* Close every idle instance (insomnia_cleanup).  Safe at any time: a
 * spawn in progress keeps its own and gives it back later. */
void inotify_cache_clear(void);

#endif
