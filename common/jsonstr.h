/* jsonstr.h: JSON strings from arbitrary bytes.
 *
 * jansson refuses a string that is not valid UTF-8 (json_string()
 * returns NULL), and a NULL inside json_pack() or an append silently
 * loses the whole object or row.  Paths, a pod's stderr lines and the
 * messages that quote them are bytes, not text, so every JSON string the
 * project makes from them comes from here: valid UTF-8 is kept as it is,
 * and each byte that is not part of a valid sequence becomes U+FFFD (the
 * replacement character), so the result is always valid JSON and a
 * reader can see where the bad bytes were (docs/errors.md). */
#ifndef INSOMNIA_JSONSTR_H
#define INSOMNIA_JSONSTR_H

#include <jansson.h>
#include <stddef.h>

/* A new JSON string holding bytes (NUL-terminated), repaired as above;
 * NULL bytes give JSON null.  Returns NULL only when out of memory. */
json_t *jsonstr_new(const char *bytes);

/* Same for len bytes, which may hold NUL (encoded as \u0000). */
json_t *jsonstr_newn(const char *bytes, size_t len);

#endif
