/* tagged_json.h: a TOML tree as toml-test's tagged JSON (jansson).
 * Shared by the toml-decode tool and the conformance test. */
#ifndef INSOMNIA_TAGGED_JSON_H
#define INSOMNIA_TAGGED_JSON_H

#include <jansson.h>

#include "toml.h"

/* A new JSON object for a table, or NULL on allocation failure. */
json_t *toml_to_tagged_json(const struct toml_value *table);

#endif
