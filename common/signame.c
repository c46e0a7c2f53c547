/* signame.c: the table behind signame.h. */
#include "signame.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>

struct signame {
	const char *name;
	int number;
};

static const struct signame names[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},
    {"ILL", SIGILL},       {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},
    {"BUS", SIGBUS},       {"FPE", SIGFPE},   {"KILL", SIGKILL},
    {"USR1", SIGUSR1},     {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},
#ifdef SIGSTKFLT
    {"STKFLT", SIGSTKFLT},
#endif
    {"CHLD", SIGCHLD},     {"CONT", SIGCONT}, {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH},
    {"IO", SIGIO},         {"PWR", SIGPWR},   {"SYS", SIGSYS},
};

#define NNAMES (sizeof names / sizeof names[0])

int signame_to_number(const char *name)
{
	if (!name)
		return -1;
	if (!strncmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < NNAMES; i++)
		if (!strcmp(names[i].name, name))
			return names[i].number;
	return -1;
}

const char *signame_from_number(int sig)
{
	for (size_t i = 0; i < NNAMES; i++)
		if (names[i].number == sig)
			return names[i].name;
	return NULL;
}
