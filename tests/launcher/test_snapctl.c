/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_snapctl.c - the live-snapshot control socket without QEMU: the
 * request parser with good and hostile lines, and the server answering a
 * forked client (ephemeral refusal, busy, bad request, wrong op), each
 * with its audit record
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "snapctl.h"

static int parse(const char *s, struct snapctl_req *r)
{
	struct err e;

	return snapctl_parse(s, strlen(s), r, &e);
}

static void test_parse_good(void **state)
{
	struct snapctl_req r;

	(void)state;
	assert_int_equal(parse("{\"op\":\"create\",\"tag\":\"s1\"}", &r), 0);
	assert_int_equal(r.op, SNAPCTL_CREATE);
	assert_string_equal(r.tag, "s1");
	assert_int_equal(r.timeout_s, SNAPCTL_TIMEOUT_DEFAULT_S);
	assert_int_equal(parse("{\"op\":\"list\"}", &r), 0);
	assert_int_equal(r.op, SNAPCTL_LIST);
	assert_int_equal(parse("{\"op\":\"delete\",\"tag\":\"a.b-c_9\","
			       "\"why\":\"max-age\",\"timeout\":5}", &r), 0);
	assert_string_equal(r.why, "max-age");
	assert_int_equal(r.timeout_s, 5);
	assert_int_equal(parse("{\"op\":\"revert\",\"tag\":\"x\"}", &r), 0);
	assert_int_equal(r.op, SNAPCTL_REVERT);
}

static void test_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"", "[]", "null", "{", "{\"op\":\"create\"}",
		"{\"op\":\"list\",\"tag\":\"s1\"}",
		"{\"op\":\"format\",\"tag\":\"s1\"}",
		"{\"op\":1,\"tag\":\"s1\"}",
		"{\"op\":\"create\",\"tag\":\"-rf\"}",
		"{\"op\":\"create\",\"tag\":\"a/b\"}",
		"{\"op\":\"create\",\"tag\":\"\"}",
		"{\"op\":\"create\",\"tag\":7}",
		"{\"op\":\"create\",\"tag\":\"s1\",\"why\":\"keep\"}",
		"{\"op\":\"delete\",\"tag\":\"s1\",\"why\":\"because\"}",
		"{\"op\":\"create\",\"tag\":\"s1\",\"timeout\":0}",
		"{\"op\":\"create\",\"tag\":\"s1\",\"timeout\":99999}",
		"{\"op\":\"create\",\"tag\":\"s1\",\"timeout\":\"5\"}",
		"{\"op\":\"create\",\"tag\":\"s1\",\"vmstate\":\"x\"}",
		"{\"op\":\"create\",\"op\":\"list\",\"tag\":\"s1\"}",
		"{\"op\":\"create\",\"tag\":\"s\\u0000\"}",
	};
	char big[SNAPCTL_REQ_MAX + 64], tag[SNAPCTL_TAG_MAX + 2];
	struct snapctl_req r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad: %s\n", bad[i]);
		assert_true(parse(bad[i], &r) < 0);
	}
	memset(tag, 'a', sizeof(tag) - 1);
	tag[sizeof(tag) - 1] = '\0';
	snprintf(big, sizeof(big), "{\"op\":\"create\",\"tag\":\"%s\"}", tag);
	assert_true(parse(big, &r) < 0);
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, &r), -EMSGSIZE);
}

static char last_event[64], last_result[32];

static void on_audit(void *ctx, const char *event, json_t *d)
{
	const char *res = json_string_value(json_object_get(d, "result"));

	(void)ctx;
	snprintf(last_event, sizeof(last_event), "%s", event);
	snprintf(last_result, sizeof(last_result), "%s", res ? res : "");
	json_decref(d);
}

/* A client in a child process; the server here answers it. Return: the
 * reply's "code" ("" for ok), or "call-failed". */
static void roundtrip(struct snapctl *s, const char *path,
		      const struct snapctl_req *req, char code[32])
{
	int pipefd[2], st;
	struct pollfd pfd[2];
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		json_t *r = NULL;
		struct err e;
		const char *c = "call-failed";

		close(pipefd[0]);
		if (!snapctl_call(path, req, &r, &e)) {
			c = json_string_value(json_object_get(r, "code"));
			if (!c)
				c = "";
		}
		n = write(pipefd[1], c, strlen(c) + 1);
		_exit(n > 0 ? 0 : 1);
	}
	close(pipefd[1]);
	snapctl_pollfds(s, pfd);
	assert_int_equal(poll(pfd, 2, 5000), 1);
	snapctl_ready(s, pfd);
	n = read(pipefd[0], code, 32);
	assert_true(n > 0);
	code[31] = '\0';
	close(pipefd[0]);
	waitpid(pid, &st, 0);
}

static void test_server(void **state)
{
	char dir[] = "/tmp/snapctl-XXXXXX", path[64], code[32];
	struct snapctl_req req = { .op = SNAPCTL_CREATE, .tag = "s1",
				   .timeout_s = 5 };
	struct snapctl s;
	struct err e;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, SNAPCTL_SOCK);
	assert_int_equal(snapctl_open(&s, path, NULL, "disk0", "mem0", false,
				      on_audit, NULL, &e), 0);
	assert_int_equal(access(path, F_OK), 0);

	roundtrip(&s, path, &req, code);
	assert_string_equal(code, "ephemeral");
	assert_string_equal(last_event, "snapshot.create");
	assert_string_equal(last_result, "refused");

	s.busy = true;
	req.op = SNAPCTL_REVERT;
	roundtrip(&s, path, &req, code);
	assert_string_equal(code, "busy");
	assert_string_equal(last_event, "snapshot.revert");
	assert_string_equal(last_result, "busy");
	s.busy = false;

	snapctl_close(&s);
	assert_int_not_equal(access(path, F_OK), 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
