/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qmp.c - QMP connection: handshake, commands, events, deadlines
 *
 * The socket is non-blocking. All reading goes through one loop,
 * qmp_pump(): poll until readable or the deadline, read() what is there (EINTR
 * retried, partial reads normal), feed the bytes to the bounded framer
 * (stream.c) and handle each message:
 *
 *   {"event": ...}              -> job watch (snapshots), then event queue
 *   {"return"|"error", "id": N} -> must be the one command in flight
 *   anything else               -> protocol error
 *
 * Commands are synchronous and one at a time: qmp_execute() sends
 * {"execute", "arguments", "id": N} with N counting up, then pumps until the
 * reply with id N arrives. A reply with any other id, or when no command is
 * in flight, is a protocol error: QEMU answers in order, so an unexpected id
 * means the peer is not the QEMU we talk to. Writes also poll with the
 * deadline and resume after partial writes (MSG_NOSIGNAL: a dead peer gives
 * EPIPE, not a signal); while a write waits, incoming messages are read and
 * handled, so neither side can block the other by writing.
 *
 * The event queue is a ring of at most max_events objects; when full the
 * oldest is dropped and counted, so memory stays bounded whatever QEMU
 * sends. Events are handed to the callback only at the end of a public call
 * (never in the middle of parsing), so a callback may issue commands.
 *
 * Any error except a QEMU error reply marks the connection broken: the
 * stream may have lost its framing or QEMU its mind, and we do not guess.
 * Later calls fail at once with -EPIPE and the first error's message.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp.h"
#include "qmp_internal.h"

/* Bytes read per read() call: one syscall for most messages. */
#define QMP_READ_CHUNK 16384
/* Pause between connect attempts while QEMU has not created its socket. */
#define QMP_CONNECT_RETRY_MS 20
/* Reads per qmp_dispatch() call (1 MiB): a peer that never stops writing
 * must not keep the caller's event loop from its other file descriptors. */
#define QMP_DISPATCH_MAX_READS 64

int64_t qmp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t qmp_deadline(int timeout_ms)
{
	if (timeout_ms <= 0)
		timeout_ms = QMP_TIMEOUT_DEFAULT_MS;
	return qmp_now_ms() + timeout_ms;
}

static int ms_left(int64_t deadline)
{
	int64_t left = deadline - qmp_now_ms();

	if (left <= 0)
		return 0;
	return left > 60 * 60 * 1000 ? 60 * 60 * 1000 : (int)left;
}

/* Record the first fatal error; later calls report it with -EPIPE. */
static int broken(struct qmp *q, int ret, struct err *e)
{
	if (!q->broken) {
		q->broken = true;
		snprintf(q->broken_msg, sizeof(q->broken_msg), "%s",
			 e && e->code ? e->msg : strerror(-ret));
	}
	return ret;
}

int qmp_check_usable(struct qmp *q, struct err *e)
{
	if (q->broken)
		return err_set(e, EPIPE, "QMP connection unusable after: %s",
			       q->broken_msg);
	return 0;
}

static void queue_event(struct qmp *q, json_t *ev)
{
	if (!q->max_events) {
		json_decref(ev);
		q->dropped++;
		return;
	}
	if (q->ev_len == q->max_events) {
		json_decref(q->evq[q->ev_head]);
		q->ev_head = (q->ev_head + 1) % q->max_events;
		q->ev_len--;
		q->dropped++;
	}
	q->evq[(q->ev_head + q->ev_len) % q->max_events] = ev;
	q->ev_len++;
}

json_t *qmp_event_pop(struct qmp *q)
{
	json_t *ev;

	if (!q->ev_len)
		return NULL;
	ev = q->evq[q->ev_head];
	q->ev_head = (q->ev_head + 1) % q->max_events;
	q->ev_len--;
	return ev;
}

unsigned long qmp_events_dropped(struct qmp *q)
{
	return q->dropped;
}

void qmp_set_event_cb(struct qmp *q, qmp_event_fn *cb, void *opaque)
{
	q->cb = cb;
	q->cb_opaque = opaque;
}

