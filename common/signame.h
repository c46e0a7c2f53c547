/* signame.h: signal names and numbers, as the manifest (stop.signal) and
 * the protocol ({"signal":"TERM"}) write them. */
#ifndef INSOMNIA_SIGNAME_H
#define INSOMNIA_SIGNAME_H

/* The number of "TERM" or "SIGTERM" (upper case, as kill(1) lists them),
 * among the usual signals (HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1
 * SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU
 * XFSZ VTALRM PROF WINCH IO PWR SYS); -1 for any other text. */
int signame_to_number(const char *name);

/* "TERM" for SIGTERM; NULL for a number without a name here (a
 * real-time signal, an invalid number). */
const char *signame_from_number(int sig);

#endif
