/* parse_table.c: keys, [table] and [[array]] headers, key = value lines,
 * and TOML's rules on what may define or extend which table.
 *
 * Each table carries flags saying how it came to exist (see
 * toml_internal.h).  The rules, in those terms:
 *  - a [header] may pass through any table except an inline one, and
 *    through an array of tables (into its last element);
 *  - a [header] may define a table that does not exist yet, or one that
 *    so far only exists as the parent of other headers (TF_IMPLICIT);
 *  - [[header]] appends to an array it made itself (AF_TABLES), never to
 *    an array written as a value;
 *  - a dotted key may pass through tables it made (TF_DOTTED) and through
 *    implicit ones, never through a table defined by a header, an inline
 *    table or an array; once it did, no header may define that table;
 *  - an inline table is closed once its '}' is read. */
#include "parser.h"

#include <stdio.h>
#include <string.h>

/* A-Z a-z 0-9 _ -: one table look-up per key byte. */
static const unsigned char bare_chars[256] = {
    ['-'] = 1, ['_'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
    ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
    ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
    ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1,
    ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1,
    ['z'] = 1,
};

static bool is_bare_char(unsigned char c)
{
	return bare_chars[c];
}

bool key_is_bare(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_bare_char((unsigned char)s[i]))
			return false;
	return true;
}

/* Appends one key part to buf[used..size) as TOML would write it
 * (quoted when needed); messages are best effort, so long keys are cut.
 * Returns the new length, always below size. */
static size_t put_key_part(const char *k, char *buf, size_t used, size_t size)
{
	size_t len = key_len(k);
	bool bare = key_is_bare(k, len);

	if (!bare && used + 1 < size)
		buf[used++] = '"';
	for (size_t i = 0; i < len && used + 8 < size; i++) {
		unsigned char c = (unsigned char)k[i];

		if (c < 0x20 || c == 0x7f) {
			used += (size_t)snprintf(buf + used, size - used,
			                         "\\u%04X", c);
			continue;
		}
		if (c == '"' || c == '\\')
			buf[used++] = '\\';
		buf[used++] = (char)c;
	}
	if (!bare && used + 1 < size)
		buf[used++] = '"';
	buf[used] = '\0';
	return used;
}

/* Formats parts[0..n) as a dotted key: bare-only keys in double quotes
 * ("a.b"), others as written in TOML (a."b c"). */
static const char *format_key(const char *const *parts, size_t n, char *buf,
                              size_t size)
{
	size_t used = 0;
	bool bare = true;

	for (size_t i = 0; i < n; i++)
		bare = bare && key_is_bare(parts[i], key_len(parts[i]));
	buf[0] = '\0';
	if (bare)
		buf[used++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (i && used + 2 < size)
			buf[used++] = '.';
		used = put_key_part(parts[i], buf, used, size - 1);
	}
	if (bare)
		buf[used++] = '"';
	buf[used] = '\0';
	return buf;
}

/* The key's first n parts, for messages. */
static const char *key_text(struct parser *P, size_t n, char *buf, size_t size)
{
	return format_key(P->key, n, buf, size);
}

/* The header's first n parts, as a.b for [a.b]. */
static const char *header_text(struct parser *P, size_t n, char *buf,
                               size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i && used + 2 < size)
			buf[used++] = '.';
		used = put_key_part(P->key[i], buf, used, size);
	}
	return buf;
}

bool parse_depth_fail(struct parser *P, const char *at)
{
	return parse_fail(P, at,
	                  "expected at most %d levels of nested tables and "
	                  "arrays, found more",
	                  TOML_MAX_DEPTH);
}

static bool read_key_part(struct parser *P, const char **key)
{
	const char *s = P->p, *e = s, *text;
	size_t len;
	char buf[16];

	if (e < P->end && (*e == '"' || *e == '\'')) {
		if (!read_key_string(P, &text, &len))
			return false;
	} else {
		while (e < P->end && is_bare_char((unsigned char)*e))
			e++;
		if (e == s)
			return parse_fail(P, s, "expected a key, found %s",
			                  describe_at(P, s, buf, sizeof buf));
		text = s;
		len = (size_t)(e - s);
		P->p = e;
	}
	*key = intern_key(&P->keys, text, len,
	                  text == P->text ? P->text + P->text_cap : P->end);
	return *key || parse_oom(P);
}

/* Reads a key, dotted or not, into P->key. */
static bool parse_key(struct parser *P)
{
	P->key_n = 0;
	for (;;) {
		skip_ws(P);
		if (P->key_n == TOML_MAX_DEPTH)
			return parse_depth_fail(P, P->p);
		P->key_at[P->key_n] = P->p;
		if (!read_key_part(P, &P->key[P->key_n]))
			return false;
		P->key_n++;
		skip_ws(P);
		if (P->p >= P->end || *P->p != '.')
			return true;
		P->p++;
	}
}

