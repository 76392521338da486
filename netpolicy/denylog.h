/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * denylog.h - deduplicated, rate-limited audit of denied flows
 */
#ifndef WALLOFF_DENYLOG_H
#define WALLOFF_DENYLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "dns.h"
#include "emit.h"

/*
 * Distinct denied flows remembered at once. A guest scanning the internet
 * cycles through destinations faster than any table can hold; 256 keeps the
 * table at ~80 KiB (names included) and is plenty for the handful of
 * destinations a misconfigured legacy app keeps retrying.
 */
#define DENYLOG_SLOTS 256
/* Steady audit rate for denials, and the burst allowed on top. */
#define DENYLOG_RATE_PER_S 20
#define DENYLOG_BURST 50
/* Repeats of a known denial are summed and reported at most this often. */
#define DENYLOG_FLUSH_MS 10000

struct deny_key {
	uint16_t ethertype;	      /* 0 (IPv4, user mode) or the frame's */
	uint8_t proto;
	uint32_t saddr, daddr;
	uint16_t dport;
	const char *why;	      /* static string */
	const char *tag;	      /* static string or NULL */
	char name[DNS_NAME_TEXT_MAX]; /* DNS name, "" if none */
};

struct deny_slot {
	struct deny_key k;
	bool used;
	uint64_t total;	     /* denials of this flow since first seen */
	uint64_t unreported; /* denials not yet in an audit record */
	int64_t last_ms;
};

struct denylog {
	struct deny_slot slot[DENYLOG_SLOTS];
	const struct emitter *em;
	const char *mode;    /* static; added to each net-deny, or NULL */
	double tokens;
	int64_t tokens_ms;
	int64_t flushed_ms;
	uint64_t suppressed; /* denials evicted before being reported */
	uint64_t records;    /* audit records written */
};

/**
 * denylog_init() - empty table
 * @dl:		table
 * @em:		where records go
 * @now_ms:	monotonic time
 */
void denylog_init(struct denylog *dl, const struct emitter *em, int64_t now_ms);

/**
 * denylog_note() - count one denial, audit it if it is new and the rate
 * limit allows
 * @dl:		table
 * @k:		the denied flow
 * @now_ms:	monotonic time
 *
 * Return: 0 or -errno from the emitter
 */
int denylog_note(struct denylog *dl, const struct deny_key *k, int64_t now_ms);

/**
 * denylog_flush() - report repeat counts and suppressed denials
 * @dl:		table
 * @now_ms:	monotonic time
 * @force:	ignore the flush interval and rate limit (at exit)
 *
 * Return: 0 or -errno from the emitter
 */
int denylog_flush(struct denylog *dl, int64_t now_ms, bool force);

#endif /* WALLOFF_DENYLOG_H */
