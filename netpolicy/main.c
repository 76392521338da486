/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c - walloff-net: a cell's user-mode network behind an egress policy
 *
 *   walloff-net --socket PATH --cell NAME --audit-fd N [--ready-fd N]
 *               [--allow RULE]... [--host-access allow|deny]
 *               [--dns none|allowlist] [--dns-allow NAME]...
 *               [--stats PATH] [--user NAME]
 *
 * Start-up, in order: parse and validate every argument (a bad rule is an
 * error, never ignored); wrap the inherited O_APPEND audit descriptor;
 * resolve the user to become; create the QEMU socket and the stats socket
 * (both 0600, owned by that user); drop privileges (sandbox.c), give up
 * the filesystem but for the socket folder and, when DNS is forwarded,
 * /etc/resolv.conf (common/landlock.c), and install the syscall allowlist
 * (common/seccomp_policy.c); write "net-start" (with what is enforced) to
 * the audit log; write one byte to --ready-fd. Then accept
 * exactly one connection - QEMU's "-netdev stream,server=off" - and close
 * the listener so no second peer can ever attach. slirp is created only
 * now, so nothing is reachable before QEMU is.
 *
 * The loop polls the guest socket, the stats socket and slirp's sockets,
 * with a timeout from slirp's timers and our one-second tick (deny-log
 * repeats, idle flows, drop summaries). Guest frames go through pump.c.
 * When QEMU closes the connection (or on SIGTERM/SIGINT) walloff-net
 * flushes its audit state, writes "net-exit" and exits; a failed audit
 * write is fatal (an unaudited network must not run). If walloff-net dies,
 * QEMU's stream netdev simply has no peer: the guest has no network.
 *
 * Each connection to --stats receives one JSON line of counters, then the
 * connection is closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/audit.h"
#include "../common/landlock.h"
#include "../common/path.h"
#include "../common/rule.h"
#include "dns.h"
#include "pump.h"
#include "sandbox.h"
#include "seccomp_policy.h"
#include "slirp.h"
#include "stream.h"

/* Rules and DNS names a profile may list; more is a review problem. */
#define MAX_RULES 64
#define MAX_DNS_NAMES 64
/* Periodic work (deny-log repeats, idle flows) runs at most this often. */
#define TICK_MS 1000
/* Where libslirp finds the host's resolver when it forwards DNS. */
#define RESOLV_CONF "/etc/resolv.conf"
/* GLib's g_rand_new() seed. */
#define URANDOM "/dev/urandom"
/* Our two fds (guest, stats) plus slirp's sockets. */
#define POLL_MAX (2 + NETSLIRP_FDS_MAX)

struct opts {
	const char *socket, *cell, *stats, *user;
	int audit_fd, ready_fd;
	struct rule rules[MAX_RULES];
	char rule_text[MAX_RULES][RULE_TEXT_MAX];
	size_t n_rules;
	bool host_access;
	enum dns_mode dns;
	char *dns_allow[MAX_DNS_NAMES];
	size_t n_dns;
};

struct ctx {
	struct pump pump;
	struct stream guest;
	struct netslirp ns;
	struct audit *audit;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: walloff-net --socket PATH --cell NAME --audit-fd N "
	       "[--ready-fd N]\n"
	       "                   [--allow RULE]... "
	       "[--host-access allow|deny]\n"
	       "                   [--dns none|allowlist] [--dns-allow NAME]..."
	       "\n                   [--stats PATH] [--user NAME]\n");
}

static int parse_fd(const char *s, int *out, struct err *e)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > INT_MAX)
		return err_set(e, EINVAL, "bad file descriptor '%s'", s);
	if (fcntl((int)v, F_GETFD) < 0)
		return err_set(e, EBADF, "descriptor %ld is not open", v);
	*out = (int)v;
	return 0;
}

