/* fuzz-toml: libFuzzer target for the TOML module.
 *
 * Every input is parsed; a document that parses must also survive
 * toml_write, parse back to an equal tree, and merge with itself into an
 * equal tree.  Any difference aborts, so the fuzzer reports it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"
#include "tree_equal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err;
	struct toml_value *doc, *again, *merged;
	size_t len;
	char *text;

	doc = toml_parse((const char *)data, size, "fuzz", "/tmp", &err);
	if (!doc)
		return 0;
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
