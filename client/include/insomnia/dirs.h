/* insomnia/dirs.h: where pods and sessions live, and what a name may be.
 *
 * The directory rules of DESIGN.md ("Directories"): the order of the
 * variables is the contract and an empty variable counts as unset.
 * Nothing here creates a directory. */
#ifndef INSOMNIA_DIRS_H
#define INSOMNIA_DIRS_H

#include <insomnia/api.h>
#include <insomnia/error.h>
#include <stddef.h>

INSOMNIA_BEGIN_DECLS

/* Longest path the library builds or returns, with its NUL. */
#define INSOMNIA_PATH_MAX 4096
/* Longest pod (and process) name, without its NUL. */
#define INSOMNIA_NAME_MAX 63
/* A session id's buffer: 36 characters of a canonical UUID and a NUL. */
#define INSOMNIA_SESSION_ID_MAX 37

/* The runtime root, where each live pod has <root>/<name>/:
 * INSOMNIA_RUNTIME_DIR, else $INSOMNIA_HOME/run, else
 * $XDG_RUNTIME_DIR/insomnia (ignored when relative, as the XDG spec
 * says), else $HOME/.insomnia/run.  A relative INSOMNIA_* or HOME value
 * is refused (INSOMNIA_ERR_RUNTIME_DIR naming the variable): a client
 * and a pod in other working directories must agree.  0 and out filled,
 * or -1 and err (may be NULL). */
INSOMNIA_API int insomnia_runtime_root(char *out, size_t size,
                                       struct insomnia_error *err);

/* The data root, holding sessions/: INSOMNIA_DATA_DIR, else
 * $INSOMNIA_HOME, else $HOME/.insomnia.  As insomnia_runtime_root. */
INSOMNIA_API int insomnia_data_root(char *out, size_t size,
                                    struct insomnia_error *err);

/* The name rule for pods and processes: 1 to INSOMNIA_NAME_MAX of
 * [A-Za-z0-9._-], not starting with '.' or '-'.  Names become directory
 * names, so this is what keeps path traversal out.  0 when valid, else
 * -1 and err (INSOMNIA_ERR_BAD_NAME, saying why; may be NULL).  A NULL
 * name is refused the same way, so every call taking a name does. */
INSOMNIA_API int insomnia_name_check(const char *name,
                                     struct insomnia_error *err);

INSOMNIA_END_DECLS

#endif
