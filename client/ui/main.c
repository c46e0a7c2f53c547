/* PLACEHOLDER: replaced by its owner (see ui.h); links the program. */
#include "ui.h"

#include <stdlib.h>

int main(void)
{
	return 0;
}
