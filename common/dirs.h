/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dirs.h - where a cell keeps its state (audit log, keys, overlays) and its
 * runtime sockets
 *
 *   state: $WALLOFF_STATE_DIR, else /var/lib/walloff (root),
 *          else $XDG_STATE_HOME/walloff, else ~/.local/state/walloff
 *   run:   $WALLOFF_RUN_DIR, else /run/walloff (root),
 *          else $XDG_RUNTIME_DIR/walloff, else /tmp/walloff-UID
 *
 * The cell's folders are <base>/<cell>. Unix socket paths must fit in
 * sun_path (108 bytes), so the run base is kept short and checked.
 */
#ifndef WALLOFF_DIRS_H
#define WALLOFF_DIRS_H

#include <stddef.h>

#include "err.h"

/* Longest socket name we put in a run dir ("console.sock") plus slack. */
#define DIRS_SOCKNAME_MAX 16

/**
 * dirs_state_base() - base folder for all cells' state
 * @out:	output
 * @len:	size of @out
 * @e:		error
 *
 * Return: 0 or -errno
 */
int dirs_state_base(char *out, size_t len, struct err *e);

/**
 * dirs_run_base() - base folder for all cells' runtime folders
 * @out:	output
 * @len:	size of @out
 * @e:		error
 *
 * Return: 0 or -errno
 */
int dirs_run_base(char *out, size_t len, struct err *e);

/**
 * dirs_cell() - the state and run folders of one cell (not created)
 * @cell:	cell name (already validated: [a-z0-9-]{1,32})
 * @state:	output for the state folder, may be NULL
 * @run:	output for the run folder, may be NULL
 * @len:	size of each output
 * @e:		error
 *
 * Return: 0 or -errno (-ENAMETOOLONG if a socket path would not fit)
 */
int dirs_cell(const char *cell, char *state, char *run, size_t len,
	      struct err *e);

#endif /* WALLOFF_DIRS_H */
