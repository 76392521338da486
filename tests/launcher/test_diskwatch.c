/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_diskwatch.c - BLOCK_IO_ERROR events as QEMU (or a compromised QEMU)
 * may send them: full disk, other errors, reported errors, malformed and
 * hostile data; the pause state machine, poll interval and free space
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "diskwatch.h"

static enum diskwatch_verdict feed(struct diskwatch *w, const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	enum diskwatch_verdict v;

	v = diskwatch_event(w, j);
	json_decref(j);
	return v;
}

static void test_full_then_resume(void **state)
{
	struct diskwatch w;

	diskwatch_init(&w, -1);
	assert_int_equal(diskwatch_timeout(&w, -1), -1);
	assert_int_equal(feed(&w, "{\"device\":\"\",\"node-name\":\"disk0\","
			      "\"operation\":\"write\",\"action\":\"stop\","
			      "\"nospace\":true,\"reason\":\"No space left on "
			      "device\"}"), DISKWATCH_NEW_FULL);
	assert_int_equal(w.state, DISKWATCH_FULL);
	assert_string_equal(w.node, "disk0");
	assert_string_equal(w.operation, "write");
	/* the other requests in flight fail too: one pause, one record */
	assert_int_equal(feed(&w, "{\"node-name\":\"disk0\",\"action\":"
			      "\"stop\",\"nospace\":true}"), DISKWATCH_IGNORE);
	assert_int_equal(feed(&w, "{\"node-name\":\"disk0\",\"action\":"
			      "\"stop\",\"nospace\":false}"), DISKWATCH_IGNORE);
	assert_int_equal(w.state, DISKWATCH_FULL);
	/* polled while full: at most DISKWATCH_POLL_MS, due once per period */
	assert_int_equal(diskwatch_timeout(&w, -1), DISKWATCH_POLL_MS);
	assert_int_equal(diskwatch_timeout(&w, 100), 100);
	assert_int_equal(diskwatch_timeout(&w, 5000), DISKWATCH_POLL_MS);
	assert_true(diskwatch_due(&w, w.paused_ms));
	assert_false(diskwatch_due(&w, w.paused_ms + 1));
	assert_true(diskwatch_due(&w, w.paused_ms + DISKWATCH_POLL_MS));
	diskwatch_resumed(&w);
	assert_int_equal(w.state, DISKWATCH_OK);
	assert_false(diskwatch_due(&w, w.paused_ms + 10 * DISKWATCH_POLL_MS));
	assert_int_equal(diskwatch_timeout(&w, -1), -1);
}

static void test_other_error_stays_paused(void **state)
{
	struct diskwatch w;

	diskwatch_init(&w, -1);
	assert_int_equal(feed(&w, "{\"node-name\":\"disk0\",\"operation\":"
			      "\"read\",\"action\":\"stop\",\"nospace\":false,"
			      "\"reason\":\"Input/output error\"}"),
			 DISKWATCH_NEW_ERROR);
	assert_int_equal(w.state, DISKWATCH_ERROR);
	/* never polled, never resumed by the watcher */
	assert_false(diskwatch_due(&w, w.paused_ms + 100000));
	assert_int_equal(diskwatch_timeout(&w, -1), -1);
	/* a later ENOSPC does not turn it into a resumable pause */
	assert_int_equal(feed(&w, "{\"action\":\"stop\",\"nospace\":true}"),
			 DISKWATCH_IGNORE);
	assert_int_equal(w.state, DISKWATCH_ERROR);
	/* nospace missing: not a full disk */
	diskwatch_init(&w, -1);
	assert_int_equal(feed(&w, "{\"action\":\"stop\"}"),
			 DISKWATCH_NEW_ERROR);
	/* nospace must be the JSON true, not a truthy string */
	diskwatch_init(&w, -1);
	assert_int_equal(feed(&w, "{\"action\":\"stop\",\"nospace\":\"true\"}"),
			 DISKWATCH_NEW_ERROR);
}