static int parse_args(int argc, char *argv[], struct opts *o, struct err *e)
{
	static const struct option lo[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"cell", required_argument, NULL, 'c'},
	    {"audit-fd", required_argument, NULL, 'a'},
	    {"ready-fd", required_argument, NULL, 'r'},
	    {"allow", required_argument, NULL, 'A'},
	    {"host-access", required_argument, NULL, 'H'},
	    {"dns", required_argument, NULL, 'd'},
	    {"dns-allow", required_argument, NULL, 'D'},
	    {"stats", required_argument, NULL, 'S'},
	    {"user", required_argument, NULL, 'u'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, r;

	memset(o, 0, sizeof(*o));
	o->audit_fd = -1;
	o->ready_fd = -1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'c':
			o->cell = optarg;
			break;
		case 'S':
			o->stats = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'a':
			r = parse_fd(optarg, &o->audit_fd, e);
			if (r)
				return r;
			break;
		case 'r':
			r = parse_fd(optarg, &o->ready_fd, e);
			if (r)
				return r;
			break;
		case 'A':
			if (o->n_rules == MAX_RULES)
				return err_set(e, E2BIG, "more than %d rules",
					       MAX_RULES);
			r = rule_parse(optarg, &o->rules[o->n_rules], e);
			if (r)
				return err_prefix(e, "--allow '%s'", optarg);
			rule_format(&o->rules[o->n_rules],
				    o->rule_text[o->n_rules], RULE_TEXT_MAX);
			o->n_rules++;
			break;
		case 'H':
			if (strcmp(optarg, "allow") && strcmp(optarg, "deny"))
				return err_set(e, EINVAL,
					       "--host-access allow|deny");
			o->host_access = !strcmp(optarg, "allow");
			break;
		case 'd':
			if (strcmp(optarg, "none") &&
			    strcmp(optarg, "allowlist"))
				return err_set(e, EINVAL,
					       "--dns none|allowlist");
			o->dns =
			    strcmp(optarg, "none") ? DNS_ALLOWLIST : DNS_NONE;
			break;
		case 'D':
			if (o->n_dns == MAX_DNS_NAMES)
				return err_set(e, E2BIG, "more than %d names",
					       MAX_DNS_NAMES);
			if (!dns_name_valid(optarg))
				return err_set(e, EINVAL,
					       "--dns-allow '%s': not a host "
					       "name",
					       optarg);
			o->dns_allow[o->n_dns++] = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return err_set(e, EINVAL, "bad arguments");
		}
	}
	if (optind != argc)
		return err_set(e, EINVAL, "unexpected argument '%s'",
			       argv[optind]);
	if (!o->socket || !o->cell || o->audit_fd < 0)
		return err_set(e, EINVAL,
			       "--socket, --cell and --audit-fd are required");
	if (o->n_dns && o->dns != DNS_ALLOWLIST)
		return err_set(e, EINVAL, "--dns-allow needs --dns allowlist");
	return 0;
}

