/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * flows.h - open/close accounting of allowed flows, with byte counts
 */
#ifndef WALLOFF_FLOWS_H
#define WALLOFF_FLOWS_H

#include <stdbool.h>
#include <stdint.h>

#include "emit.h"
#include "frame.h"

/*
 * Allowed flows tracked at once. An allowlisted legacy app holds a few
 * connections; 1024 leaves room for a busy one. When full, the least
 * recently active flow is closed in the log ("evicted") to make room.
 */
#define FLOWS_MAX 1024
#define FLOWS_HASH 2048 /* buckets, power of two */
/* Idle time after which a flow is logged as closed. */
#define FLOW_IDLE_TCP_MS (15 * 60 * 1000)
#define FLOW_IDLE_UDP_MS (60 * 1000)
/* A TCP flow that saw FIN both ways or a RST lingers this long. */
#define FLOW_LINGER_MS 2000

struct flow {
	uint8_t proto;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	bool used;
	bool fin_out, fin_in, rst;
	const char *tag;
	uint64_t bytes_out, bytes_in; /* payload bytes */
	uint64_t pkts_out, pkts_in;
	int64_t open_ms, last_ms;
	int32_t next; /* hash chain, -1 ends */
};

struct flows {
	struct flow f[FLOWS_MAX];
	int32_t bucket[FLOWS_HASH];
	int32_t free_head;
	uint32_t n_open;
	uint64_t opened, closed;
	const struct emitter *em;
};

/**
 * flows_init() - empty table
 * @fl:		table
 * @em:		where "net-flow-open"/"net-flow-close" records go
 */
void flows_init(struct flows *fl, const struct emitter *em);

/**
 * flows_guest() - account an allowed frame from the guest; opens the flow
 * (and logs it) if new
 * @fl:		table
 * @f:		parsed IPv4 frame
 * @tag:	audit tag of the flow or NULL
 * @now_ms:	monotonic time
 *
 * Return: 0 or -errno from the emitter
 */
int flows_guest(struct flows *fl, const struct frame *f, const char *tag,
		int64_t now_ms);

/**
 * flows_slirp() - account a frame slirp sends to the guest, if it belongs
 * to a known flow
 * @fl:		table
 * @f:		parsed IPv4 frame (frame_parse_any)
 * @now_ms:	monotonic time
 */
void flows_slirp(struct flows *fl, const struct frame *f, int64_t now_ms);

/**
 * flows_expire() - log and forget idle or finished flows
 * @fl:		table
 * @now_ms:	monotonic time
 * @all:	close every flow (at exit)
 *
 * Return: 0 or -errno from the emitter
 */
int flows_expire(struct flows *fl, int64_t now_ms, bool all);

#endif /* WALLOFF_FLOWS_H */
