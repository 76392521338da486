/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_qmp_qemu.c - qmp/ and "walloff qmp" against a real QEMU 7.2
 *
 * Starts qemu-system-x86_64 -S -accel tcg -nodefaults with an e1000, a
 * blank qcow2 IDE disk and an empty IDE CD drive (no guest image needed:
 * the guest never has to boot),
 * then checks through the library what the supervisor relies on: greeting
 * and version, query-status "prelaunch", query-pci listing exactly the
 * i440FX chipset plus our NIC, query-block/-chardev, snapshot save / load
 * (also of a missing tag) / delete jobs, cont -> running with
 * RESUME, stop -> STOP, and quit -> SHUTDOWN event then EOF and QEMU's exit.
 * The same QEMU first answers the walloff qmp subcommand, whose exit codes
 * (0 ok, 1 QEMU error, 2 usage, 3 broken/timeout) are checked too.
 * QEMU gets PR_SET_PDEATHSIG, and its exit is awaited on a pidfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "config.h"
#include "qmp.h"

/* QEMU under TCG on a loaded 2-core machine starts in about a second. */
#define START_TIMEOUT_MS 30000
#define EXIT_TIMEOUT_MS 20000
/* Saving 32 MiB of RAM and a 16 MiB disk takes well under a second. */
#define JOB_TIMEOUT_MS 30000

static const char *const devs[] = {"disk0"};

static char dir[] = "/tmp/qmpqemuXXXXXX";
static char sock[128];
static char disk[128];
static pid_t qemu = -1;

/* Run a tool (qemu-img) to completion; return its exit status. */
static int run(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int start_qemu(void **state)
{
	char qmparg[256], filearg[256];
	char *img[] = {"qemu-img", "create", "-q",  "-f",
		       "qcow2",	   disk,     "16M", NULL};
	/* clang-format off */
	char *argv[] = {
		WALLOFF_QEMU, "-S", "-accel", "tcg", "-nodefaults",
		"-machine", "pc", "-display", "none", "-m", "32",
		"-qmp", qmparg,
		"-blockdev", filearg,
		"-blockdev", "driver=qcow2,file=file0,node-name=disk0",
		"-device", "ide-hd,id=hd0,drive=disk0,bus=ide.0",
		"-device", "e1000,id=nic0",
		"-device", "ide-cd,id=cd0,bus=ide.1",
		NULL,
	};
	/* clang-format on */

	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/qmp.sock", dir);
	snprintf(disk, sizeof(disk), "%s/disk.qcow2", dir);
	snprintf(filearg, sizeof(filearg),
		 "driver=file,filename=%s,node-name=file0", disk);
	if (run(img) != 0)
		return -1;
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", sock);
	qemu = fork();
	if (qemu < 0)
		return -1;
	if (qemu == 0) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 1); /* "nic nic0 has no peer" */
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return 0;
}

static int stop_qemu(void **state)
{
	if (qemu > 0) {
		kill(qemu, SIGKILL);
		waitpid(qemu, NULL, 0);
	}
	unlink(sock);
	unlink(disk);
	rmdir(dir);
	return 0;
}

