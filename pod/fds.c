/* fds.c: closing inherited descriptors (compat.h: close_range(2), or one
 * by one on kernels older than 5.9). */
#include "fds.h"

#include "compat.h"

void fds_close_inherited(void)
{
	compat_close_from(3);
}
