/* podctl ui: the terminal UI.  podui is its own program (docs/ui.md: it
 * links ncursesw, which podctl, run by scripts and harnesses, does
 * not); this entry only finds it and execs it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "podctl.h"

/* dir of podctl's own executable + rel, if executable. */
static const char *beside_us(const char *rel, char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	if (snprintf(buf, size, "%s/%s", self, rel) >= (int)size ||
	    access(buf, X_OK) < 0)
		return NULL;
	return buf;
}

static int run_ui(const struct cli_args *a)
{
	char buf[PATH_MAX + 16];
	const char *path = getenv("INSOMNIA_PODUI");
	char *argv[] = {"podui", NULL};
	struct insomnia_error err;

	if (!path || !*path)
		path = beside_us("podui", buf, sizeof buf); /* installed */
	if (!path)
		path = beside_us("ui/podui", buf, sizeof buf); /* build tree */
	if (path)
		execv(path, argv);
	else
		execvp("podui", argv);
	insomnia_error_set_errno(&err, INSOMNIA_ERR_LAUNCH_FAILED, errno,
	                         "cannot run podui (%s)",
	                         path ? path : "podui on PATH");
	return cli_fail(a->json, &err);
}

const struct cmd_entry cmd_ui_entry = {
    .name = "ui",
    .summary = "open the terminal UI (podui)",
    .help = "Runs podui, the terminal UI (podui(1), docs/ui.md): every pod\n"
            "live, its processes and logs, spawn, stop, restart, sessions.\n"
            "podui is found through INSOMNIA_PODUI (a path), else beside\n"
            "podctl, else on PATH.\n",
    .run = run_ui,
};
