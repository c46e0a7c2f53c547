/* tree_equal.h: value equality of TOML trees, for tests and fuzzing. */
#ifndef INSOMNIA_TREE_EQUAL_H
#define INSOMNIA_TREE_EQUAL_H

#include <stdbool.h>

#include "toml.h"

bool toml_tree_equal(const struct toml_value *a, const struct toml_value *b);

#endif
