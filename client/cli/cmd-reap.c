/* podctl reap: clean the dirs dead pods left. */
#include <stdio.h>

#include "jsonstr.h"
#include "podctl.h"
#include <insomnia/reap.h>

struct rows {
	json_t *list;
	bool lost; /* a row could not be built (out of memory) */
};

static void add_json(const struct insomnia_reap_report *r, void *arg)
{
	struct rows *rows = arg;
	json_t *o = json_pack("{s:o, s:b, s:I}", "name", jsonstr_new(r->name),
	                      "removed", r->removed, "killed_group",
	                      (json_int_t)r->killed_group);

	if (o && r->note[0])
		json_object_set_new(o, "note", jsonstr_new(r->note));
	if (json_array_append_new(rows->list, o) < 0)
		rows->lost = true;
}

static void print_line(const struct insomnia_reap_report *r, void *arg)
{
	int *count = arg;

	(*count)++;
	printf("%s: %s", r->name, r->removed ? "removed" : "kept");
	if (r->killed_group)
		printf(", killed leftover process group %ld",
		       (long)r->killed_group);
	if (r->note[0])
		printf(" (%s)", r->note);
	putchar('\n');
}

static int run_reap(const struct cli_args *a)
{
	bool json = a->json;
	struct insomnia_error err;
	int count = 0;
	struct rows rows = {NULL, false};

	insomnia_error_clear(&err);
	if (!json) {
		if (insomnia_reap(print_line, &count, &err) < 0)
			return cli_fail(false, &err);
		if (count == 0)
			puts("nothing to reap");
		return 0;
	}
	rows.list = json_array();
	if (insomnia_reap(add_json, &rows, &err) < 0) {
		json_decref(rows.list);
		return cli_fail(true, &err);
	}
	/* A listing that lost a row is not printed as if complete. */
	if (rows.lost) {
		json_decref(rows.list);
		rows.list = NULL;
	}
	return cli_print_json(
	    rows.list ? json_pack("{s:o}", "reaped", rows.list) : NULL);
}

const struct cmd_entry cmd_reap_entry = {
    .name = "reap",
    .summary = "remove the runtime dirs of dead pods",
    .help =
        "Removes every pod dir whose lock is free (its pod is dead) and that\n"
        "no spawn is using, holding both locks while it removes, after "
        "killing\n"
        "what is left of the dead pod's process group (only a group the pod\n"
        "led, and only while its leader is gone, so a reused pid is never\n"
        "hit).  Live or starting pods are never touched; a dir whose lock is\n"
        "not a regular file is kept and named.  --json prints\n"
        "{\"reaped\":[{name, removed, killed_group, note?}]}.\n",
    .max_operands = 0,
    .run = run_reap,
};
