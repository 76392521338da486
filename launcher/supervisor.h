/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * supervisor.h - run one cell from start to stop
 */
#ifndef WALLOFF_SUPERVISOR_H
#define WALLOFF_SUPERVISOR_H

#include "profile.h"

/* Exit codes of `walloff run` (documented in README.md). */
enum run_exit {
	RUN_OK = 0,		/* guest powered off (by request or by itself) */
	RUN_ERROR = 1,		/* could not start, or an error while running */
	RUN_USAGE = 2,
	RUN_INVALID = 3,	/* invalid profile, or a feature not available */
	RUN_VERIFY = 4,		/* QEMU's device model differs from the profile */
	RUN_IMAGE = 5,		/* base image does not match its sha256 pin */
	RUN_FORCED = 6,		/* guest ignored the power button: QEMU was quit */
	RUN_CRASHED = 7,	/* QEMU died without the guest powering off */
	RUN_REVIEW = 8,		/* security review FAILs, no --accept-risk */
	RUN_DISK = 9,		/* encrypted disk: key missing, wrong or damaged */
	RUN_STALE = 10,		/* dormant or unreviewed cell, on-stale = refuse */
};

/**
 * supervisor_run() - start, verify, run and stop a cell
 * @p:		validated profile, with files present
 * @accept_risk: reason the invoking admin gave for running despite FAILs
 *		in the security review, or NULL
 * @fails:	the failing control ids (with @accept_risk)
 *
 * Return: an enum run_exit value
 */
int supervisor_run(const struct profile *p, const char *accept_risk,
		   const char *fails);

#endif /* WALLOFF_SUPERVISOR_H */
