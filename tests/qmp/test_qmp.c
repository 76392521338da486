/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_qmp.c - qmp/ against a fake QMP server: recorded QEMU 7.2 traffic
 * replayed (greeting, typed helpers, events, snapshot jobs) and a peer that
 * misbehaves (oversize, deep, garbage, byte-wise, EOF mid-message, no or bad
 * greeting, event flood, silence, unknown ids, duplicate keys, bad UTF-8).
 * Each hostile case asserts the exact error class; the ASan build checks
 * there is no leak or overflow on any path.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "fake_qmp.h"
#include "qmp.h"
#include "stream.h"

/* Short timeouts keep the silent-peer tests fast; replies take < 1 ms. */
#define T_SHORT 300
#define T_LONG 10000

/* ---- scripted servers (run in the forked child) ---- */

struct route {
	const char *cmd;
	const char *fixture;
};

static const struct route routes[] = {
    {"query-status", "query-status.prelaunch.reply.json"},
    {"query-pci", "query-pci.bridged.reply.json"},
    {"query-block", "query-block.reply.json"},
    {"query-chardev", "query-chardev.reply.json"},
    {"query-version", "query-version.reply.json"},
    {"cont", "cont.reply.json"},
    {"stop", "stop.reply.json"},
    {"system_powerdown", "system_powerdown.reply.json"},
    {"screendump", "screendump.error.reply.json"},
    {"device_del", "device_del.reply.json"},
    {"job-dismiss", "job-dismiss.reply.json"},
    {NULL, NULL},
};

static void send_job_events(int fd, const char *job_id, bool concluded_only)
{
	char *all = fake_fixture("snapshot-save.events.jsonl", NULL);
	char *line, *save = NULL;

	for (line = strtok_r(all, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *ev = json_loads(line, 0, NULL);
		json_t *data = json_object_get(ev, "data");
		const char *st =
		    json_string_value(json_object_get(data, "status"));
		char *out;

		if (!concluded_only || !strcmp(st, "concluded")) {
			json_object_set_new(data, "id", json_string(job_id));
			out = json_dumps(ev, JSON_COMPACT);
			fake_line(fd, out);
			free(out);
		}
		json_decref(ev);
	}
	free(all);
}

/* Serve the recorded replies; "quit" ends with SHUTDOWN and EOF. */
static void serve(int fd, void *arg)
{
	bool job_fails = arg != NULL;
	char job[64] = "";
	json_t *req;
	size_t i;

	fake_handshake(fd);
	while ((req = fake_read(fd))) {
		const char *cmd =
		    json_string_value(json_object_get(req, "execute"));
		json_t *args = json_object_get(req, "arguments");

		if (!strcmp(cmd, "quit")) {
			fake_reply(fd, "quit.reply.json", req);
			fake_send_fixture(fd, "event-SHUTDOWN.json");
			json_decref(req);
			return;
		}
		if (!strncmp(cmd, "snapshot-", 9)) {
			snprintf(
			    job, sizeof(job), "%s",
			    json_string_value(json_object_get(args, "job-id")));
			/* concluded may overtake the reply */
			if (job_fails)
				send_job_events(fd, job, true);
			fake_reply(fd, "snapshot-save.reply.json", req);
			if (!job_fails)
				send_job_events(fd, job, false);
		} else if (!strcmp(cmd, "query-jobs")) {
			char *s = fake_fixture(
			    job_fails ? "query-jobs.error.reply.json"
				      : "query-jobs.ok.reply.json",
			    NULL);
			json_t *r = json_loads(s, 0, NULL);
			char *out;

			json_object_set_new(
			    json_array_get(json_object_get(r, "return"), 0),
			    "id", json_string(job));
			json_object_set(r, "id", json_object_get(req, "id"));
			out = json_dumps(r, JSON_COMPACT);
			fake_line(fd, out);
			free(out);
			free(s);
			json_decref(r);
		} else {
			for (i = 0; routes[i].cmd; i++)
				if (!strcmp(routes[i].cmd, cmd))
					break;
			fake_reply(fd,
				   routes[i].cmd
				       ? routes[i].fixture
				       : "unknown-command.error.reply.json",
				   req);
		}
		json_decref(req);
	}
}

static struct qmp *start(struct fake *f, fake_script *s, void *arg,
			 struct err *e)
{
	assert_int_equal(fake_start(f, s, arg), 0);
	return qmp_connect_fd(f->fd, T_LONG, e);
}

static void finish(struct fake *f, struct qmp *q)
{
	qmp_close(q);
	assert_int_equal(fake_wait(f), 0);
}

/* ---- replay of recorded QEMU 7.2 traffic ---- */

static void test_greeting(void **state)
{
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, serve, NULL, &e);

	assert_non_null(q);
	assert_string_equal(qmp_version(q), "7.2.22");
	assert_int_equal(json_array_size(qmp_capabilities(q)), 1);
	assert_string_equal(
	    json_string_value(json_array_get(qmp_capabilities(q), 0)), "oob");
	assert_true(qmp_fd(q) >= 0);
	finish(&f, q);
}

