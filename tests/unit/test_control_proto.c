/* Unit: classifying the lines a pod sends (proto_parse_incoming), the
 * parser under the control client. */
#include <criterion/criterion.h>
#include <string.h>

#include "proto.h"

static int parse(const char *line, struct proto_incoming *in,
                 struct insomnia_error *err)
{
	return proto_parse_incoming(line, strlen(line), in, err);
}

Test(control_proto, results_errors_and_events)
{
	struct proto_incoming in;
	struct insomnia_error err;

	cr_assert_eq(parse("{\"id\":7,\"result\":{\"a\":1}}", &in, &err), 0);
	cr_assert_eq(in.kind, PROTO_IN_RESULT);
	cr_assert_eq(json_integer_value(in.id), 7);
	cr_assert_eq(json_integer_value(json_object_get(in.value, "a")), 1);
	proto_incoming_free(&in);

	cr_assert_eq(parse("{\"id\":null,\"error\":{\"code\":\"bad_request\","
	                   "\"message\":\"no\"}}",
	                   &in, &err),
	             0);
	cr_assert_eq(in.kind, PROTO_IN_ERROR);
	cr_assert(json_is_null(in.id));
	cr_assert_eq(in.error.kind, INSOMNIA_ERR_PROTOCOL);
	cr_assert_str_eq(in.error.message, "no");
	cr_assert_str_eq(in.error.detail, "bad_request");
	proto_incoming_free(&in);

	cr_assert_eq(parse("{\"event\":\"up\",\"data\":[1]}", &in, &err), 0);
	cr_assert_eq(in.kind, PROTO_IN_EVENT);
	cr_assert_str_eq(in.event, "up");
	cr_assert(json_is_array(in.value));
	proto_incoming_free(&in);

	/* "id" makes it a reply even with an "event" key */
	cr_assert_eq(
	    parse("{\"id\":1,\"event\":\"x\",\"result\":0}", &in, &err), 0);
	cr_assert_eq(in.kind, PROTO_IN_RESULT);
	proto_incoming_free(&in);

	cr_assert_eq(parse(" \t\r", &in, &err), 0);
	cr_assert_eq(in.kind, PROTO_IN_BLANK);
	proto_incoming_free(&in);
}

Test(control_proto, anything_else_is_a_protocol_error)
{
	static const char *const bad[] = {
	    "nope",
	    "[1]",
	    "{\"id\":1}",
	    "{\"id\":1,\"result\":1,\"error\":{}}",
	    "{\"id\":1,\"error\":\"x\"}",
	    "{\"id\":1,\"error\":{\"code\":\"c\"}}",
	    "{\"event\":7}",
	    "{\"id\":1,\"result\":1",
	};
	struct proto_incoming in;
	struct insomnia_error err;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		insomnia_error_clear(&err);
		cr_assert_eq(parse(bad[i], &in, &err), -1, "%s", bad[i]);
		cr_assert_eq(err.kind, INSOMNIA_ERR_PROTOCOL, "%s", bad[i]);
		cr_assert_null(in.root, "%s", bad[i]);
	}
}
