/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_control.c - channel 0 control text on arbitrary bytes
 *
 * The whole input is parsed as a HELLO and checked as NOTICE text.
 * Invariants: no crash or overread; HELLO fields come back NUL-terminated
 * within their size and the notice count within CONSOLE_NOTICES_MAX; text
 * accepted as a NOTICE is within bounds and has no byte a terminal acts
 * on (C0 controls, DEL) and no raw C1 or invalid lead bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct console_info info;
	unsigned notices = 99;
	size_t i;

	memset(&info, 0, sizeof(info));
	if (!control_hello_parse(data, size, &info, &notices) &&
	    notices > CONSOLE_NOTICES_MAX)
		abort();
	if (!memchr(info.cell, 0, sizeof(info.cell)) ||
	    !memchr(info.role, 0, sizeof(info.role)))
		abort();
	if (control_notice_check(data, size))
		return 0;
	if (!size || size > CONSOLE_NOTICE_MAX)
		abort();
	for (i = 0; i < size; i++)
		if (data[i] < 0x20 || data[i] == 0x7f || data[i] == 0xc0 ||
		    data[i] == 0xc1 || data[i] >= 0xf5)
			abort();
	return 0;
}
