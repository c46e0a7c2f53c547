/* main.c: podui's arguments, set-up, the loop and the teardown, which
 * happens in one place whichever way the loop ended. */
#include "ui.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const char usage[] =
    "usage: podui [--help] [--version]\n"
    "\n"
    "The terminal UI of insomnia pods: every pod, live, its processes\n"
    "and their logs; spawn, stop, resume; press ? for the keys.\n"
    "See podui(1) and docs/ui.md.\n";

/* The project's exit code for bad usage (docs/errors.md: `usage`, as
 * podctl; EX_USAGE). */
enum { EXIT_USAGE = 64 };

/* 0: go on; else the exit code + 1. */
static int parse_args(int argc, char **argv)
{
	if (argc < 2)
		return 0;
	if (argc == 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 1;
	}
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("podui %s\n", insomnia_version());
		return 1;
	}
	fprintf(stderr, "podui: unknown argument: %s\n%s", argv[1], usage);
	return EXIT_USAGE + 1;
}

/* Two descriptors per live pod (the watch's pidfd, our control
 * connection): take every descriptor the hard limit allows, at start,
 * since the watch cannot say when it ran out (it would silently stop
 * following pods past the soft limit, about 500 at 1024).  Pods
 * spawned from podui inherit the raised limit (docs/ui.md). */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void free_event(struct event **ev)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
}

/* Everything, in order: the model (which may still report through the
 * view), the view, the terminal, the loop, the library. */
static void teardown(struct ui *ui)
{
	ui_actions_free(ui);
	ui_log_free(ui);
	ui_pods_free(ui);
	ui_sessions_free(ui);
	ui_draw_free(ui);
	free_event(&ui->input);
	free_event(&ui->sig_winch);
	free_event(&ui->sig_term);
	free_event(&ui->sig_int);
	free_event(&ui->sig_hup);
	ui_term_end(ui);
	event_base_free(ui->base);
	ui->base = NULL;
	insomnia_cleanup();
}

static void print_error(const struct insomnia_error *err)
{
	fprintf(stderr, "podui: %s\n", err->message);
	if (err->detail[0] != '\0')
		fprintf(stderr, "%s\n", err->detail);
}

int main(int argc, char **argv)
{
	static struct ui ui; /* large (paths): not on the stack */
	struct insomnia_error err;
	int parsed = parse_args(argc, argv);

	if (parsed != 0)
		return parsed - 1;
	/* The one check (term.c relies on it); 2, as `podctl ui` and the
	 * install test expect. */
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "podui: stdin and stdout must be a terminal\n");
		return 2;
	}
	raise_nofile();
	ui.base = event_base_new();
	if (ui.base == NULL) {
		fprintf(stderr, "podui: cannot create the event loop\n");
		return 1;
	}
	if (ui_term_start(&ui) != 0) {
		teardown(&ui);
		return 1;
	}
	memset(&err, 0, sizeof(err));
	if (ui_draw_init(&ui) != 0) {
		teardown(&ui);
		fprintf(stderr, "podui: out of memory\n");
		return 1;
	}
	if (ui_pods_start(&ui, &err) != 0) {
		teardown(&ui);
		print_error(&err);
		return 1;
	}
	ui_dirty(&ui);
	event_base_dispatch(ui.base);
	teardown(&ui);
	if (ui.failure[0] != '\0')
		fprintf(stderr, "podui: %s\n", ui.failure);
	return ui.exit_code;
}
