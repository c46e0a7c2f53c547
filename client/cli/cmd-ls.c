/* podctl ls: every pod of the runtime root, alive or stale. */
#include <stdio.h>
#include <string.h>

#include "jsonstr.h"
#include "podctl.h"
#include <insomnia/pods.h>

static json_t *info_json(const struct insomnia_pod_info *p)
{
	return json_pack("{s:o, s:b, s:o, s:I, s:I, s:o, s:o, s:o}", "name",
	                 jsonstr_new(p->name), "alive", p->alive, "state",
	                 jsonstr_new(p->state), "pid", (json_int_t)p->pid,
	                 "pgid", (json_int_t)p->pgid, "session_id",
	                 jsonstr_new(p->session_id), "socket",
	                 jsonstr_new(p->socket), "started_at",
	                 jsonstr_new(p->started_at));
}

/* A row that cannot be built (out of memory) fails the listing rather
 * than vanish from it. */
static int add_json(const struct insomnia_pod_info *p, void *arg)
{
	return json_array_append_new(arg, info_json(p)) < 0 ? 1 : 0;
}

static int print_row(const struct insomnia_pod_info *p, void *arg)
{
	int *rows = arg;

	if ((*rows)++ == 0)
		printf("%-20s %-8s %-8s %-36s %-20s %s\n", "NAME", "STATE",
		       "PID", "SESSION", "STARTED", "SOCKET");
	printf("%-20s %-8s %-8ld %-36s %-20s %s\n", p->name, p->state,
	       (long)p->pid, p->session_id[0] ? p->session_id : "-",
	       p->started_at[0] ? p->started_at : "-", p->socket);
	return 0;
}

static int exec_ls(int argc, char **argv)
{
	bool json = false;
	struct insomnia_error err;
	int c, rows = 0, rc;
	json_t *list;

	insomnia_error_clear(&err);
	if (cli_json_only(&cmd_ls_entry, argc, argv, 0, &json, &c))
		return c;
	if (!json) {
		if (insomnia_pods_each(print_row, &rows, &err) < 0)
			return cli_fail(false, &err);
		if (rows == 0)
			puts("no pods");
		return 0;
	}
	list = json_array();
	rc = insomnia_pods_each(add_json, list, &err);
	if (rc < 0) {
		json_decref(list);
		return cli_fail(true, &err);
	}
	if (rc > 0) {
		json_decref(list);
		list = NULL;
	}
	return cli_print_json(list ? json_pack("{s:o}", "pods", list) : NULL);
}

const struct cmd_entry cmd_ls_entry = {
    "ls",
    "[--json]",
    "list pods, alive or stale",
    "Lists every pod dir of the runtime root with its name, state, pid,\n"
    "session, start time and socket.  Alive means a process holds the\n"
    "pod's lock (never judged by pid); a dir whose lock is free is\n"
    "\"stale\" and `podctl reap` removes it.\n"
    "--json prints {\"pods\":[{name, alive, state, pid, pgid, session_id,\n"
    "socket, started_at}]}.\n",
    exec_ls,
};
