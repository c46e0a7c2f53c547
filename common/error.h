/* error.h: what the pod and the library add to the public error value
 * (<insomnia/error.h>, where the setters are): reading a pod command's
 * exit code as a kind. */
#ifndef INSOMNIA_COMMON_ERROR_H
#define INSOMNIA_COMMON_ERROR_H

#include <insomnia/error.h>
#include <stdarg.h>
#include <stddef.h>

/* The kind a pod command's exit code before its ready line stands for:
 * a code of one of the kinds a pod reports itself (config 2,
 * already_running 3, runtime_dir 4, bad_name 5, session_unknown 15,
 * session_live 16, bad_session_id 17, session_ambiguous 18: the real
 * pod exits with these, docs/errors.md) is read as that kind, whatever
 * the pod command; any other code, or -1, is INSOMNIA_ERR_EXITED_EARLY. */
enum insomnia_error_kind error_kind_of_pod_exit(int exit_status);

#endif
