/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_status.c - `walloff status [--json]`: the running cells
 *
 * Lists every cell folder under the run base. A folder whose lock is held is
 * a running cell: its status.json gives pids, start time and state. A folder
 * whose lock is free belongs to a dead supervisor: its stale sockets and
 * status are removed here and it is reported as "stale (cleaned)".
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cell.h"
#include "cmds.h"
#include "dirs.h"
#include "profile.h"

/* walloff-net's counters: one JSON line from its stats socket, bounded. */
static json_t *net_stats(const struct cell *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 1 };
	char path[PATH_MAX], buf[4096];
	size_t n = 0;
	ssize_t r;
	int fd;

	cell_path(c, CELL_SOCK, "net-stats.sock", path);
	if (strlen(path) >= sizeof(sa.sun_path))
		return NULL;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return NULL;
	}
	while (n < sizeof(buf) - 1 &&
	       (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = '\0';
	return json_loads(buf, JSON_REJECT_DUPLICATES, NULL);
}

static void uptime(char *buf, size_t len, time_t started)
{
	long s = (long)(time(NULL) - started);

	if (s < 0)
		s = 0;
	snprintf(buf, len, "%ldd%02ldh%02ldm%02lds", s / 86400, s / 3600 % 24,
		 s / 60 % 60, s % 60);
}

int cmd_status(int argc, char *argv[])
{
	char base[PATH_MAX], up[32];
	bool json = false, any = false;
	json_t *all = json_array();
	struct dirent *de;
	struct err e;
	DIR *d;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help")) {
			printf("usage: walloff status [--json]\n"
			       "Lists running cells: name, supervisor pid, QEMU pid, uptime,\n"
			       "state. Cleans state left by crashed supervisors.\n");
			json_decref(all);
			return 0;
		} else {
			fprintf(stderr, "usage: walloff status [--json]\n");
			json_decref(all);
			return 2;
		}
	}
	if (dirs_run_base(base, sizeof(base), &e)) {
		fprintf(stderr, "walloff status: %s\n", e.msg);
		json_decref(all);
		return 1;
	}
	d = opendir(base);
	if (!json)
		printf("%-32s %8s %8s %14s %s\n", "CELL", "PID", "QEMU", "UPTIME",
		       "STATE");
	while (d && (de = readdir(d))) {
		struct cell c;
		json_t *st, *net;
		pid_t pid;

		if (!profile_name_valid(de->d_name) ||
		    cell_init(&c, de->d_name, &e))
			continue;
		if (!cell_running(&c, &pid)) {
			char lock[PATH_MAX];
			int fd;

			/* Take the lock while cleaning so a starting cell
			 * is never cleaned under its feet. */
			cell_path(&c, CELL_RUN, "lock", lock);
			fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
			if (fd >= 0 && !flock(fd, LOCK_EX | LOCK_NB) &&
			    cell_clean_run_dir(&c) > 0) {
				if (json)
					json_array_append_new(all, json_pack(
						"{s:s, s:s}", "cell", c.name,
						"state", "stale-cleaned"));
				else
					printf("%-32s %8s %8s %14s %s\n", c.name,
					       "-", "-", "-", "stale (cleaned)");
			}
			if (fd >= 0)
				close(fd);
			continue;
		}
		any = true;
		st = cell_status_read(&c);
		uptime(up, sizeof(up),
		       (time_t)json_integer_value(json_object_get(st, "started")));
		net = net_stats(&c);
		if (json) {
			json_t *o = st ? json_incref(st) : json_object();

			json_object_set_new(o, "cell", json_string(c.name));
			json_object_set_new(o, "uptime", json_string(up));
			if (net)
				json_object_set(o, "net", net);
			json_array_append_new(all, o);
		} else {
			printf("%-32s %8d %8d %14s %s", c.name, (int)pid,
			       (int)json_integer_value(json_object_get(st, "qemu_pid")),
			       up,
			       json_string_value(json_object_get(st, "state")) ?
			       json_string_value(json_object_get(st, "state")) : "?");
			/* diskfull: why a cell is paused (supervisor.c) */
			if (json_string_value(json_object_get(st, "reason")))
				printf(" (%s)", json_string_value(
					       json_object_get(st, "reason")));
			if (net)
				printf("  net: %lld allowed, %lld denied",
				       (long long)json_integer_value(json_object_get(net, "allowed")),
				       (long long)json_integer_value(json_object_get(net, "denied")));
			printf("\n");
		}
		json_decref(net);
		json_decref(st);
	}
	if (d)
		closedir(d);
	if (json) {
		char *s = json_dumps(all, JSON_INDENT(2));

		printf("%s\n", s ? s : "[]");
		free(s);
	} else if (!any) {
		printf("(no running cells)\n");
	}
	json_decref(all);
	return 0;
}
