/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * flows.c - open/close accounting of allowed flows
 *
 * Every allowed TCP/UDP/ICMP frame from the guest is looked up by its
 * 5-tuple in a fixed pool of FLOWS_MAX flows chained from FLOWS_HASH
 * buckets (no allocation after start). A new tuple writes a
 * "net-flow-open" record; frames slirp sends back are matched on the
 * reversed tuple and counted as bytes_in. A flow is written as
 * "net-flow-close" with its byte and packet counts once it has seen FIN
 * both ways or a RST (after a short linger so the last ACKs are counted),
 * once it has been idle for its protocol's timeout, when the pool is full
 * and it is the least recently active flow ("evicted"), or at exit.
 *
 * ICMP flows are keyed with ports 0 (one flow per destination).
 */
#include <string.h>

#include "flows.h"

static uint32_t hash(uint8_t proto, uint32_t sa, uint16_t sp, uint32_t da,
		     uint16_t dp)
{
	uint32_t h = sa * 0x9e3779b1u ^ da * 0x85ebca6bu ^
		     ((uint32_t)sp << 16 | dp) * 0xc2b2ae35u ^ proto;

	h ^= h >> 15;
	return h & (FLOWS_HASH - 1);
}

void flows_init(struct flows *fl, const struct emitter *em)
{
	int32_t i;

	memset(fl, 0, sizeof(*fl));
	fl->em = em;
	for (i = 0; i < FLOWS_HASH; i++)
		fl->bucket[i] = -1;
	for (i = 0; i < FLOWS_MAX; i++)
		fl->f[i].next = i + 1 < FLOWS_MAX ? i + 1 : -1;
	fl->free_head = 0;
}

static struct flow *lookup(struct flows *fl, uint8_t proto, uint32_t sa,
			   uint16_t sp, uint32_t da, uint16_t dp)
{
	int32_t i = fl->bucket[hash(proto, sa, sp, da, dp)];

	for (; i >= 0; i = fl->f[i].next) {
		struct flow *x = &fl->f[i];

		if (x->proto == proto && x->saddr == sa && x->sport == sp &&
		    x->daddr == da && x->dport == dp)
			return x;
	}
	return NULL;
}

static int close_flow(struct flows *fl, struct flow *x, const char *why)
{
	int32_t idx = (int32_t)(x - fl->f);
	int32_t *pp =
	    &fl->bucket[hash(x->proto, x->saddr, x->sport, x->daddr, x->dport)];
	char src[16], dst[16];
	json_t *o;

	while (*pp != idx)
		pp = &fl->f[*pp].next;
	*pp = x->next;
	o = json_pack(
	    "{s:s, s:s, s:i, s:s, s:i, s:s, s:I, s:I, s:I, s:I, "
	    "s:I}",
	    "proto", proto_name(x->proto), "src", ipv4_text(x->saddr, src),
	    "sport", (int)x->sport, "dst", ipv4_text(x->daddr, dst), "port",
	    (int)x->dport, "reason", why, "bytes_out", (json_int_t)x->bytes_out,
	    "bytes_in", (json_int_t)x->bytes_in, "packets_out",
	    (json_int_t)x->pkts_out, "packets_in", (json_int_t)x->pkts_in,
	    "duration_ms", (json_int_t)(x->last_ms - x->open_ms));
	if (o && x->tag)
		json_object_set_new(o, "tag", json_string(x->tag));
	x->used = false;
	x->next = fl->free_head;
	fl->free_head = idx;
	fl->n_open--;
	fl->closed++;
	return emit(fl->em, "net-flow-close", o);
}

static int evict_oldest(struct flows *fl)
{
	struct flow *old = NULL;
	size_t i;

	for (i = 0; i < FLOWS_MAX; i++)
		if (fl->f[i].used && (!old || fl->f[i].last_ms < old->last_ms))
			old = &fl->f[i];
	return old ? close_flow(fl, old, "evicted") : 0;
}

int flows_guest(struct flows *fl, const struct frame *f, const char *tag,
		int64_t now_ms)
{
	struct flow *x =
	    lookup(fl, f->proto, f->saddr, f->sport, f->daddr, f->dport);
	char src[16], dst[16];
	uint32_t h;
	int r;

	if (!x) {
		if (fl->free_head < 0) {
			r = evict_oldest(fl);
			if (r)
				return r;
		}
		x = &fl->f[fl->free_head];
		fl->free_head = x->next;
		memset(x, 0, sizeof(*x));
		x->used = true;
		x->proto = f->proto;
		x->saddr = f->saddr;
		x->sport = f->sport;
		x->daddr = f->daddr;
		x->dport = f->dport;
		x->tag = tag;
		x->open_ms = now_ms;
		h = hash(x->proto, x->saddr, x->sport, x->daddr, x->dport);
		x->next = fl->bucket[h];
		fl->bucket[h] = (int32_t)(x - fl->f);
		fl->n_open++;
		fl->opened++;
		r = emit(fl->em, "net-flow-open",
			 json_pack("{s:s, s:s, s:i, s:s, s:i, s:s?}", "proto",
				   proto_name(f->proto), "src",
				   ipv4_text(f->saddr, src), "sport",
				   (int)f->sport, "dst",
				   ipv4_text(f->daddr, dst), "port",
				   (int)f->dport, "tag", tag));
		if (r)
			return r;
	}
	x->bytes_out += f->payload_len;
	x->pkts_out++;
	x->last_ms = now_ms;
	if (f->proto == 6) {
		if (f->tcp_flags & TCPF_FIN)
			x->fin_out = true;
		if (f->tcp_flags & TCPF_RST)
			x->rst = true;
	}
	return 0;
}

void flows_slirp(struct flows *fl, const struct frame *f, int64_t now_ms)
{
	struct flow *x =
	    lookup(fl, f->proto, f->daddr, f->dport, f->saddr, f->sport);

	if (!x)
		return;
	x->bytes_in += f->payload_len;
	x->pkts_in++;
	x->last_ms = now_ms;
	if (f->proto == 6) {
		if (f->tcp_flags & TCPF_FIN)
			x->fin_in = true;
		if (f->tcp_flags & TCPF_RST)
			x->rst = true;
	}
}

int flows_expire(struct flows *fl, int64_t now_ms, bool all)
{
	size_t i;
	int r;

	for (i = 0; i < FLOWS_MAX; i++) {
		struct flow *x = &fl->f[i];
		int64_t idle = now_ms - x->last_ms;
		const char *why = NULL;

		if (!x->used)
			continue;
		if (all)
			why = "exit";
		else if ((x->rst || (x->fin_in && x->fin_out)) &&
			 idle >= FLOW_LINGER_MS)
			why = x->rst ? "reset" : "fin";
		else if (idle >=
			 (x->proto == 6 ? FLOW_IDLE_TCP_MS : FLOW_IDLE_UDP_MS))
			why = "idle";
		if (!why)
			continue;
		r = close_flow(fl, x, why);
		if (r)
			return r;
	}
	return 0;
}
