/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup.h - the [limits] of a cell, enforced by a per-cell cgroup
 */
#ifndef WALLOFF_CGROUP_H
#define WALLOFF_CGROUP_H

#include <jansson.h>
#include <limits.h>

#include "err.h"
#include "profile.h"

/* Scheduler period for cpu-quota: 100 ms, the kernel's default. */
#define CGROUP_CPU_PERIOD_US 100000U

struct cgroup {
	int version;			/* 0: none, 1: v1, 2: v2 */
	char path[3][PATH_MAX];		/* v2: [0]; v1: cpu, memory, pids */
	char parent[3][PATH_MAX];	/* where the supervisor came from */
};

/**
 * cgroup_enter() - create the cell's cgroup, set its limits and move the
 * supervisor into it, so that QEMU and the helpers it starts are inside
 * @cg:		output
 * @p:		profile (its [limits])
 * @root:	the cgroup filesystem, normally "/sys/fs/cgroup" (tests pass a
 *		fake tree)
 * @report:	output: what was done, for the audit log
 * @e:		error: limits could not be enforced (the caller applies the
 *		profile's on-unavailable)
 *
 * The cell's group is created below the supervisor's own group of each
 * controller ("walloff-CELL"), so it works both as root and in a delegated
 * subtree. cgroup v2 is used when the unified hierarchy offers the cpu,
 * memory and pids controllers; else v1 (one group per controller).
 *
 * Return: 0 or -errno
 */
int cgroup_enter(struct cgroup *cg, const struct profile *p, const char *root,
		 json_t **report, struct err *e);

/**
 * cgroup_leave() - move the supervisor back and remove the cell's group
 * (called after QEMU and the helpers have exited)
 * @cg:		as filled by cgroup_enter(); nothing happens for version 0
 */
void cgroup_leave(struct cgroup *cg);

#endif /* WALLOFF_CGROUP_H */
