/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * supervisor.c - the life of one cell
 *
 * Start-up, in this order, each step audited and any failure fatal:
 *   lock the cell (one supervisor per cell) and clean what a dead one left;
 *   open the base image read-only and check its sha256 pin on that very
 *   descriptor; choose the accelerator (KVM probe with a deadline); create
 *   the qcow2 overlay, open it and unlink it at once (an ephemeral disk is
 *   then deleted by the kernel however the cell ends, kill -9 included);
 *   start QEMU paused (-S) as the unprivileged user with both disk
 *   descriptors; connect to QMP; verify the device model (verify.c); and
 *   only then `cont`.
 *
 * Running: one poll() loop over a signalfd (SIGINT, SIGTERM, SIGHUP,
 * SIGCHLD), the QMP descriptor and a timerfd. Every QMP event goes to the
 * audit log. SIGINT/SIGTERM (also what `walloff stop` sends) press the ACPI
 * power button; if the guest has not powered off within the profile's
 * shutdown-timeout, QEMU is told to quit, and killed if even that fails.
 * A second SIGINT skips the wait. A guest that QEMU paused on a failed
 * disk request (BLOCK_IO_ERROR) is resumed once a full overlay filesystem
 * has room again, polled from this loop's timeout; any other disk error
 * keeps it paused, and a stop request then quits QEMU (diskwatch.c).
 *
 * Under systemd (Type=notify) the service manager hears READY=1 only after
 * the verification passed and `cont` succeeded, and STOPPING=1 when the
 * stop begins (common/sdnotify.c); NOTIFY_SOCKET is taken out of the
 * environment before any child starts.
 *
 * QEMU never outlives us: it gets PR_SET_PDEATHSIG(SIGKILL) (spawn.c). We
 * never run unaudited: if an audit record cannot be written, QEMU is quit.
 * The supervisor reads no guest or network data: only QMP, whose replies
 * are parsed by the bounded qmp/ library.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "accel.h"
#include "audit.h"
#include "cell.h"
#include "cgroup.h"
#include "client.h"
#include "config.h"
#include "disk.h"
#include "diskwatch.h"
#include "dormancy.h"
#include "helpers.h"
#include "hex.h"
#include "image.h"
#include "nft_net.h"
#include "qemu_argv.h"
#include "qmp.h"
#include "snapctl.h"
#include "snapmem.h"
#include "sdnotify.h"
#include "snapshot.h"
#include "spawn.h"
#include "supervisor.h"
#include "verify.h"

/* QEMU creates its QMP socket within a second; allow for a loaded host. */
#define QMP_CONNECT_TIMEOUT_MS	15000
#define QMP_COMMAND_TIMEOUT_MS	10000
/* After `quit`, how long before SIGKILL. */
#define QUIT_GRACE_S		5

/* How often the profile's console keys file is checked for changes. */
#define CONSOLE_KEYS_POLL_MS	2000

enum phase { PH_RUNNING, PH_POWERDOWN, PH_QUITTING, PH_KILLED };

struct sup {
	const struct profile *p;
	struct cell cell;
	struct audit *audit;
	struct qmp *qmp;
	pid_t qemu;
	pid_t net;		/* walloff-net, or 0 */
	pid_t console;		/* walloff-console, or 0 */
	struct stat keys_st;	/* the keys file as last copied */
	int helper_log;
	int sfd, tfd;
	enum phase phase;
	bool guest_shutdown;	/* SHUTDOWN event seen */
	bool stop_requested;
	bool audit_failed;
	bool helper_failed;	/* walloff-net died: the stop is a failure */
	time_t started;
	struct cgroup cg;
	char accel_why[200];
	bool kvm;
	struct nft_net nft;	/* nft mode hook: tap + table (nft_net.c) */
	struct snapctl ctl;	/* live snapshots: snapctl.c */
	int mem_fd;		/* live snapshots: memory image (snapmem.c) */
	bool mem_node;		/* ... passed to QEMU as node mem0 */
	struct sdnotify notify;	/* systemd Type=notify; fd -1 without */
	bool notified_stopping;
	struct diskwatch dw;	/* diskfull: paused on a disk error */
	char notice[CONSOLE_NOTICE_MAX + 1];	/* console NOTICE, or "" */
};

static const char *qemu_bin(void)
{
	const char *q = getenv("WALLOFF_QEMU");

	return q && *q ? q : WALLOFF_QEMU;
}

static const char *qemu_img_bin(void)
{
	const char *q = getenv("WALLOFF_QEMU_IMG");

	return q && *q ? q : "/usr/bin/qemu-img";
}

/* Audit and remember failure: an unaudited cell must stop. */
static void audit(struct sup *s, const char *event, json_t *details)
{
	if (audit_log(s->audit, event, details) && !s->audit_failed) {
		s->audit_failed = true;
		fprintf(stderr, "walloff: cannot write the audit log: stopping the cell\n");
	}
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "walloff: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void status(struct sup *s, const char *state)
{
	json_t *st = json_pack("{s:s, s:i, s:i, s:I, s:s, s:s, s:s}",
			       "cell", s->p->name, "pid", (int)getpid(),
			       "qemu_pid", (int)s->qemu, "started",
			       (json_int_t)s->started, "state", state,
			       "profile", s->p->path, "accel",
			       s->kvm ? "kvm" : "tcg");

	if (st && s->dw.state != DISKWATCH_OK)	/* diskfull: why paused */
		json_object_set_new(st, "reason", json_string(
			s->dw.state == DISKWATCH_FULL ?
			"disk full: waiting for free space" :
			"disk I/O error: stop the cell and check the disk"));
	if (st)
		cell_status_write(&s->cell, st);
	json_decref(st);
}

/* Tell systemd; a lost notification is audited, never fatal. */
static void notify(struct sup *s, const char *msg)
{
	int r = sdnotify_send(&s->notify, msg);

	if (r)
		audit(s, "notify-error", json_pack("{s:s, s:s}", "message", msg,
						   "error", strerror(-r)));
}

static void notify_stopping(struct sup *s, const char *why)
{
	char msg[SDNOTIFY_MSG_MAX];

	if (s->notified_stopping)
		return;
	s->notified_stopping = true;
	snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=cell %s stopping: %.200s",
		 s->p->name, why);
	notify(s, msg);
}
static void disk_io_error(struct sup *s, json_t *data);

