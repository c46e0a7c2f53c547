/* fuzz-toml: libFuzzer target for the TOML module.
 *
 * Every input is parsed; a document that parses must also survive
 * toml_write, parse back to an equal tree, and merge with itself into an
 * equal tree; a document that fails must get a config error naming
 * source, line and column.  Any difference aborts, so the fuzzer reports
 * it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"
#include "tree_equal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A rejected document gets a config error "fuzz:<line>:<col>: ...". */
static void check_message(const struct insomnia_error *err)
{
	int line = 0, col = 0, used = 0;

	if (err->kind != INSOMNIA_ERR_CONFIG ||
	    sscanf(err->message, "fuzz:%d:%d: %n", &line, &col, &used) != 2 ||
	    used == 0 || line < 1 || col < 1 || err->message[used] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct insomnia_error err;
	struct toml_value *doc, *again, *merged;
	size_t len;
	char *text;

	doc = toml_parse((const char *)data, size, "fuzz", "/tmp", &err);
	if (!doc) {
		check_message(&err);
		return 0;
	}
	text = toml_write(doc, &len);
	if (!text)
		abort();
	again = toml_parse(text, len, "written", NULL, &err);
	if (!again || !toml_tree_equal(doc, again))
		abort();
	merged = toml_merge(doc, again, &err);
	if (!merged || !toml_tree_equal(doc, merged))
		abort();
	toml_free(merged);
	toml_free(again);
	free(text);
	toml_free(doc);
	return 0;
}
