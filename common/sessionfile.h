/* sessionfile.h: the one owner of session.toml's format
 * (docs/sessions.md): the pod renders it (pod/podsession.c) and loads it
 * back on resume; clients read its [session] summary (sessioninfo.c).
 * Its key strings live here only.
 *
 *   [session]
 *   id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
 *   name = "web"
 *   cwd = "/src/app"
 *   created_at = 2024-05-01T12:00:00.123Z
 *
 *   [config]
 *   <the effective configuration, as the schema accepted it>
 */
#ifndef INSOMNIA_SESSIONFILE_H
#define INSOMNIA_SESSIONFILE_H

#include <stddef.h>

#include "error.h"
#include "journalfmt.h"
#include "toml.h"
#include <insomnia/dirs.h>

/* The one limit of session.toml, for the pod that writes it, the pod
 * that resumes from it and every reader: a file a reader would refuse
 * is never written.  A pod writes a few hundred bytes plus its effective
 * configuration (manifests are at most PODCMD_MANIFEST_MAX each). */
#define SESSIONFILE_MAX (1024 * 1024)

struct sessionfile_head {
	const char *id, *name, *cwd;
	const char *created_at; /* RFC 3339 UTC, written as a TOML date-time */
};

/* The whole file as malloc'd text.  It is parsed back before it is
 * returned: text that would not read back to the same [config] (a cwd
 * that is not UTF-8, say), or that is beyond SESSIONFILE_MAX
 * (INSOMNIA_ERR_CONFIG), is an error, never a file a resume chokes
 * on. */
char *sessionfile_render(const struct sessionfile_head *head,
                         const struct toml_value *config, size_t *len,
                         struct insomnia_error *err);

/* A resumed session's file.  *doc gets the parsed tree (the caller frees
 * it with toml_free) and *config its [config] table, with every value's
 * origin "session <id>" and, for relative paths, the recorded cwd.
 * Errors are INSOMNIA_ERR_CONFIG naming the layer, or INSOMNIA_ERR_IO. */
int sessionfile_load(int session_dirfd, const char *id, struct toml_value **doc,
                     const struct toml_value **config,
                     struct insomnia_error *err);

/* [session] as a client shows it; strings "" when absent or too long. */
struct sessionfile_summary {
	char name[INSOMNIA_NAME_MAX + 1];
	char cwd[INSOMNIA_PATH_MAX];
	char created_at[SESSION_TIME_MAX]; /* as written */
};

/* Read the summary of session id's file in session_dirfd.  Errors:
 * INSOMNIA_ERR_SESSION_UNKNOWN (no session.toml: still being created, or
 * damaged), INSOMNIA_ERR_CONFIG (it does not parse), INSOMNIA_ERR_IO. */
int sessionfile_read_summary(int session_dirfd, const char *id,
                             struct sessionfile_summary *out,
                             struct insomnia_error *err);

#endif
