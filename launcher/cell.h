/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cell.h - a cell's folders, its single-instance lock and its status file
 */
#ifndef WALLOFF_CELL_H
#define WALLOFF_CELL_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "err.h"

/* The cell's folders, for cell_path(). */
enum cell_dir {
	CELL_STATE,	/* audit.jsonl, logs, overlays, keys: the owner only */
	CELL_RUN,	/* lock, status.json: the owner only */
	CELL_SOCK,	/* RUN/s: QMP, serial, VNC, network sockets; owned by
			 * the user QEMU and the helpers run as */
};

struct cell {
	char name[33];
	char state_dir[PATH_MAX];
	char run_dir[PATH_MAX];
	char sock_dir[PATH_MAX];
	int lock_fd;			/* held for the supervisor's lifetime */
};

/**
 * cell_init() - compute a cell's folders (nothing is created)
 * @c:		output
 * @name:	valid cell name
 * @e:		error
 *
 * Return: 0 or -errno
 */
int cell_init(struct cell *c, const char *name, struct err *e);

/**
 * cell_path() - a file in one of the cell's folders
 * @c:		cell
 * @dir:	which folder
 * @file:	file name
 * @out:	output, PATH_MAX
 */
void cell_path(const struct cell *c, enum cell_dir dir, const char *file,
	       char out[static PATH_MAX]);

/**
 * cell_lock() - create the folders and take the cell's lock
 * @c:		cell
 * @sock_uid:	owner of the socket folder (the unprivileged user when root)
 * @sock_gid:	its group
 * @stale:	output: number of files a dead supervisor left, now removed
 * @e:		error; -EBUSY if another supervisor runs the cell
 *
 * Return: 0 or -errno
 */
int cell_lock(struct cell *c, uid_t sock_uid, gid_t sock_gid, int *stale,
	      struct err *e);

/**
 * cell_running() - is a supervisor holding this cell's lock?
 * @c:		cell
 * @pid:	output: its pid if running (from the status file)
 *
 * Return: true if running
 */
bool cell_running(const struct cell *c, pid_t *pid);

/**
 * cell_status_write() - replace status.json atomically
 * @c:		cell
 * @st:		status object (not stolen)
 *
 * Return: 0 or -errno
 */
int cell_status_write(const struct cell *c, json_t *st);

/**
 * cell_status_read() - the cell's status.json
 * @c:		cell
 *
 * Return: object (caller decrefs) or NULL
 */
json_t *cell_status_read(const struct cell *c);

/**
 * cell_clean_run_dir() - remove the sockets and status a dead supervisor left
 * @c:		cell (lock held)
 *
 * Return: number of stale files removed
 */
int cell_clean_run_dir(const struct cell *c);

#endif /* WALLOFF_CELL_H */
