/* session.c: choosing the session id. */
#include "session.h"

#include <string.h>
#include <uuid/uuid.h>

int session_init(struct session *s, const char *requested, struct error *err)
{
	uuid_t u;

	memset(s, 0, sizeof *s);
	if (!requested) {
		uuid_generate_random(u);
		uuid_unparse_lower(u, s->id);
		return 0;
	}
	/* uuid_parse alone accepts nothing but the 36-character form, but
	 * the length test keeps the copy below obviously in bounds. */
	if (strlen(requested) != SESSION_ID_LEN || uuid_parse(requested, u) < 0)
		return error_set(err, ERR_BAD_SESSION_ID,
		                 "--session: \"%s\" is not a UUID", requested);
	/* Normalised so one session never has two spellings. */
	uuid_unparse_lower(u, s->id);
	s->resumed = true;
	return 0;
}
