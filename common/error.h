/* error.h: filling the error value (<insomnia/error.h>) from inside the
 * pod and the library.  The value, its kinds and their one table of
 * names and exit codes are public; these setters are not. */
#ifndef INSOMNIA_COMMON_ERROR_H
#define INSOMNIA_COMMON_ERROR_H

#include <insomnia/error.h>
#include <stdarg.h>
#include <stddef.h>

/* Set kind and message (printf-style); returns -1 so callers can
 * `return error_set(...)`.  A NULL err is allowed and ignored. */
int error_set(struct insomnia_error *err, enum insomnia_error_kind kind,
              const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Same, with errno: appends ": strerror(errnum)" to the message. */
int error_set_errno(struct insomnia_error *err, enum insomnia_error_kind kind,
                    int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The kind a pod command's exit code before its ready line stands for:
 * a code of one of the kinds a pod reports itself (config 2,
 * already_running 3, runtime_dir 4, bad_name 5, session_unknown 15,
 * session_live 16, bad_session_id 17, session_ambiguous 18: the real
 * pod exits with these, docs/errors.md) is read as that kind, whatever
 * the pod command; any other code, or -1, is INSOMNIA_ERR_EXITED_EARLY. */
enum insomnia_error_kind error_kind_of_pod_exit(int exit_status);

/* Put "context: " in front of the existing message. */
void error_prefix(struct insomnia_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
