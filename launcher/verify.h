/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify.h - check the live device model against the profile before the
 * guest runs
 */
#ifndef WALLOFF_VERIFY_H
#define WALLOFF_VERIFY_H

#include <jansson.h>

#include "err.h"
#include "profile.h"

/*
 * How verify asks QEMU: execute @cmd with @args (stolen, may be NULL) and
 * return the "return" member in @ret. The supervisor passes a wrapper around
 * qmp_execute(); tests pass recorded replies.
 */
typedef int (*verify_query_fn)(void *ctx, const char *cmd, json_t *args,
			       json_t **ret, struct err *e);

/**
 * verify_device_model() - compare what QEMU built with what the profile allows
 * @p:		profile
 * @run_dir:	the cell's run folder (expected socket paths)
 * @query:	how to ask QEMU
 * @ctx:	for @query
 * @report:	output: object for the audit log: "ok", "problems" (list of
 *		strings), and what was seen (pci, peripherals, block, chardev)
 * @e:		error (a failed query; a mismatch is not an error here but
 *		"ok": false in @report)
 *
 * Checks: the PCI functions (vendor:device, all buses) are exactly the
 * machine's built-ins plus the profile's devices; /machine/peripheral holds
 * exactly our named devices and /machine/peripheral-anon nothing; there is
 * exactly one block device, our disk, backed by the two passed descriptors;
 * the character devices are exactly the QMP and serial unix sockets in the
 * run folder; VNC, if any, listens on the unix socket only; CPU count and
 * memory match.
 *
 * Return: 0 (see @report for the verdict) or -errno
 */
int verify_device_model(const struct profile *p, const char *run_dir,
			verify_query_fn query, void *ctx, json_t **report,
			struct err *e);

#endif /* WALLOFF_VERIFY_H */
