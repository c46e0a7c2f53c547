/* version.c: the loaded library's version, and its teardown. */
#include <insomnia/version.h>

#include "inotify_cache.h"

const char *insomnia_version(void)
{
	return INSOMNIA_VERSION_STRING;
}

int insomnia_protocol_version(void)
{
	return INSOMNIA_PROTOCOL_VERSION;
}

void insomnia_cleanup(void)
{
	inotify_cache_clear();
}
