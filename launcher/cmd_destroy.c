/* SPDX-License-Identifier: GPL-2.0-or-later */
/* placeholder, replaced below */
#include "cmds.h"
int cmd_destroy(int argc, char *argv[])
{
	return 2;
}
