/* sessionfile: session.toml rendered, loaded and summarised by its one
 * owner (docs/sessions.md). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "session.h"
#include "sessionfile.h"
#include "tmpdir.h"
#include "toml.h"

#define ID "1b4e28ba-2fa1-11d2-883f-0016d3cca427"

static void write_at(int dirfd, const char *text)
{
	int fd = openat(dirfd, SESSION_TOML,
	                O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

Test(sessionfile, what_is_rendered_is_summarised_and_loaded_back)
{
	struct insomnia_error err;
	const char *src = "[pod]\nname = \"web\"\n";
	struct toml_value *cfg = toml_parse(src, strlen(src), "t", NULL, &err);
	struct sessionfile_head h = {ID, "web", "/src/app",
	                             "2024-05-01T12:00:00.123Z"};
	struct sessionfile_summary sum;
	const struct toml_value *layer;
	struct toml_value *doc;
	struct tmpdir dir;
	char *text;
	size_t len;
	int fd;

	cr_assert_not_null(cfg);
	text = sessionfile_render(&h, cfg, &len, &err);
	cr_assert_not_null(text, "%s", err.message);
	tmpdir_make(&dir, "sessionfile");
	fd = dir.fd;
	write_at(fd, text);
	cr_assert_eq(sessionfile_read_summary(fd, ID, &sum, &err), 0, "%s",
	             err.message);
	cr_assert_str_eq(sum.name, "web");
	cr_assert_str_eq(sum.cwd, "/src/app");
	cr_assert_str_eq(sum.created_at, "2024-05-01T12:00:00.123Z");
	cr_assert_eq(sessionfile_load(fd, ID, &doc, &layer, &err), 0, "%s",
	             err.message);
	cr_assert_not_null(toml_lookup(layer, "pod.name"));
	toml_free(doc);
	toml_free(cfg);
	free(text);
	tmpdir_remove(&dir);
}

Test(sessionfile, a_missing_file_is_unknown_and_a_damaged_one_config)
{
	struct sessionfile_summary sum;
	struct insomnia_error err;
	struct tmpdir dir;
	int fd;

	tmpdir_make(&dir, "sessionfile");
	fd = dir.fd;
	cr_assert_eq(sessionfile_read_summary(fd, ID, &sum, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_SESSION_UNKNOWN);
	write_at(fd, "[session\nid = ");
	cr_assert_eq(sessionfile_read_summary(fd, ID, &sum, &err), -1);
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG);
	cr_assert(strstr(err.message, "session " ID), "%s", err.message);
	tmpdir_remove(&dir);
}

/* One limit for writer and readers: a configuration whose session.toml
 * a resume would refuse to read (beyond SESSIONFILE_MAX) is refused
 * when it is rendered, not found out at the resume. */
Test(sessionfile, a_file_beyond_the_readers_limit_is_never_rendered)
{
	struct insomnia_error err;
	size_t big = SESSIONFILE_MAX + 1, len;
	char *src = malloc(big + 64), *text;
	struct sessionfile_head h = {ID, "web", "/src/app",
	                             "2024-05-01T12:00:00.123Z"};
	struct toml_value *cfg;

	cr_assert_not_null(src);
	strcpy(src, "[pod]\ndescription = \"");
	memset(src + strlen(src), 'x', big);
	strcpy(src + strlen("[pod]\ndescription = \"") + big, "\"\n");
	cfg = toml_parse(src, strlen(src), "t", NULL, &err);
	cr_assert_not_null(cfg, "%s", err.message);
	text = sessionfile_render(&h, cfg, &len, &err);
	cr_assert_null(text, "a %zu-byte session.toml was rendered", len);
	cr_assert_eq(err.kind, INSOMNIA_ERR_CONFIG);
	cr_assert(strstr(err.message, "beyond its limit"), "%s", err.message);
	toml_free(cfg);
	free(src);
}