void qmp_deliver_events(struct qmp *q)
{
	json_t *ev;

	/* A callback that runs a command comes back here: the outer loop
	 * keeps delivering, in order. */
	if (!q->cb || q->delivering)
		return;
	q->delivering = true;
	while (q->cb && (ev = qmp_event_pop(q))) {
		q->cb(q->cb_opaque,
		      json_string_value(json_object_get(ev, "event")), ev);
		json_decref(ev);
	}
	q->delivering = false;
}

static void watch_job(struct qmp *q, json_t *ev)
{
	json_t *data = json_object_get(ev, "data");
	const char *id = json_string_value(json_object_get(data, "id"));
	const char *st = json_string_value(json_object_get(data, "status"));

	if (!q->watch_job[0] || !id || !st)
		return;
	if (strcmp(json_string_value(json_object_get(ev, "event")),
		   "JOB_STATUS_CHANGE"))
		return;
	if (!strcmp(id, q->watch_job) && !strcmp(st, "concluded"))
		q->watch_done = true;
}

/* One message from QEMU: event, reply to the command in flight, or error. */
static int handle_msg(struct qmp *q, json_t *msg, struct err *e)
{
	json_t *id = json_object_get(msg, "id");
	json_t *ev = json_object_get(msg, "event");

	/* The first message is the greeting, checked by read_greeting(). */
	if (!q->greeting) {
		q->greeting = msg;
		return 0;
	}
	if (ev) {
		if (!json_is_string(ev) || id)
			goto bad;
		watch_job(q, msg);
		queue_event(q, msg);
		return 0;
	}
	if (json_object_get(msg, "QMP")) {
		json_decref(msg);
		return err_set(e, EPROTO, "QMP greeting in mid-session");
	}
	if (!json_object_get(msg, "return") && !json_object_get(msg, "error"))
		goto bad;
	if (q->abandoned_id && json_is_integer(id) &&
	    json_integer_value(id) == q->abandoned_id) {
		/* the late answer to a command its caller gave up on */
		q->abandoned_id = 0;
		json_decref(msg);
		return 0;
	}
	if (!q->pending_id || !json_is_integer(id) ||
	    json_integer_value(id) != q->pending_id) {
		char *s = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);

		err_set(e, EPROTO, "QMP reply with unknown id %.64s",
			s ? s : "(none)");
		free(s);
		json_decref(msg);
		return -EPROTO;
	}
	q->reply = msg;
	q->pending_id = 0;
	return 0;
bad:
	json_decref(msg);
	return err_set(e, EPROTO, "QMP message is neither event nor reply");
}

/*
 * Read once (the socket was readable) and handle every complete message.
 * Return: 1 if bytes were read, 0 on EAGAIN, negative errno on error/EOF.
 */
static int read_some(struct qmp *q, struct err *e)
{
	char buf[QMP_READ_CHUNK];
	size_t off = 0, used;
	json_t *msg;
	ssize_t n;
	int ret;

	do
		n = read(q->fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return err_set(e, errno, "QMP read: %s", strerror(errno));
	}
	if (n == 0) {
		if (qmp_stream_pending(&q->in))
			return err_set(e, EBADMSG,
				       "QMP peer closed mid-message");
		return err_set(e, ECONNRESET, "QMP peer closed the connection");
	}
	while (off < (size_t)n) {
		ret = qmp_stream_feed(&q->in, buf + off, (size_t)n - off, &used,
				      &msg, e);
		if (ret < 0)
			return ret;
		off += used;
		if (ret == 1) {
			ret = handle_msg(q, msg, e);
			if (ret < 0)
				return ret;
		}
	}
	return 1;
}

/* qmp_pump() without marking the connection broken on failure. */
static int pump(struct qmp *q, int64_t deadline, bool (*done)(struct qmp *),
		struct err *e)
{
	struct pollfd pfd = {.fd = q->fd, .events = POLLIN};
	int ret;

	ret = qmp_check_usable(q, e);
	if (ret < 0)
		return ret;
	while (!done(q)) {
		/* Checked before poll: a peer flooding events keeps the socket
		 * readable forever, and must still hit the deadline. */
		if (qmp_now_ms() >= deadline) {
			ret = err_set(e, ETIMEDOUT,
				      "QMP peer silent past the timeout");
			goto out;
		}
		ret = poll(&pfd, 1, ms_left(deadline));
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			ret =
			    err_set(e, errno, "QMP poll: %s", strerror(errno));
			goto out;
		}
		if (ret == 0) {
			ret = err_set(e, ETIMEDOUT,
				      "QMP peer silent past the timeout");
			goto out;
		}
		ret = read_some(q, e);
		if (ret < 0)
			goto out;
	}
	ret = 0;
