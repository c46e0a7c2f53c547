/* sessionid.c: a session id's spelling (session.h). */
#include "session.h"

#include <ctype.h>
#include <string.h>

int session_id_check(const char *id, struct insomnia_error *err)
{
	size_t i;

	for (i = 0; id[i] && i < SESSION_ID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? id[i] != '-' : !isxdigit((unsigned char)id[i]))
			break;
	}
	if (i == SESSION_ID_LEN && id[i] == '\0')
		return 0;
	return insomnia_error_set(
	    err, INSOMNIA_ERR_BAD_SESSION_ID,
	    "\"%.64s%s\" is not a session id (a UUID such as "
	    "1b4e28ba-2fa1-11d2-883f-0016d3cca427)",
	    id, strlen(id) > 64 ? "..." : "");
}

int session_id_normalize(const char *id, char *out, struct insomnia_error *err)
{
	if (session_id_check(id, err) < 0)
		return -1;
	for (size_t i = 0; i <= SESSION_ID_LEN; i++)
		out[i] = (char)tolower((unsigned char)id[i]);
	return 0;
}

bool session_id_is_canonical(const char *name)
{
	char lower[SESSION_ID_LEN + 1];

	return session_id_normalize(name, lower, NULL) == 0 &&
	       strcmp(lower, name) == 0;
}
