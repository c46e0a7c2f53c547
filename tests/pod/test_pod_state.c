/* pod/state.c: the pod's state machine (state.h) and what state.json
 * says of it. */
#include <criterion/criterion.h>
#include <string.h>

#include "state.h"

static struct pod_state st;

static void init(void)
{
	state_init(&st, "web", "0f8fad5b-d9cb-469f-a165-70867728950e",
	           "/run/web/sock", NULL);
}

static const char *json_state(void)
{
	static char out[32];
	json_t *obj = state_to_json(&st);

	cr_assert_not_null(obj);
	snprintf(out, sizeof out, "%s",
	         json_string_value(json_object_get(obj, "state")));
	json_decref(obj);
	return out;
}

TestSuite(pod_state, .init = init);

Test(pod_state, a_pod_starts_in_starting)
{
	cr_assert_eq(st.phase, POD_STARTING);
	cr_assert_str_eq(json_state(), "starting");
}

Test(pod_state, starting_ready_stopping_is_the_way)
{
	cr_assert(state_enter(&st, POD_READY));
	cr_assert_str_eq(json_state(), "ready");
	cr_assert(state_enter(&st, POD_STOPPING));
	cr_assert_str_eq(json_state(), "stopping");
}

Test(pod_state, a_pod_can_stop_before_it_is_ready)
{
	cr_assert(state_enter(&st, POD_STOPPING));
	/* and then never becomes ready: no ready line after a stop */
	cr_assert(!state_enter(&st, POD_READY));
	cr_assert_eq(st.phase, POD_STOPPING);
	cr_assert_str_eq(json_state(), "stopping");
}

Test(pod_state, no_way_back_and_no_double_step)
{
	cr_assert(state_enter(&st, POD_READY));
	cr_assert(!state_enter(&st, POD_READY));
	cr_assert(!state_enter(&st, POD_STARTING));
	cr_assert(state_enter(&st, POD_STOPPING));
	cr_assert(!state_enter(&st, POD_STOPPING), "stopping twice");
	cr_assert(!state_enter(&st, POD_STARTING));
	cr_assert_eq(st.phase, POD_STOPPING);
}
