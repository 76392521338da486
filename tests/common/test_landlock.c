/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_landlock.c - common/landlock.c: the access masks per ABI and rule,
 * and, on this kernel, what a restricted process can still open
 *
 * Restriction is for good, so each behaviour case runs in a forked child
 * that reports through its exit status (0: as expected, else the number
 * of the check that failed). On a kernel without Landlock the same cases
 * check that landlock_restrict() carries on and says "unavailable".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "landlock.h"

/* Access rights by bit, as <linux/landlock.h> numbers them. */
#define EXECUTE (1ULL << 0)
#define READ_FILE (1ULL << 2)
#define READ_DIR (1ULL << 3)

static void test_handled(void **state)
{
	(void)state;
	assert_int_equal(landlock_fs_handled(0), 0);
	assert_int_equal(landlock_fs_handled(-1), 0);
	assert_int_equal(landlock_fs_handled(1), 0x1fff); /* bits 0-12 */
	assert_int_equal(landlock_fs_handled(2), 0x3fff); /* + REFER */
	assert_int_equal(landlock_fs_handled(3), 0x7fff); /* + TRUNCATE */
	assert_int_equal(landlock_fs_handled(4), 0x7fff); /* net only */
	assert_int_equal(landlock_fs_handled(5), 0xffff); /* + IOCTL_DEV */
	assert_int_equal(landlock_fs_handled(7), 0xffff);
}

static void test_rule_access(void **state)
{
	uint64_t h = landlock_fs_handled(5);

	(void)state;
	assert_int_equal(landlock_rule_access(LANDLOCK_GRANT_READ, true, h),
			 READ_FILE | READ_DIR);
	/* a file takes no folder rights: the kernel would refuse the rule */
	assert_int_equal(landlock_rule_access(LANDLOCK_GRANT_READ, false, h),
			 READ_FILE);
	assert_int_equal(
	    landlock_rule_access(LANDLOCK_GRANT_READ_EXEC, false, h),
	    READ_FILE | EXECUTE);
	assert_int_equal(
	    landlock_rule_access(LANDLOCK_GRANT_READ_EXEC, true, h),
	    READ_FILE | READ_DIR | EXECUTE);
	/* never a right the ruleset does not handle */
	assert_int_equal(landlock_rule_access(LANDLOCK_GRANT_READ, true, 0), 0);
	assert_int_equal(
	    landlock_rule_access(LANDLOCK_GRANT_READ, true, READ_FILE),
	    READ_FILE);
}

/* Pipes between the test and its restricted child. */
static int to_child[2], to_parent[2];