/* Adds an empty table under key to parent. */
static struct toml_value *new_table(struct parser *P, struct toml_value *parent,
                                    const char *key, const char *at,
                                    uint8_t flags)
{
	unsigned depth = parent->aux + 1u;
	struct toml_value *v;

	if (depth > TOML_MAX_DEPTH) {
		parse_depth_fail(P, at);
		return NULL;
	}
	v = table_add(P->arena, parent, key);
	if (!v || !table_init(P->arena, v, 0)) {
		parse_oom(P);
		return NULL;
	}
	v->flags = flags;
	v->aux = (uint16_t)depth;
	set_origin(P, v, at);
	return v;
}

/* "an array", "a string", ... for "is already ..." messages. */
static const char *a_type(const struct toml_value *v)
{
	switch (v->type) {
	case TOML_TABLE:
		return v->flags & TF_INLINE ? "an inline table" : "a table";
	case TOML_ARRAY:
		return "an array";
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_FLOAT:
		return "a float";
	case TOML_BOOL:
		return "a boolean";
	case TOML_DATETIME:
		return "an offset date-time";
	case TOML_DATETIME_LOCAL:
		return "a local date-time";
	case TOML_DATE_LOCAL:
		return "a local date";
	default:
		return "a local time";
	}
}

/* One step of a header's path, through part i. */
static struct toml_value *header_step(struct parser *P, struct toml_value *t,
                                      size_t i, bool array)
{
	struct toml_value *v = table_find(t, P->key[i]);
	const char *what = array ? "array of tables [[" : "table [";
	const char *close = array ? "]]" : "]";
	char hb[256], pb[256];

	if (!v)
		return new_table(P, t, P->key[i], P->key_at[i], TF_IMPLICIT);
	if (v->type == TOML_TABLE && !(v->flags & TF_INLINE))
		return v;
	if (v->type == TOML_ARRAY && (v->flags & AF_TABLES))
		return &v->u.a[v->n - 1];
	header_text(P, P->key_n, hb, sizeof hb);
	header_text(P, i + 1, pb, sizeof pb);
	if (v->type == TOML_ARRAY)
		parse_fail(P, P->key_at[i],
		           "cannot define %s%s%s: %s is an array (at line "
		           "%d), not an array of tables",
		           what, hb, close, pb, v->origin.line);
	else
		parse_fail(P, P->key_at[i],
		           "cannot define %s%s%s: %s is already %s (at line "
		           "%d), which cannot be extended",
		           what, hb, close, pb, a_type(v), v->origin.line);
	return NULL;
}

/* Walks a header's path up to (not including) its last part. */
static struct toml_value *header_parent(struct parser *P, bool array)
{
	struct toml_value *t = &P->doc->root;

	for (size_t i = 0; t && i + 1 < P->key_n; i++)
		t = header_step(P, t, i, array);
	return t;
}

static bool redefined_table(struct parser *P, const struct toml_value *v,
                            const char *at)
{
	char hb[256];
	const char *how = "";

	header_text(P, P->key_n, hb, sizeof hb);
	if (v->type == TOML_TABLE && (v->flags & TF_INLINE))
		how = " as an inline table";
	else if (v->type == TOML_TABLE && (v->flags & TF_DOTTED))
		how = " by dotted keys";
	else if (v->type == TOML_ARRAY && (v->flags & AF_TABLES))
		how = " as an array of tables";
	else if (v->type != TOML_TABLE)
		return parse_fail(P, at,
		                  "cannot define table [%s]: it is already "
		                  "%s (at line %d)",
		                  hb, a_type(v), v->origin.line);
	return parse_fail(P, at, "table [%s] is already defined%s (at line %d)",
	                  hb, how, v->origin.line);
}

static bool open_table(struct parser *P, const char *open)
{
	struct toml_value *t = header_parent(P, false);
	const char *key = P->key[P->key_n - 1];
	struct toml_value *v;

	if (!t)
		return false;
	v = table_find(t, key);
	if (!v) {
		v = new_table(P, t, key, open, TF_DEFINED);
		if (!v)
			return false;
	} else if (v->type == TOML_TABLE && v->flags == TF_IMPLICIT) {
		/* Defined at last: its origin becomes this header. */
		v->flags = TF_DEFINED;
		set_origin(P, v, open);
	} else {
		return redefined_table(P, v, open);
	}
	P->cur = v;
	return true;
}

static struct toml_value *new_table_array(struct parser *P,
                                          struct toml_value *parent,
                                          const char *key, const char *at)
{
	unsigned depth = parent->aux + 1u;
	struct toml_value *v;

	if (depth + 1 > TOML_MAX_DEPTH) {
		parse_depth_fail(P, at);
		return NULL;
	}
	v = table_add(P->arena, parent, key);
	if (!v) {
		parse_oom(P);
		return NULL;
	}
	v->type = TOML_ARRAY;
	v->flags = AF_TABLES;
	v->aux = (uint16_t)depth;
	set_origin(P, v, at);
	return v;
}