static int listen_unix(const char *path, const struct sandbox_user *u,
		       struct err *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, ENAMETOOLONG, "%s: path too long", path);
	strcpy(sa.sun_path, path);
	/* a stale socket from a dead run may go; any other file may not */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return err_set(e, EEXIST, "%s exists", path);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(e, errno, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) ||
	    (u->drop && chown(path, u->uid, u->gid)) || listen(fd, 1)) {
		r = err_set(e, errno, "%s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

static int audit_emit(void *c, const char *event, json_t *details)
{
	return audit_log(c, event, details);
}

static void to_slirp(void *c, const uint8_t *frame, size_t len)
{
	struct ctx *x = c;

	netslirp_input(&x->ns, frame, len);
}

static int to_guest(void *c, const uint8_t *frame, size_t len)
{
	struct ctx *x = c;

	return stream_queue(&x->guest, frame, len);
}

static void serve_stats(int lfd, const struct pump *p)
{
	json_t *o;
	char *s;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	o = pump_stats_json(p);
	s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (s) {
		/* one short line into an empty socket buffer: no partial send
		 */
		if (send(fd, s, strlen(s), MSG_NOSIGNAL) >= 0)
			(void)!send(fd, "\n", 1, MSG_NOSIGNAL);
		free(s);
	}
	json_decref(o);
	close(fd);
}

static json_t *start_record(const struct opts *o, const struct sandbox_user *u,
			    const char *landlock)
{
	json_t *rules = json_array(), *names = json_array();
	size_t i;

	for (i = 0; i < o->n_rules; i++)
		json_array_append_new(rules, json_string(o->rule_text[i]));
	for (i = 0; i < o->n_dns; i++)
		json_array_append_new(names, json_string(o->dns_allow[i]));
	return json_pack("{s:o, s:s, s:o, s:b, s:i, s:s, s:s}", "allow", rules,
			 "dns", o->dns == DNS_NONE ? "none" : "allowlist",
			 "dns_allow", names, "host_access", o->host_access,
			 "uid", (int)(u->drop ? u->uid : geteuid()), "landlock",
			 landlock, "seccomp", "SECCOMP_NET");
}

/*
 * The filesystem walloff-net keeps: its socket folder, /dev/urandom (GLib
 * seeds libslirp's random numbers from it, and its fallback would need
 * syscalls the filter forbids) and the resolver configuration libslirp
 * reads when it forwards DNS. Nothing else is opened after set-up.
 */
static int confine_fs(const struct opts *o, char *dir, size_t dir_size,
		      char landlock[static LANDLOCK_STATUS_MAX], struct err *e)
{
	struct landlock_rule rules[3];
	size_t n = 0;

	if (path_dirname(o->socket, dir, dir_size))
		return err_set(e, ENAMETOOLONG, "%s: too long", o->socket);
	tzset();	/* the audit timestamps' time zone, read once, now */
	rules[n++] = (struct landlock_rule){ dir, LANDLOCK_GRANT_READ };
	rules[n++] = (struct landlock_rule){ URANDOM, LANDLOCK_GRANT_READ };
	if (o->dns == DNS_ALLOWLIST && !access(RESOLV_CONF, R_OK))
		rules[n++] = (struct landlock_rule){ RESOLV_CONF,
						     LANDLOCK_GRANT_READ };
	return landlock_restrict(rules, n, landlock, e);
}

/* Wait for QEMU to connect; serve stats meanwhile. */
static int accept_qemu(int lfd, int sfd, const struct pump *p, struct err *e)
{
	struct pollfd pfd[2] = {{lfd, POLLIN, 0}, {sfd, POLLIN, 0}};
	int fd;

	while (!stop_signal) {
		if (poll(pfd, sfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return err_set(e, errno, "poll: %s", strerror(errno));
		}
		if (sfd >= 0 && (pfd[1].revents & POLLIN))
			serve_stats(sfd, p);
		if (!(pfd[0].revents & POLLIN))
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			return err_set(e, errno, "accept: %s", strerror(errno));
	}
	return err_set(e, EINTR, "stopped by signal %d", (int)stop_signal);
}

/* The main loop; returns the exit reason or a negative errno. */
static int run(struct ctx *x, int sfd, const char **reason, struct err *e)
{
	static struct pollfd pfd[POLL_MAX];
	int64_t last_tick = netslirp_now_ms(), now;
	int timeout, n, r;
	size_t nfd;

	for (;;) {
		if (stop_signal) {
			*reason = "signal";
			return 0;
		}
		pfd[0] = (struct pollfd){x->guest.fd, POLLIN, 0};
		if (stream_pending(&x->guest))
			pfd[0].events |= POLLOUT;
		pfd[1] = (struct pollfd){sfd, POLLIN, 0};
		timeout = TICK_MS;
		nfd = 2 + netslirp_fill(&x->ns, pfd, 2, POLL_MAX, &timeout);
		n = poll(pfd, nfd, timeout);
		if (n < 0 && errno != EINTR)
			return err_set(e, errno, "poll: %s", strerror(errno));
		if (n > 0 && (pfd[0].revents & POLLOUT) &&
		    stream_flush(&x->guest)) {
			*reason = "peer-closed";
			return 0;
		}
		if (n > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			r = stream_read(&x->guest, pump_from_guest, &x->pump);
			if (r == -EPIPE) {
				*reason = "peer-closed";
				return 0;
			}
			if (r == -EPROTO)
				return err_set(e, EPROTO,
					       "bad frame length from QEMU");
			if (r < 0)
				return err_set(e, -r, "audit: %s",
					       strerror(-r));
		}
		if (n > 0 && sfd >= 0 && (pfd[1].revents & POLLIN))
			serve_stats(sfd, &x->pump);
		netslirp_poll(&x->ns, pfd, n < 0);
		now = netslirp_now_ms();
		if (now - last_tick >= TICK_MS) {
			last_tick = now;
			r = pump_tick(&x->pump, false);
			if (r)
				return err_set(e, -r, "audit: %s",
					       strerror(-r));
		}
	}
}

int main(int argc, char *argv[])
{
	static struct ctx x;
	char landlock[LANDLOCK_STATUS_MAX], sock_dir[PATH_MAX];
	struct sandbox_user u;
	struct sigaction sa;
	const char *reason = "error";
	struct opts o;
	struct err e = {0};
	int lfd = -1, sfd = -1, gfd = -1, rc = 1;
	json_t *st;
	char one = 1;

	err_clear(&e);
	if (parse_args(argc, argv, &o, &e))
		goto out;
	x.audit = audit_fdopen(o.audit_fd, o.cell, &e);
	if (!x.audit)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (sandbox_resolve(o.user, &u, &e))
		goto out;
	lfd = listen_unix(o.socket, &u, &e);
	if (lfd < 0)
		goto out;
	if (o.stats) {
		sfd = listen_unix(o.stats, &u, &e);
		if (sfd < 0)
			goto out;
	}
	if (sandbox_drop(&u, &e))
		goto out;
	if (confine_fs(&o, sock_dir, sizeof(sock_dir), landlock, &e))
		goto out;
	/* From here on the process handles guest bytes: syscall allowlist. */
	if (seccomp_install(SECCOMP_NET, &e))
		goto out;

	x.pump.pol.rules = o.rules;
	x.pump.pol.n_rules = o.n_rules;
	x.pump.pol.host_access = o.host_access;
	x.pump.pol.dns = o.dns;
	x.pump.pol.dns_allow = o.dns_allow;
	x.pump.pol.n_dns_allow = o.n_dns;
	x.pump.em.fn = audit_emit;
	x.pump.em.ctx = x.audit;
	x.pump.to_slirp = to_slirp;
	x.pump.to_guest = to_guest;
	x.pump.ctx = &x;
	x.pump.now_ms = netslirp_now_ms;
	pump_init(&x.pump);

	if (audit_log(x.audit, "net-start", start_record(&o, &u, landlock))) {
		err_set(&e, EIO, "cannot write the audit log");
		goto out;
	}
	if (o.ready_fd >= 0) {
		if (write(o.ready_fd, &one, 1) != 1) {
			err_set(&e, errno, "ready fd: %s", strerror(errno));
			goto out;
		}
		close(o.ready_fd);
	}

	gfd = accept_qemu(lfd, sfd, &x.pump, &e);
	if (gfd < 0)
		goto out;
	close(lfd);
	lfd = -1;
	stream_init(&x.guest, gfd);
	if (netslirp_init(
		&x.ns,
		&(struct netslirp_config){
		    .host_loopback = policy_needs_host_loopback(&x.pump.pol),
		    .dns = o.dns == DNS_ALLOWLIST},
		pump_to_guest, &x.pump, &e))
		goto out;
	audit_logf(x.audit, "net-connected", "{}");
	if (run(&x, sfd, &reason, &e))
		goto out;
	rc = 0;
out:
	if (x.audit) {
		if (pump_tick(&x.pump, true) && !rc)
			rc = 1;
		st = pump_stats_json(&x.pump);
		if (rc && e.code)
			reason = e.msg;
		if (audit_log(x.audit, "net-exit",
			      json_pack("{s:s, s:o*}", "reason", reason,
					"stats", st)))
			rc = 1;
	}
	if (rc && e.code)
		fprintf(stderr, "walloff-net: %s\n", e.msg);
	netslirp_free(&x.ns);
	if (gfd >= 0)
		close(gfd);
	if (lfd >= 0)
		close(lfd);
	if (sfd >= 0)
		close(sfd);
	audit_close(x.audit);
	return rc;
}
