/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pump.h - the two frame paths of walloff-net and their counters
 */
#ifndef WALLOFF_PUMP_H
#define WALLOFF_PUMP_H

#include <jansson.h>
#include <stdint.h>

#include "denylog.h"
#include "flows.h"
#include "policy.h"

/* Drop counters are summarised in the audit log at most this often. */
#define PUMP_DROP_REPORT_MS 10000

struct pump_stats {
	uint64_t frames_from_guest, frames_to_guest;
	uint64_t allowed, denied, dns_refused, dns_allowed;
	uint64_t rst_sent, to_guest_dropped;
	uint64_t dropped[DROP__COUNT];
};

struct pump {
	struct policy pol;
	struct denylog deny;
	struct flows flows;
	struct emitter em;
	struct pump_stats st;
	uint64_t drops_reported[DROP__COUNT];
	int64_t drops_reported_ms;
	/* where frames go: slirp, and the guest (stream or a test) */
	void (*to_slirp)(void *ctx, const uint8_t *frame, size_t len);
	int (*to_guest)(void *ctx, const uint8_t *frame, size_t len);
	void *ctx;
	int64_t (*now_ms)(void);
};

/**
 * pump_init() - set up tables; @p->pol, to_slirp, to_guest, ctx, now_ms
 * and em must be filled in by the caller first
 * @p:		pump
 */
void pump_init(struct pump *p);

/**
 * pump_from_guest() - one frame from the guest: parse, decide, account,
 * then pass to slirp, drop, or deny (with RST / REFUSED answer)
 * @ctx:	the pump (signature fits stream_read())
 * @frame:	frame
 * @len:	length
 *
 * Return: 0, or -errno if an audit record could not be written
 */
int pump_from_guest(void *ctx, const uint8_t *frame, size_t len);

/**
 * pump_to_guest() - one frame from slirp to the guest (byte accounting)
 * @ctx:	the pump (signature fits slirp.c's send callback)
 * @frame:	frame
 * @len:	length
 *
 * Return: 0
 */
int pump_to_guest(void *ctx, const uint8_t *frame, size_t len);

/**
 * pump_tick() - periodic work: denial repeats, idle flows, drop summary
 * @p:		pump
 * @final:	write everything now (at exit)
 *
 * Return: 0 or -errno if an audit record could not be written
 */
int pump_tick(struct pump *p, bool final);

/**
 * pump_stats_json() - counters for `walloff status`
 * @p:		pump
 *
 * Return: new JSON object, or NULL when out of memory
 */
json_t *pump_stats_json(const struct pump *p);

#endif /* WALLOFF_PUMP_H */
