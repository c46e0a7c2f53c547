/* statefile.c: state.json, encoded and decoded in one place. */
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "fdio.h"
#include "jsonstr.h"
#include "rundir.h"

/* The keys, once: the order is the file's. */
#define KEY_NAME       "name"
#define KEY_PID        "pid"
#define KEY_PGID       "pgid"
#define KEY_SESSION_ID "session_id"
#define KEY_SOCKET     "socket"
#define KEY_STARTED_AT "started_at"
#define KEY_STATE      "state"
#define KEY_EXIT       "exit_status"
#define KEY_SIGNAL     "signal"

/* A read into a buffer of this size covers every state.json we write in
 * one system call (podctl ls reads one per pod). */
#define STATEFILE_FIRST_READ 8192

/* ---- encoding ------------------------------------------------------- */

static json_t *str_or_null(const struct statefile *sf, unsigned bit,
                           const char *value)
{
	/* the socket path is bytes (the runtime root may hold any) */
	return sf->known & bit ? jsonstr_new(value) : json_null();
}

static json_t *pid_or_null(const struct statefile *sf, unsigned bit,
                           pid_t value)
{
	return sf->known & bit ? json_integer((json_int_t)value) : json_null();
}

static json_t *int_or_null(const struct statefile *sf, unsigned bit, int value)
{
	return sf->known & bit ? json_integer(value) : json_null();
}

json_t *statefile_to_json(const struct statefile *sf)
{
	return json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", KEY_NAME,
	    str_or_null(sf, STATEFILE_NAME, sf->name), KEY_PID,
	    pid_or_null(sf, STATEFILE_PID, sf->pid), KEY_PGID,
	    pid_or_null(sf, STATEFILE_PGID, sf->pgid), KEY_SESSION_ID,
	    str_or_null(sf, STATEFILE_SESSION_ID, sf->session_id), KEY_SOCKET,
	    str_or_null(sf, STATEFILE_SOCKET, sf->socket), KEY_STARTED_AT,
	    str_or_null(sf, STATEFILE_STARTED_AT, sf->started_at), KEY_STATE,
	    str_or_null(sf, STATEFILE_STATE, sf->state), KEY_EXIT,
	    int_or_null(sf, STATEFILE_EXIT_STATUS, sf->exit_status), KEY_SIGNAL,
	    int_or_null(sf, STATEFILE_SIGNAL, sf->signal));
}

json_t *statefile_live_json(const struct statefile *sf)
{
	json_t *obj = statefile_to_json(sf);

	if (obj) {
		json_object_del(obj, KEY_EXIT);
		json_object_del(obj, KEY_SIGNAL);
	}
	return obj;
}

int statefile_write(int dirfd, const struct statefile *sf,
                    struct insomnia_error *err)
{
	json_t *obj = statefile_to_json(sf);
	char *json = obj ? json_dumps(obj, JSON_INDENT(2)) : NULL;
	char *text = NULL;
	int len, rc = -1;

	/* A trailing newline keeps `cat state.json` tidy in a shell. */
	if (!json || (len = asprintf(&text, "%s\n", json)) < 0) {
		text = NULL;
		insomnia_error_set(err, INSOMNIA_ERR_INTERNAL,
		                   "cannot encode %s", RUNDIR_STATE);
		goto out;
	}
	rc = atomic_write_sync_at(dirfd, RUNDIR_STATE, text, (size_t)len, 0600,
	                          ATOMIC_SYNC_NONE, err);
out:
	free(text);
	free(json);
	json_decref(obj);
	return rc;
}

/* ---- decoding ------------------------------------------------------- */

/* A string that fits (NUL included) and holds no NUL of its own. */
static void get_str(const json_t *obj, const char *key, char *out, size_t size,
                    unsigned bit, unsigned *known)
{
	json_t *v = json_object_get(obj, key);
	size_t len;

	if (!json_is_string(v))
		return;
	len = json_string_length(v);
	if (len >= size || memchr(json_string_value(v), '\0', len))
		return;
	memcpy(out, json_string_value(v), len + 1);
	*known |= bit;
}

static void get_pid(const json_t *obj, const char *key, pid_t *out,
                    unsigned bit, unsigned *known)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n;

	if (!json_is_integer(v))
		return;
	n = json_integer_value(v);
	if (n <= 0 || n != (json_int_t)(pid_t)n)
		return;
	*out = (pid_t)n;
	*known |= bit;
}

/* An integer within [min, max]: an exit code or a signal number. */
static void get_int(const json_t *obj, const char *key, int *out, int min,
                    int max, unsigned bit, unsigned *known)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n;

	if (!json_is_integer(v))
		return;
	n = json_integer_value(v);
	if (n < min || n > max)
		return;
	*out = (int)n;
	*known |= bit;
}

void statefile_from_json(const json_t *obj, struct statefile *sf)
{
	memset(sf, 0, sizeof *sf);
	if (!json_is_object(obj))
		return;
	get_str(obj, KEY_NAME, sf->name, sizeof sf->name, STATEFILE_NAME,
	        &sf->known);
	get_pid(obj, KEY_PID, &sf->pid, STATEFILE_PID, &sf->known);
	get_pid(obj, KEY_PGID, &sf->pgid, STATEFILE_PGID, &sf->known);
	get_str(obj, KEY_SESSION_ID, sf->session_id, sizeof sf->session_id,
	        STATEFILE_SESSION_ID, &sf->known);
	get_str(obj, KEY_SOCKET, sf->socket, sizeof sf->socket,
	        STATEFILE_SOCKET, &sf->known);
	get_str(obj, KEY_STARTED_AT, sf->started_at, sizeof sf->started_at,
	        STATEFILE_STARTED_AT, &sf->known);
	get_str(obj, KEY_STATE, sf->state, sizeof sf->state, STATEFILE_STATE,
	        &sf->known);
	get_int(obj, KEY_EXIT, &sf->exit_status, 0, 255, STATEFILE_EXIT_STATUS,
	        &sf->known);
	get_int(obj, KEY_SIGNAL, &sf->signal, 1, 127, STATEFILE_SIGNAL,
	        &sf->known);
}

/* The file's text: one read into buf when it fits, else a heap copy in
 * *heap (read again from the start, whole).  NULL with errno. */
static const char *read_text(int dirfd, char *buf, size_t size, size_t *len,
                             char **heap)
{
	/* a FIFO (or anything not a regular file) is no state: never
	 * wait on it */
	int fd =
	    fd_open_regular_at(dirfd, RUNDIR_STATE, O_RDONLY | O_NOFOLLOW, 0);
	ssize_t n;
	int saved;

	*heap = NULL;
	if (fd < 0)
		return NULL;
	n = fd_read_some(fd, buf, size);
	saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return NULL;
	}
	if ((size_t)n < size) {
		*len = (size_t)n;
		return buf;
	}
	if (fd_read_file_at(dirfd, RUNDIR_STATE, STATEFILE_MAX, heap, len) < 0)
		return NULL;
	return *heap;
}

int statefile_read(int dirfd, struct statefile *sf)
{
	char buf[STATEFILE_FIRST_READ], *heap;
	const char *text;
	size_t len;
	json_t *obj;

	memset(sf, 0, sizeof *sf);
	text = read_text(dirfd, buf, sizeof buf, &len, &heap);
	if (!text)
		return -1;
	/* a NUL inside one string makes that field unknown, not the file */
	obj = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	free(heap);
	statefile_from_json(obj, sf);
	if (!json_is_object(obj)) {
		json_decref(obj);
		errno = EBADMSG;
		return -1;
	}
	json_decref(obj);
	return 0;
}
