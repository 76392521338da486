/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sandbox.c - walloff-net gives up what it does not need, in one place
 *
 * walloff-net parses frames from a guest we assume hostile, so after its
 * two listening sockets exist it keeps nothing else: when started as root
 * it drops supplementary groups, then the gid, then the uid (to "nobody"
 * or --user), and checks that uid 0 cannot be regained; in every case it
 * sets no_new_privs (so a later exec could not gain privileges, and a
 * seccomp filter can be installed without CAP_SYS_ADMIN) and clears the
 * dumpable flag. When the supervisor already started us unprivileged,
 * only the last two steps apply.
 *
 * Then sandbox_seccomp() installs a seccomp filter. This first stage is a
 * deny list (what a compromised walloff-net must never do: exec, ptrace,
 * mount, namespaces, modules, BPF, keyrings, credential changes, writing
 * or changing files, sockets other than AF_INET), because libslirp and
 * GLib underneath it make an exact allow list a job of its own; the next
 * stage narrows it to what the loop needs: poll, recv/send, accept4 on the
 * stats socket, socket/connect/bind/setsockopt/getsockname for slirp's
 * outbound flows, read-only open of /etc/resolv.conf (slirp's DNS
 * forwarder), clock_gettime, write (audit), close, exit and memory
 * management. exec and writes fail with EPERM rather than killing the
 * process, so that a sanitizer runtime reporting a bug can still print its
 * report; other socket families fail with EAFNOSUPPORT, clone3 with
 * ENOSYS (see below); everything else on the list kills the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>

#include <seccomp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sandbox.h"

#define DEFAULT_USER "nobody"

int sandbox_resolve(const char *name, struct sandbox_user *u, struct err *e)
{
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0) {
		if (name)
			return err_set(e, EPERM,
				       "--user needs root (we are uid %u)",
				       (unsigned)geteuid());
		return 0;
	}
	errno = 0;
	pw = getpwnam(name ? name : DEFAULT_USER);
	if (!pw)
		return err_set(e, errno ? errno : ENOENT, "user %s: %s",
			       name ? name : DEFAULT_USER,
			       errno ? strerror(errno) : "not found");
	if (pw->pw_uid == 0)
		return err_set(e, EINVAL, "refusing to run as uid 0");
	u->drop = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 0;
}

int sandbox_drop(const struct sandbox_user *u, struct err *e)
{
	if (u->drop) {
		if (setgroups(0, NULL))
			return err_set(e, errno, "setgroups: %s",
				       strerror(errno));
		if (setresgid(u->gid, u->gid, u->gid))
			return err_set(e, errno, "setresgid: %s",
				       strerror(errno));
		if (setresuid(u->uid, u->uid, u->uid))
			return err_set(e, errno, "setresuid: %s",
				       strerror(errno));
		if (setuid(0) == 0 || geteuid() == 0)
			return err_set(e, EPERM, "could regain uid 0");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_set(e, errno, "no_new_privs: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return err_set(e, errno, "dumpable: %s", strerror(errno));
	return 0;
}

/* Never needed after start-up; a compromised process must not get them. */
static const char *const kill_calls[] = {
#ifndef __SANITIZE_ADDRESS__
    /* LeakSanitizer ptraces its own threads at exit (sanitizer builds) */
    "ptrace",
#endif
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "keyctl",
    "add_key",
    "request_key",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "setfsuid",
    "setfsgid",
    "capset",
    "personality",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "open_by_handle_at",
    "name_to_handle_at",
    "fanotify_init",
    "iopl",
    "ioperm",
    "syslog",
    "quotactl",
    "lookup_dcookie",
    "vhangup",
    "mknod",
    "mknodat",
    "fsopen",
    "fsmount",
    "move_mount",
    "open_tree",
};

/* Fail with EPERM: exec (sanitizer symbolizers try it) and file changes. */
static const char *const eperm_calls[] = {
    "execve",	"execveat",  "creat",	  "unlink",   "unlinkat", "rename",
    "renameat", "renameat2", "mkdir",	  "mkdirat",  "rmdir",	  "link",
    "linkat",	"symlink",   "symlinkat", "chmod",    "fchmod",	  "fchmodat",
    "chown",	"fchown",    "lchown",	  "fchownat", "truncate", "ftruncate",
    "utimes",	"utimensat", "futimesat",
};

static int add_by_name(scmp_filter_ctx ctx, uint32_t action, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	return seccomp_rule_add(ctx, action, nr, 0);
}

/* clone() into a new namespace kills the process. */
static int deny_clone_namespaces(scmp_filter_ctx ctx)
{
	static const unsigned long ns[] = {
	    CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,	CLONE_NEWUSER,
	    CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};
	size_t i;
	int r = 0;

	for (i = 0; !r && i < sizeof(ns) / sizeof(ns[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS,
				     SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns[i], ns[i]));
	return r;
}

/* open()/openat() with any of the write flags fail with EPERM. */
static int deny_open_for_write(scmp_filter_ctx ctx)
{
	static const int flags[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC};
	size_t i;
	int r = 0;

	for (i = 0; !r && i < sizeof(flags) / sizeof(flags[0]); i++) {
		scmp_datum_t f = (scmp_datum_t)flags[i];

		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				     SCMP_SYS(openat), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, f, f));
		if (!r)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
					     SCMP_SYS(open), 1,
					     SCMP_A1(SCMP_CMP_MASKED_EQ, f, f));
	}
	return r;
}

int sandbox_seccomp(struct err *e)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	size_t i;
	int r = 0;

	if (!ctx)
		return err_set(e, ENOMEM, "seccomp_init failed");
	for (i = 0; !r && i < sizeof(kill_calls) / sizeof(kill_calls[0]); i++)
		r = add_by_name(ctx, SCMP_ACT_KILL_PROCESS, kill_calls[i]);
	for (i = 0; !r && i < sizeof(eperm_calls) / sizeof(eperm_calls[0]); i++)
		r = add_by_name(ctx, SCMP_ACT_ERRNO(EPERM), eperm_calls[i]);
	/* clone3 keeps its flags in memory, out of seccomp's sight: ENOSYS
	 * makes glibc fall back to clone(), whose flags we can check */
	if (!r)
		r = add_by_name(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3");
	if (!r)
		r = deny_clone_namespaces(ctx);
	if (!r)
		r = deny_open_for_write(ctx);
	/* slirp's flows are IPv4; no other socket family is needed */
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
				     SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_NE, AF_INET));
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r)
		return err_set(e, -r, "seccomp: %s", strerror(-r));
	return 0;
}