static bool bad_table_array(struct parser *P, const struct toml_value *v,
                            const char *open)
{
	char hb[256];

	header_text(P, P->key_n, hb, sizeof hb);
	if (v->type == TOML_ARRAY)
		return parse_fail(P, open,
		                  "cannot append to static array %s (defined "
		                  "at line %d) with [[%s]]",
		                  hb, v->origin.line, hb);
	return parse_fail(P, open,
	                  "cannot define array of tables [[%s]]: %s is "
	                  "already %s (at line %d)",
	                  hb, hb, a_type(v), v->origin.line);
}

static bool open_table_array(struct parser *P, const char *open)
{
	struct toml_value *t = header_parent(P, true);
	const char *key = P->key[P->key_n - 1];
	struct toml_value *arr, *elem;

	if (!t)
		return false;
	arr = table_find(t, key);
	if (!arr)
		arr = new_table_array(P, t, key, open);
	else if (arr->type != TOML_ARRAY || !(arr->flags & AF_TABLES))
		return bad_table_array(P, arr, open);
	if (!arr)
		return false;
	elem = array_append(P->arena, arr);
	if (!elem || !table_init(P->arena, elem, 0))
		return parse_oom(P);
	elem->flags = TF_DEFINED;
	elem->aux = (uint16_t)(arr->aux + 1u);
	set_origin(P, elem, open);
	P->cur = elem;
	return true;
}

static bool close_header(struct parser *P, bool array)
{
	char buf[16];

	if (P->p < P->end && *P->p == ']' &&
	    (!array || (P->p + 1 < P->end && P->p[1] == ']'))) {
		P->p += array ? 2 : 1;
		return true;
	}
	return parse_fail(
	    P, P->p, "expected '%s' to close the %s header, found %s",
	    array ? "]]" : "]", array ? "array of tables" : "table",
	    describe_at(P, P->p, buf, sizeof buf));
}

bool parse_header(struct parser *P)
{
	const char *open = P->p;
	bool array = open + 1 < P->end && open[1] == '[';

	P->p += array ? 2 : 1;
	if (!parse_key(P) || !close_header(P, array))
		return false;
	return array ? open_table_array(P, open) : open_table(P, open);
}

/* One step of a dotted key (before its last part), from t through part
 * i. */
static struct toml_value *dotted_step(struct parser *P, struct toml_value *t,
                                      size_t i)
{
	struct toml_value *v = table_find(t, P->key[i]);
	char kb[256], pb[256];

	if (!v)
		return new_table(P, t, P->key[i], P->key_at[i], TF_DOTTED);
	if (v->type == TOML_TABLE && !(v->flags & (TF_DEFINED | TF_INLINE))) {
		v->flags |= TF_DOTTED;
		return v;
	}
	key_text(P, P->key_n, kb, sizeof kb);
	key_text(P, i + 1, pb, sizeof pb);
	if (v->type == TOML_TABLE && (v->flags & TF_DEFINED))
		parse_fail(P, P->key_at[i],
		           "cannot set key %s: table %s is defined by a "
		           "header (at line %d) and dotted keys cannot "
		           "extend it",
		           kb, pb, v->origin.line);
	else
		parse_fail(P, P->key_at[i],
		           "cannot set key %s: %s is already %s (at line "
		           "%d), which cannot be extended",
		           kb, pb, a_type(v), v->origin.line);
	return NULL;
}

bool parse_keyval(struct parser *P, struct toml_value *t)
{
	struct toml_value v, *slot;
	const char *key;
	char buf[256], found[16];

	if (!parse_key(P))
		return false;
	if (P->p >= P->end || *P->p != '=')
		return parse_fail(P, P->p,
		                  "expected '=' after key %s, found %s",
		                  key_text(P, P->key_n, buf, sizeof buf),
		                  describe_at(P, P->p, found, sizeof found));
	P->p++;
	for (size_t i = 0; t && i + 1 < P->key_n; i++)
		t = dotted_step(P, t, i);
	if (!t)
		return false;
	key = P->key[P->key_n - 1];
	slot = table_find(t, key);
	if (slot)
		return parse_fail(P, P->key_at[P->key_n - 1],
		                  "key %s is already defined (at line %d)",
		                  key_text(P, P->key_n, buf, sizeof buf),
		                  slot->origin.line);
	skip_ws(P);
	if (!parse_value(P, &v, t->aux + 1u))
		return false;
	slot = table_add(P->arena, t, key);
	if (!slot)
		return parse_oom(P);
	*slot = v;
	return true;
}
