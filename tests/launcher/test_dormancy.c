/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_dormancy.c - dormancy verdicts with a fake clock: idle, changed base
 * or profile, sticky findings, review acknowledgement, on-stale actions,
 * hostile state files
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

#include "audit.h"
#include "dormancy.h"
#include "supervisor.h"

#define DAY 86400
#define T0 1800000000	/* 2027-01-15 */

static const char *A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char *B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
static const char *P = "1111111111111111111111111111111111111111111111111111111111111111";
static const char *Q = "2222222222222222222222222222222222222222222222222222222222222222";

static char tmp[64];
static struct cell cell;
static struct profile prof;

static void write_state(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	cell_path(&cell, CELL_STATE, name, path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct err e;
	char dir[128];

	strcpy(tmp, "/tmp/test-dormancy-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/s", tmp);
	setenv("WALLOFF_STATE_DIR", dir, 1);
	snprintf(dir, sizeof(dir), "%s/r", tmp);
	setenv("WALLOFF_RUN_DIR", dir, 1);
	assert_int_equal(cell_init(&cell, "dm", &e), 0);
	snprintf(dir, sizeof(dir), "%s/s", tmp);
	mkdir(dir, 0700);
	mkdir(cell.state_dir, 0700);
	memset(&prof, 0, sizeof(prof));
	strcpy(prof.name, "dm");
	prof.has_dormancy = true;
	prof.max_idle_s = 30 * DAY;
	prof.on_stale = STALE_REFUSE;
	prof.net = NET_USER;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct dormancy check(const char *base, const char *pr, time_t now)
{
	struct dormancy d;
	struct err e;

	assert_int_equal(dormancy_check(&cell, &prof, base, pr, now, &d, &e), 0);
	return d;
}

static void record(const char *base, const char *pr, time_t now)
{
	struct dormancy d = check(base, pr, now);
	struct err e;

	assert_int_equal(dormancy_record(&cell, &d, &e), 0);
}

static void test_first_and_idle(void **state)
{
	struct dormancy d;

	d = check(A, P, T0);
	assert_int_equal(d.verdict, DORMANCY_OK);	/* nothing recorded */
	record(A, P, T0);
	assert_int_equal(check(A, P, T0 + 29 * DAY).verdict, DORMANCY_OK);
	d = check(A, P, T0 + 40 * DAY);
	assert_int_equal(d.verdict, DORMANCY_REFUSE);
	assert_non_null(strstr(d.reason, "idle for 40 days (max-idle 30 days)"));
	prof.on_stale = STALE_WARN;
	assert_int_equal(check(A, P, T0 + 40 * DAY).verdict, DORMANCY_WARN);
	prof.on_stale = STALE_QUARANTINE;
	assert_int_equal(check(A, P, T0 + 40 * DAY).verdict,
			 DORMANCY_QUARANTINE);
	/* No [dormancy]: recorded, never judged. */
	prof.has_dormancy = false;
	assert_int_equal(check(B, Q, T0 + 400 * DAY).verdict, DORMANCY_OK);
}

/* The brief's way of faking the clock: edit last_run in the state file. */
static void test_edited_state(void **state)
{
	char text[512];
	struct dormancy d;

	snprintf(text, sizeof(text), "{\"last_run\": %lld, \"base_sha256\": "
		 "\"%s\", \"profile_sha256\": \"%s\"}", (long long)T0 - 91 * DAY,
		 A, P);
	write_state(DORMANCY_FILE, text);
	d = check(A, P, T0);
	assert_int_equal(d.verdict, DORMANCY_REFUSE);
	assert_non_null(strstr(d.reason, "idle for 91 days"));
}

static void test_changed(void **state)
{
	struct dormancy d;

	record(A, P, T0);
	d = check(B, P, T0 + DAY);
	assert_int_equal(d.verdict, DORMANCY_REFUSE);
	assert_non_null(strstr(d.reason, "base image changed"));
	d = check(A, Q, T0 + DAY);
	assert_int_equal(d.verdict, DORMANCY_REFUSE);
	assert_non_null(strstr(d.reason, "profile changed since the last start"));
	d = check(B, Q, T0 + 40 * DAY);
	assert_non_null(strstr(d.reason, "idle"));
	assert_non_null(strstr(d.reason, "base"));
	assert_non_null(strstr(d.reason, "profile"));
}

static void test_review(void **state)
{
	char text[512];
	struct dormancy d;

	record(A, P, T0);
	/* A review of another profile text: the profile changed since. */
	snprintf(text, sizeof(text), "{\"date\": \"2027-01-20\", \"reviewer\": "
		 "\"alice\", \"profile_sha256\": \"%s\"}", Q);
	write_state(REVIEW_FILE, text);
	d = check(A, P, T0 + DAY);
	assert_int_equal(d.verdict, DORMANCY_REFUSE);
	assert_non_null(strstr(d.reason, "since the last review"));
	/* The review covers the current profile: fine. */
	d = check(A, Q, T0 + DAY);
	assert_int_equal(d.verdict, DORMANCY_OK);

	/* Idle 40 days, reviewed during the sleep (after the last run). */
	d = check(A, Q, T0 + 40 * DAY);
	assert_int_equal(d.verdict, DORMANCY_OK);
	/* Reviewed before the last run: does not cover the sleep. */
	snprintf(text, sizeof(text), "{\"date\": \"2027-01-01T10:00:00Z\", "
		 "\"reviewer\": \"alice\", \"profile_sha256\": \"%s\"}", P);
	write_state(REVIEW_FILE, text);
	d = check(A, P, T0 + 40 * DAY);
	assert_int_equal(d.verdict, DORMANCY_REFUSE);
	/* Garbage dates never acknowledge. */
	snprintf(text, sizeof(text), "{\"date\": \"tomorrow\", "
		 "\"profile_sha256\": \"%s\"}", P);
	write_state(REVIEW_FILE, text);
	assert_int_equal(check(A, P, T0 + 40 * DAY).verdict, DORMANCY_REFUSE);
}

/* Starting quarantined once does not launder the finding. */
static void test_sticky(void **state)
{
	char text[512];
	struct dormancy d;
	struct err e;

	prof.on_stale = STALE_QUARANTINE;
	record(A, P, T0);
	d = check(B, P, T0 + DAY);
	assert_int_equal(d.verdict, DORMANCY_QUARANTINE);
	assert_true(d.stale);
	assert_int_equal(dormancy_record(&cell, &d, &e), 0);
	/* Same base as recorded now, within max-idle: still stale. */
	d = check(B, P, T0 + 2 * DAY);
	assert_int_equal(d.verdict, DORMANCY_QUARANTINE);
	assert_non_null(strstr(d.reason, "base image changed"));
	assert_int_equal(d.stale_since, T0 + DAY);
	/* A review after the finding lifts it. */
	snprintf(text, sizeof(text), "{\"date\": %lld, \"reviewer\": \"bob\", "
		 "\"profile_sha256\": \"%s\"}", (long long)T0 + DAY + 60, P);
	write_state(REVIEW_FILE, text);
	d = check(B, P, T0 + 2 * DAY);
	assert_int_equal(d.verdict, DORMANCY_OK);
	assert_false(d.stale);
}

static void test_start_actions(void **state)
{
	char path[PATH_MAX], log[8192];
	struct profile *q = NULL;
	struct dormancy d;
	struct audit *a;
	struct err e;
	int rc = 0, fd;
	ssize_t n;

	cell_path(&cell, CELL_STATE, "audit.jsonl", path);
	a = audit_open(path, "dm", &e);
	assert_non_null(a);
	record(A, P, T0);

	prof.on_stale = STALE_REFUSE;
	assert_int_equal(dormancy_start(&cell, &prof, a, B, P, &d, &q, &rc),
			 -ESTALE);
	assert_int_equal(rc, RUN_STALE);
	assert_null(q);

	prof.on_stale = STALE_QUARANTINE;
	assert_int_equal(dormancy_start(&cell, &prof, a, B, P, &d, &q, &rc), 0);
	assert_non_null(q);
	assert_int_equal(q->net, NET_NONE);	/* runs as [network] mode = none */
	assert_int_equal(prof.net, NET_USER);	/* the profile is untouched */
	free(q);

	prof.on_stale = STALE_WARN;
	assert_int_equal(dormancy_start(&cell, &prof, a, B, P, &d, &q, &rc), 0);
	assert_null(q);
	audit_close(a);

	fd = open(path, O_RDONLY);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	assert_true(n > 0);
	log[n] = '\0';
	assert_non_null(strstr(log, "\"action\":\"refuse\""));
	assert_non_null(strstr(log, "\"action\":\"quarantine\""));
	assert_non_null(strstr(log, "\"action\":\"warn\""));
}

static void test_hostile_state(void **state)
{
	struct dormancy d;
	struct err e;
	char big[8192];

	write_state(DORMANCY_FILE, "{\"last_run\": ");
	assert_int_equal(dormancy_check(&cell, &prof, A, P, T0, &d, &e),
			 -EBADMSG);
	write_state(DORMANCY_FILE, "[1, 2]");
	assert_int_equal(dormancy_check(&cell, &prof, A, P, T0, &d, &e),
			 -EBADMSG);
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	write_state(DORMANCY_FILE, big);
	assert_int_equal(dormancy_check(&cell, &prof, A, P, T0, &d, &e),
			 -EFBIG);
	/* Wrong types are ignored, not trusted. */
	write_state(DORMANCY_FILE, "{\"last_run\": \"yesterday\", "
		    "\"base_sha256\": 5, \"stale\": 1}");
	assert_int_equal(dormancy_check(&cell, &prof, A, P, T0, &d, &e), 0);
	assert_int_equal(d.verdict, DORMANCY_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_and_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_review, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sticky, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_state, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
