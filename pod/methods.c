/* methods.c: the table of control methods. */
#include "methods.h"

#include <string.h>

static const struct method *const methods[] = {
    &method_hello,   &method_logs,
    &method_ping,    &method_ps,
    &method_restart, &method_shutdown,
    &method_start,   &method_status,
    &method_stop,    &method_subscribe_method,
};

const struct method *methods_find(const char *name)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(methods[i]->name, name) == 0)
			return methods[i];
	return NULL;
}