static void test_reported_and_malformed(void **state)
{
	struct diskwatch w;

	diskwatch_init(&w, -1);
	assert_int_equal(feed(&w, "{\"action\":\"report\",\"nospace\":true}"),
			 DISKWATCH_REPORTED);
	assert_int_equal(feed(&w, "{\"action\":\"ignore\"}"),
			 DISKWATCH_REPORTED);
	assert_int_equal(w.state, DISKWATCH_OK);
	assert_int_equal(feed(&w, "{}"), DISKWATCH_IGNORE);
	assert_int_equal(feed(&w, "[1,2]"), DISKWATCH_IGNORE);
	assert_int_equal(feed(&w, "{\"action\":5,\"nospace\":true}"),
			 DISKWATCH_IGNORE);
	assert_int_equal(diskwatch_event(&w, NULL), DISKWATCH_IGNORE);
	assert_int_equal(w.state, DISKWATCH_OK);
}

static void test_hostile_strings(void **state)
{
	char ev[4096], longname[1000];
	struct diskwatch w;
	size_t i;

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(ev, sizeof(ev), "{\"node-name\":\"%s\",\"operation\":"
		 "\"wr\\u001b[2Jite-and-more\",\"action\":\"stop\",\"nospace\":"
		 "true,\"reason\":\"\\u00e9\\n\\u0001x\"}", longname);
	diskwatch_init(&w, -1);
	assert_int_equal(feed(&w, ev), DISKWATCH_NEW_FULL);
	/* bounded and printable ASCII only */
	assert_int_equal(strlen(w.node), sizeof(w.node) - 1);
	assert_int_equal(strlen(w.operation), sizeof(w.operation) - 1);
	for (i = 0; w.operation[i]; i++)
		assert_true(w.operation[i] >= 0x20 && w.operation[i] < 0x7f);
	for (i = 0; w.reason[i]; i++)
		assert_true(w.reason[i] >= 0x20 && w.reason[i] < 0x7f);
	/* node-name of the wrong type: empty, not a crash */
	diskwatch_init(&w, -1);
	assert_int_equal(feed(&w, "{\"node-name\":{},\"action\":\"stop\","
			      "\"nospace\":true}"), DISKWATCH_NEW_FULL);
	assert_string_equal(w.node, "");
}

static void test_free_and_reserve(void **state)
{
	char path[] = "/tmp/wo-dwXXXXXX";
	struct diskwatch w;
	struct stat st;
	uint64_t n;
	struct err e;
	long r;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "x\n", 2), 2);
	diskwatch_init(&w, -1);
	assert_int_equal(diskwatch_free(&w, &n, &e), -EBADF);
	diskwatch_init(&w, dup(fd));
	assert_int_equal(diskwatch_free(&w, &n, &e), 0);
	assert_true(n > 0);
	/* the reserve: an unnamed file, at most 1 MiB and 1/16 of the free
	 * space, given back on release and taken again */
	r = diskwatch_reserve(&w, "/tmp");
	assert_true(r > 0 && r <= DISKWATCH_AUDIT_RESERVE &&
		    (uint64_t)r <= n / DISKWATCH_RESERVE_SHARE + 1);
	assert_true(w.reserve_fd >= 0);
	assert_int_equal(fstat(w.reserve_fd, &st), 0);
	assert_int_equal(st.st_size, r);
	assert_int_equal(st.st_nlink, 0);
	diskwatch_release(&w);
	assert_int_equal(fstat(w.reserve_fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(diskwatch_reserve(&w, "/tmp"), r);
	diskwatch_close(&w);
	assert_int_equal(w.fd, -1);
	assert_int_equal(w.reserve_fd, -1);
	assert_true(diskwatch_reserve(&w, "/nonexistent-dir") < 0);
	diskwatch_close(&w);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_then_resume),
		cmocka_unit_test(test_other_error_stays_paused),
		cmocka_unit_test(test_reported_and_malformed),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_free_and_reserve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
