/* Test double of common/procrec.c: records are not written. */
#include "procrec.h"

int procrec_write(int rundirfd, const struct procrec *r,
                  struct insomnia_error *err)
{
	return 0;
}

void procrec_remove(int rundirfd, const char *name)
{
}

void procrec_remove_all(int rundirfd)
{
}
