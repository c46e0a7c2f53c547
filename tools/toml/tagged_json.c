/* tagged_json.c: a TOML tree as toml-test's tagged JSON: tables become
 * objects, arrays arrays, and every other value {"type", "value"} with
 * the value written as a string. */
#include "tagged_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

static json_t *leaf(const char *type, const char *text, size_t len)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (json_object_set_new(o, "type", json_string(type)) ||
	    json_object_set_new(o, "value", json_stringn(text, len))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *tag_of(enum toml_type t)
{
	switch (t) {
	case TOML_DATETIME:
		return "datetime";
	case TOML_DATETIME_LOCAL:
		return "datetime-local";
	case TOML_DATE_LOCAL:
		return "date-local";
	case TOML_TIME_LOCAL:
		return "time-local";
	case TOML_INTEGER:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "bool";
	default:
		return "string";
	}
}

/* %.17g reads back as the same double; the specials are named. */
static int format_float(double d, char *buf, size_t size)
{
	if (isnan(d))
		return snprintf(buf, size, "nan");
	if (isinf(d))
		return snprintf(buf, size, d < 0 ? "-inf" : "inf");
	return snprintf(buf, size, "%.17g", d);
}

static json_t *scalar(const struct toml_value *v)
{
	char buf[64];
	const char *s;
	size_t len;
	int64_t i;
	double d;
	bool b;
	struct toml_datetime dt;
	enum toml_type t = toml_type(v);

	if (toml_as_string(v, &s, &len))
		return leaf("string", s, len);
	if (toml_as_int(v, &i))
		len = (size_t)snprintf(buf, sizeof buf, "%" PRId64, i);
	else if (toml_as_float(v, &d))
		len = (size_t)format_float(d, buf, sizeof buf);
	else if (toml_as_bool(v, &b))
		len = (size_t)snprintf(buf, sizeof buf, "%s",
		                       b ? "true" : "false");
	else if (toml_as_datetime(v, &dt))
		len = toml_datetime_format(t, &dt, buf);
	else
		return NULL;
	return leaf(tag_of(t), buf, len);
}

static json_t *value(const struct toml_value *v);

static json_t *array(const struct toml_value *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < toml_len(v); i++) {
		if (json_array_append_new(a, value(toml_array_at(v, i)))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *toml_to_tagged_json(const struct toml_value *t)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < toml_len(t); i++) {
		if (json_object_setn_new(o, toml_table_key(t, i),
		                         toml_table_key_len(t, i),
		                         value(toml_table_value(t, i)))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *value(const struct toml_value *v)
{
	switch (toml_type(v)) {
	case TOML_TABLE:
		return toml_to_tagged_json(v);
	case TOML_ARRAY:
		return array(v);
	default:
		return scalar(v);
	}
}