static void test_status_and_power(void **state)
{
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, serve, NULL, &e);
	json_t *ret = NULL;

	assert_non_null(q);
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	assert_string_equal(st.status, "prelaunch");
	assert_false(st.running);
	assert_int_equal(qmp_cont(q, &e), 0);
	assert_int_equal(qmp_stop(q, &e), 0);
	assert_int_equal(qmp_system_powerdown(q, &e), 0);
	assert_int_equal(qmp_device_del(q, "nic1", &e), 0);
	assert_int_equal(
	    qmp_execute(q, "query-version", NULL, T_LONG, &ret, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(ret, "qemu"), "minor")),
			 2);
	json_decref(ret);
	finish(&f, q);
}

static void test_query_pci(void **state)
{
	struct qmp_pci_dev *d = NULL;
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, serve, NULL, &e);
	size_t n = 0;

	assert_non_null(q);
	assert_int_equal(qmp_query_pci(q, &d, &n, &e), 0);
	assert_int_equal(n, 7);
	assert_int_equal(d[0].vendor_id, 0x8086);
	assert_int_equal(d[0].device_id, 0x1237);
	assert_string_equal(d[0].description, "Host bridge");
	assert_int_equal(d[2].class_code, 0x0101);
	assert_int_equal(d[2].function, 1);
	assert_string_equal(d[4].qdev_id, "nic0");
	assert_int_equal(d[4].class_code, 0x0200);
	assert_int_equal(d[4].device_id, 0x100e);
	assert_string_equal(d[5].qdev_id, "br1");
	/* behind the bridge, on its secondary bus */
	assert_string_equal(d[6].qdev_id, "nic1");
	assert_int_equal(d[6].bus, 1);
	assert_int_equal(d[6].slot, 1);
	free(d);
	finish(&f, q);
}

static void test_query_block_chardev(void **state)
{
	struct qmp_chardev *c = NULL;
	struct qmp_block *b = NULL;
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, serve, NULL, &e);
	size_t n = 0;

	assert_non_null(q);
	assert_int_equal(qmp_query_block(q, &b, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(b[0].device, "");
	assert_string_equal(b[0].qdev, "hd0");
	assert_string_equal(b[0].node_name, "disk0");
	assert_string_equal(b[0].drv, "qcow2");
	assert_non_null(strstr(b[0].file, "disk.qcow2"));
	assert_true(b[0].inserted);
	assert_false(b[0].ro);
	assert_false(b[0].removable);
	free(b);
	assert_int_equal(qmp_query_chardev(q, &c, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(c[1].label, "serial0");
	assert_non_null(strstr(c[1].filename, "serial.sock"));
	assert_true(c[1].frontend_open);
	free(c);
	finish(&f, q);
}

static void test_error_reply(void **state)
{
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, serve, NULL, &e);
	json_t *ret = (json_t *)1;

	assert_non_null(q);
	assert_int_equal(qmp_screendump(q, "/tmp/x.ppm", &e), -EREMOTEIO);
	assert_string_equal(e.msg, "GenericError: There is no console to "
				   "take a screendump from");
	assert_int_equal(
	    qmp_execute(q, "no-such-command", NULL, T_LONG, &ret, &e),
	    -EREMOTEIO);
	assert_null(ret);
	assert_non_null(strstr(e.msg, "CommandNotFound"));
	/* an error reply leaves the connection usable */
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	finish(&f, q);
}

static void test_quit_shutdown(void **state)
{
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, serve, NULL, &e);
	json_t *ev;

	assert_non_null(q);
	assert_int_equal(qmp_quit(q, &e), 0);
	ev = qmp_event_pop(q);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "event")),
			    "SHUTDOWN");
	json_decref(ev);
	assert_null(qmp_event_pop(q));
	/* the socket is closed now */
	assert_int_equal(qmp_cont(q, &e), -EPIPE);
	finish(&f, q);
}

static void test_snapshot_ok(void **state)
{
	static const char *const devs[] = {"disk0"};
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, serve, NULL, &e);
	json_t *ev;
	int n = 0;

	assert_non_null(q);
	assert_int_equal(
	    qmp_snapshot_save(q, "save7", "s1", "disk0", devs, 1, T_LONG, &e),
	    0);
	/* the job's events are delivered, not eaten by the helper */
	while ((ev = qmp_event_pop(q))) {
		assert_string_equal(json_string_value(json_object_get(
					json_object_get(ev, "data"), "id")),
				    "save7");
		json_decref(ev);
		n++;
	}
	assert_int_equal(n, 6);
	assert_int_equal(
	    qmp_snapshot_delete(q, "del1", "s1", devs, 1, T_LONG, &e), 0);
	finish(&f, q);
}

static void test_snapshot_fails(void **state)
{
	static const char *const devs[] = {"disk0"};
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, serve, "fail", &e);

	assert_non_null(q);
	assert_int_equal(
	    qmp_snapshot_load(q, "load0", "nope", "disk0", devs, 1, T_LONG, &e),
	    -EREMOTEIO);
	assert_non_null(strstr(e.msg, "does not exist"));
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	finish(&f, q);
}