static void on_qmp_event(void *opaque, const char *name, json_t *event)
{
	struct sup *s = opaque;

	if (!strcmp(name, "SHUTDOWN"))
		s->guest_shutdown = true;
	if (!strcmp(name, "BLOCK_IO_ERROR"))	/* diskfull: room to audit */
		diskwatch_release(&s->dw);
	audit(s, "qmp-event", json_pack("{s:s, s:O*}", "event", name, "data",
					json_object_get(event, "data")));
	snapctl_event(&s->ctl, name, event);	/* live snapshots */
	if (!strcmp(name, "BLOCK_IO_ERROR"))	/* diskfull */
		disk_io_error(s, json_object_get(event, "data"));
}

static int query(void *ctx, const char *cmd, json_t *args, json_t **ret,
		 struct err *e)
{
	struct sup *s = ctx;

	return qmp_execute(s->qmp, cmd, args, QMP_COMMAND_TIMEOUT_MS, ret, e);
}

static void arm(struct sup *s, unsigned secs)
{
	struct itimerspec its = { .it_value = { .tv_sec = secs } };

	timerfd_settime(s->tfd, 0, &its, NULL);
}

static void kill_qemu(struct sup *s, const char *why)
{
	if (s->qemu > 0) {
		kill(s->qemu, SIGKILL);
		audit(s, "qemu-killed", json_pack("{s:s}", "reason", why));
	}
	s->phase = PH_KILLED;
}

static void quit_qemu(struct sup *s, const char *why)
{
	struct err e;

	audit(s, "quit", json_pack("{s:s}", "reason", why));
	s->phase = PH_QUITTING;
	arm(s, QUIT_GRACE_S);
	if (!s->qmp || qmp_execute(s->qmp, "quit", NULL, 2000, NULL, &e))
		kill_qemu(s, "quit failed");
}

static void request_stop(struct sup *s, const char *why)
{
	struct err e;

	/* A second Ctrl-C skips the wait; repeated SIGTERMs (timeout(1),
	 * systemd) do not. */
	if (s->phase == PH_POWERDOWN && !strcmp(why, "SIGINT")) {
		quit_qemu(s, "second SIGINT");
		return;
	}
	if (s->phase != PH_RUNNING)
		return;
	if (s->dw.state != DISKWATCH_OK) {
		/* diskfull: a paused guest cannot see the power button. */
		s->stop_requested = true;
		audit(s, "stop-requested", json_pack("{s:s, s:s}", "by", why,
						     "paused", "disk"));
		say("stopping %s: the guest is paused on a disk error, "
		    "quitting QEMU (%s)", s->p->name, why);
		status(s, "stopping");
		quit_qemu(s, "stop while paused on a disk error");
		return;
	}
	s->stop_requested = true;
	audit(s, "stop-requested", json_pack("{s:s, s:i}", "by", why,
					     "timeout_s",
					     (int)s->p->shutdown_timeout_s));
	say("stopping %s: ACPI power button pressed (%s), waiting up to %us",
	    s->p->name, why, s->p->shutdown_timeout_s);
	s->phase = PH_POWERDOWN;
	status(s, "stopping");
	notify_stopping(s, why);
	arm(s, s->p->shutdown_timeout_s);
	if (qmp_execute(s->qmp, "system_powerdown", NULL, 2000, NULL, &e)) {
		audit(s, "error", json_pack("{s:s}", "error", e.msg));
		quit_qemu(s, "system_powerdown failed");
	}
}

/*
 * A helper died: the cell fails closed by construction (no walloff-net: the
 * guest's NIC has no peer; no walloff-console: nothing listens). Record it,
 * and stop the cell if the network died (the profile's on-failure = stop).
 */
static void helper_died(struct sup *s, pid_t w, int st)
{
	bool net = w == s->net;

	/* walloff-net exits 0 when QEMU closes its end: QEMU is on its way
	 * out and its own exit decides how the cell ended. */
	if (net && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		audit(s, "net-exited", json_pack("{s:i}", "pid", (int)w));
		s->net = 0;
		return;
	}

	audit(s, net ? "net-died" : "console-died",
	      json_pack("{s:i, s:i, s:i}", "pid", (int)w, "status",
			WIFEXITED(st) ? WEXITSTATUS(st) : -1, "signal",
			WIFSIGNALED(st) ? WTERMSIG(st) : 0));
	if (net) {
		s->net = 0;
		s->helper_failed = true;
		say("walloff-net died: the guest has no network (fail closed); "
		    "stopping the cell");
		request_stop(s, "walloff-net died");
	} else {
		s->console = 0;
		say("walloff-console died: the console is unreachable (fail closed)");
	}
}

static void reload_keys(struct sup *s, bool force);

/*
 * Live snapshots (snapctl.c): RUN/control.sock, served from the main loop,
 * runs `walloff snapshot` requests as QMP jobs on our connection. Not
 * fatal if it cannot be opened: the cell runs, snapshots wait for a stop.
 */
static void ctl_audit(void *ctx, const char *event, json_t *details)
{
	audit(ctx, event, details);
}

static void open_memory_image(struct sup *s)
{
	bool created;
	struct err e;

	if (snapmem_open(&s->cell, &s->mem_fd, &created, &e)) {
		audit(s, "error", json_pack("{s:s}", "error", e.msg));
		say("snapshots of the running cell unavailable: %s", e.msg);
		return;
	}
	if (created)
		audit(s, "memory-image", json_pack("{s:s, s:s}", "file",
						   SNAPMEM_FILE, "encryption",
						   "luks"));
}

