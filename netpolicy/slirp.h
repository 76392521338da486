/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * slirp.h - libslirp driven from walloff-net's own poll loop
 */
#ifndef WALLOFF_NETSLIRP_H
#define WALLOFF_NETSLIRP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

/* Sockets slirp may have polled at once (one per guest connection). */
#define NETSLIRP_FDS_MAX 512
/* Timers slirp creates: one per SlirpTimerId (only RA, unused w/o IPv6). */
#define NETSLIRP_TIMERS_MAX 8

struct netslirp_timer {
	bool used, armed;
	int id;
	void *cb_opaque;
	void (*cb)(void *);
	int64_t expire_ms;
};

struct netslirp {
	void *slirp; /* Slirp *, opaque to users of this header */
	int (*send)(void *ctx, const uint8_t *frame, size_t len);
	void *ctx;
	struct pollfd *pfd; /* during fill/poll: the caller's array */
	size_t base, n, cap;
	struct netslirp_timer timer[NETSLIRP_TIMERS_MAX];
};

struct netslirp_config {
	bool host_loopback; /* false: slirp refuses 10.0.2.2 itself */
	bool dns;	    /* false: slirp forwards no DNS */
};

/**
 * netslirp_init() - create the slirp instance for 10.0.2.0/24
 * @ns:		state
 * @cfg:	what slirp itself may do (defence in depth behind policy.c)
 * @send:	called with every frame slirp sends to the guest
 * @ctx:	passed to @send
 * @e:		error
 *
 * Return: 0 or -errno
 */
int netslirp_init(struct netslirp *ns, const struct netslirp_config *cfg,
		  int (*send)(void *ctx, const uint8_t *frame, size_t len),
		  void *ctx, struct err *e);

/**
 * netslirp_input() - hand one (already allowed) frame to slirp
 * @ns:		state
 * @frame:	Ethernet frame
 * @len:	its length
 */
void netslirp_input(struct netslirp *ns, const uint8_t *frame, size_t len);

/**
 * netslirp_fill() - add slirp's sockets to a poll array
 * @ns:		state
 * @pfd:	the caller's array
 * @base:	first free index in @pfd
 * @cap:	size of @pfd
 * @timeout_ms:	in/out: lowered to slirp's and the timers' next deadline
 *
 * Return: number of entries used from @base on
 */
size_t netslirp_fill(struct netslirp *ns, struct pollfd *pfd, size_t base,
		     size_t cap, int *timeout_ms);

/**
 * netslirp_poll() - let slirp handle the poll results, then due timers
 * @ns:		state
 * @pfd:	the array filled by netslirp_fill()
 * @error:	poll() failed
 */
void netslirp_poll(struct netslirp *ns, struct pollfd *pfd, bool error);

/**
 * netslirp_free() - destroy the slirp instance
 * @ns:		state
 */
void netslirp_free(struct netslirp *ns);

/**
 * netslirp_now_ms() - the monotonic clock used for slirp and our tables
 *
 * Return: milliseconds
 */
int64_t netslirp_now_ms(void);

#endif /* WALLOFF_NETSLIRP_H */
