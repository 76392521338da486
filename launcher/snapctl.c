/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapctl.c - live snapshots: the supervisor's control socket and its client
 *
 * QEMU serves one QMP client, and that is the supervisor. So `walloff
 * snapshot` on a running cell does not speak QMP itself: it sends one JSON
 * line to RUN/control.sock, a socket the supervisor serves, and reads one
 * JSON line back. The supervisor runs the request as a QMP snapshot job on
 * its own connection and audits it, so there is one QMP client and one
 * place where snapshots are audited.
 *
 *   request   {"op": "create"|"revert"|"delete"|"list", "tag": "s1",
 *              "why": "keep"|"max-age" (delete by prune), "timeout": 120}
 *   reply     {"ok": true, "snapshots": [...], "keep": N, "max_age": S
 *              (list: the profile's retention)} or
 *             {"ok": false, "code": "busy"|"ephemeral"|"timeout"|"failed"|
 *              "bad-request", "error": "..."}
 *
 * Who can connect: the socket is created 0600 by the supervisor's user in
 * the run folder, which the cell's user (QEMU, helpers) cannot write; the
 * peer's SO_PEERCRED uid must also be root or the supervisor's own. A
 * compromised QEMU therefore cannot ask for a snapshot or a revert.
 *
 * Jobs (create = snapshot-save, revert = snapshot-load, delete =
 * snapshot-delete) end with their JOB_STATUS_CHANGE "concluded" event, fed
 * in through snapctl_event(): query-jobs for its error, job-dismiss, for a
 * revert `cont` if the guest ran before, then the audit record and the
 * reply. QEMU 7.2 does a job's work in its main loop, usually before it
 * even answers the command, and says nothing meanwhile; so the command's
 * reply is awaited with the job's deadline (the supervisor's loop waits
 * too: signals stay queued in the signalfd), and the event mostly arrives
 * within that same call. Each job covers two nodes: the overlay (the disk) and the memory
 * image (snapmem.c: LUKS with the disk's key), which gets the RAM
 * (vmstate); so memory is encrypted with the disk's key and erased with
 * it. A snapshot is listed by the overlay, with the memory state's size
 * from the memory image (0: a disk-only snapshot taken while stopped).
 *
 * One job at a time: while one runs (or one that timed out has not yet
 * concluded in QEMU), other requests get "busy". Each job has a deadline
 * (the command's and a timerfd's): past it the client gets "timeout", the
 * failure is audited and the cell keeps running; a job that concludes
 * later is dismissed and audited then. If QEMU has not even answered the
 * command by the deadline, the command is abandoned, not the connection
 * (qmp_execute_abandon()): its late reply is dropped when it comes, and
 * the cell can still be stopped gracefully.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp.h"
#include "snapctl.h"

/* A root client has this long to send its request, and to take the reply:
 * the supervisor's loop waits for nobody longer. */
#define CLIENT_IO_TIMEOUT_MS	2000
/* QMP commands around a job (not the job): QEMU answers in milliseconds. */
#define CTL_QMP_TIMEOUT_MS	10000
/* The client waits this much longer than the job's own deadline, so it
 * hears the supervisor's "timeout" instead of guessing. */
#define CLIENT_MARGIN_S		15
/* Pending connections: requests come from one admin at a time. */
#define CTL_BACKLOG		4

static const char *const op_names[] = {
	[SNAPCTL_LIST] = "list", [SNAPCTL_CREATE] = "create",
	[SNAPCTL_REVERT] = "revert", [SNAPCTL_DELETE] = "delete",
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool snapctl_tag_ok(const char *n)
{
	size_t len = strlen(n);

	if (!len || len > SNAPCTL_TAG_MAX || n[0] == '-')
		return false;
	return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") == len;
}

int snapctl_parse(const char *buf, size_t len, struct snapctl_req *req,
		  struct err *e)
{
	const char *key, *op, *s;
	json_t *j, *v;
	size_t i;
	int ret = -EINVAL;

	memset(req, 0, sizeof(*req));
	req->timeout_s = SNAPCTL_TIMEOUT_DEFAULT_S;
	if (len > SNAPCTL_REQ_MAX)
		return err_set(e, EMSGSIZE, "request longer than %d bytes",
			       SNAPCTL_REQ_MAX);
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		err_set(e, EINVAL, "request is not a JSON object");
		goto out;
	}
	json_object_foreach(j, key, v) {
		if (strcmp(key, "op") && strcmp(key, "tag") &&
		    strcmp(key, "why") && strcmp(key, "timeout")) {
			err_set(e, EINVAL, "unknown request member");
			goto out;
		}
	}
	op = json_string_value(json_object_get(j, "op"));
	for (i = 0; op && i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (!strcmp(op, op_names[i]))
			break;
	if (!op || i == sizeof(op_names) / sizeof(op_names[0])) {
		err_set(e, EINVAL, "bad or missing op");
		goto out;
	}
	req->op = (enum snapctl_op)i;
	v = json_object_get(j, "tag");
	s = json_string_value(v);
	if ((v && (!s || !snapctl_tag_ok(s))) ||
	    (req->op == SNAPCTL_LIST) != !v) {
		err_set(e, EINVAL, "bad or missing tag");
		goto out;
	}
	if (s)
		strcpy(req->tag, s);
	v = json_object_get(j, "why");
	s = json_string_value(v);
	if (v && (req->op != SNAPCTL_DELETE || !s ||
		  (strcmp(s, "keep") && strcmp(s, "max-age")))) {
		err_set(e, EINVAL, "bad why");
		goto out;
	}
	if (s)
		strcpy(req->why, s);
	v = json_object_get(j, "timeout");
	if (v) {
		json_int_t t = json_integer_value(v);

		if (!json_is_integer(v) || t < 1 || t > SNAPCTL_TIMEOUT_MAX_S) {
			err_set(e, EINVAL, "bad timeout");
			goto out;
		}
		req->timeout_s = (unsigned)t;
	}
	ret = 0;
out:
	json_decref(j);
	return ret;
}

/* Send one reply line and close; a client that does not read loses it. */
static void reply_close(int fd, json_t *r)
{
	char *line = json_dumps(r, JSON_COMPACT);
	size_t len, off = 0;
	ssize_t n;

	json_decref(r);
	if (line) {
		len = strlen(line);
		line[len++] = '\n';	/* replaces the NUL: sent with len */
		while (off < len) {
			n = send(fd, line + off, len - off, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		free(line);
	}
	close(fd);
}

static void reply_error(int fd, const char *code, const char *msg)
{
	reply_close(fd, json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code,
				  "error", msg));
}

static void disarm(struct snapctl *s)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	timerfd_settime(s->tfd, 0, &its, NULL);
}

/* The audit record of a request; "snapshot.create" etc. */
static void audit_req(struct snapctl *s, const struct snapctl_req *r,
		      uid_t peer, bool job, const char *result,
		      const char *error, json_t *extra)
{
	char ev[32];
	json_t *d;

	snprintf(ev, sizeof(ev), "snapshot.%s", op_names[r->op]);
	d = json_pack("{s:s, s:b, s:b, s:s, s:i}", "tag", r->tag, "live", 1,
		      "vmstate", r->op == SNAPCTL_CREATE ||
		      r->op == SNAPCTL_REVERT, "result", result, "uid",
		      (int)peer);
	if (!d)
		return;
	if (error)
		json_object_set_new(d, "error", json_string(error));
	if (r->why[0])
		json_object_set_new(d, "why", json_string(r->why));
	if (job) {
		json_object_set_new(d, "job", json_string(s->job));
		json_object_set_new(d, "ms", json_integer(now_ms() -
							  s->started_ms));
	}
	if (extra)
		json_object_update(d, extra);
	json_decref(extra);
	s->audit(s->ctx, ev, d);
}

/* The job ended (or timed out): audit, answer the client, free the slot. */
static void finish(struct snapctl *s, const char *result, const char *error,
		   json_t *extra)
{
	bool late = s->timed_out;

	audit_req(s, &s->req, s->peer, true, late ? (error ? "failed-after-timeout" :
				 "ok-after-timeout") : result, error, extra);
	if (s->cfd >= 0) {
		if (!strcmp(result, "ok") || !strcmp(result, "already-gone"))
			reply_close(s->cfd, json_pack("{s:b}", "ok", 1));
		else
			reply_error(s->cfd, result, error ? error : result);
		s->cfd = -1;
	}
	disarm(s);
	if (!strcmp(result, "timeout")) {
		s->timed_out = true;	/* the slot stays taken until QEMU's
					 * job concludes */
		return;
	}
	s->busy = false;
	s->timed_out = false;
	s->job[0] = '\0';
}

/* query-jobs: did our job fail? Return: 0 ok, -EREMOTEIO with the job's
 * error in @e, or another -errno. */
static int job_error(struct snapctl *s, struct err *e)
{
	json_t *jobs = NULL, *j;
	const char *id, *msg;
	size_t i;
	int ret;

	ret = qmp_execute(s->qmp, "query-jobs", NULL, CTL_QMP_TIMEOUT_MS,
			  &jobs, e);
	if (ret)
		return ret;
	ret = err_set(e, EPROTO, "job %s not listed by query-jobs", s->job);
	json_array_foreach(jobs, i, j) {
		id = json_string_value(json_object_get(j, "id"));
		if (!id || strcmp(id, s->job))
			continue;
		msg = json_string_value(json_object_get(j, "error"));
		ret = msg ? err_set(e, EREMOTEIO, "%.400s", msg) : 0;
		break;
	}
	json_decref(jobs);
	return ret;
}

static void concluded(struct snapctl *s)
{
	struct qmp_status st;
	bool resumed = false;
	struct err e, de;
	int r;

	err_clear(&e);
	r = job_error(s, &e);
	if (qmp_execute(s->qmp, "job-dismiss",
			json_pack("{s:s}", "id", s->job), CTL_QMP_TIMEOUT_MS,
			NULL, &de) && !r) {
		r = -EIO;
		e = de;
	}
	/* snapshot-load stops the guest to load it; a guest that ran must
	 * run again, whether the load worked or not. */
	if (s->req.op == SNAPCTL_REVERT && s->was_running &&
	    !qmp_query_status(s->qmp, &st, &de) && !st.running) {
		resumed = !qmp_cont(s->qmp, &de);
		if (!resumed && !r) {
			r = -EIO;
			e = de;
		}
	}
	finish(s, r ? "failed" : "ok", r ? e.msg : NULL,
	       s->req.op == SNAPCTL_REVERT ?
	       json_pack("{s:b}", "resumed", resumed) : NULL);
}

void snapctl_event(struct snapctl *s, const char *name, json_t *event)
{
	json_t *data = json_object_get(event, "data");
	const char *id = json_string_value(json_object_get(data, "id"));
	const char *st = json_string_value(json_object_get(data, "status"));

	if (!s->busy || !s->job[0] || !name || !id || !st ||
	    strcmp(name, "JOB_STATUS_CHANGE") || strcmp(id, s->job) ||
	    strcmp(st, "concluded"))
		return;
	concluded(s);
}

/* The "snapshots" of block node @node in a query-named-block-nodes reply. */
static json_t *node_snaps(json_t *nodes, const char *node)
{
	const char *name;
	json_t *n;
	size_t i;

	json_array_foreach(nodes, i, n) {
		name = json_string_value(json_object_get(n, "node-name"));
		if (node && name && !strcmp(name, node))
			return json_object_get(json_object_get(n, "image"),
					       "snapshots");
	}
	return NULL;
}

/* Bytes of memory state snapshot @tag holds in @snaps, 0 if none. */
static json_int_t vm_state(json_t *snaps, const char *tag)
{
	const char *name;
	json_t *x;
	size_t i;

	json_array_foreach(snaps, i, x) {
		name = json_string_value(json_object_get(x, "name"));
		if (name && !strcmp(name, tag))
			return json_integer_value(json_object_get(
				x, "vm-state-size"));
	}
	return 0;
}

/* query-named-block-nodes: the overlay node's snapshots, with the size of
 * the memory state each carries (0 for a disk-only snapshot). */
static void do_list(struct snapctl *s, int fd, const struct snapctl_req *r,
		    uid_t peer)
{
	json_t *nodes = NULL, *snaps, *mem, *x, *out;
	size_t i;
	struct err e;
	const char *name;

	if (qmp_execute(s->qmp, "query-named-block-nodes",
			json_pack("{s:b}", "flat", 1), CTL_QMP_TIMEOUT_MS,
			&nodes, &e)) {
		audit_req(s, r, peer, false, "failed", e.msg, NULL);
		reply_error(fd, "failed", e.msg);
		return;
	}
	snaps = node_snaps(nodes, s->node);
	mem = node_snaps(nodes, s->mem);
	out = json_array();
	json_array_foreach(snaps, i, x) {
		name = json_string_value(json_object_get(x, "name"));
		if (!name || !snapctl_tag_ok(name) ||
		    json_array_size(out) >= SNAPCTL_LIST_MAX)
			continue;
		json_array_append_new(out, json_pack(
			"{s:s, s:I, s:I}", "name", name, "date",
			json_integer_value(json_object_get(x, "date-sec")),
			"vm_state_size", vm_state(mem, name)));
	}
	json_decref(nodes);
	audit_req(s, r, peer, false, "ok", NULL, NULL);
	reply_close(fd, json_pack("{s:b, s:o, s:i, s:I}", "ok", 1, "snapshots",
				  out, "keep", (int)s->keep, "max_age",
				  (json_int_t)s->max_age_s));
}

/* Does either node hold snapshot @tag? Return: 1 yes, 0 no, -errno. */
static int tag_exists(struct snapctl *s, const char *tag, struct err *e)
{
	json_t *nodes = NULL, *x;
	const char *node[2] = { s->node, s->mem }, *name;
	size_t i, k;
	int found = 0;

	if (qmp_execute(s->qmp, "query-named-block-nodes",
			json_pack("{s:b}", "flat", 1), CTL_QMP_TIMEOUT_MS,
			&nodes, e))
		return -EIO;
	for (k = 0; k < 2 && !found; k++)
		json_array_foreach(node_snaps(nodes, node[k]), i, x) {
			name = json_string_value(json_object_get(x, "name"));
			if (name && !strcmp(name, tag))
				found = 1;
		}
	json_decref(nodes);
	return found;
}

static void start_job(struct snapctl *s, int fd, const struct snapctl_req *r)
{
	static const char *const cmd[] = {
		[SNAPCTL_CREATE] = "snapshot-save",
		[SNAPCTL_REVERT] = "snapshot-load",
		[SNAPCTL_DELETE] = "snapshot-delete",
	};
	struct itimerspec its = { .it_value = { .tv_sec = r->timeout_s } };
	struct qmp_status st;
	json_t *args;
	struct err e;
	int r2;

	s->busy = true;
	s->timed_out = false;
	s->req = *r;
	s->cfd = fd;
	s->started_ms = now_ms();
	snprintf(s->job, sizeof(s->job), "walloff-snap-%u", ++s->seq);
	/* QEMU deletes a tag nobody has without complaint: say so. */
	if (r->op == SNAPCTL_DELETE) {
		int have = tag_exists(s, r->tag, &e);

		/* Retention from two clients may race for the same tag:
		 * gone is what it wanted. */
		if (have == 0 && r->why[0]) {
			finish(s, "already-gone", NULL, NULL);
			return;
		}
		if (have != 1) {
			finish(s, "failed", have ? e.msg : "no such snapshot",
			       NULL);
			return;
		}
	}
	audit_req(s, r, s->peer, true, "started", NULL, NULL);
	s->was_running = r->op == SNAPCTL_REVERT &&
			 !qmp_query_status(s->qmp, &st, &e) && st.running;
	args = json_pack("{s:s, s:s, s:[s, s]}", "job-id", s->job, "tag",
			 r->tag, "devices", s->node, s->mem);
	if (args && r->op != SNAPCTL_DELETE)
		json_object_set_new(args, "vmstate", json_string(s->mem));
	/*
	 * QEMU 7.2 runs the job's work (save_snapshot/load_snapshot) in a
	 * main-loop bottom half that may run before the command's reply is
	 * sent, and its monitor is silent meanwhile: so the reply is awaited
	 * with the job's own deadline. The job usually concludes within this
	 * call: its event then reaches snapctl_event() before the command
	 * returns, and finishes it. Past the deadline the command is
	 * abandoned and the connection kept.
	 */
	timerfd_settime(s->tfd, 0, &its, NULL);
	r2 = qmp_execute_abandon(s->qmp, cmd[r->op], args,
				 (int)r->timeout_s * 1000, NULL, &e);
	if (r2 && s->busy)
		finish(s, r2 == -ETIMEDOUT ? "timeout" : "failed", e.msg, NULL);
}

static void on_timeout(struct snapctl *s)
{
	uint64_t ticks;
	char msg[128];

	if (read(s->tfd, &ticks, sizeof(ticks)) < 0) {
		/* spurious wake-up: nothing expired */
	}
	if (!s->busy || s->timed_out)
		return;
	snprintf(msg, sizeof(msg), "job %s did not conclude within %us; the "
		 "cell keeps running", s->job, s->req.timeout_s);
	finish(s, "timeout", msg, NULL);
}

/* Read one request line, bounded in size and time. */
static int read_req(int fd, struct snapctl_req *r, struct err *e)
{
	char buf[SNAPCTL_REQ_MAX + 1];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf)) {
		n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(e, EIO, "no request");
		if (memchr(buf + len, '\n', (size_t)n)) {
			len += (size_t)n;
			return snapctl_parse(buf, (size_t)((char *)memchr(
					     buf, '\n', len) - buf), r, e);
		}
		len += (size_t)n;
	}
	return err_set(e, EMSGSIZE, "request too long");
}

static void on_connect(struct snapctl *s)
{
	struct timeval tv = { .tv_sec = CLIENT_IO_TIMEOUT_MS / 1000,
			      .tv_usec = (CLIENT_IO_TIMEOUT_MS % 1000) * 1000 };
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct snapctl_req r;
	struct err e;
	int fd;

	fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		s->audit(s->ctx, "snapshot.denied", json_pack(
			"{s:i}", "uid", cl == sizeof(cred) ? (int)cred.uid : -1));
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	err_clear(&e);
	if (read_req(fd, &r, &e)) {
		reply_error(fd, "bad-request", e.msg);
		return;
	}
	if (s->busy) {
		audit_req(s, &r, cred.uid, false, "busy", "another snapshot job runs",
			  NULL);
		reply_error(fd, "busy", "another snapshot operation on this "
			    "cell has not finished");
		return;
	}
	if (!s->persistent) {
		audit_req(s, &r, cred.uid, false, "refused", "ephemeral disk", NULL);
		reply_error(fd, "ephemeral", "the cell's disk is ephemeral: "
			    "nothing is kept, so there is nothing to snapshot");
		return;
	}
	if (r.op == SNAPCTL_LIST) {
		do_list(s, fd, &r, cred.uid);
		return;
	}
	if (!s->mem) {
		audit_req(s, &r, cred.uid, false, "failed", "no memory image",
			  NULL);
		reply_error(fd, "failed", "the cell started without its memory "
			    "image (see the audit log): stop it to snapshot");
		return;
	}
	s->peer = cred.uid;
	start_job(s, fd, &r);
}

int snapctl_open(struct snapctl *s, const char *path, struct qmp *q,
		 const char *node, const char *mem, bool persistent,
		 snapctl_audit_fn *audit, void *ctx, struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int r;

	memset(s, 0, sizeof(*s));
	s->lfd = s->cfd = s->tfd = -1;
	_Static_assert(sizeof(s->path) >= sizeof(sa.sun_path),
		       "a socket path that fits sun_path fits s->path");
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, ENAMETOOLONG, "%s: name too long", path);
	strcpy(sa.sun_path, path);
	strcpy(s->path, path);
	s->qmp = q;
	s->node = node;
	s->mem = mem;
	s->persistent = persistent;
	s->audit = audit;
	s->ctx = ctx;
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->tfd < 0 || s->lfd < 0) {
		r = err_set(e, errno, "control socket: %s", strerror(errno));
		goto fail;
	}
	unlink(path);	/* a dead supervisor's; the lock says we are alone */
	old = umask(0177);
	r = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || chmod(path, 0600) || listen(s->lfd, CTL_BACKLOG)) {
		r = err_set(e, errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	snapctl_close(s);
	return r;
}

void snapctl_pollfds(const struct snapctl *s, struct pollfd pfd[static 2])
{
	pfd[0] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = s->lfd >= 0 ? s->tfd : -1,
				  .events = POLLIN };
}