static void start_snapctl(struct sup *s)
{
	char path[PATH_MAX];
	struct err e;

	cell_path(&s->cell, CELL_RUN, SNAPCTL_SOCK, path);
	if (snapctl_open(&s->ctl, path, s->qmp, "disk0",
			 s->mem_node ? SNAPMEM_NODE : NULL,
			 s->p->has_disk && s->p->disk_mode == DISK_PERSISTENT,
			 ctl_audit, s, &e)) {
		audit(s, "error", json_pack("{s:s}", "error", e.msg));
		say("snapshots of the running cell unavailable: %s", e.msg);
		return;
	}
	if (s->p->has_snapshots) {
		s->ctl.keep = s->p->snapshot_keep;
		s->ctl.max_age_s = s->p->snapshot_max_age_s;
	}
}

/*
 * diskfull: QEMU paused the guest on a failed disk request (werror/rerror
 * = stop, diskwatch.c). A full disk waits for free space (disk_tick());
 * any other error keeps the guest paused until someone stops the cell.
 */
static void disk_io_error(struct sup *s, json_t *data)
{
	enum diskwatch_verdict v = diskwatch_event(&s->dw, data);
	uint64_t avail = 0;
	struct err e;

	if (v == DISKWATCH_IGNORE)
		return;
	if (v == DISKWATCH_NEW_FULL) {
		diskwatch_free(&s->dw, &avail, &e);
		audit(s, "disk.full", json_pack(
			"{s:s, s:s, s:s, s:I, s:I}", "device", "disk0", "node",
			s->dw.node, "operation", s->dw.operation, "free_bytes",
			(json_int_t)avail, "resume_at_bytes",
			(json_int_t)DISKWATCH_RESUME_FREE));
		say("disk full: guest paused; it resumes when the overlay's "
		    "filesystem has %llu MiB free (now %llu KiB)",
		    DISKWATCH_RESUME_FREE >> 20,
		    (unsigned long long)avail >> 10);
		status(s, "paused");
		return;
	}
	audit(s, "disk.error", json_pack(
		"{s:s, s:s*, s:s*, s:s*, s:s}", "device", "disk0", "node",
		json_string_value(json_object_get(data, "node-name")),
		"operation",
		json_string_value(json_object_get(data, "operation")),
		"reason", json_string_value(json_object_get(data, "reason")),
		"action", v == DISKWATCH_NEW_ERROR ? "paused" : "reported"));
	if (v == DISKWATCH_NEW_ERROR) {
		say("disk I/O error (%s): guest paused; `walloff stop %s` "
		    "when done", s->dw.reason, s->p->name);
		status(s, "paused");
	}
}

/* diskfull: paused on ENOSPC; resume once enough space is free. */
static void disk_tick(struct sup *s)
{
	const char *vm;
	json_t *ret = NULL;
	uint64_t avail;
	long long now = diskwatch_now_ms();
	struct err e;

	if (s->phase != PH_RUNNING || !diskwatch_due(&s->dw, now))
		return;
	if (diskwatch_free(&s->dw, &avail, &e) ||
	    avail < DISKWATCH_RESUME_FREE)
		return;
	/* Continue only a VM that QEMU stopped for the I/O error. */
	if (qmp_execute(s->qmp, "query-status", NULL, QMP_COMMAND_TIMEOUT_MS,
			&ret, &e))
		goto fail;
	vm = json_string_value(json_object_get(ret, "status"));
	if (!vm || (strcmp(vm, "io-error") && strcmp(vm, "running"))) {
		err_set(&e, EPROTO, "unexpected VM status %s", vm ? vm : "?");
		goto fail;
	}
	/* "running": someone continued it over QMP already. */
	if (strcmp(vm, "running") &&
	    qmp_execute(s->qmp, "cont", NULL, QMP_COMMAND_TIMEOUT_MS, NULL, &e))
		goto fail;
	audit(s, "disk.resumed", json_pack("{s:s, s:I, s:I, s:s}", "device",
					   "disk0", "free_bytes",
					   (json_int_t)avail, "paused_s",
					   (json_int_t)(now - s->dw.paused_ms) /
					   1000, "by", strcmp(vm, "running") ?
					   "walloff" : "qmp"));
	diskwatch_resumed(&s->dw);
	diskwatch_reserve(&s->dw, s->cell.state_dir);
	say("disk space available again (%llu MiB free): guest resumed",
	    (unsigned long long)avail >> 20);
	status(s, "running");
	json_decref(ret);
	return;
fail:
	/* Stays paused, tried again later: never run without knowing. */
	audit(s, "disk.error", json_pack("{s:s, s:s, s:s}", "device", "disk0",
					 "action", "resume-failed", "reason",
					 e.msg));
	s->dw.next_ms = now + DISKWATCH_RETRY_MS;
	json_decref(ret);
}

