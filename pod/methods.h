/* methods.h: the control methods (docs/protocol.md), one table entry
 * each, as tmux has one cmd-*.c per command.  Adding a method is one new
 * method-<name>.c and one line in methods.c. */
#ifndef INSOMNIA_POD_METHODS_H
#define INSOMNIA_POD_METHODS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "state.h"

/* What a method may look at and ask for. */
struct method_env {
	const struct pod_state *state;
	size_t connections;    /* open control connections, caller's too */
	pid_t peer_pid;        /* the caller, for log lines */
	bool stop_after_reply; /* set to stop the pod once the reply is out */
};

#define METHOD_MESSAGE_MAX 256

struct method_fail {
	const char *code; /* e.g. PROTO_ERR_BAD_REQUEST */
	char message[METHOD_MESSAGE_MAX];
};

struct method {
	const char *name;
	/* A new reference to the result, or NULL with fail filled in
	 * (code NULL means out of memory). */
	json_t *(*run)(struct method_env *env, json_t *params,
	               struct method_fail *fail);
};

extern const struct method method_hello;
extern const struct method method_ping;
extern const struct method method_shutdown;
extern const struct method method_status;

/* The method called name, or NULL. */
const struct method *methods_find(const char *name);

#endif
