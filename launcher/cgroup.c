/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cgroup.c - per-cell resource limits
 *
 * A legacy guest must not be able to starve the host: [limits] caps CPU
 * (cpu-quota, as a share of one CPU per 100 ms period), memory (memory-max:
 * QEMU's RSS, including guest RAM and the emulator's own buffers) and the
 * number of tasks (pids-max: QEMU's threads and the helpers).
 *
 * The supervisor creates "walloff-CELL" below its own cgroup (read from
 * /proc/self/cgroup, so it works as root and in a delegated v2 subtree),
 * writes the limits, and moves itself in before it starts anything: QEMU and
 * the helpers inherit the group, there is no window in which a child runs
 * unlimited. On stop it moves back out and removes the group.
 *
 * Two kernels' worth of interface:
 *   v2  one group; cpu.max "QUOTA PERIOD", memory.max, pids.max; the parent
 *       must list the controllers in cgroup.subtree_control.
 *   v1  a group per hierarchy: cpu.cfs_period_us/cpu.cfs_quota_us,
 *       memory.limit_in_bytes, pids.max.
 * v2 is preferred when its unified hierarchy carries cpu, memory and pids
 * (Debian 12 hosts); else v1 (the test machines here, whose unified
 * hierarchy has no such controllers).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"

static const char *const v1_ctrl[3] = { "cpu", "memory", "pids" };

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	if (n < 0)
		return -errno;
	return (size_t)n == strlen(val) ? 0 : -EIO;
}

static int read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Our group in hierarchy @ctrl ("" for v2's "0::" line) from /proc/self/cgroup. */
static int own_group(const char *ctrl, char *out, size_t len)
{
	char buf[4096], *line, *save = NULL;

	if (read_file("/proc/self/cgroup", buf, sizeof(buf)))
		return -ENOENT;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *tok, *tsave = NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		if (!*ctrl) {
			if (!strcmp(line, "0") && c1[1] == '\0') {
				snprintf(out, len, "%s", c2 + 1);
				return 0;
			}
			continue;
		}
		for (tok = strtok_r(c1 + 1, ",", &tsave); tok;
		     tok = strtok_r(NULL, ",", &tsave)) {
			if (!strcmp(tok, ctrl)) {
				snprintf(out, len, "%s", c2 + 1);
				return 0;
			}
		}
	}
	return -ENOENT;
}

static bool v2_usable(const char *root, char *base, size_t len)
{
	char path[PATH_MAX + 32], buf[512], grp[PATH_MAX];

	if (own_group("", grp, sizeof(grp)))
		return false;
	snprintf(base, len, "%s%s", root, strcmp(grp, "/") ? grp : "");
	snprintf(path, sizeof(path), "%s/cgroup.controllers", base);
	if (read_file(path, buf, sizeof(buf)))
		return false;
	return strstr(buf, "cpu") && strstr(buf, "memory") && strstr(buf, "pids");
}

static int limits_v2(struct cgroup *cg, const struct profile *p, char *why,
		     size_t wlen)
{
	char v[64];
	int r;

	if (p->cpu_quota_pct) {
		snprintf(v, sizeof(v), "%u %u",
			 p->cpu_quota_pct * (CGROUP_CPU_PERIOD_US / 100),
			 CGROUP_CPU_PERIOD_US);
		if ((r = write_file(cg->path[0], "cpu.max", v)))
			return snprintf(why, wlen, "cpu.max: %s", strerror(-r)), r;
	}
	if (p->memory_max_mib) {
		snprintf(v, sizeof(v), "%llu",
			 (unsigned long long)p->memory_max_mib << 20);
		if ((r = write_file(cg->path[0], "memory.max", v)))
			return snprintf(why, wlen, "memory.max: %s", strerror(-r)), r;
		/* No swap escape hatch; absent without swap accounting. */
		write_file(cg->path[0], "memory.swap.max", "0");
	}
	if (p->pids_max) {
		snprintf(v, sizeof(v), "%u", p->pids_max);
		if ((r = write_file(cg->path[0], "pids.max", v)))
			return snprintf(why, wlen, "pids.max: %s", strerror(-r)), r;
	}
	return 0;
}