/* The main loop; returns when QEMU has exited. */
static int loop(struct sup *s)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[5];	/* signals, timer, QMP, snapctl (2) */
	int status_code = 0;
	struct err e;
	bool qmp_open = true;

	for (;;) {
		int n;

		if (s->audit_failed && s->phase == PH_RUNNING)
			quit_qemu(s, "audit log not writable");

		pfd[0] = (struct pollfd){ .fd = s->sfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = s->tfd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = qmp_open ? qmp_fd(s->qmp) : -1,
					  .events = POLLIN };
		snapctl_pollfds(&s->ctl, &pfd[3]);
		n = poll(pfd, 5, diskwatch_timeout(&s->dw, s->console ?
						   CONSOLE_KEYS_POLL_MS : -1));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		disk_tick(s);	/* diskfull: checks its own interval */
		if (n == 0) {
			reload_keys(s, false);
			continue;
		}

		if (pfd[2].revents) {
			if (qmp_dispatch(s->qmp, &e)) {
				/* QEMU closed QMP: it is exiting. */
				qmp_open = false;
				if (s->phase == PH_RUNNING)
					audit(s, "qmp-closed",
					      json_pack("{s:s}", "error", e.msg));
			}
		}
		snapctl_ready(&s->ctl, &pfd[3]);
		if (pfd[1].revents) {
			uint64_t ticks;

			if (read(s->tfd, &ticks, sizeof(ticks)) < 0) {
				/* spurious: re-poll */
			}
			if (s->phase == PH_POWERDOWN) {
				audit(s, "stop-timeout",
				      json_pack("{s:i}", "timeout_s",
						(int)s->p->shutdown_timeout_s));
				say("guest did not power off in %us: quitting QEMU",
				    s->p->shutdown_timeout_s);
				quit_qemu(s, "shutdown timeout");
			} else if (s->phase == PH_QUITTING) {
				kill_qemu(s, "quit timeout");
			}
		}
		if (pfd[0].revents) {
			if (read(s->sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
				request_stop(s, si.ssi_signo == SIGINT ? "SIGINT" :
					     "SIGTERM");
			} else if (si.ssi_signo == SIGHUP) {
				audit(s, "signal", json_pack("{s:s}", "signal",
							     "SIGHUP"));
				reload_keys(s, true);
			} else if (si.ssi_signo == SIGCHLD) {
				pid_t w, hw[2];
				int st, hst[2], nh = 0, i;

				/* Reap everything first: when QEMU dies, walloff-net
				 * follows (its peer closed), and that is a consequence,
				 * not a second failure. */
				while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
					if (w == s->qemu) {
						status_code = st;
						s->qemu = -1;
					} else if ((w == s->net || w == s->console) &&
						   nh < 2) {
						hw[nh] = w;
						hst[nh++] = st;
					}
				}
				for (i = 0; i < nh; i++) {
					if (s->qemu < 0) {
						if (hw[i] == s->net)
							s->net = 0;
						else
							s->console = 0;
						continue;
					}
					helper_died(s, hw[i], hst[i]);
				}
				if (s->qemu < 0) {
					/* Drain events QEMU sent before exiting. */
					if (qmp_open)
						qmp_dispatch(s->qmp, &e);
					return status_code;
				}
			}
		}
	}
}

static int exit_code(struct sup *s, int st, const char **reason)
{
	if (s->phase == PH_KILLED) {
		*reason = "killed";
		return RUN_FORCED;
	}
	if (s->phase == PH_QUITTING) {
		*reason = s->audit_failed ? "audit-failure" : "quit";
		return s->audit_failed ? RUN_ERROR : RUN_FORCED;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && s->guest_shutdown) {
		*reason = s->helper_failed ? "network-helper-died" : "guest-poweroff";
		return s->helper_failed ? RUN_ERROR : RUN_OK;
	}
	*reason = "qemu-died";
	return RUN_CRASHED;
}

static int setup_signals(struct sup *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->sfd < 0 || s->tfd < 0)
		return -errno;
	return 0;
}

static void qemu_log_tail(const char *path, char *out, size_t len)
{
	char buf[2048];
	ssize_t n;
	int fd;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (lseek(fd, 0, SEEK_END) > (off_t)sizeof(buf) - 1)
		lseek(fd, -(off_t)(sizeof(buf) - 1), SEEK_END);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n'))
		buf[--n] = '\0';
	snprintf(out, len, "%.*s", (int)len - 1,
		 strrchr(buf, '\n') ? strrchr(buf, '\n') + 1 : buf);
}

static int profile_digest(const char *path, char hex[static 65])
{
	uint8_t h[32];
	struct err e;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = image_sha256_fd(fd, h, &e);
	close(fd);
	if (!r)
		hex_encode(hex, h, sizeof(h));
	return r;
}

/* stdout/stderr of the helpers: STATE/helpers.log, only if there are any. */
static int open_helper_log(struct sup *s)
{
	char path[PATH_MAX];

	cell_path(&s->cell, CELL_STATE, "helpers.log", path);
	s->helper_log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
				   O_NOFOLLOW | O_APPEND, 0600);
	return s->helper_log < 0 ? -errno : 0;
}

static int start_net(struct sup *s, bool drop, uid_t uid, gid_t gid,
		     struct err *e)
{
	const struct profile *p = s->p;
	char bin[PATH_MAX], sock[PATH_MAX], stats[PATH_MAX];
	char rule[RULE_TEXT_MAX];
	struct strv a = { 0 };
	json_t *rules = json_array();
	unsigned i;
	pid_t pid;

	helper_path("walloff-net", bin);
	cell_path(&s->cell, CELL_SOCK, "net.sock", sock);
	cell_path(&s->cell, CELL_SOCK, "net-stats.sock", stats);
	strv_push(&a, bin);
	strv_push(&a, "--socket");
	strv_push(&a, sock);
	strv_push(&a, "--stats");
	strv_push(&a, stats);
	strv_push(&a, "--cell");
	strv_push(&a, p->name);
	strv_push(&a, "--host-access");
	strv_push(&a, p->host_access ? "allow" : "deny");
	strv_push(&a, "--dns");
	strv_push(&a, p->dns == DNS_ALLOWLIST ? "allowlist" : "none");
	for (i = 0; i < p->n_dns_allow; i++) {
		strv_push(&a, "--dns-allow");
		strv_push(&a, p->dns_allow[i]);
	}
	for (i = 0; i < p->n_allow; i++) {
		rule_format(&p->allow[i], rule, sizeof(rule));
		strv_push(&a, "--allow");
		strv_push(&a, rule);
		json_array_append_new(rules, json_string(rule));
	}
	pid = helper_start(&a, audit_fd(s->audit), NULL, 0, drop, uid, gid,
			   s->helper_log, e);
	strv_free(&a);
	if (pid < 0) {
		json_decref(rules);
		return (int)pid;
	}
	s->net = pid;
	audit(s, "net-started", json_pack("{s:i, s:o, s:s, s:b}", "pid",
					  (int)pid, "allow", rules, "dns",
					  p->dns == DNS_ALLOWLIST ? "allowlist" :
					  "none", "host_access", p->host_access));
	return 0;
}