/* Run "walloff qmp ARGS...", capture stdout; return its exit code. */
static int walloff_qmp(char *out, size_t size, ...)
{
	char *argv[16] = {WALLOFF_BUILD_ROOT "/launcher/walloff", "qmp"};
	int p[2], st, argc = 2;
	size_t len = 0;
	ssize_t n;
	va_list ap;
	pid_t pid;

	va_start(ap, size);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while (len + 1 < size &&
	       (n = read(p[0], out + len, size - len - 1)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static bool has_event(struct qmp *q, const char *name)
{
	bool found = false;
	json_t *ev;

	while ((ev = qmp_event_pop(q))) {
		if (!strcmp(json_string_value(json_object_get(ev, "event")),
			    name))
			found = true;
		json_decref(ev);
	}
	return found;
}

static const struct {
	int vendor, device, slot, function;
	const char *qdev;
} expected_pci[] = {
    {0x8086, 0x1237, 0, 0, ""},	    /* i440FX host bridge */
    {0x8086, 0x7000, 1, 0, ""},	    /* PIIX3 ISA bridge */
    {0x8086, 0x7010, 1, 1, ""},	    /* PIIX3 IDE */
    {0x8086, 0x7113, 1, 3, ""},	    /* PIIX4 ACPI */
    {0x8086, 0x100e, 2, 0, "nic0"}, /* our e1000 */
};

static void test_real_qemu(void **state)
{
	struct qmp_pci_dev *pci = NULL;
	struct qmp_chardev *ch = NULL;
	struct qmp_block *blk = NULL;
	struct qmp_status st;
	struct err e = {0};
	char out[8192];
	struct qmp *q;
	size_t n, i;
	int pidfd, status;
	struct pollfd pfd;

	/* the debugging subcommand first: one connection per run */
	assert_int_equal(walloff_qmp(out, sizeof(out), sock, "query-status",
				     "--timeout", "30000", (char *)NULL),
			 0);
	assert_non_null(strstr(out, "\"prelaunch\""));
	assert_int_equal(walloff_qmp(out, sizeof(out), sock, "no-such-command",
				     (char *)NULL),
			 1);
	assert_int_equal(walloff_qmp(out, sizeof(out), sock, "screendump",
				     "{\"filename\": 1}", (char *)NULL),
			 1);
	assert_int_equal(
	    walloff_qmp(out, sizeof(out), sock, "cont", "[1]", (char *)NULL),
	    2);
	assert_int_equal(walloff_qmp(out, sizeof(out), sock, (char *)NULL), 2);
	assert_int_equal(walloff_qmp(out, sizeof(out), "/nonexistent/qmp.sock",
				     "query-status", "--timeout", "200",
				     (char *)NULL),
			 3);

	q = qmp_connect(sock, START_TIMEOUT_MS, &e);
	if (!q)
		fail_msg("connect: %s", e.msg);
	assert_int_equal(strncmp(qmp_version(q), "7.", 2), 0);

	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	assert_string_equal(st.status, "prelaunch");
	assert_false(st.running);

	assert_int_equal(qmp_query_pci(q, &pci, &n, &e), 0);
	assert_int_equal(n, sizeof(expected_pci) / sizeof(expected_pci[0]));
	for (i = 0; i < n; i++) {
		assert_int_equal(pci[i].bus, 0);
		assert_int_equal(pci[i].vendor_id, expected_pci[i].vendor);
		assert_int_equal(pci[i].device_id, expected_pci[i].device);
		assert_int_equal(pci[i].slot, expected_pci[i].slot);
		assert_int_equal(pci[i].function, expected_pci[i].function);
		assert_string_equal(pci[i].qdev_id, expected_pci[i].qdev);
	}
	free(pci);

	assert_int_equal(qmp_query_block(q, &blk, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(blk[0].qdev, "hd0");
	assert_true(blk[0].inserted);
	assert_string_equal(blk[0].node_name, "disk0");
	assert_string_equal(blk[0].drv, "qcow2");
	assert_string_equal(blk[0].file, disk);
	assert_false(blk[0].ro);
	assert_string_equal(blk[1].qdev, "cd0");
	assert_true(blk[1].removable);
	assert_false(blk[1].inserted);
	free(blk);

	/* snapshot jobs: save, a failing load, load, delete */
	assert_int_equal(qmp_snapshot_save(q, "save0", "s1", "disk0", devs, 1,
					   JOB_TIMEOUT_MS, &e),
			 0);
	assert_true(has_event(q, "JOB_STATUS_CHANGE"));
	assert_int_equal(qmp_snapshot_load(q, "load0", "nope", "disk0", devs, 1,
					   JOB_TIMEOUT_MS, &e),
			 -EREMOTEIO);
	assert_non_null(strstr(e.msg, "does not exist"));
	assert_int_equal(qmp_snapshot_load(q, "load1", "s1", "disk0", devs, 1,
					   JOB_TIMEOUT_MS, &e),
			 0);
	assert_int_equal(
	    qmp_snapshot_delete(q, "del0", "s1", devs, 1, JOB_TIMEOUT_MS, &e),
	    0);
	/* gone: loading it fails (deleting it again would succeed) */
	assert_int_equal(qmp_snapshot_load(q, "load2", "s1", "disk0", devs, 1,
					   JOB_TIMEOUT_MS, &e),
			 -EREMOTEIO);

	assert_int_equal(qmp_query_chardev(q, &ch, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ch[0].label, "compat_monitor0");
	assert_non_null(strstr(ch[0].filename, sock));
	free(ch);

	/* QEMU serves one QMP client at a time: a second one gets no
	 * greeting, which "walloff qmp" reports as a timeout (exit 3) */
	assert_int_equal(walloff_qmp(out, sizeof(out), sock, "query-status",
				     "--timeout", "300", (char *)NULL),
			 3);

	assert_int_equal(qmp_cont(q, &e), 0);
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	assert_string_equal(st.status, "running");
	assert_true(st.running);
	assert_true(has_event(q, "RESUME"));

	assert_int_equal(qmp_stop(q, &e), 0);
	assert_int_equal(qmp_query_status(q, &st, &e), 0);
	assert_string_equal(st.status, "paused");
	assert_true(has_event(q, "STOP"));

	assert_int_equal(qmp_execute(q, "no-such-command", NULL, 0, NULL, &e),
			 -EREMOTEIO);
	assert_non_null(strstr(e.msg, "CommandNotFound"));

	assert_int_equal(qmp_quit(q, &e), 0);
	assert_true(has_event(q, "SHUTDOWN"));
	qmp_close(q);

	pidfd = (int)syscall(SYS_pidfd_open, qemu, 0);
	assert_true(pidfd >= 0);
	pfd.fd = pidfd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, EXIT_TIMEOUT_MS), 1);
	close(pidfd);
	assert_int_equal(waitpid(qemu, &status, 0), qemu);
	qemu = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_real_qemu, start_qemu,
					    stop_qemu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
