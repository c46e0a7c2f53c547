/* podname.c: validating pod names before any file is touched. */
#include <insomnia/dirs.h>

#include "error.h"

#include <string.h>

static int allowed(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

int insomnia_name_check(const char *name, struct insomnia_error *err)
{
	size_t len = name ? strlen(name) : 0;

	if (!name)
		return insomnia_error_set(err, INSOMNIA_ERR_BAD_NAME,
		                          "no pod name given");
	if (len == 0)
		return insomnia_error_set(err, INSOMNIA_ERR_BAD_NAME,
		                          "pod name is empty");
	if (len > INSOMNIA_NAME_MAX)
		return insomnia_error_set(
		    err, INSOMNIA_ERR_BAD_NAME,
		    "pod name is %zu characters long; at most %d "
		    "are allowed",
		    len, INSOMNIA_NAME_MAX);
	if (name[0] == '.' || name[0] == '-')
		return insomnia_error_set(
		    err, INSOMNIA_ERR_BAD_NAME,
		    "pod name \"%s\" starts with '%c'; it must "
		    "start with a letter, digit or '_'",
		    name, name[0]);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!allowed(c))
			return insomnia_error_set(
			    err, INSOMNIA_ERR_BAD_NAME,
			    "pod name has a character that is "
			    "not allowed (byte 0x%02x at position "
			    "%zu); use only A-Z a-z 0-9 . _ -",
			    c, i + 1);
	}
	return 0;
}