/*
 * The authorized keys, as walloff-console reads them: a root-owned (or
 * owner-owned) 0644 copy in the run folder. The console runs as the cell
 * user, like QEMU, so it gets read access to a copy it cannot change: a
 * compromised QEMU must not be able to add its own key. Re-copied when the
 * profile's keys file changes (checked every CONSOLE_KEYS_POLL_MS) or on
 * SIGHUP; the console notices the new file and reloads.
 */
#define CONSOLE_KEYS_MAX (64 * 1024)	/* as the console's own parser */

static int copy_keys(struct sup *s, struct err *e)
{
	char dst[PATH_MAX], tmp[PATH_MAX + 8];
	struct stat st;
	char *buf = NULL;
	ssize_t n = 0, r;
	int in, out = -1, ret = 0;

	in = open(s->p->keys, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (in < 0)
		return err_set(e, errno, "keys file %s: %s", s->p->keys,
			       strerror(errno));
	if (fstat(in, &st) || !S_ISREG(st.st_mode) || st.st_size > CONSOLE_KEYS_MAX) {
		ret = err_set(e, EINVAL, "keys file %s: not a regular file of at "
			      "most %d bytes", s->p->keys, CONSOLE_KEYS_MAX);
		goto out;
	}
	buf = malloc(CONSOLE_KEYS_MAX);
	if (!buf) {
		ret = err_set(e, ENOMEM, "out of memory");
		goto out;
	}
	while (n < CONSOLE_KEYS_MAX &&
	       (r = read(in, buf + n, (size_t)(CONSOLE_KEYS_MAX - n))) > 0)
		n += r;
	cell_path(&s->cell, CELL_RUN, "console-keys", dst);
	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		   0644);
	if (out < 0 || fchmod(out, 0644) || write(out, buf, (size_t)n) != n ||
	    close(out) || rename(tmp, dst)) {
		ret = err_set(e, errno ? errno : EIO, "%s: %s", dst,
			      strerror(errno));
		out = -1;
		unlink(tmp);
		goto out;
	}
	out = -1;
	s->keys_st = st;
out:
	if (out >= 0)
		close(out);
	free(buf);
	close(in);
	return ret;
}

/* Poll or SIGHUP: re-copy the keys file if it changed, tell the console. */
static void reload_keys(struct sup *s, bool force)
{
	struct stat st;
	struct err e;

	if (!s->console)
		return;
	if (stat(s->p->keys, &st))
		memset(&st, 0, sizeof(st));
	if (!force && st.st_ino == s->keys_st.st_ino &&
	    st.st_size == s->keys_st.st_size &&
	    st.st_mtim.tv_sec == s->keys_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == s->keys_st.st_mtim.tv_nsec)
		return;
	if (copy_keys(s, &e)) {
		/* The old keys stay in force: a broken edit locks nobody out
		 * and lets nobody in. */
		audit(s, "console-keys-error", json_pack("{s:s}", "error", e.msg));
		s->keys_st = st;
		return;
	}
	audit(s, "console-keys-reloaded", json_pack("{s:s}", "keys", s->p->keys));
	kill(s->console, SIGHUP);
}

static int start_console(struct sup *s, bool drop, uid_t uid, gid_t gid,
			 struct err *e)
{
	const struct profile *p = s->p;
	char bin[PATH_MAX], vnc[PATH_MAX], serial[PATH_MAX], keyfile[PATH_MAX];
	char keys[PATH_MAX], fpr[CONSOLE_FPR_LEN];
	uint8_t priv[CONSOLE_KEY_LEN], pub[CONSOLE_KEY_LEN];
	struct strv a = { 0 };
	struct spawn_fd kfd;
	bool created;
	int kp[2];
	pid_t pid;

	/* The server's identity, created on first run, readable by us only;
	 * the console gets the private key on a pipe. */
	cell_path(&s->cell, CELL_STATE, "console.key", keyfile);
	if (console_key_load_or_create(keyfile, priv, pub, &created, e))
		return -EIO;
	console_fingerprint(fpr, pub);
	if (pipe2(kp, O_CLOEXEC)) {
		sodium_memzero(priv, sizeof(priv));
		return err_set(e, errno, "pipe: %s", strerror(errno));
	}
	if (write(kp[1], priv, sizeof(priv)) != (ssize_t)sizeof(priv)) {
		sodium_memzero(priv, sizeof(priv));
		close(kp[0]);
		close(kp[1]);
		return err_set(e, EIO, "passing the console key failed");
	}
	sodium_memzero(priv, sizeof(priv));
	close(kp[1]);
	if (copy_keys(s, e)) {
		close(kp[0]);
		return -EINVAL;
	}

