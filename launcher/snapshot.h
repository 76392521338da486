/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapshot.h - disk snapshots inside a persistent cell's encrypted overlay
 * (cmd_snapshot.c)
 */
#ifndef WALLOFF_SNAPSHOT_H
#define WALLOFF_SNAPSHOT_H

#include <stdint.h>

#include "cell.h"
#include "err.h"
#include "profile.h"

struct audit;

/**
 * snapshot_prune() - delete snapshots older than @max_age_s, then all but
 * the @keep newest; each deletion audited
 * @c:		cell (lock held, not running)
 * @a:		audit log
 * @keep:	snapshots to keep, 0 for no limit
 * @max_age_s:	maximum age in seconds, 0 for no limit
 * @deleted:	output: how many were deleted
 * @e:		error
 *
 * Return: 0 or -errno
 */
int snapshot_prune(const struct cell *c, struct audit *a, unsigned keep,
		   uint64_t max_age_s, unsigned *deleted, struct err *e);

/**
 * snapshot_enforce() - the supervisor's start-up step: apply the profile's
 * [snapshots] keep and max-age to a persistent cell's disk
 * @c:		cell (lock held)
 * @p:		profile
 * @a:		audit log
 *
 * Return: 0, or -errno (message printed and audited) to stop the start
 */
int snapshot_enforce(const struct cell *c, const struct profile *p,
		     struct audit *a);

#endif /* WALLOFF_SNAPSHOT_H */