/* ---- events ---- */

static void events_then_reply(int fd, void *arg)
{
	int n = *(int *)arg, i;
	json_t *req;

	fake_handshake(fd);
	req = fake_read(fd);
	for (i = 0; i < n; i++) {
		char ev[128];

		snprintf(ev, sizeof(ev),
			 "{\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": "
			 "%d}, \"timestamp\": {\"seconds\": 1, "
			 "\"microseconds\": 2}}",
			 i);
		fake_line(fd, ev);
	}
	fake_reply(fd, "query-status.running.reply.json", req);
	json_decref(req);
	fake_drain(fd);
}

static int offset_of(json_t *ev)
{
	return (int)json_integer_value(
	    json_object_get(json_object_get(ev, "data"), "offset"));
}

static void test_events_during_command(void **state)
{
	struct qmp_status st;
	struct err e = {0};
	int n = 200, i;
	struct fake f;
	struct qmp *q = start(&f, events_then_reply, &n, &e);
	json_t *ev;

	assert_non_null(q);
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	assert_true(st.running);
	for (i = 0; i < n; i++) {
		ev = qmp_event_pop(q);
		assert_non_null(ev);
		assert_int_equal(offset_of(ev), i);
		json_decref(ev);
	}
	assert_null(qmp_event_pop(q));
	assert_int_equal(qmp_events_dropped(q), 0);
	finish(&f, q);
}

static void test_event_flood(void **state)
{
	struct qmp_status st;
	struct err e = {0};
	int n = 5000, i;
	struct fake f;
	struct qmp *q = start(&f, events_then_reply, &n, &e);
	json_t *ev;

	assert_non_null(q);
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	assert_true(st.running);
	assert_int_equal(qmp_events_dropped(q), n - QMP_MAX_EVENTS_DEFAULT);
	/* the newest are kept, in order */
	for (i = n - QMP_MAX_EVENTS_DEFAULT; i < n; i++) {
		ev = qmp_event_pop(q);
		assert_non_null(ev);
		assert_int_equal(offset_of(ev), i);
		json_decref(ev);
	}
	assert_null(qmp_event_pop(q));
	finish(&f, q);
}

/* Every reply is preceded by a STOP event. */
static void stop_then_reply(int fd, void *arg)
{
	json_t *req;

	fake_handshake(fd);
	while ((req = fake_read(fd))) {
		fake_send_fixture(fd, "event-STOP.json");
		fake_reply(fd, "query-status.paused.reply.json", req);
		json_decref(req);
	}
}

struct nested {
	struct qmp *q;
	int events, depth, max_depth, status_ok;
};

static void on_stop_query(void *opaque, const char *name, json_t *ev)
{
	struct nested *n = opaque;
	struct qmp_status st;
	struct err e = {0};

	n->events++;
	if (++n->depth > n->max_depth)
		n->max_depth = n->depth;
	/* a command from inside the callback: its own STOP event is
	 * delivered by this loop afterwards, not recursively */
	if (n->events < 3 && qmp_query_status(n->q, &st, &e) == 0 &&
	    !strcmp(st.status, "paused"))
		n->status_ok++;
	n->depth--;
}

static void test_command_from_callback(void **state)
{
	struct nested n = {0};
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, stop_then_reply, NULL, &e);

	assert_non_null(q);
	n.q = q;
	qmp_set_event_cb(q, on_stop_query, &n);
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	assert_int_equal(n.events, 3);
	assert_int_equal(n.status_ok, 2);
	assert_int_equal(n.max_depth, 1);
	finish(&f, q);
}

/* Events without end, and never a reply. */
static void flood_forever(int fd, void *arg)
{
	static const char ev[] = "{\"event\": \"RTC_CHANGE\", \"data\": "
				 "{\"offset\": 1}}\r\n";
	char buf[64 * sizeof(ev)];
	size_t i;

	fake_handshake(fd);
	if (arg)
		json_decref(fake_read(fd));
	for (i = 0; i < 64; i++)
		memcpy(buf + i * (sizeof(ev) - 1), ev, sizeof(ev) - 1);
	for (;;)
		fake_write(fd, buf, 64 * (sizeof(ev) - 1)); /* exits on EPIPE */
}

static void test_flood_forever(void **state)
{
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, flood_forever, "wait for the command", &e);

	assert_non_null(q);
	qmp_set_timeout(q, T_SHORT);
	/* the socket never stops being readable: the deadline still holds */
	assert_int_equal(qmp_query_status(q, &st, &e), -ETIMEDOUT);
	assert_true(qmp_events_dropped(q) > 0);
	finish(&f, q);

	q = start(&f, flood_forever, NULL, &e);
	assert_non_null(q);
	/* a dispatch call returns after a bounded amount of reading */
	assert_int_equal(qmp_dispatch(q, &e), 0);
	assert_int_equal(qmp_dispatch(q, &e), 0);
	finish(&f, q);
}