	helper_path("walloff-console", bin);
	cell_path(&s->cell, CELL_SOCK, "vnc.sock", vnc);
	cell_path(&s->cell, CELL_SOCK, "serial.sock", serial);
	cell_path(&s->cell, CELL_RUN, "console-keys", keys);
	strv_push(&a, bin);
	strv_push(&a, "--listen");
	strv_pushf(&a, "%u.%u.%u.%u:%u", p->listen_addr >> 24,
		   (p->listen_addr >> 16) & 0xff, (p->listen_addr >> 8) & 0xff,
		   p->listen_addr & 0xff, p->listen_port);
	strv_push(&a, "--vnc");
	strv_push(&a, vnc);
	if (p->serial) {
		strv_push(&a, "--serial");
		strv_push(&a, serial);
	}
	strv_push(&a, "--cell");
	strv_push(&a, p->name);
	strv_push(&a, "--keys");
	strv_push(&a, keys);
	strv_push(&a, "--key-fd");
	strv_pushf(&a, "%d", HELPER_FD_READY + 1);
	strv_push(&a, "--clipboard");
	strv_push(&a, p->clipboard == CLIPBOARD_TO_GUEST ? "to-guest" : "none");
	strv_push(&a, "--handshake-timeout");
	strv_pushf(&a, "%u", p->handshake_timeout_s);
	strv_push(&a, "--max-sessions");
	strv_pushf(&a, "%u", p->max_sessions);
	strv_push(&a, "--idle-timeout");
	strv_pushf(&a, "%u", p->idle_timeout_s);
	if (s->notice[0]) {	/* quarantine: users are told (dormancy.c) */
		strv_push(&a, "--notice");
		strv_push(&a, s->notice);
	}
	kfd = (struct spawn_fd){ kp[0], HELPER_FD_READY + 1 };
	pid = helper_start(&a, audit_fd(s->audit), &kfd, 1, drop, uid, gid,
			   s->helper_log, e);
	close(kp[0]);
	strv_free(&a);
	if (pid < 0)
		return (int)pid;
	s->console = pid;
	audit(s, "console-started", json_pack("{s:i, s:i, s:s, s:b, s:s*}",
					      "pid", (int)pid, "port",
					      (int)p->listen_port, "server_key",
					      fpr, "key_created", created,
					      "notice", s->notice[0] ?
					      s->notice : NULL));
	say("console: encrypted proxy on port %u, server key %s", p->listen_port,
	    fpr);
	return 0;
}

static void stop_helpers(struct sup *s)
{
	pid_t *h[] = { &s->net, &s->console };
	size_t i;
	int st;

	for (i = 0; i < 2; i++) {
		if (*h[i] <= 0)
			continue;
		kill(*h[i], SIGTERM);
		while (waitpid(*h[i], &st, 0) < 0 && errno == EINTR)
			;
		*h[i] = 0;
	}
}