void snapctl_ready(struct snapctl *s, const struct pollfd pfd[static 2])
{
	if (s->lfd < 0)
		return;
	if (pfd[1].revents)
		on_timeout(s);
	if (pfd[0].revents)
		on_connect(s);
}

void snapctl_close(struct snapctl *s)
{
	if (s->cfd >= 0) {
		reply_error(s->cfd, "failed", "the cell stopped");
		s->cfd = -1;
	}
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->path);
	}
	if (s->tfd >= 0)
		close(s->tfd);
	s->lfd = s->tfd = -1;
	s->busy = false;
}

int snapctl_call(const char *path, const struct snapctl_req *req,
		 json_t **reply, struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *line = NULL, *buf = NULL;
	int64_t deadline;
	size_t len = 0, off = 0;
	json_t *rq;
	ssize_t n;
	int fd = -1, ret;

	*reply = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, ENAMETOOLONG, "%s: name too long", path);
	strcpy(sa.sun_path, path);
	rq = json_pack("{s:s, s:i}", "op", op_names[req->op], "timeout",
		       (int)req->timeout_s);
	if (rq && req->tag[0])
		json_object_set_new(rq, "tag", json_string(req->tag));
	if (rq && req->why[0])
		json_object_set_new(rq, "why", json_string(req->why));
	line = rq ? json_dumps(rq, JSON_COMPACT) : NULL;
	json_decref(rq);
	buf = malloc(SNAPCTL_REPLY_MAX + 1);
	if (!line || !buf) {
		ret = err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = err_set(e, errno, "the supervisor's control socket %s: %s",
			      path, strerror(errno));
		goto out;
	}
	len = strlen(line);
	line[len++] = '\n';
	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = err_set(e, EIO, "sending the request: %s",
				      strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	deadline = now_ms() + (int64_t)(req->timeout_s + CLIENT_MARGIN_S) * 1000;
	len = 0;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			ret = err_set(e, ETIMEDOUT, "no answer from the "
				      "supervisor in %us", req->timeout_s +
				      CLIENT_MARGIN_S);
			goto out;
		}
		n = recv(fd, buf + len, SNAPCTL_REPLY_MAX - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || len + (size_t)n >= SNAPCTL_REPLY_MAX)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	*reply = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(*reply) ||
	    !json_is_boolean(json_object_get(*reply, "ok"))) {
		json_decref(*reply);
		*reply = NULL;
		ret = err_set(e, EPROTO, "the supervisor gave no valid answer "
			      "(did the cell stop?)");
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(line);
	return ret;
}
