/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dirs.c - state and run folder resolution, see dirs.h for the rules
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "dirs.h"

/* out = a + b + c, refusing truncation */
static int put(char *out, size_t len, struct err *e, const char *a,
	       const char *b, const char *c)
{
	int n = snprintf(out, len, "%s%s%s", a, b, c);

	if (n < 0 || (size_t)n >= len)
		return err_set(e, ENAMETOOLONG, "folder name too long");
	return 0;
}

int dirs_state_base(char *out, size_t len, struct err *e)
{
	const char *v;

	if ((v = getenv("WALLOFF_STATE_DIR")) && *v)
		return put(out, len, e, "", v, "");
	if (geteuid() == 0)
		return put(out, len, e, "", "/var/lib/walloff", "");
	if ((v = getenv("XDG_STATE_HOME")) && *v == '/')
		return put(out, len, e, "", v, "/walloff");
	if ((v = getenv("HOME")) && *v == '/')
		return put(out, len, e, "", v, "/.local/state/walloff");
	return err_set(e, ENOENT, "no state folder: set WALLOFF_STATE_DIR or HOME");
}

int dirs_run_base(char *out, size_t len, struct err *e)
{
	const char *v;
	char uid[24];

	if ((v = getenv("WALLOFF_RUN_DIR")) && *v)
		return put(out, len, e, "", v, "");
	if (geteuid() == 0)
		return put(out, len, e, "", "/run/walloff", "");
	if ((v = getenv("XDG_RUNTIME_DIR")) && *v == '/')
		return put(out, len, e, "", v, "/walloff");
	snprintf(uid, sizeof(uid), "%u", (unsigned)geteuid());
	return put(out, len, e, "", "/tmp/walloff-", uid);
}

int dirs_cell(const char *cell, char *state, char *run, size_t len,
	      struct err *e)
{
	char base[4096];
	struct sockaddr_un sa;
	int ret;

	if (state) {
		ret = dirs_state_base(base, sizeof(base), e);
		if (ret)
			return ret;
		ret = put(state, len, e, base, "/", cell);
		if (ret)
			return ret;
	}
	if (run) {
		ret = dirs_run_base(base, sizeof(base), e);
		if (ret)
			return ret;
		ret = put(run, len, e, base, "/", cell);
		if (ret)
			return ret;
		if (strlen(run) + 1 + DIRS_SOCKNAME_MAX >= sizeof(sa.sun_path))
			return err_set(e, ENAMETOOLONG,
				       "run folder %s is too long for unix sockets "
				       "(max %zu bytes); set WALLOFF_RUN_DIR to a "
				       "shorter path", run,
				       sizeof(sa.sun_path) - 2 - DIRS_SOCKNAME_MAX);
	}
	return 0;
}
