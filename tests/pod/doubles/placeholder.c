/* Test double of pod/placeholder.c: text as it is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "placeholder.h"

char *placeholder_expand(const char *text, const struct placeholder_env *env,
                         struct insomnia_error *err)
{
	char *s = strdup(text);

	if (!s)
		insomnia_error_set_errno(err, INSOMNIA_ERR_INTERNAL, ENOMEM,
		                         "out of memory");
	return s;
}
