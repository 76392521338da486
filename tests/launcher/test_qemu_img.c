/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_qemu_img.c - qemu_img_run_luks(): the retry around QEMU's PBKDF
 * benchmark
 *
 * A fake qemu-img (a shell script named by WALLOFF_QEMU_IMG) creates the
 * file it is told to, then fails with QEMU's "Unable to get accurate CPU
 * usage" while a countdown file says so. The runner must retry exactly that
 * failure (removing the half-made file each time), give up after its
 * attempts, and never retry any other failure.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "qemu_img.h"

static char dir[] = "/tmp/walloff-test-qemu-img-XXXXXX";
static char fake[PATH_MAX], countdown[PATH_MAX], made[PATH_MAX],
	calls[PATH_MAX];

/* $1: the file to make; fails while COUNTDOWN > 0 (message: $2). */
static const char script[] =
	"#!/bin/sh\n"
	"echo x >> \"$CALLS\"\n"
	"echo made > \"$1\"\n"
	"n=$(cat \"$COUNTDOWN\")\n"
	"if [ \"$n\" -gt 0 ]; then\n"
	"  echo $((n - 1)) > \"$COUNTDOWN\"\n"
	"  echo \"qemu-img: $1: $2\" >&2\n"
	"  exit 1\n"
	"fi\n";

static void set_countdown(int n)
{
	FILE *f = fopen(countdown, "w");

	assert_non_null(f);
	fprintf(f, "%d\n", n);
	fclose(f);
	unlink(calls);
}

static int n_calls(void)
{
	FILE *f = fopen(calls, "r");
	int n = 0, c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static int setup(void **state)
{
	FILE *f;

	if (!mkdtemp(dir))
		return -1;
	snprintf(fake, sizeof(fake), "%s/qemu-img", dir);
	snprintf(countdown, sizeof(countdown), "%s/countdown", dir);
	snprintf(made, sizeof(made), "%s/made.luks", dir);
	snprintf(calls, sizeof(calls), "%s/calls", dir);
	f = fopen(fake, "w");
	if (!f)
		return -1;
	fputs(script, f);
	fclose(f);
	chmod(fake, 0700);
	setenv("WALLOFF_QEMU_IMG", fake, 1);
	setenv("COUNTDOWN", countdown, 1);
	setenv("CALLS", calls, 1);
	return 0;
}

static int teardown(void **state)
{
	unlink(fake);
	unlink(countdown);
	unlink(made);
	unlink(calls);
	rmdir(dir);
	return 0;
}

static void test_retry_benchmark(void **state)
{
	const char *argv[] = { made, "Unable to get accurate CPU usage", NULL };
	struct err e;

	set_countdown(2);
	assert_int_equal(qemu_img_run_luks(argv, made, &e), 0);
	assert_int_equal(n_calls(), 3);
	assert_int_equal(access(made, F_OK), 0);	/* the good one stays */
}

static void test_gives_up(void **state)
{
	const char *argv[] = { made, "Unable to get accurate CPU usage", NULL };
	struct err e;

	set_countdown(100);
	assert_int_equal(qemu_img_run_luks(argv, made, &e), -EIO);
	assert_int_equal(n_calls(), 4);
	assert_non_null(strstr(e.msg, "accurate CPU usage"));
	assert_int_equal(access(made, F_OK), -1);	/* nothing half-made */
}

static void test_other_failure_once(void **state)
{
	const char *argv[] = { made, "Could not open: Permission denied", NULL };
	struct err e;

	set_countdown(1);
	assert_int_equal(qemu_img_run_luks(argv, made, &e), -EIO);
	assert_int_equal(n_calls(), 1);
	assert_non_null(strstr(e.msg, "Permission denied"));
	assert_int_equal(access(made, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_benchmark),
		cmocka_unit_test(test_gives_up),
		cmocka_unit_test(test_other_failure_once),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
