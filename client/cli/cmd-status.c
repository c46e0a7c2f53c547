/* podctl status: ask a pod itself how it is. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "podlist.h"
#include "podctl.h"
#include <insomnia/pods.h>
#include "proto.h"
#include "rundir.h"
#include "unixsock.h"

/* hello then status over one connection.  A pod whose accept queue is
 * full is busy (socket_refused, "busy"), not an I/O error. */
static int ask(const struct insomnia_pod_info *info, json_t **hello,
               json_t **status, struct insomnia_error *err)
{
	struct timeval tv = {5, 0};
	int fd, rc;

	if (unixsock_connect(info->socket, &fd, err) < 0) {
		error_prefix(err, "pod %s", info->name);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	rc = proto_call(fd, 1, "hello", NULL, hello, err);
	if (rc == 0)
		rc = proto_call(fd, 2, "status", NULL, status, err);
	close(fd);
	return rc;
}

static void print_human(json_t *hello, json_t *status)
{
	const char *key;
	json_t *v;

	printf("%s: %s\n", json_string_value(json_object_get(status, "name")),
	       json_string_value(json_object_get(status, "state")));
	json_object_foreach(status, key, v)
	{
		char *text = json_dumps(v, JSON_ENCODE_ANY);
		if (json_is_string(v))
			printf("  %-12s %s\n", key, json_string_value(v));
		else
			printf("  %-12s %s\n", key, text ? text : "?");
		free(text);
	}
	printf(
	    "  %-12s %lld\n  %-12s %s\n", "protocol",
	    (long long)json_integer_value(json_object_get(hello, "protocol")),
	    "pod_version",
	    json_string_value(json_object_get(hello, "version")));
}

static int exec_status(int argc, char **argv)
{
	json_t *hello = NULL, *status = NULL;
	char root[INSOMNIA_PATH_MAX];
	struct insomnia_pod_info info;
	struct insomnia_error err;
	bool json = false;
	int c, rootfd;

	if (cli_json_only(&cmd_status_entry, argc, argv, 1, &json, &c))
		return c;
	insomnia_error_clear(&err);
	if (insomnia_name_check(argv[optind], &err) < 0)
		return cli_fail(json, &err);
	rootfd = rundir_open_root(false, root, sizeof root, &err);
	if (rootfd < 0 && err.errnum == ENOENT)
		error_set(&err, INSOMNIA_ERR_NOT_RUNNING,
		          "pod %s is not running", argv[optind]);
	if (rootfd < 0)
		return cli_fail(json, &err);
	c = podlist_read(rootfd, root, argv[optind], &info, &err);
	close(rootfd);
	if (c < 0)
		return cli_fail(json, &err);
	if (!info.alive) {
		error_set(&err, INSOMNIA_ERR_NOT_RUNNING,
		          "pod %s is not running (%s)", info.name, info.state);
		return cli_fail(json, &err);
	}
	if (ask(&info, &hello, &status, &err) < 0) {
		json_decref(hello);
		return cli_fail(json, &err);
	}
	if (json)
		return cli_print_json(
		    json_pack("{s:o, s:o}", "hello", hello, "status", status));
	print_human(hello, status);
	json_decref(hello);
	json_decref(status);
	return 0;
}

const struct cmd_entry cmd_status_entry = {
    "status",
    "NAME [--json]",
    "ask a live pod for its status",
    "Connects to the pod's socket and asks it for `hello` and `status`\n"
    "(see docs/protocol.md).  --json prints {\"hello\":{...},\n"
    "\"status\":{...}} exactly as the pod answered.\n",
    exec_status,
};
