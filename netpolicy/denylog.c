/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * denylog.c - deduplicated, rate-limited audit of denied flows
 *
 * A guest whose application retries a forbidden server every second, or
 * malware sweeping the address space, must neither flood the audit log nor
 * grow our memory. Denials are keyed by (proto, src, dst, port, reason,
 * tag, DNS name; and the ethertype, for nft mode's NFLOG reader, which
 * sees more than IPv4) - not by source port, which changes with every retry - in
 * a fixed table of DENYLOG_SLOTS entries:
 *
 *  - a new key is written at once as a "net-deny" record with count 1, if
 *    the token bucket (DENYLOG_RATE_PER_S, burst DENYLOG_BURST) allows;
 *    otherwise it waits in the table as unreported;
 *  - repeats only increment counters; every DENYLOG_FLUSH_MS the keys with
 *    unreported denials get one "net-deny" record carrying the count since
 *    the last record and the total (same rate limit);
 *  - when the table is full the least recently seen key is evicted; what it
 *    had not reported is added to a suppressed counter, written as one
 *    "net-deny-suppressed" record at the next flush.
 *
 * So memory is constant and the log grows by at most DENYLOG_RATE_PER_S
 * records a second (plus one summary), yet every denial is counted. Lookup
 * is a linear scan: it runs only on the deny path and 256 compares of a
 * small key are cheaper than the audit write they usually precede.
 */
#include <errno.h>
#include <string.h>

#include "denylog.h"

void denylog_init(struct denylog *dl, const struct emitter *em, int64_t now_ms)
{
	memset(dl, 0, sizeof(*dl));
	dl->em = em;
	dl->tokens = DENYLOG_BURST;
	dl->tokens_ms = now_ms;
	dl->flushed_ms = now_ms;
}

static bool key_eq(const struct deny_key *a, const struct deny_key *b)
{
	return a->ethertype == b->ethertype && a->proto == b->proto &&
	       a->saddr == b->saddr &&
	       a->daddr == b->daddr && a->dport == b->dport &&
	       a->why == b->why && a->tag == b->tag &&
	       !strcmp(a->name, b->name);
}

static bool take_token(struct denylog *dl, int64_t now_ms)
{
	if (now_ms > dl->tokens_ms) {
		dl->tokens += (double)(now_ms - dl->tokens_ms) *
			      DENYLOG_RATE_PER_S / 1000.0;
		if (dl->tokens > DENYLOG_BURST)
			dl->tokens = DENYLOG_BURST;
		dl->tokens_ms = now_ms;
	}
	if (dl->tokens < 1.0)
		return false;
	dl->tokens -= 1.0;
	return true;
}

static int report(struct denylog *dl, struct deny_slot *s)
{
	const struct deny_key *k = &s->k;
	char src[16], dst[16];
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:I}", "proto",
		      l3_proto_name(k->ethertype, k->proto), "src", ipv4_text(k->saddr, src),
		      "dst", ipv4_text(k->daddr, dst), "port", (int)k->dport,
		      "reason", k->why, "count", (json_int_t)s->unreported,
		      "total", (json_int_t)s->total);
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "tag",
			    k->tag ? json_string(k->tag) : json_null());
	if (k->name[0])
		json_object_set_new(o, "name", json_string(k->name));
	if (dl->mode)
		json_object_set_new(o, "mode", json_string(dl->mode));
	s->unreported = 0;
	dl->records++;
	return emit(dl->em, "net-deny", o);
}

int denylog_note(struct denylog *dl, const struct deny_key *k, int64_t now_ms)
{
	struct deny_slot *s, *victim = NULL;
	size_t i;

	for (i = 0; i < DENYLOG_SLOTS; i++) {
		s = &dl->slot[i];
		if (!s->used) {
			if (!victim || victim->used)
				victim = s;
			continue;
		}
		if (key_eq(&s->k, k)) {
			s->total++;
			s->unreported++;
			s->last_ms = now_ms;
			return 0;
		}
		if (!victim || (victim->used && s->last_ms < victim->last_ms))
			victim = s;
	}
	s = victim;
	if (s->used)
		dl->suppressed += s->unreported;
	memset(s, 0, sizeof(*s));
	s->k = *k;
	s->used = true;
	s->total = 1;
	s->unreported = 1;
	s->last_ms = now_ms;
	if (!take_token(dl, now_ms))
		return 0;
	return report(dl, s);
}

int denylog_flush(struct denylog *dl, int64_t now_ms, bool force)
{
	size_t i;
	int r;

	if (!force && now_ms - dl->flushed_ms < DENYLOG_FLUSH_MS)
		return 0;
	dl->flushed_ms = now_ms;
	for (i = 0; i < DENYLOG_SLOTS; i++) {
		struct deny_slot *s = &dl->slot[i];

		if (!s->used || !s->unreported)
			continue;
		if (!force && !take_token(dl, now_ms))
			break;
		r = report(dl, s);
		if (r)
			return r;
	}
	if (dl->suppressed) {
		json_t *o =
		    json_pack("{s:I}", "count", (json_int_t)dl->suppressed);

		dl->suppressed = 0;
		dl->records++;
		return emit(dl->em, "net-deny-suppressed", o);
	}
	return 0;
}