/* Run @fn in a child; it returns 0 or the number of the failed check. */
static int in_child(int (*fn)(const char *dir), const char *dir,
		    void (*meanwhile)(const char *dir))
{
	int status;
	char c;
	pid_t pid;

	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);
	pid = fork();
	if (pid == 0)
		_exit(fn(dir));
	assert_true(pid > 0);
	/* the child says when it is restricted; we act, then let it go on */
	if (read(to_parent[0], &c, 1) == 1 && meanwhile)
		meanwhile(dir);
	assert_int_equal(write(to_child[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* In the child: tell the parent we are restricted, wait for its go. */
static int handshake(void)
{
	char c;

	if (write(to_parent[1], "r", 1) != 1 || read(to_child[0], &c, 1) != 1)
		return -1;
	return 0;
}

static int can_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static bool status_ok(const char *status)
{
	if (landlock_abi() > 0)
		return !strncmp(status, "enforced (ABI ", 14);
	return !strcmp(status, "unavailable");
}

/*
 * The console's case: read access to a folder whose keys file the
 * supervisor replaces by rename while we run; nothing else.
 */
static int child_folder(const char *dir)
{
	struct landlock_rule rule = {dir, LANDLOCK_GRANT_READ};
	char status[LANDLOCK_STATUS_MAX], keys[PATH_MAX], out[PATH_MAX];
	char buf[16];
	struct err e;
	int want = landlock_abi() > 0 ? -EACCES : 0;

	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snprintf(out, sizeof(out), "%s/escape", dir);
	if (landlock_restrict(&rule, 1, status, &e))
		return 1;
	if (!status_ok(status))
		return 2;
	if (can_open("/etc/passwd", O_RDONLY) != want)
		return 3;
	if (can_open("/", O_RDONLY | O_DIRECTORY) != want)
		return 4;
	if (can_open(dir, O_RDONLY | O_DIRECTORY))
		return 5;
	/* inside the folder: reading only, no new files, no writing */
	if (can_open(out, O_WRONLY | O_CREAT) != want)
		return 6;
	if (read_file(keys, buf, sizeof(buf)) || strcmp(buf, "one\n"))
		return 7;
	if (can_open(keys, O_WRONLY) != want)
		return 8;
	if (handshake())
		return 9;
	/* the parent renamed a new copy over the file: still readable */
	if (read_file(keys, buf, sizeof(buf)) || strcmp(buf, "two\n"))
		return 10;
	return 0;
}

static void replace_keys(const char *dir)
{
	char keys[PATH_MAX], tmp[PATH_MAX];

	snprintf(keys, sizeof(keys), "%s/keys", dir);
	snprintf(tmp, sizeof(tmp), "%s/keys.tmp", dir);
	assert_int_equal(write_file(tmp, "two\n"), 0);
	assert_int_equal(rename(tmp, keys), 0);
}

static void test_restrict_folder(void **state)
{
	char dir[] = "/tmp/walloff-landlock-XXXXXX";
	char path[PATH_MAX];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/keys", dir);
	assert_int_equal(write_file(path, "one\n"), 0);
	assert_int_equal(in_child(child_folder, dir, replace_keys), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/escape", dir);
	assert_int_equal(access(path, F_OK) == 0, landlock_abi() == 0);
	unlink(path);
	rmdir(dir);
}

/* walloff-nftlog's case: no rule at all. */
static int child_nothing(const char *dir)
{
	char status[LANDLOCK_STATUS_MAX];
	struct err e;
	int want = landlock_abi() > 0 ? -EACCES : 0;

	if (landlock_restrict(NULL, 0, status, &e))
		return 1;
	if (!status_ok(status))
		return 2;
	if (can_open(dir, O_RDONLY | O_DIRECTORY) != want)
		return 3;
	if (can_open("/etc/passwd", O_RDONLY) != want)
		return 4;
	/* descriptors opened before keep working: stdout is still ours */
	if (write(STDOUT_FILENO, "", 0) != 0)
		return 5;
	return handshake() ? 6 : 0;
}

static void test_restrict_nothing(void **state)
{
	char dir[] = "/tmp/walloff-landlock-XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(in_child(child_nothing, dir, NULL), 0);
	rmdir(dir);
}

/* A file rule (walloff-net's /etc/resolv.conf): that file, no folder. */
static int child_file(const char *dir)
{
	char status[LANDLOCK_STATUS_MAX], file[PATH_MAX], other[PATH_MAX];
	struct landlock_rule rule = {file, LANDLOCK_GRANT_READ};
	struct err e;
	int want = landlock_abi() > 0 ? -EACCES : 0;

	snprintf(file, sizeof(file), "%s/resolv.conf", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	if (landlock_restrict(&rule, 1, status, &e))
		return 1;
	if (can_open(file, O_RDONLY))
		return 2;
	if (can_open(other, O_RDONLY) != want)
		return 3;
	if (can_open(dir, O_RDONLY | O_DIRECTORY) != want)
		return 4;
	return handshake() ? 5 : 0;
}

static void test_restrict_file(void **state)
{
	char dir[] = "/tmp/walloff-landlock-XXXXXX";
	char a[PATH_MAX], b[PATH_MAX];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/resolv.conf", dir);
	snprintf(b, sizeof(b), "%s/other", dir);
	assert_int_equal(write_file(a, "nameserver 127.0.0.1\n"), 0);
	assert_int_equal(write_file(b, "x\n"), 0);
	assert_int_equal(in_child(child_file, dir, NULL), 0);
	unlink(a);
	unlink(b);
	rmdir(dir);
}

/* A missing path is an error, and nothing was restricted. */
static int child_missing(const char *dir)
{
	char status[LANDLOCK_STATUS_MAX], gone[PATH_MAX];
	struct landlock_rule rule = {gone, LANDLOCK_GRANT_READ};
	struct err e;
	int r;

	snprintf(gone, sizeof(gone), "%s/not-there", dir);
	r = landlock_restrict(&rule, 1, status, &e);
	if (landlock_abi() > 0 && (r != -ENOENT || !strstr(e.msg, gone)))
		return 1;
	if (landlock_abi() == 0 && r)
		return 2;
	if (can_open("/etc/passwd", O_RDONLY))
		return 3;
	return handshake() ? 4 : 0;
}

static void test_restrict_missing(void **state)
{
	char dir[] = "/tmp/walloff-landlock-XXXXXX";

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(in_child(child_missing, dir, NULL), 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handled),
	    cmocka_unit_test(test_rule_access),
	    cmocka_unit_test(test_restrict_folder),
	    cmocka_unit_test(test_restrict_nothing),
	    cmocka_unit_test(test_restrict_file),
	    cmocka_unit_test(test_restrict_missing),
	};

	printf("# landlock ABI on this kernel: %d\n", landlock_abi());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