out:
	return ret;
}

int qmp_pump(struct qmp *q, int64_t deadline, bool (*done)(struct qmp *),
	     struct err *e)
{
	int ret = pump(q, deadline, done, e);

	return ret < 0 ? broken(q, ret, e) : 0;
}

static int write_all(struct qmp *q, const char *buf, size_t len,
		     int64_t deadline, struct err *e)
{
	/* Also POLLIN: if QEMU stops reading until we read its output (a
	 * burst of events), we must drain it instead of waiting for each
	 * other until the deadline. */
	struct pollfd pfd = {.fd = q->fd, .events = POLLOUT | POLLIN};
	ssize_t n;
	int ret;

	while (len) {
		n = send(q->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set(e, errno, "QMP write: %s",
				       strerror(errno));
		if (qmp_now_ms() >= deadline)
			return err_set(e, ETIMEDOUT,
				       "QMP peer not reading past the timeout");
		ret = poll(&pfd, 1, ms_left(deadline));
		if (ret < 0 && errno != EINTR)
			return err_set(e, errno, "QMP poll: %s",
				       strerror(errno));
		if (ret == 0)
			return err_set(e, ETIMEDOUT,
				       "QMP peer not reading past the timeout");
		if (ret > 0 && (pfd.revents & (POLLIN | POLLHUP))) {
			ret = read_some(q, e);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static bool got_reply(struct qmp *q)
{
	return q->reply != NULL;
}

/* "CLASS: desc" of an error reply, bounded and checked. */
static int remote_error(json_t *err, struct err *e)
{
	const char *cls = json_string_value(json_object_get(err, "class"));
	const char *desc = json_string_value(json_object_get(err, "desc"));

	if (!json_is_object(err) || !cls || !desc)
		return err_set(e, EPROTO, "QMP error reply without class/desc");
	return err_set(e, EREMOTEIO, "%.64s: %.400s", cls, desc);
}

static int execute(struct qmp *q, const char *cmd, json_t *args,
		   int64_t deadline, bool abandon, json_t **retv,
		   struct err *e)
{
	json_t *req = NULL, *reply = NULL, *val;
	char *line = NULL;
	int ret;

	ret = qmp_check_usable(q, e);
	if (ret < 0)
		goto out;
	if (q->pending_id || q->reply) {
		ret = err_set(e, EBUSY, "QMP command already in flight");
		goto out;
	}
	if (args && !json_is_object(args)) {
		ret = err_set(e, EINVAL, "QMP arguments must be an object");
		goto out;
	}
	req = json_pack("{s:s, s:I}", "execute", cmd, "id",
			(json_int_t)q->next_id);
	if (!req || (args && json_object_set(req, "arguments", args) < 0)) {
		ret = err_set(e, ENOMEM, "QMP request");
		goto out;
	}
	line = json_dumps(req, JSON_COMPACT);
	if (!line) {
		ret = err_set(e, ENOMEM, "QMP request");
		goto out;
	}
	q->pending_id = q->next_id++;
	ret = write_all(q, line, strlen(line), deadline, e);
	if (ret == 0)
		ret = write_all(q, "\n", 1, deadline, e);
	if (ret < 0) {
		ret = broken(q, ret, e);
		goto out;
	}
	ret = pump(q, deadline, got_reply, e);
	if (ret == -ETIMEDOUT && abandon && !q->abandoned_id) {
		/*
		 * The whole command went out, so the stream is intact: forget
		 * the command instead of the connection. Only one can be
		 * forgotten at a time; a second timeout breaks as usual.
		 */
		q->abandoned_id = q->pending_id;
		q->pending_id = 0;
		goto out;
	}
	if (ret < 0) {
		ret = broken(q, ret, e);
		goto out;
	}
	reply = q->reply;
	q->reply = NULL;
	val = json_object_get(reply, "error");
	if (val) {
		ret = remote_error(val, e);
		if (ret == -EPROTO)
			broken(q, ret, e);
		goto out;
	}
	if (retv)
		*retv = json_incref(json_object_get(reply, "return"));
	ret = 0;
out:
	json_decref(reply);
	free(line);
	json_decref(req);
	json_decref(args);
	return ret;
}

int qmp_execute_until(struct qmp *q, const char *cmd, json_t *args,
		      int64_t deadline, json_t **retv, struct err *e)
{
	int ret = execute(q, cmd, args, deadline, false, retv, e);

	if (ret < 0 && ret != -EREMOTEIO && ret != -EPIPE && e)
		err_prefix(e, "%.64s", cmd);
	return ret;
}

int qmp_execute(struct qmp *q, const char *cmd, json_t *args, int timeout_ms,
		json_t **ret, struct err *e)
{
	int r;

	if (ret)
		*ret = NULL;
	r = qmp_execute_until(q, cmd, args, qmp_deadline(timeout_ms), ret, e);
	qmp_deliver_events(q);
	return r;
}

int qmp_execute_abandon(struct qmp *q, const char *cmd, json_t *args,
			int timeout_ms, json_t **ret, struct err *e)
{
	int r;

	if (ret)
		*ret = NULL;
	r = execute(q, cmd, args, qmp_deadline(timeout_ms), true, ret, e);
	if (r < 0 && r != -EREMOTEIO && r != -EPIPE && e)
		err_prefix(e, "%.64s", cmd);
	qmp_deliver_events(q);
	return r;
}

static bool never(struct qmp *q)
{
	return false;
}

int qmp_dispatch(struct qmp *q, struct err *e)
{
	int ret, i;

	ret = qmp_check_usable(q, e);
	if (ret < 0)
		goto out;
	/* Take what is there now; silence is not an error. */
	for (i = 0; i < QMP_DISPATCH_MAX_READS; i++) {
		ret = read_some(q, e);
		if (ret <= 0)
			break;
	}
	if (ret < 0)
		ret = broken(q, ret, e);
	else
		ret = 0;
out:
	qmp_deliver_events(q);
	return ret;
}

int qmp_wait_eof(struct qmp *q, int64_t deadline, struct err *e)
{
	struct err tmp = {0};
	int ret;

	ret = qmp_pump(q, deadline, never, &tmp);
	if (ret == -ECONNRESET)
		return 0;
	if (e)
		*e = tmp;
	return ret;
}

/* Greeting: {"QMP": {"version": {"qemu": {major,minor,micro}, ...},
 * "capabilities": [...]}} */
static bool got_greeting(struct qmp *q)
{
	return q->greeting != NULL;
}

static int read_greeting(struct qmp *q, int64_t deadline, struct err *e)
{
	json_t *g, *v, *caps;
	json_int_t maj, min, mic;
	size_t i;
	int ret;

	ret = qmp_pump(q, deadline, got_greeting, e);
	if (ret < 0)
		return err_prefix(e, "waiting for the QMP greeting");
	g = json_object_get(q->greeting, "QMP");
	if (!json_is_object(g))
		return err_set(e, EPROTO, "no QMP greeting");
	v = json_object_get(json_object_get(g, "version"), "qemu");
	caps = json_object_get(g, "capabilities");
	if (json_unpack(v, "{s:I, s:I, s:I}", "major", &maj, "minor", &min,
			"micro", &mic) < 0)
		return err_set(e, EPROTO, "QMP greeting without a version");
	if (!json_is_array(caps))
		return err_set(e, EPROTO, "QMP greeting without capabilities");
	for (i = 0; i < json_array_size(caps); i++)
		if (!json_is_string(json_array_get(caps, i)))
			return err_set(e, EPROTO,
				       "QMP greeting: capability not a string");
	if (maj < 0 || min < 0 || mic < 0 || maj > 9999 || min > 9999 ||
	    mic > 9999)
		return err_set(e, EPROTO, "QMP greeting: bad version");
	snprintf(q->version, sizeof(q->version), "%d.%d.%d", (int)maj, (int)min,
		 (int)mic);
	q->caps = json_incref(caps);
	return 0;
}

struct qmp *qmp_connect_fd(int fd, int timeout_ms, struct err *e)
{
	int64_t deadline = qmp_deadline(timeout_ms);
	struct qmp *q;
	int ret;

	q = calloc(1, sizeof(*q));
	if (!q) {
		close(fd);
		err_set(e, ENOMEM, "QMP connection");
		return NULL;
	}
	q->fd = fd;
	q->next_id = 1;
	q->timeout_ms = QMP_TIMEOUT_DEFAULT_MS;
	qmp_stream_init(&q->in, QMP_MAX_MSG_DEFAULT, QMP_MAX_DEPTH_DEFAULT);
	ret = qmp_set_limits(q, 0, 0, QMP_MAX_EVENTS_DEFAULT);
	if (ret < 0) {
		err_set(e, -ret, "QMP event queue");
		goto fail;
	}
	ret = fcntl(fd, F_GETFL);
	if (ret < 0 || fcntl(fd, F_SETFL, ret | O_NONBLOCK) < 0) {
		err_set(e, errno, "QMP socket: %s", strerror(errno));
		goto fail;
	}
	ret = read_greeting(q, deadline, e);
	if (ret < 0)
		goto fail;
	ret = qmp_execute_until(q, "qmp_capabilities", NULL, deadline, NULL, e);
	if (ret < 0)
		goto fail;
	return q;
fail:
	qmp_close(q);
	return NULL;
}

struct qmp *qmp_connect(const char *sock_path, int timeout_ms, struct err *e)
{
	int64_t deadline = qmp_deadline(timeout_ms);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct qmp *q;
	int fd, left;

	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		err_set(e, ENAMETOOLONG, "QMP socket path too long: %.200s",
			sock_path);
		return NULL;
	}
	strcpy(sa.sun_path, sock_path);
	for (;;) {
		/* Non-blocking: a full backlog (QEMU busy with another client)
		 * gives EAGAIN and a retry instead of blocking past the
		 * deadline. */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    0);
		if (fd < 0) {
			err_set(e, errno, "socket: %s", strerror(errno));
			return NULL;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (errno != ENOENT && errno != ECONNREFUSED &&
		    errno != EAGAIN && errno != EINTR) {
			err_set(e, errno, "QMP connect %.200s: %s", sock_path,
				strerror(errno));
			close(fd);
			return NULL;
		}
		left = ms_left(deadline);
		if (!left) {
			err_set(e, ETIMEDOUT, "QMP connect %.200s: %s",
				sock_path, strerror(errno));
			close(fd);
			return NULL;
		}
		close(fd);
		poll(NULL, 0,
		     left < QMP_CONNECT_RETRY_MS ? left : QMP_CONNECT_RETRY_MS);
	}
	q = qmp_connect_fd(fd, ms_left(deadline) ? ms_left(deadline) : 1, e);
	if (!q)
		err_prefix(e, "%.200s", sock_path);
	return q;
}

void qmp_close(struct qmp *q)
{
	json_t *ev;

	if (!q)
		return;
	while ((ev = qmp_event_pop(q)))
		json_decref(ev);
	free(q->evq);
	json_decref(q->reply);
	json_decref(q->greeting);
	json_decref(q->caps);
	qmp_stream_free(&q->in);
	if (q->fd >= 0)
		close(q->fd);
	free(q);
}

const char *qmp_version(struct qmp *q)
{
	return q->version;
}

json_t *qmp_capabilities(struct qmp *q)
{
	return q->caps;
}

int qmp_fd(struct qmp *q)
{
	return q->fd;
}

void qmp_set_timeout(struct qmp *q, int timeout_ms)
{
	q->timeout_ms = timeout_ms > 0 ? timeout_ms : QMP_TIMEOUT_DEFAULT_MS;
}

int qmp_set_limits(struct qmp *q, size_t max_msg, unsigned max_depth,
		   unsigned max_events)
{
	json_t **nq;
	unsigned i, n;

	if (max_msg)
		q->in.max_msg = max_msg;
	if (max_depth)
		q->in.max_depth = max_depth;
	if (!max_events || max_events == q->max_events)
		return 0;
	/* an array of pointers: sizeof(json_t *) is meant */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	nq = calloc(max_events, sizeof(*nq));
	if (!nq)
		return -ENOMEM;
	while (q->ev_len > max_events) {
		json_decref(qmp_event_pop(q));
		q->dropped++;
	}
	n = (unsigned)q->ev_len;
	for (i = 0; i < n; i++)
		nq[i] = qmp_event_pop(q);
	free(q->evq);
	q->evq = nq;
	q->max_events = max_events;
	q->ev_head = 0;
	q->ev_len = n;
	return 0;
}