struct seen {
	int n;
	int last;
};

static void on_event(void *opaque, const char *name, json_t *ev)
{
	struct seen *s = opaque;

	assert_string_equal(name, "RTC_CHANGE");
	assert_true(offset_of(ev) > s->last);
	s->last = offset_of(ev);
	s->n++;
}

static void test_event_callback_and_shrink(void **state)
{
	struct qmp_status st;
	struct seen s = {.last = -1};
	struct err e = {0};
	int n = 50;
	struct fake f;
	struct qmp *q = start(&f, events_then_reply, &n, &e);

	assert_non_null(q);
	assert_int_equal(qmp_set_limits(q, 0, 0, 8), 0);
	qmp_set_event_cb(q, on_event, &s);
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	/* events are queued while reading, so the bound applies first:
	 * the callback sees the newest 8 */
	assert_int_equal(s.n, 8);
	assert_int_equal(qmp_events_dropped(q), n - 8);
	assert_int_equal(s.last, n - 1);
	assert_null(qmp_event_pop(q));
	finish(&f, q);
}

static void on_event_count(void *opaque, const char *name, json_t *ev)
{
	struct seen *s = opaque;

	s->n++;
	s->last = offset_of(ev);
}

static void events_then_close(int fd, void *arg)
{
	fake_handshake(fd);
	fake_line(fd, "{\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 1}}");
	fake_line(fd, "{\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 2}}");
}

static void test_dispatch_poll_loop(void **state)
{
	struct seen s = {0};
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, events_then_close, NULL, &e);
	struct pollfd pfd;
	int ret = 0;

	assert_non_null(q);
	qmp_set_event_cb(q, on_event_count, &s);
	pfd.fd = qmp_fd(q);
	pfd.events = POLLIN;
	while (ret == 0) {
		assert_int_equal(poll(&pfd, 1, T_LONG), 1);
		ret = qmp_dispatch(q, &e);
	}
	assert_int_equal(ret, -ECONNRESET);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.last, 2);
	assert_int_equal(qmp_dispatch(q, &e), -EPIPE);
	finish(&f, q);
}

/* ---- hostile peers ---- */

struct bad {
	bool handshake;	   /* answer qmp_capabilities first */
	bool read_request; /* wait for the command before misbehaving */
	bool with_id;	   /* append the request's id to "line" */
	const char *line;  /* sent as is (no "\r\n" added) */
	size_t repeat;	   /* times "fill" is sent before "line" */
	const char *fill;
	bool hold; /* keep the socket open until the client closes */
};

static void misbehave(int fd, void *arg)
{
	const struct bad *b = arg;
	json_t *req = NULL;
	size_t i;

	if (b->handshake)
		fake_handshake(fd);
	if (b->read_request)
		req = fake_read(fd);
	for (i = 0; i < b->repeat; i++)
		fake_write(fd, b->fill, strlen(b->fill));
	if (b->line && b->with_id) {
		/* "%lld" in the line stands for the request's id */
		const char *at = strstr(b->line, "%lld");
		char id[32];

		snprintf(
		    id, sizeof(id), "%lld",
		    (long long)json_integer_value(json_object_get(req, "id")));
		fake_write(fd, b->line, (size_t)(at - b->line));
		fake_write(fd, id, strlen(id));
		fake_write(fd, at + 4, strlen(at + 4));
	} else if (b->line) {
		fake_write(fd, b->line, strlen(b->line));
	}
	json_decref(req);
	if (b->hold)
		fake_drain(fd);
}

/* Connect to a peer misbehaving during the greeting: expect @code. */
static void greeting_fails_in(const struct bad *b, int code, const char *msg,
			      int timeout_ms)
{
	struct err e = {0};
	struct fake f;
	struct qmp *q;

	assert_int_equal(fake_start(&f, misbehave, (void *)b), 0);
	q = qmp_connect_fd(f.fd, timeout_ms, &e);
	assert_null(q);
	assert_int_equal(e.code, code);
	if (msg && !strstr(e.msg, msg))
		fail_msg("'%s' not in '%s'", msg, e.msg);
	assert_int_equal(fake_wait(&f), 0);
}

static void greeting_fails(const struct bad *b, int code, const char *msg)
{
	/* long enough for megabytes over a socketpair under ASan */
	greeting_fails_in(b, code, msg, T_LONG);
}

/* Run a command against a peer misbehaving in its reply: expect @code. */
static void command_fails(const struct bad *b, int code)
{
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q;

	assert_int_equal(fake_start(&f, misbehave, (void *)b), 0);
	q = qmp_connect_fd(f.fd, T_LONG, &e);
	assert_non_null(q);
	qmp_set_timeout(q, T_SHORT);
	assert_int_equal(qmp_query_status(q, &st, &e), -code);
	assert_int_equal(e.code, code);
	/* broken for good: every later call says so */
	assert_int_equal(qmp_query_status(q, &st, &e), -EPIPE);
	assert_int_equal(qmp_dispatch(q, &e), -EPIPE);
	finish(&f, q);
}