int supervisor_run(const struct profile *p, const char *accept_risk,
		   const char *fails)
{
	struct sup sup = { .p = p, .qemu = -1, .sfd = -1, .tfd = -1,
			    .helper_log = -1, .nft.tap_fd = -1,
			    .ctl = { .lfd = -1, .cfd = -1, .tfd = -1 },
			    .mem_fd = -1,
			    .notify.fd = -1,
			    .dw.fd = -1, .dw.reserve_fd = -1 };
	struct sup *s = &sup;
	char path[PATH_MAX], overlay[PATH_MAX], logpath[PATH_MAX];
	char digest[65], pdigest[65] = "", tail[300];
	int base_fd = -1, ovl_fd = -1, log_fd = -1, ret = RUN_ERROR, st;
	struct strv argv = { 0 };
	struct spawn_opts so = { 0 };
	struct spawn_fd fds[4];
	json_t *report = NULL;
	const char *reason;
	uid_t uid = 0;
	gid_t gid = 0;
	struct disk_open dk = { .fd = -1 };	/* images: disk.c */
	struct profile *quar = NULL;		/* images: dormancy.c */
	struct dormancy dv;			/* images: dormancy.c */
	struct err e;
	int drop, stale;

	err_clear(&e);
	s->started = time(NULL);
	/* First: NOTIFY_SOCKET leaves the environment before any child. */
	if (sdnotify_open(&s->notify, &e))
		say("%s: systemd will not hear that the cell is ready", e.msg);
	err_clear(&e);
	if (sodium_init() < 0) {
		say("libsodium failed to initialise");
		return RUN_ERROR;
	}
	drop = spawn_user(&uid, &gid, &e);
	if (drop < 0) {
		say("%s", e.msg);
		return RUN_ERROR;
	}
	if (!drop) {
		uid = geteuid();
		gid = getegid();
	}
	if (cell_init(&s->cell, p->name, &e) ||
	    cell_lock(&s->cell, uid, gid, &stale, &e)) {
		say("%s", e.msg);
		return RUN_ERROR;
	}
	cell_path(&s->cell, CELL_STATE, "audit.jsonl", path);
	s->audit = audit_open(path, p->name, &e);
	if (!s->audit) {
		say("%s", e.msg);
		goto out;
	}
	if (setup_signals(s)) {
		say("signals: %s", strerror(errno));
		goto out;
	}

	cell_path(&s->cell, CELL_STATE, "ephemeral.qcow2", overlay);
	if (!unlink(overlay))
		stale++;
	if (stale)
		audit(s, "stale-cleaned", json_pack("{s:i}", "files", stale));
	profile_digest(p->path, pdigest);
	audit(s, "start", json_pack("{s:s, s:s, s:s, s:s, s:i}", "profile",
				    p->path, "profile_sha256", pdigest,
				    "version", WALLOFF_VERSION, "qemu",
				    qemu_bin(), "uid", (int)getuid()));
	if (accept_risk) {
		audit(s, "accept-risk", json_pack("{s:s, s:s, s:s}", "reason",
						  accept_risk, "controls", fails,
						  "user", getenv("SUDO_USER") ?
						  getenv("SUDO_USER") : ""));
		say("running despite review FAILs (%s): %s", fails, accept_risk);
	}
	if (getenv("WALLOFF_QEMU"))
		audit(s, "qemu-override", json_pack("{s:s}", "qemu", qemu_bin()));

	if (p->has_limits) {
		const char *root = getenv("WALLOFF_CGROUP_ROOT");
		json_t *rep = NULL;

		if (cgroup_enter(&s->cg, p, root && *root ? root : "/sys/fs/cgroup",
				 &rep, &e)) {
			bool refuse = p->limits_fallback == LIMITS_REFUSE;

			audit(s, refuse ? "limits-refused" : "limits-unavailable",
			      json_pack("{s:s, s:s}", "error", e.msg, "on_unavailable",
					refuse ? "refuse" : "degrade"));
			say("%s%s", e.msg, refuse ? " (on-unavailable = refuse)" :
			    "; running WITHOUT limits (on-unavailable = degrade)");
			if (refuse)
				goto out;
		} else {
			audit(s, "limits", rep);
		}
	}

	/* Base image: open, hash that descriptor, compare with the pin. */
	if (image_open_pinned(p, &base_fd, digest, &e)) {
		audit(s, "image-refused", json_pack("{s:s, s:s}", "image",
						    p->image, "error", e.msg));
		say("%s", e.msg);
		ret = e.code == EBADMSG || e.code == ENOKEY ? RUN_IMAGE : RUN_ERROR;
		goto out;
	}
	audit(s, "image-verified", json_pack("{s:s, s:s}", "image", p->image,
					     "sha256", digest));
	/* images: dormancy.c; quarantine runs a copy with no network */
	if (dormancy_start(&s->cell, p, s->audit, digest, pdigest, &dv, &quar,
			   &ret))
		goto out;
	if (quar) {
		s->p = p = quar;
		dormancy_notice(&s->cell, &dv, s->notice, sizeof(s->notice));
	}

	if (accel_resolve(p->accel, &s->kvm, s->accel_why,
			  sizeof(s->accel_why), &e)) {
		audit(s, "accel-refused", json_pack("{s:s}", "error", e.msg));
		say("%s", e.msg);
		goto out;
	}
	audit(s, "accel", json_pack("{s:s, s:s, s:s}", "requested",
				    p->accel == ACCEL_AUTO ? "auto" :
				    p->accel == ACCEL_KVM ? "kvm" : "tcg",
				    "chosen", s->kvm ? "kvm" : "tcg",
				    "reason", s->accel_why));
	say("accelerator: %s (%s)", s->kvm ? "kvm" : "tcg", s->accel_why);


	if (p->disk_mode == DISK_PERSISTENT) {	/* images: disk.c */
		if (disk_start(&s->cell, p, s->audit, drop > 0, uid, gid, &dk,
			       &ret))
			goto out;
		ovl_fd = dk.fd;
		if (snapshot_enforce(&s->cell, p, s->audit))	/* images */
			goto out;
		open_memory_image(s);	/* live snapshots */
	} else {
		/* Overlay: created, opened, unlinked: it lives as long as
		 * its fds. */
		if (image_create_overlay(qemu_img_bin(), p->image, p->format,
					 overlay, &e)) {
			audit(s, "error", json_pack("{s:s}", "error", e.msg));
			say("%s", e.msg);
			goto out;
		}
		ovl_fd = open(overlay, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (ovl_fd < 0 || unlink(overlay)) {
			say("overlay %s: %s", overlay, strerror(errno));
			unlink(overlay);
			goto out;
		}
		audit(s, "overlay", json_pack("{s:s, s:b}", "mode", "ephemeral",
					      "unlinked", 1));
	}

	{
		struct qemu_plan plan = { .qemu = qemu_bin(),
					  .run_dir = s->cell.sock_dir,
					  .kvm = s->kvm,
					  /* images: disk.c */
					  .disk_secret = dk.fd >= 0 ? dk.secret : NULL,
					  .memory = s->mem_fd >= 0 };

		if (qemu_argv_build(p, &plan, &argv, &e)) {
			say("%s", e.msg);
			goto out;
		}
	}

	if ((p->net != NET_NONE || p->has_console) && open_helper_log(s)) {
		say("helpers.log: %s", strerror(errno));
		goto out;
	}
	if (p->net == NET_USER && start_net(s, drop > 0, uid, gid, &e)) {
		audit(s, "error", json_pack("{s:s}", "error", e.msg));
		say("network: %s", e.msg);
		goto out;
	}

	/* nft mode hook: tap, table and walloff-nftlog (launcher/nft_net.c);
	 * the log reader is watched like walloff-net (s->net). */
	if (p->net == NET_NFT) {
		if (nft_net_up(p, &s->nft, audit_fd(s->audit), s->helper_log,
			       drop > 0, uid, gid, &e)) {
			audit(s, "error", json_pack("{s:s}", "error", e.msg));
			say("network: %s", e.msg);
			goto out;
		}
		s->net = s->nft.logger;
		s->nft.logger = 0;
		audit(s, "net-started",
		      json_pack("{s:s, s:i, s:s, s:s}", "mode", "nft", "pid",
				(int)s->net, "tap", s->nft.ifname, "bridge",
				p->bridge));
	}

	cell_path(&s->cell, CELL_STATE, "qemu.log", logpath);
	log_fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
			       O_NOFOLLOW | O_APPEND, 0600);
	if (log_fd < 0) {
		say("%s: %s", logpath, strerror(errno));
		goto out;
	}
	fds[0] = (struct spawn_fd){ base_fd, QEMU_FD_BASE };
	fds[1] = (struct spawn_fd){ ovl_fd, QEMU_FD_OVERLAY };
	fds[2] = (struct spawn_fd){ s->nft.tap_fd, QEMU_FD_TAP };	/* nft */
	so.argv = argv.v;
	so.out_fd = log_fd;
	so.fds = fds;
	so.n_fds = p->has_disk ? 2 : 0;
	if (p->net == NET_NFT)	/* nft mode hook: the tap queue */
		so.n_fds = 3;
	if (s->mem_fd >= 0)	/* live snapshots: the memory image */
		fds[so.n_fds++] = (struct spawn_fd){ s->mem_fd, QEMU_FD_MEMORY };
	so.drop = drop > 0;
	so.uid = uid;
	so.gid = gid;
	s->qemu = spawn_process(&so, &e);
	if (s->qemu < 0) {
		audit(s, "error", json_pack("{s:s}", "error", e.msg));
		say("%s", e.msg);
		s->qemu = -1;
		goto out;
	}
	{
		json_t *a = json_array();
		size_t i;

		for (i = 0; i < argv.n; i++)
			json_array_append_new(a, json_string(argv.v[i]));
		audit(s, "qemu-started", json_pack("{s:i, s:o, s:b}", "pid",
						   (int)s->qemu, "argv", a,
						   "unprivileged", drop > 0));
	}
	/* diskfull: our own descriptor of the overlay, for fstatvfs() */
	if (p->has_disk) {
		diskwatch_init(&s->dw, fcntl(ovl_fd, F_DUPFD_CLOEXEC, 3));
		diskwatch_reserve(&s->dw, s->cell.state_dir);
	}
	close(base_fd);
	close(ovl_fd);
	base_fd = ovl_fd = -1;
	if (s->mem_fd >= 0) {
		close(s->mem_fd);
		s->mem_node = true;
	}
	s->mem_fd = -1;
	status(s, "verifying");

	cell_path(&s->cell, CELL_SOCK, "qmp.sock", path);
	s->qmp = qmp_connect(path, QMP_CONNECT_TIMEOUT_MS, &e);
	if (!s->qmp) {
		qemu_log_tail(logpath, tail, sizeof(tail));
		audit(s, "qmp-failed", json_pack("{s:s, s:s}", "error", e.msg,
						 "qemu_log", tail));
		say("QMP: %s%s%s", e.msg, tail[0] ? "; QEMU said: " : "", tail);
		goto out;
	}
	qmp_set_event_cb(s->qmp, on_qmp_event, s);
	disk_forget_key(&s->cell);	/* images: QEMU has read it */

	if (verify_device_model(p, s->cell.sock_dir, query, s, &report, &e)) {
		audit(s, "verify-error", json_pack("{s:s}", "error", e.msg));
		say("verification: %s", e.msg);
		goto out;
	}
	audit(s, "verify", json_incref(report));
	if (!json_is_true(json_object_get(report, "ok"))) {
		json_t *pr = json_object_get(report, "problems"), *x;
		size_t i;

		say("device model verification FAILED, the guest will not run:");
		json_array_foreach(pr, i, x)
			say("  %s", json_string_value(x));
		ret = RUN_VERIFY;
		goto out;
	}
	say("device model verified (%zu PCI functions, disk, serial, %s)",
	    json_array_size(json_object_get(report, "pci")),
	    p->display == DISPLAY_NONE ? "no display" : "VNC on a unix socket");

	if (s->audit_failed)
		goto out;
	if (qmp_execute(s->qmp, "cont", NULL, QMP_COMMAND_TIMEOUT_MS, NULL, &e)) {
		audit(s, "error", json_pack("{s:s}", "error", e.msg));
		say("cont: %s", e.msg);
		goto out;
	}
	audit(s, "running", json_pack("{s:i}", "qemu_pid", (int)s->qemu));
	dormancy_record(&s->cell, &dv, NULL);	/* images: dormancy.c */
	if (p->has_console && start_console(s, drop > 0, uid, gid, &e)) {
		audit(s, "error", json_pack("{s:s}", "error", e.msg));
		say("console: %s", e.msg);
		request_stop(s, "console failed to start");
	}
	start_snapctl(s);
	status(s, "running");
	if (!s->stop_requested) {
		char msg[SDNOTIFY_MSG_MAX];

		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=cell %s running, "
			 "device model verified (%s)", p->name,
			 s->kvm ? "kvm" : "tcg");
		notify(s, msg);
	}
	say("cell %s is running (serial: walloff serial %s; stop: walloff stop %s or Ctrl-C)",
	    p->name, p->name, p->name);

	s->phase = PH_RUNNING;
	st = loop(s);
	notify_stopping(s, "QEMU exited");
	ret = exit_code(s, st, &reason);
	audit(s, "qemu-exited", json_pack("{s:i, s:i, s:s}", "status",
					  WIFEXITED(st) ? WEXITSTATUS(st) : -1,
					  "signal", WIFSIGNALED(st) ? WTERMSIG(st) : 0,
					  "reason", reason));
	say("cell %s stopped: %s", p->name, reason);
