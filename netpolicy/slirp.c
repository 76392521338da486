/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * slirp.c - libslirp 4.7 driven from walloff-net's own poll loop
 *
 * slirp is the user-mode TCP/IP stack QEMU uses for "-netdev user"; here it
 * is linked as a library behind policy.c, so it only ever sees frames the
 * policy allowed. Its network is fixed: 10.0.2.0/24, gateway (and host
 * loopback alias) 10.0.2.2, DNS forwarder 10.0.2.3, and a DHCP pool that
 * starts at 10.0.2.15 - the guest's only permitted address, since frame.c
 * drops any other source and policy.c pins the guest's MAC (so slirp never
 * hands out a second lease). IPv6, TFTP, SMB and the boot file are off.
 * Host loopback and DNS are also disabled inside slirp when the policy
 * cannot allow them, so a policy bug alone does not open them.
 *
 * No threads and no GLib main loop: each turn of main.c's loop calls
 * netslirp_fill() (slirp_pollfds_fill puts slirp's sockets in our pollfd
 * array and lowers the timeout), poll(), then netslirp_poll()
 * (slirp_pollfds_poll reads the results back by index) and runs expired
 * timers. Timers live in a fixed array; slirp creates at most one per
 * SlirpTimerId.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <slirp/libslirp.h>

#include "frame.h"
#include "slirp.h"

int64_t netslirp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ssize_t cb_send(const void *buf, size_t len, void *opaque)
{
	struct netslirp *ns = opaque;

	ns->send(ns->ctx, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	fprintf(stderr, "walloff-net: slirp: guest error: %s\n", msg);
}

static int64_t cb_clock_ns(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct netslirp_timer *timer_alloc(struct netslirp *ns)
{
	size_t i;

	for (i = 0; i < NETSLIRP_TIMERS_MAX; i++)
		if (!ns->timer[i].used) {
			memset(&ns->timer[i], 0, sizeof(ns->timer[i]));
			ns->timer[i].used = true;
			return &ns->timer[i];
		}
	fprintf(stderr, "walloff-net: slirp wants too many timers\n");
	return NULL;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct netslirp_timer *t = timer_alloc(opaque);

	if (t) {
		t->cb = cb;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct netslirp_timer *t = timer_alloc(opaque);

	if (t) {
		t->id = (int)id;
		t->cb_opaque = cb_opaque;
	}
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct netslirp_timer *t = timer;

	if (t)
		t->used = false;
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct netslirp_timer *t = timer;

	if (t) {
		t->expire_ms = expire_ms;
		t->armed = true;
	}
}

static void cb_register_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
}

static const SlirpCb callbacks = {
    .send_packet = cb_send,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_fd,
    .unregister_poll_fd = cb_register_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

static struct in_addr in4(uint32_t a)
{
	struct in_addr r = {.s_addr = htonl(a)};

	return r;
}

int netslirp_init(struct netslirp *ns, const struct netslirp_config *cfg,
		  int (*send)(void *ctx, const uint8_t *frame, size_t len),
		  void *ctx, struct err *e)
{
	SlirpConfig sc;

	memset(ns, 0, sizeof(*ns));
	ns->send = send;
	ns->ctx = ctx;
	memset(&sc, 0, sizeof(sc));
	sc.version = 4;
	sc.restricted = 0; /* the policy restricts; slirp must connect */
	sc.in_enabled = true;
	sc.vnetwork = in4(NET_NETWORK);
	sc.vnetmask = in4(NET_MASK);
	sc.vhost = in4(NET_GATEWAY);
	sc.in6_enabled = false;
	sc.vdhcp_start = in4(NET_GUEST);
	sc.vnameserver = in4(NET_DNS);
	sc.tftp_server_name = NULL;
	sc.tftp_path = NULL;
	sc.bootfile = NULL;
	sc.disable_host_loopback = !cfg->host_loopback;
	sc.enable_emu = false;
	sc.disable_dns = !cfg->dns;
	sc.disable_dhcp = false;
	ns->slirp = slirp_new(&sc, &callbacks, ns);
	if (!ns->slirp)
		return err_set(e, ENOMEM, "slirp_new failed");
	return 0;
}

void netslirp_input(struct netslirp *ns, const uint8_t *frame, size_t len)
{
	slirp_input(ns->slirp, frame, (int)len);
}

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct netslirp *ns = opaque;
	struct pollfd *p;

	if (ns->base + ns->n >= ns->cap)
		return -1; /* not polled this turn; slirp copes */
	p = &ns->pfd[ns->base + ns->n];
	p->fd = fd;
	p->events = 0;
	p->revents = 0;
	if (events & SLIRP_POLL_IN)
		p->events |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		p->events |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		p->events |= POLLPRI;
	return (int)(ns->base + ns->n++);
}

static int cb_get_revents(int idx, void *opaque)
{
	struct netslirp *ns = opaque;
	short r;
	int ev = 0;

	if (idx < 0 || (size_t)idx >= ns->base + ns->n)
		return 0;
	r = ns->pfd[idx].revents;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

size_t netslirp_fill(struct netslirp *ns, struct pollfd *pfd, size_t base,
		     size_t cap, int *timeout_ms)
{
	uint32_t t = *timeout_ms < 0 ? UINT32_MAX : (uint32_t)*timeout_ms;
	int64_t now = netslirp_now_ms();
	size_t i;

	ns->pfd = pfd;
	ns->base = base;
	ns->n = 0;
	ns->cap = cap;
	slirp_pollfds_fill(ns->slirp, &t, cb_add_poll, ns);
	for (i = 0; i < NETSLIRP_TIMERS_MAX; i++) {
		struct netslirp_timer *tm = &ns->timer[i];
		int64_t left;

		if (!tm->used || !tm->armed)
			continue;
		left = tm->expire_ms - now;
		if (left < 0)
			left = 0;
		if (left < (int64_t)t)
			t = (uint32_t)left;
	}
	*timeout_ms = t > INT_MAX ? -1 : (int)t;
	return ns->n;
}

void netslirp_poll(struct netslirp *ns, struct pollfd *pfd, bool error)
{
	int64_t now;
	size_t i;

	ns->pfd = pfd;
	slirp_pollfds_poll(ns->slirp, error ? 1 : 0, cb_get_revents, ns);
	now = netslirp_now_ms();
	for (i = 0; i < NETSLIRP_TIMERS_MAX; i++) {
		struct netslirp_timer *tm = &ns->timer[i];

		if (!tm->used || !tm->armed || tm->expire_ms > now)
			continue;
		tm->armed = false;
		if (tm->cb)
			tm->cb(tm->cb_opaque);
		else
			slirp_handle_timer(ns->slirp, (SlirpTimerId)tm->id,
					   tm->cb_opaque);
	}
}

void netslirp_free(struct netslirp *ns)
{
	if (ns->slirp)
		slirp_cleanup(ns->slirp);
	ns->slirp = NULL;
}