static void test_no_greeting_silence(void **state)
{
	struct bad b = {.hold = true};

	greeting_fails_in(&b, ETIMEDOUT, "greeting", T_SHORT);
}

static void test_no_greeting_reply_first(void **state)
{
	struct bad b = {.line = "{\"return\": {}}\r\n", .hold = true};

	greeting_fails(&b, EPROTO, "no QMP greeting");
}

static void test_greeting_without_caps(void **state)
{
	struct bad b = {
	    .line = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, "
		    "\"minor\": 2, \"major\": 7}, \"package\": \"\"}}}\r\n",
	    .hold = true,
	};

	greeting_fails(&b, EPROTO, "capabilities");
}

static void test_greeting_bad_version(void **state)
{
	struct bad b = {
	    .line = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": \"0\", "
		    "\"minor\": 2, \"major\": 7}}, \"capabilities\": []}}"
		    "\r\n",
	    .hold = true,
	};

	greeting_fails(&b, EPROTO, "version");
}

static void test_eof_mid_greeting(void **state)
{
	struct bad b = {.line = "{\"QMP\": {\"version\": {\"qemu\""};

	greeting_fails(&b, EBADMSG, "mid-message");
}

static void test_eof_before_greeting(void **state)
{
	struct bad b = {0};

	greeting_fails(&b, ECONNRESET, NULL);
}

static void test_oversize_greeting(void **state)
{
	/* 4 MiB of one JSON string, never ending: refused at the limit */
	struct bad b = {.fill =
			    "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxx",
			.repeat = (QMP_MAX_MSG_DEFAULT / 64) + 1,
			.hold = false};

	greeting_fails(&b, EMSGSIZE, NULL);
}

static void test_deep_greeting(void **state)
{
	struct bad b = {.fill = "[", .repeat = 100000, .hold = true};

	greeting_fails(&b, ELOOP, NULL);
}

static void test_garbage_greeting(void **state)
{
	struct bad b = {.line = "220 smtp.example.org ESMTP\r\n", .hold = true};

	greeting_fails(&b, EBADMSG, "not JSON");
}

static void test_reply_silence(void **state)
{
	struct bad b = {.handshake = true, .read_request = true, .hold = true};

	command_fails(&b, ETIMEDOUT);
}

/*
 * A command abandoned at its deadline (qmp_execute_abandon()): QEMU
 * answers it only after the client gave up (the client says so on a
 * pipe, no sleeping), and the connection must still serve the next
 * command. A second abandoned command while the first one's reply is
 * still out breaks the connection, as a plain timeout does.
 */
struct late {
	int gave_up[2];
	bool second;
};

static void late_script(int fd, void *arg)
{
	struct late *l = arg;
	json_t *slow, *next;
	char c;

	fake_handshake(fd);
	slow = fake_read(fd);
	if (!slow || read(l->gave_up[0], &c, 1) != 1)
		_exit(80);
	if (l->second) {
		/* a second slow command, then silence */
		next = fake_read(fd);
		json_decref(next);
		json_decref(slow);
		fake_drain(fd);
		return;
	}
	fake_reply(fd, "snapshot-save.reply.json", slow);
	next = fake_read(fd);
	if (!next)
		_exit(81);
	fake_reply(fd, "query-status.prelaunch.reply.json", next);
	json_decref(slow);
	json_decref(next);
	fake_drain(fd);
}

static void test_abandon(void **state)
{
	struct late l = {0};
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q;

	assert_int_equal(pipe(l.gave_up), 0);
	q = start(&f, late_script, &l, &e);
	assert_non_null(q);
	assert_int_equal(qmp_execute_abandon(q, "snapshot-save", NULL, T_SHORT,
					     NULL, &e),
			 -ETIMEDOUT);
	assert_non_null(strstr(e.msg, "snapshot-save"));
	assert_int_equal(write(l.gave_up[1], "x", 1), 1);
	/* the late reply arrives first and is dropped, then this one's */
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	assert_string_equal(st.status, "prelaunch");
	finish(&f, q);
	close(l.gave_up[0]);
	close(l.gave_up[1]);
}

static void test_abandon_twice(void **state)
{
	struct late l = {.second = true};
	struct err e = {0};
	struct fake f;
	struct qmp *q;

	assert_int_equal(pipe(l.gave_up), 0);
	q = start(&f, late_script, &l, &e);
	assert_non_null(q);
	assert_int_equal(qmp_execute_abandon(q, "snapshot-save", NULL, T_SHORT,
					     NULL, &e),
			 -ETIMEDOUT);
	assert_int_equal(write(l.gave_up[1], "x", 1), 1);
	assert_int_equal(qmp_execute_abandon(q, "snapshot-load", NULL, T_SHORT,
					     NULL, &e),
			 -ETIMEDOUT);
	/* now the connection is given up */
	assert_int_equal(qmp_execute(q, "query-status", NULL, T_SHORT, NULL,
				     &e),
			 -EPIPE);
	finish(&f, q);
	close(l.gave_up[0]);
	close(l.gave_up[1]);
}