out:
	if (s->qemu > 0) {
		/* Start-up failed with QEMU running: it must not survive. */
		struct err qe;

		if (!s->qmp || qmp_execute(s->qmp, "quit", NULL, 2000, NULL, &qe))
			kill(s->qemu, SIGKILL);
		while (waitpid(s->qemu, &st, 0) < 0 && errno == EINTR)
			;
		audit(s, "qemu-exited", json_pack("{s:s}", "reason",
						  "start-up aborted"));
	}
	snapctl_close(&s->ctl);	/* live snapshots */
	if (s->mem_fd >= 0)
		close(s->mem_fd);
	stop_helpers(s);
	if (p->net == NET_NFT && nft_net_down(p->name, &s->nft, &e)) {
		/* nft mode hook: table and tap go with the cell */
		audit(s, "error", json_pack("{s:s}", "error", e.msg));
		say("network teardown: %s (walloff net cleanup %s)", e.msg,
		    p->name);
	}
	disk_forget_key(&s->cell);	/* images: disk.c */
	if (s->helper_log >= 0)
		close(s->helper_log);
	if (s->qmp)
		qmp_close(s->qmp);
	json_decref(report);
	strv_free(&argv);
	if (base_fd >= 0)
		close(base_fd);
	if (ovl_fd >= 0)
		close(ovl_fd);
	if (log_fd >= 0)
		close(log_fd);
	if (s->audit) {
		audit(s, "stopped", json_pack("{s:i, s:I}", "exit", ret,
					      "uptime_s",
					      (json_int_t)(time(NULL) - s->started)));
		audit_close(s->audit);
	}
	cgroup_leave(&s->cg);
	if (s->cell.lock_fd >= 0) {
		cell_clean_run_dir(&s->cell);
		close(s->cell.lock_fd);
	}
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->tfd >= 0)
		close(s->tfd);
	sdnotify_close(&s->notify);
	free(quar);	/* images: dormancy.c */
	diskwatch_close(&s->dw);	/* diskfull */
	return ret;
}
