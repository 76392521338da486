/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapctl.h - the supervisor's snapshot control socket: live snapshots of a
 * running cell through QMP snapshot jobs (snapctl.c)
 */
#ifndef WALLOFF_SNAPCTL_H
#define WALLOFF_SNAPCTL_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "err.h"

struct qmp;

/* The socket, in the cell's run folder (root- or owner-only). */
#define SNAPCTL_SOCK		"control.sock"
/* Snapshot names: qcow2 allows long ones; ours are short, shell- and
 * log-safe. */
#define SNAPCTL_TAG_MAX		64
/* One request line; requests are a few dozen bytes. */
#define SNAPCTL_REQ_MAX		512
/* One reply line: a list of SNAPCTL_LIST_MAX snapshots at ~120 bytes. */
#define SNAPCTL_REPLY_MAX	(256 * 1024)
/* Most snapshots listed; more than this is not a retention plan. */
#define SNAPCTL_LIST_MAX	1000
/* Default and largest bound on one snapshot job. Saving the RAM of an
 * XP-era guest (512 MiB) into a LUKS qcow2 takes seconds; a job that has
 * not concluded after minutes is stuck. */
#define SNAPCTL_TIMEOUT_DEFAULT_S	120
#define SNAPCTL_TIMEOUT_MAX_S		3600

enum snapctl_op { SNAPCTL_LIST, SNAPCTL_CREATE, SNAPCTL_REVERT,
		  SNAPCTL_DELETE };

struct snapctl_req {
	enum snapctl_op op;
	char tag[SNAPCTL_TAG_MAX + 1];	/* "" for list */
	char why[16];			/* delete: "", "keep" or "max-age" */
	unsigned timeout_s;		/* 1..SNAPCTL_TIMEOUT_MAX_S */
};

typedef void snapctl_audit_fn(void *ctx, const char *event, json_t *details);

/* The server's state; embedded in the supervisor's. */
struct snapctl {
	int lfd;			/* listening socket, -1 when closed */
	int cfd;			/* client waiting for the job, or -1 */
	int tfd;			/* the job's deadline (timerfd) */
	struct qmp *qmp;
	const char *node;		/* the overlay's block node */
	const char *mem;		/* the memory image's node, or NULL */
	bool persistent;
	unsigned keep;			/* the profile's [snapshots], told to */
	uint64_t max_age_s;		/* clients with every list */
	snapctl_audit_fn *audit;
	void *ctx;
	char path[4096];
	/* The job in flight: at most one at a time. */
	bool busy;
	bool timed_out;			/* client answered; job still runs */
	bool was_running;		/* revert: resume the guest after */
	struct snapctl_req req;
	char job[32];
	unsigned seq;
	int64_t started_ms;
	uid_t peer;
};

/**
 * snapctl_tag_ok() - is @tag an acceptable snapshot name?
 * @tag:	name
 *
 * Return: true for 1..SNAPCTL_TAG_MAX of [A-Za-z0-9._-], not starting
 * with '-'
 */
bool snapctl_tag_ok(const char *tag);

/**
 * snapctl_parse() - parse one request line (bounded, strict)
 * @buf:	bytes received
 * @len:	their number
 * @req:	output
 * @e:		error
 *
 * Return: 0 or -EINVAL / -EMSGSIZE
 */
int snapctl_parse(const char *buf, size_t len, struct snapctl_req *req,
		  struct err *e);

/**
 * snapctl_open() - create the control socket and start serving
 * @s:		state, filled
 * @path:	socket path (RUN/control.sock)
 * @q:		the supervisor's QMP connection (used for the jobs)
 * @node:	block node of the encrypted overlay ("disk0")
 * @mem:	block node of the memory image ("mem0", snapmem.c), which
 *		receives the memory states; NULL: live snapshots are refused
 * @persistent:	the cell has a persistent disk; else every request is
 *		refused (an ephemeral cell has nothing to keep)
 * @audit:	audit callback, @ctx its first argument
 * @ctx:	context
 * @e:		error
 *
 * Only the supervisor's user (or root) can connect: the socket is 0600 in
 * a folder the cell's user cannot write, and each peer's SO_PEERCRED uid
 * is checked.
 *
 * Return: 0 or -errno
 */
int snapctl_open(struct snapctl *s, const char *path, struct qmp *q,
		 const char *node, const char *mem, bool persistent,
		 snapctl_audit_fn *audit, void *ctx, struct err *e);

/**
 * snapctl_pollfds() - the descriptors to poll for POLLIN
 * @s:		state (may be closed: fds are then -1)
 * @pfd:	two entries, filled
 */
void snapctl_pollfds(const struct snapctl *s, struct pollfd pfd[static 2]);

/**
 * snapctl_ready() - handle what poll() reported on snapctl_pollfds()
 * @s:		state
 * @pfd:	the two entries after poll()
 */
void snapctl_ready(struct snapctl *s, const struct pollfd pfd[static 2]);

/**
 * snapctl_event() - feed a QMP event (the job's JOB_STATUS_CHANGE)
 * @s:		state
 * @name:	event name
 * @event:	the event object (borrowed)
 */
void snapctl_event(struct snapctl *s, const char *name, json_t *event);

/**
 * snapctl_close() - stop serving; a waiting client gets an error
 * @s:		state
 */
void snapctl_close(struct snapctl *s);

/**
 * snapctl_call() - the client: send one request to a running cell's
 * supervisor and wait for its reply
 * @path:	socket path
 * @req:	request
 * @reply:	output: the reply object (caller decrefs)
 * @e:		error (connection, timeout, malformed reply)
 *
 * Return: 0 (the reply may still say "ok": false) or -errno
 */
int snapctl_call(const char *path, const struct snapctl_req *req,
		 json_t **reply, struct err *e);

#endif /* WALLOFF_SNAPCTL_H */
