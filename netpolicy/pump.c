/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pump.c - the frame paths between the guest and slirp
 *
 * Guest -> slirp: every frame goes through policy_decide(). Allowed frames
 * are counted in the flow table (which logs flow open) and handed to
 * slirp. Dropped frames (malformed, spoofed, fragments, broadcast noise)
 * only bump a per-reason counter: a Windows guest broadcasts NetBIOS all
 * day and one audit line per frame would bury what matters; the counters
 * reach the audit log as a periodic "net-drop" summary and `walloff status`.
 * Denied flows go to the deduplicating deny log, and the guest gets an
 * answer we build ourselves: a RST for TCP (legacy apps fail fast instead
 * of waiting for SYN timeouts), a DNS REFUSED for a name not on the
 * allowlist, nothing for other UDP or ICMP.
 *
 * Slirp -> guest: frames are parsed without the source checks only to
 * credit bytes to their flow, then queued to the guest unchanged.
 *
 * The pump does no I/O itself: slirp, the guest socket and the clock are
 * callbacks, so unit tests drive it with hostile frames directly.
 */
#include <errno.h>
#include <string.h>

#include "pump.h"
#include "reply.h"

/* Room for a RST or a DNS REFUSED (question echoed, at most 512 bytes). */
#define PUMP_REPLY_MAX (ETH_HLEN_ + 20 + 8 + DNS_UDP_MAX + 512)

void pump_init(struct pump *p)
{
	int64_t now = p->now_ms();

	memset(&p->st, 0, sizeof(p->st));
	memset(p->drops_reported, 0, sizeof(p->drops_reported));
	p->drops_reported_ms = now;
	denylog_init(&p->deny, &p->em, now);
	flows_init(&p->flows, &p->em);
}

static int answer(struct pump *p, const uint8_t *frame, const struct frame *f,
		  const struct decision *d)
{
	uint8_t out[PUMP_REPLY_MAX], dns[DNS_UDP_MAX + 512];
	size_t n = 0, dl;

	if (d->verdict == VERDICT_DNS_REFUSE) {
		dl = dns_build_refused(frame + f->payload_off, &d->dq, dns,
				       sizeof(dns));
		if (dl)
			n = reply_udp(f, dns, dl, out, sizeof(out));
	} else if (f->proto == 6) {
		n = reply_tcp_rst(f, out, sizeof(out));
		if (n)
			p->st.rst_sent++;
	}
	if (!n)
		return 0;
	p->st.frames_to_guest++;
	if (p->to_guest(p->ctx, out, n) < 0)
		p->st.to_guest_dropped++;
	return 0;
}

int pump_from_guest(void *ctx, const uint8_t *frame, size_t len)
{
	struct pump *p = ctx;
	struct deny_key k;
	struct decision d;
	struct frame f;
	int r;

	p->st.frames_from_guest++;
	policy_decide(&p->pol, frame, len, &f, &d);
	switch (d.verdict) {
	case VERDICT_PASS:
		p->st.allowed++;
		if (d.is_dns)
			p->st.dns_allowed++;
		/* ARP and DHCP are slirp's own business, not flows */
		if (f.kind == FRAME_IPV4 &&
		    !(f.proto == 17 && f.sport == 68 && f.dport == 67)) {
			r = flows_guest(&p->flows, &f,
					d.is_dns ? "dns"
					: d.to_host
					    ? "host"
					    : policy_port_tag(f.proto, f.dport),
					p->now_ms());
			if (r)
				return r;
		}
		p->to_slirp(p->ctx, frame, len);
		return 0;
	case VERDICT_DROP:
		p->st.dropped[d.drop]++;
		return 0;
	case VERDICT_DENY:
	case VERDICT_DNS_REFUSE:
		break;
	}
	p->st.denied++;
	if (d.verdict == VERDICT_DNS_REFUSE)
		p->st.dns_refused++;
	memset(&k, 0, sizeof(k));
	k.proto = f.proto;
	k.saddr = f.saddr;
	k.daddr = f.daddr;
	k.dport = f.dport;
	k.why = d.why;
	k.tag = d.tag;
	if (d.is_dns)
		memcpy(k.name, d.dq.name, sizeof(k.name));
	r = denylog_note(&p->deny, &k, p->now_ms());
	if (r)
		return r;
	return answer(p, frame, &f, &d);
}

int pump_to_guest(void *ctx, const uint8_t *frame, size_t len)
{
	struct pump *p = ctx;
	struct frame f;

	p->st.frames_to_guest++;
	if (frame_parse_any(frame, len, &f) == DROP_NONE &&
	    f.kind == FRAME_IPV4)
		flows_slirp(&p->flows, &f, p->now_ms());
	if (p->to_guest(p->ctx, frame, len) < 0)
		p->st.to_guest_dropped++;
	return 0;
}

static int report_drops(struct pump *p, int64_t now, bool final)
{
	json_t *o;
	size_t i;
	bool any = false;

	if (!final && now - p->drops_reported_ms < PUMP_DROP_REPORT_MS)
		return 0;
	p->drops_reported_ms = now;
	o = json_object();
	if (!o)
		return -ENOMEM;
	for (i = 1; i < DROP__COUNT; i++) {
		uint64_t delta = p->st.dropped[i] - p->drops_reported[i];

		if (!delta)
			continue;
		json_object_set_new(o, frame_drop_name((enum frame_drop)i),
				    json_integer((json_int_t)delta));
		p->drops_reported[i] = p->st.dropped[i];
		any = true;
	}
	if (!any) {
		json_decref(o);
		return 0;
	}
	return emit(&p->em, "net-drop", json_pack("{s:o}", "dropped", o));
}

int pump_tick(struct pump *p, bool final)
{
	int64_t now = p->now_ms();
	int r;

	r = denylog_flush(&p->deny, now, final);
	if (!r)
		r = flows_expire(&p->flows, now, final);
	if (!r)
		r = report_drops(p, now, final);
	return r;
}

json_t *pump_stats_json(const struct pump *p)
{
	json_t *drops = json_object(), *o;
	uint64_t total = 0;
	size_t i;

	if (!drops)
		return NULL;
	for (i = 1; i < DROP__COUNT; i++) {
		json_object_set_new(drops, frame_drop_name((enum frame_drop)i),
				    json_integer((json_int_t)p->st.dropped[i]));
		total += p->st.dropped[i];
	}
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, "
		      "s:I, s:I, s:I}",
		      "allowed", (json_int_t)p->st.allowed, "denied",
		      (json_int_t)p->st.denied, "dropped", (json_int_t)total,
		      "dns_refused", (json_int_t)p->st.dns_refused,
		      "dns_allowed", (json_int_t)p->st.dns_allowed,
		      "dropped_by_reason", drops, "frames_from_guest",
		      (json_int_t)p->st.frames_from_guest, "frames_to_guest",
		      (json_int_t)p->st.frames_to_guest, "rst_sent",
		      (json_int_t)p->st.rst_sent, "to_guest_dropped",
		      (json_int_t)p->st.to_guest_dropped, "flows_open",
		      (json_int_t)p->flows.n_open, "flows_total",
		      (json_int_t)p->flows.opened, "deny_records",
		      (json_int_t)p->deny.records);
	return o;
}