static void test_reply_unknown_id(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "{\"return\": {}, \"id\": 999}\r\n",
			.hold = true};

	command_fails(&b, EPROTO);
}

static void test_reply_string_id(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "{\"return\": {}, \"id\": \"%lld\"}\r\n",
			.with_id = true,
			.hold = true};

	command_fails(&b, EPROTO);
}

static void test_reply_duplicate_keys(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "{\"return\": {\"status\": \"running\", "
				"\"running\": true, \"status\": \"paused\"}, "
				"\"id\": %lld}\r\n",
			.with_id = true,
			.hold = true};

	command_fails(&b, EBADMSG);
}

static void test_reply_invalid_utf8(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "{\"return\": {\"status\": \"\xc3\x28\", "
				"\"running\": true}, \"id\": %lld}\r\n",
			.with_id = true,
			.hold = true};

	command_fails(&b, EILSEQ);
}

static void test_reply_garbage(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "\x01\x02\xff garbage\r\n",
			.hold = true};

	command_fails(&b, EBADMSG);
}

static void test_reply_not_object(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "[1, 2, 3]\r\n",
			.hold = true};

	command_fails(&b, EBADMSG);
}

static void test_reply_neither(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "{\"hello\": 1}\r\n",
			.hold = true};

	command_fails(&b, EPROTO);
}

static void test_reply_second_greeting(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "{\"QMP\": {\"version\": {}, "
				"\"capabilities\": []}}\r\n",
			.hold = true};

	command_fails(&b, EPROTO);
}

static void test_reply_bad_error(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "{\"error\": 5, \"id\": %lld}\r\n",
			.with_id = true,
			.hold = true};

	command_fails(&b, EPROTO);
}

static void test_reply_deep(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.fill = "{\"a\":",
			.repeat = QMP_MAX_DEPTH_DEFAULT + 1,
			.hold = true};

	command_fails(&b, ELOOP);
}

static void test_reply_eof_mid(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "{\"return\": {\"status\": \"runn"};

	command_fails(&b, EBADMSG);
}

static void test_reply_eof(void **state)
{
	struct bad b = {.handshake = true, .read_request = true};

	command_fails(&b, ECONNRESET);
}

static void test_reply_wrong_shape(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.line = "{\"return\": {\"status\": 3, "
				"\"running\": true}, \"id\": %lld}\r\n",
			.with_id = true,
			.hold = true};
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q;

	/* valid JSON of the wrong shape: -EPROTO, the stream is still sane */
	assert_int_equal(fake_start(&f, misbehave, &b), 0);
	q = qmp_connect_fd(f.fd, T_LONG, &e);
	assert_non_null(q);
	assert_int_equal(qmp_query_status(q, &st, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "status"));
	finish(&f, q);
}

static void test_reply_oversize_limit(void **state)
{
	struct bad b = {.handshake = true,
			.read_request = true,
			.fill = "{\"return\": \"",
			.repeat = 1,
			.line = NULL,
			.hold = true};
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q;
	static char big[4096];

	memset(big, 'y', sizeof(big) - 1);
	b.line = big;
	assert_int_equal(fake_start(&f, misbehave, &b), 0);
	q = qmp_connect_fd(f.fd, T_LONG, &e);
	assert_non_null(q);
	assert_int_equal(qmp_set_limits(q, 1024, 0, 0), 0);
	assert_int_equal(qmp_query_status(q, &st, &e), -EMSGSIZE);
	assert_non_null(strstr(e.msg, "1024"));
	finish(&f, q);
}

static void test_unsolicited_reply(void **state)
{
	struct bad b = {.handshake = true,
			.line = "{\"return\": {}, \"id\": 1}\r\n",
			.hold = true};
	struct err e = {0};
	struct fake f;
	struct qmp *q;
	struct pollfd pfd;
	int ret = 0;

	assert_int_equal(fake_start(&f, misbehave, &b), 0);
	q = qmp_connect_fd(f.fd, T_LONG, &e);
	/* It may arrive in the same read as the qmp_capabilities reply and
	 * fail the handshake, or later and fail qmp_dispatch(): both say so. */
	if (q) {
		pfd.fd = qmp_fd(q);
		pfd.events = POLLIN;
		while (ret == 0) {
			assert_int_equal(poll(&pfd, 1, T_LONG), 1);
			ret = qmp_dispatch(q, &e);
		}
		assert_int_equal(ret, -EPROTO);
	}
	assert_int_equal(e.code, EPROTO);
	assert_non_null(strstr(e.msg, "unknown id"));
	finish(&f, q);
}

/* Greeting and replies trickle in one byte per write(). */
static void bytewise(int fd, void *arg)
{
	char *g = fake_fixture("greeting.json", NULL);
	json_t *req;
	int i;

	fake_bytewise(fd, g);
	free(g);
	for (i = 0; (req = fake_read(fd)); i++) {
		char line[256];

		snprintf(
		    line, sizeof(line),
		    "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2},"
		    " \"event\": \"STOP\"}\r\n{\"return\": {\"status\": "
		    "\"paused\", \"singlestep\": false, \"running\": "
		    "false}, \"id\": %lld}\r\n",
		    (long long)json_integer_value(json_object_get(req, "id")));
		fake_bytewise(fd, line);
		json_decref(req);
	}
}

