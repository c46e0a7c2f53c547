/* launchmsg.h: what the client and its launch monitor say to each other.
 *
 * The client (client/launch.c) starts the monitor program
 * (client/launch-monitor.c, installed as pod-launch-monitor) with
 * childstart (common/childstart.h) and this contract:
 *
 *   argv:  pod-launch-monitor LAUNCH_PROTO_VERSION CWD PATH ARGV0 [ARG...]
 *          CWD "" means the monitor's own (the client's) cwd.
 *   fds:   LAUNCH_FD_REPORT   write end of the report pipe
 *          LAUNCH_FD_RELEASE  the monitor's end of the release socket
 *                             (a socketpair, so the client can write
 *                             without SIGPIPE): each byte read is a
 *                             signal to send to the pod's group, end of
 *                             file tells the monitor to let the pod go
 *          LAUNCH_FD_LOG      the pod's stderr (stderr.log, O_APPEND)
 *          0-2 on /dev/null, nothing else open.
 *
 * Reports are fixed-size records, far below PIPE_BUF, so each write is
 * atomic even though two processes (the monitor and its log watcher)
 * share the pipe. */
#ifndef INSOMNIA_LAUNCHMSG_H
#define INSOMNIA_LAUNCHMSG_H

#include <stdint.h>

#define LAUNCH_PROTO_VERSION "2"
#define LAUNCH_MONITOR_NAME  "pod-launch-monitor"

enum {
	LAUNCH_FD_REPORT = 3,
	LAUNCH_FD_RELEASE = 4,
	LAUNCH_FD_LOG = 5,
};

enum launch_msg_type {
	LAUNCH_MSG_PID = 1, /* value: the pod's pid (= its pgid) */
	LAUNCH_MSG_FAILED,  /* value: errno; step: what failed */
	LAUNCH_MSG_EXITED,  /* value: the pod's wait status */
	LAUNCH_MSG_LOG,     /* stderr.log grew (may be coalesced) */
};

/* Where a LAUNCH_MSG_FAILED happened: each has its own message. */
enum launch_step {
	LAUNCH_STEP_ARGS = 1, /* the client and monitor disagree */
	LAUNCH_STEP_CHDIR,    /* the working directory */
	LAUNCH_STEP_EXEC,     /* the pod command itself */
	LAUNCH_STEP_PIDFD,    /* pidfd_open (Linux >= 5.3) */
	LAUNCH_STEP_INOTIFY,  /* watching stderr.log */
	LAUNCH_STEP_FORK,     /* the log watcher */
	LAUNCH_STEP_WAIT,     /* collecting the pod's status */
};

struct launch_msg {
	int32_t type;
	int32_t value;
	int32_t step;
	int32_t reserved;
};

#endif