static int limits_v1(struct cgroup *cg, const struct profile *p, char *why,
		     size_t wlen)
{
	char v[64];
	int r;

	if (p->cpu_quota_pct) {
		snprintf(v, sizeof(v), "%u", CGROUP_CPU_PERIOD_US);
		if ((r = write_file(cg->path[0], "cpu.cfs_period_us", v)))
			return snprintf(why, wlen, "cpu.cfs_period_us: %s",
					strerror(-r)), r;
		snprintf(v, sizeof(v), "%u",
			 p->cpu_quota_pct * (CGROUP_CPU_PERIOD_US / 100));
		if ((r = write_file(cg->path[0], "cpu.cfs_quota_us", v)))
			return snprintf(why, wlen, "cpu.cfs_quota_us: %s",
					strerror(-r)), r;
	}
	if (p->memory_max_mib) {
		snprintf(v, sizeof(v), "%llu",
			 (unsigned long long)p->memory_max_mib << 20);
		if ((r = write_file(cg->path[1], "memory.limit_in_bytes", v)))
			return snprintf(why, wlen, "memory.limit_in_bytes: %s",
					strerror(-r)), r;
	}
	if (p->pids_max) {
		snprintf(v, sizeof(v), "%u", p->pids_max);
		if ((r = write_file(cg->path[2], "pids.max", v)))
			return snprintf(why, wlen, "pids.max: %s", strerror(-r)), r;
	}
	return 0;
}

/* Create @path, removing an empty stale group of a crashed supervisor. */
static int make_group(const char *path)
{
	if (mkdir(path, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* A group left by a dead supervisor is empty (its tasks died with
	 * it); rmdir fails with EBUSY if something still runs in it. */
	if (rmdir(path))
		return -errno;
	return mkdir(path, 0755) ? -errno : 0;
}

int cgroup_enter(struct cgroup *cg, const struct profile *p, const char *root,
		 json_t **report, struct err *e)
{
	char why[PATH_MAX + 256] = "", pid[24], base[PATH_MAX], grp[PATH_MAX];
	int i, r, n;

	memset(cg, 0, sizeof(*cg));
	*report = NULL;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());

	if (v2_usable(root, base, sizeof(base))) {
		cg->version = 2;
		snprintf(cg->parent[0], PATH_MAX, "%s", base);
		/* Best effort: a delegated parent may already have them. */
		write_file(base, "cgroup.subtree_control", "+cpu +memory +pids");
		if ((size_t)snprintf(cg->path[0], PATH_MAX, "%s/walloff-%s", base,
				     p->name) >= PATH_MAX)
			return err_set(e, ENAMETOOLONG, "cgroup path too long");
		if ((r = make_group(cg->path[0]))) {
			snprintf(why, sizeof(why), "cannot create %s: %s",
				 cg->path[0], strerror(-r));
			goto fail;
		}
		if ((r = limits_v2(cg, p, why, sizeof(why))) ||
		    (r = write_file(cg->path[0], "cgroup.procs", pid))) {
			if (!why[0])
				snprintf(why, sizeof(why), "joining %s: %s",
					 cg->path[0], strerror(-r));
			goto fail;
		}
	} else {
		cg->version = 1;
		for (i = 0; i < 3; i++) {
			if (own_group(v1_ctrl[i], grp, sizeof(grp))) {
				r = -ENOENT;
				snprintf(why, sizeof(why),
					 "no cgroup v2 controllers and no v1 '%s' hierarchy",
					 v1_ctrl[i]);
				goto fail;
			}
			n = snprintf(cg->parent[i], PATH_MAX, "%s/%s%s", root,
				     v1_ctrl[i], strcmp(grp, "/") ? grp : "");
			if (n < 0 || n >= PATH_MAX - 48)
				return err_set(e, ENAMETOOLONG, "cgroup path too long");
			snprintf(cg->path[i], PATH_MAX, "%s/walloff-%s",
				 cg->parent[i], p->name);
			if ((r = make_group(cg->path[i]))) {
				snprintf(why, sizeof(why), "cannot create %s: %s",
					 cg->path[i], strerror(-r));
				goto fail;
			}
		}
		if ((r = limits_v1(cg, p, why, sizeof(why))))
			goto fail;
		for (i = 0; i < 3; i++) {
			if ((r = write_file(cg->path[i], "cgroup.procs", pid))) {
				snprintf(why, sizeof(why), "joining %s: %s",
					 cg->path[i], strerror(-r));
				goto fail;
			}
		}
	}
	*report = json_pack("{s:i, s:[sss], s:i, s:I, s:i}", "cgroup",
			    cg->version, "paths", cg->path[0],
			    cg->version == 2 ? cg->path[0] : cg->path[1],
			    cg->version == 2 ? cg->path[0] : cg->path[2],
			    "cpu_quota_pct", (int)p->cpu_quota_pct,
			    "memory_max_mib", (json_int_t)p->memory_max_mib,
			    "pids_max", (int)p->pids_max);
	return 0;
fail:
	cgroup_leave(cg);
	return err_set(e, -r, "resource limits cannot be enforced: %s", why);
}

void cgroup_leave(struct cgroup *cg)
{
	char pid[24];
	int i, n = cg->version == 2 ? 1 : 3;

	if (!cg->version)
		return;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (i = 0; i < n; i++) {
		if (!cg->path[i][0])
			continue;
		write_file(cg->parent[i], "cgroup.procs", pid);
		rmdir(cg->path[i]);
	}
	cg->version = 0;
}