static void test_bytewise(void **state)
{
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, bytewise, NULL, &e);
	json_t *ev;

	assert_non_null(q);
	assert_string_equal(qmp_version(q), "7.2.22");
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	assert_string_equal(st.status, "paused");
	ev = qmp_event_pop(q);
	assert_non_null(ev);
	assert_string_equal(json_string_value(json_object_get(ev, "event")),
			    "STOP");
	json_decref(ev);
	finish(&f, q);
}

/* Partial writes: a request larger than the socket buffer, read slowly. */
static void slow_reader(int fd, void *arg)
{
	json_t *req;

	fake_handshake(fd);
	req = fake_read(fd);
	if (!req ||
	    strlen(json_string_value(json_object_get(
		json_object_get(req, "arguments"), "filename"))) != 300000)
		_exit(97);
	fake_reply(fd, "screendump.error.reply.json", req);
	json_decref(req);
	fake_drain(fd);
}

static void test_partial_writes(void **state)
{
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, slow_reader, NULL, &e);
	char *name = malloc(300001);

	assert_non_null(q);
	memset(name, 'n', 300000);
	name[300000] = '\0';
	assert_int_equal(qmp_execute(q, "screendump",
				     json_pack("{s:s}", "filename", name),
				     T_LONG, NULL, &e),
			 -EREMOTEIO);
	free(name);
	finish(&f, q);
}

/* Writes events before reading anything: both sides write at once. */
static void talk_over(int fd, void *arg)
{
	static const char ev[] = "{\"event\": \"RTC_CHANGE\", \"data\": "
				 "{\"offset\": 1}}\r\n";
	json_t *req;
	int i;

	fake_handshake(fd);
	for (i = 0; i < 20000; i++) /* ~1 MiB, more than socket buffers */
		fake_write(fd, ev, sizeof(ev) - 1);
	req = fake_read(fd);
	if (!req)
		_exit(97);
	fake_reply(fd, "screendump.error.reply.json", req);
	json_decref(req);
	fake_drain(fd);
}

static void test_write_while_flooded(void **state)
{
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, talk_over, NULL, &e);
	char *name = malloc(300001);

	assert_non_null(q);
	memset(name, 'n', 300000);
	name[300000] = '\0';
	/* we must read QEMU's events while our request does not fit */
	assert_int_equal(qmp_execute(q, "screendump",
				     json_pack("{s:s}", "filename", name),
				     T_LONG, NULL, &e),
			 -EREMOTEIO);
	assert_true(qmp_events_dropped(q) > 0);
	free(name);
	finish(&f, q);
}

/* EINTR: a 1 ms interval timer interrupts poll() while QEMU thinks. */
static void on_alarm(int sig)
{
}

static void slow_reply(int fd, void *arg)
{
	json_t *req;

	fake_handshake(fd);
	req = fake_read(fd);
	poll(NULL, 0, 100); /* "think" while the client's poll is hit */
	fake_reply(fd, "query-status.running.reply.json", req);
	json_decref(req);
	fake_drain(fd);
}

static void test_eintr(void **state)
{
	struct itimerval it = {{0, 1000}, {0, 1000}};
	struct itimerval off = {{0, 0}, {0, 0}};
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q = start(&f, slow_reply, NULL, &e);
	int ret;

	assert_non_null(q);
	sigaction(SIGALRM, &sa, &old); /* no SA_RESTART */
	setitimer(ITIMER_REAL, &it, NULL);
	ret = qmp_query_status(q, &st, &e);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	assert_int_equal(ret, 0);
	assert_true(st.running);
	finish(&f, q);
}

/* qmp_connect(): retries until QEMU created the socket, then times out. */
static void late_listener(int unused, void *arg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int l, fd;

	poll(NULL, 0, 150); /* QEMU is slow to start */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", (char *)arg);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 1) < 0)
		_exit(98);
	fd = accept(l, NULL, NULL);
	if (fd < 0)
		_exit(99);
	serve(fd, NULL);
	close(fd);
	close(l);
}

static void test_connect_path(void **state)
{
	char dir[] = "/tmp/qmptestXXXXXX", path[64];
	struct qmp_status st;
	struct err e = {0};
	struct fake f;
	struct qmp *q;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	q = qmp_connect(path, 100, &e);
	assert_null(q);
	assert_int_equal(e.code, ETIMEDOUT);

	assert_int_equal(fake_start(&f, late_listener, path), 0);
	close(f.fd);
	q = qmp_connect(path, T_LONG, &e);
	assert_non_null(q);
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	assert_string_equal(st.status, "prelaunch");
	assert_int_equal(qmp_quit(q, &e), 0);
	qmp_close(q);
	assert_int_equal(fake_wait(&f), 0);
	unlink(path);
	rmdir(dir);
}

/* ---- the framer alone ---- */

static int feed_all(struct qmp_stream *s, const char *in, json_t **out, int max,
		    struct err *e)
{
	size_t len = strlen(in), off = 0, used;
	json_t *m;
	int n = 0, ret;

	while (off < len) {
		ret = qmp_stream_feed(s, in + off, len - off, &used, &m, e);
		if (ret < 0)
			return ret;
		off += used;
		if (ret == 1) {
			if (n < max)
				out[n++] = m;
			else
				json_decref(m);
		}
	}
	return n;
}

static void test_stream_framing(void **state)
{
	struct qmp_stream s;
	struct err e = {0};
	json_t *m[4];
	int i;

	qmp_stream_init(&s, 64, 3);
	assert_int_equal(feed_all(&s,
				  "\r\n\n{\"a\": \"[[[{\\\"\"}\r\n"
				  "{\"b\": [[1]]}\n{\"c\"",
				  m, 4, &e),
			 2);
	assert_string_equal(json_string_value(json_object_get(m[0], "a")),
			    "[[[{\"");
	assert_true(qmp_stream_pending(&s));
	assert_int_equal(feed_all(&s, ": 1}\n", m + 2, 2, &e), 1);
	assert_false(qmp_stream_pending(&s));
	for (i = 0; i < 3; i++)
		json_decref(m[i]);
	/* depth limit 3: a fourth level is refused, the stream stays dead */
	assert_int_equal(feed_all(&s, "{\"b\": [[{}]]}\n", m, 4, &e), -ELOOP);
	assert_int_equal(feed_all(&s, "{}\n", m, 4, &e), -EPROTO);
	qmp_stream_free(&s);

	qmp_stream_init(&s, 8, 4);
	assert_int_equal(feed_all(&s, "{\"a\":1}\n", m, 4, &e), 1);
	json_decref(m[0]);
	assert_int_equal(feed_all(&s, "{\"abc\":1}\n", m, 4, &e), -EMSGSIZE);
	qmp_stream_free(&s);

	qmp_stream_init(&s, 64, 4);
	assert_int_equal(feed_all(&s, "{\"a\":1} x\n", m, 4, &e), -EBADMSG);
	qmp_stream_free(&s);
	qmp_stream_init(&s, 64, 4);
	assert_int_equal(feed_all(&s, "{\"a\":\"\\u0000\"}\n", m, 4, &e),
			 -EBADMSG);
	qmp_stream_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_greeting),
	    cmocka_unit_test(test_status_and_power),
	    cmocka_unit_test(test_query_pci),
	    cmocka_unit_test(test_query_block_chardev),
	    cmocka_unit_test(test_error_reply),
	    cmocka_unit_test(test_quit_shutdown),
	    cmocka_unit_test(test_snapshot_ok),
	    cmocka_unit_test(test_snapshot_fails),
	    cmocka_unit_test(test_events_during_command),
	    cmocka_unit_test(test_event_flood),
	    cmocka_unit_test(test_event_callback_and_shrink),
	    cmocka_unit_test(test_flood_forever),
	    cmocka_unit_test(test_command_from_callback),
	    cmocka_unit_test(test_dispatch_poll_loop),
	    cmocka_unit_test(test_no_greeting_silence),
	    cmocka_unit_test(test_no_greeting_reply_first),
	    cmocka_unit_test(test_greeting_without_caps),
	    cmocka_unit_test(test_greeting_bad_version),
	    cmocka_unit_test(test_eof_mid_greeting),
	    cmocka_unit_test(test_eof_before_greeting),
	    cmocka_unit_test(test_oversize_greeting),
	    cmocka_unit_test(test_deep_greeting),
	    cmocka_unit_test(test_garbage_greeting),
	    cmocka_unit_test(test_reply_silence),
	    cmocka_unit_test(test_abandon),
	    cmocka_unit_test(test_abandon_twice),
	    cmocka_unit_test(test_reply_unknown_id),
	    cmocka_unit_test(test_reply_string_id),
	    cmocka_unit_test(test_reply_duplicate_keys),
	    cmocka_unit_test(test_reply_invalid_utf8),
	    cmocka_unit_test(test_reply_garbage),
	    cmocka_unit_test(test_reply_not_object),
	    cmocka_unit_test(test_reply_neither),
	    cmocka_unit_test(test_reply_bad_error),
	    cmocka_unit_test(test_reply_second_greeting),
	    cmocka_unit_test(test_reply_deep),
	    cmocka_unit_test(test_reply_eof_mid),
	    cmocka_unit_test(test_reply_eof),
	    cmocka_unit_test(test_reply_wrong_shape),
	    cmocka_unit_test(test_reply_oversize_limit),
	    cmocka_unit_test(test_unsolicited_reply),
	    cmocka_unit_test(test_bytewise),
	    cmocka_unit_test(test_partial_writes),
	    cmocka_unit_test(test_write_while_flooded),
	    cmocka_unit_test(test_eintr),
	    cmocka_unit_test(test_connect_path),
	    cmocka_unit_test(test_stream_framing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
