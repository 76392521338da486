/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft_log.c - nft mode's denied packets, from NFLOG to the audit log
 *
 * Every drop rule of a cell's table (nft_rules.c) logs to the cell's NFLOG
 * group with the reason as prefix and the first NFT_LOG_SNAPLEN bytes of
 * the packet. The supervisor binds a netlink socket to that group while it
 * holds CAP_NET_ADMIN (nftlog_open) and hands it to walloff-nftlog, which
 * runs unprivileged and parses the messages here.
 *
 * The packet bytes are the guest's: every length is checked against the
 * attribute that carries it (libmnl validates the attribute framing), the
 * IPv4 header length against the bytes present, and a port is read only
 * from a first fragment with a whole transport header. Anything else is
 * still counted, with the fields it could not prove set to zero.
 *
 * Records have user mode's "net-deny" shape (walloff-net's denylog.c):
 * {proto, src, dst, port, reason, count, total, tag}, keyed without the
 * source port, deduplicated in a fixed table and rate-limited by a token
 * bucket; repeats are summed every NFTLOG_FLUSH_MS, evictions counted in a
 * "net-deny-suppressed" record. So memory is constant and the audit log
 * grows by at most NFTLOG_RATE_PER_S records a second, yet every denial is
 * counted. (The table mirrors denylog.c; merge the two once both landed.)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <libmnl/libmnl.h>

#include "nft_log.h"
#include "rule.h"

/* Bytes of each packet NFLOG copies: IPv4 header (max 60) + 8 of L4. */
#define NFTLOG_COPY_RANGE	128
/* The kernel acknowledges a config command at once. */
#define NFTLOG_ACK_TIMEOUT_MS	2000
/* One netlink answer: libmnl's MNL_SOCKET_BUFFER_SIZE ceiling (8 KiB). */
#define NL_BUF 8192

static int config(struct mnl_socket *nl, uint16_t group, uint8_t cmd,
		  bool mode, struct err *e)
{
	char buf[NL_BUF];
	struct nfulnl_msg_config_cmd c = { .command = cmd };
	struct nfulnl_msg_config_mode m = {
		.copy_range = htonl(NFTLOG_COPY_RANGE),
		.copy_mode = NFULNL_COPY_PACKET,
	};
	struct pollfd pfd = { mnl_socket_get_fd(nl), POLLIN, 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	ssize_t n;
	int r;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = group;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(group);
	if (mode)
		mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(m), &m);
	else
		mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(c), &c);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return err_set(e, errno, "NFLOG: %s", strerror(errno));
	if (poll(&pfd, 1, NFTLOG_ACK_TIMEOUT_MS) != 1)
		return err_set(e, ETIMEDOUT, "NFLOG: no answer from the kernel");
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return err_set(e, errno, "NFLOG: %s", strerror(errno));
	r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, mnl_socket_get_portid(nl),
		       NULL, NULL);
	if (r < 0)
		return err_set(e, errno, "NFLOG group %u: %s%s", group,
			       strerror(errno),
			       errno == EPERM ? " (needs root or CAP_NET_ADMIN)" :
			       errno == EBUSY ? " (another process reads it)" : "");
	return 0;
}

int nftlog_open(uint16_t group, struct err *e)
{
	struct mnl_socket *nl;
	int fd, r;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return err_set(e, errno, "netlink: %s", strerror(errno));
	r = mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID);
	if (r < 0)
		r = err_set(e, errno, "netlink bind: %s", strerror(errno));
	if (!r)
		r = config(nl, group, NFULNL_CFG_CMD_BIND, false, e);
	if (!r)
		r = config(nl, group, 0, true, e);
	if (r) {
		mnl_socket_close(nl);
		return r;
	}
	/* Keep the descriptor, free libmnl's wrapper only. */
	fd = fcntl(mnl_socket_get_fd(nl), F_DUPFD_CLOEXEC, 0);
	r = fd < 0 ? err_set(e, errno, "dup: %s", strerror(errno)) : fd;
	mnl_socket_close(nl);
	return r;
}

struct parse_ctx {
	const struct nlattr *tb[NFULA_MAX + 1];
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct parse_ctx *c = data;
	int t = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, NFULA_MAX) < 0)
		return MNL_CB_OK;	/* newer kernel: ignore */
	c->tb[t] = a;
	return MNL_CB_OK;
}

void nftlog_parse_ip(const uint8_t *pkt, size_t len, struct nftlog_pkt *out)
{
	size_t ihl;
	uint16_t frag;

	out->proto = 0;
	out->saddr = out->daddr = 0;
	out->dport = 0;
	if (out->ethertype != 0x0800 || len < 20 || (pkt[0] >> 4) != 4)
		return;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len)
		return;
	out->proto = pkt[9];
	memcpy(&out->saddr, pkt + 12, 4);
	memcpy(&out->daddr, pkt + 16, 4);
	out->saddr = ntohl(out->saddr);
	out->daddr = ntohl(out->daddr);
	frag = (uint16_t)((pkt[6] << 8) | pkt[7]) & 0x1fff;
	if ((out->proto == 6 || out->proto == 17) && !frag && len >= ihl + 4)
		out->dport = (uint16_t)((pkt[ihl + 2] << 8) | pkt[ihl + 3]);
}

int nftlog_parse_msg(const void *msg, size_t len, struct nftlog_pkt *out)
{
	/* Aligned copy with zeroed padding: libmnl walks attributes up to
	 * MNL_ALIGN(nlmsg_len), up to 3 bytes past the message. */
	uint32_t buf[NFTLOG_MSG_MAX / 4 + 1];
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	const struct nfulnl_msg_packet_hdr *ph;
	struct parse_ctx c = { 0 };
	const char *prefix;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (len > NFTLOG_MSG_MAX || len < sizeof(*nlh))
		return -EINVAL;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, msg, len);
	if (nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)))
		return -EINVAL;
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, &c) < 0)
		return -EINVAL;
	if (!c.tb[NFULA_PACKET_HDR] ||
	    mnl_attr_get_payload_len(c.tb[NFULA_PACKET_HDR]) < sizeof(*ph))
		return -EINVAL;
	ph = mnl_attr_get_payload(c.tb[NFULA_PACKET_HDR]);
	out->ethertype = ntohs(ph->hw_protocol);
	if (c.tb[NFULA_PREFIX]) {
		prefix = mnl_attr_get_payload(c.tb[NFULA_PREFIX]);
		n = strnlen(prefix, mnl_attr_get_payload_len(c.tb[NFULA_PREFIX]));
		if (n >= sizeof(out->why))
			n = sizeof(out->why) - 1;
		memcpy(out->why, prefix, n);
	}
	if (!out->why[0])
		strcpy(out->why, "unknown");
	if (c.tb[NFULA_PAYLOAD])
		nftlog_parse_ip(mnl_attr_get_payload(c.tb[NFULA_PAYLOAD]),
				mnl_attr_get_payload_len(c.tb[NFULA_PAYLOAD]),
				out);
	return 0;
}

int nftlog_feed(struct nftlog *l, const void *buf, size_t len, int64_t now_ms)
{
	const uint8_t *b = buf;
	struct nftlog_pkt p;
	size_t off = 0;
	int r;

	while (len - off >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;

		memcpy(&h, b + off, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len - off)
			break;
		if (!nftlog_parse_msg(b + off, h.nlmsg_len, &p)) {
			r = nftlog_note(l, &p, now_ms);
			if (r)
				return r;
		}
		off += MNL_ALIGN(h.nlmsg_len);
		if (off > len)
			break;
	}
	return 0;
}

const char *nftlog_port_tag(uint8_t proto, uint16_t port)
{
	return rule_port_tag(proto, port);
}

/* ---- dedup and rate limit (the shape of walloff-net's denylog.c) ----- */

void nftlog_init(struct nftlog *l, nftlog_emit_fn emit, void *opaque,
		 int64_t now_ms)
{
	memset(l, 0, sizeof(*l));
	l->emit = emit;
	l->opaque = opaque;
	l->tokens = NFTLOG_BURST;
	l->tokens_ms = now_ms;
	l->flushed_ms = now_ms;
}

static bool key_eq(const struct nftlog_pkt *a, const struct nftlog_pkt *b)
{
	return a->ethertype == b->ethertype && a->proto == b->proto &&
	       a->saddr == b->saddr && a->daddr == b->daddr &&
	       a->dport == b->dport && !strcmp(a->why, b->why);
}

static bool take_token(struct nftlog *l, int64_t now_ms)
{
	if (now_ms > l->tokens_ms) {
		l->tokens += (double)(now_ms - l->tokens_ms) *
			     NFTLOG_RATE_PER_S / 1000.0;
		if (l->tokens > NFTLOG_BURST)
			l->tokens = NFTLOG_BURST;
		l->tokens_ms = now_ms;
	}
	if (l->tokens < 1.0)
		return false;
	l->tokens -= 1.0;
	return true;
}

static const char *proto_name(const struct nftlog_pkt *k)
{
	if (k->ethertype == 0x86dd)
		return "ipv6";
	if (k->ethertype == 0x0806)
		return "arp";
	if (k->ethertype != 0x0800)
		return "other";
	switch (k->proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	default:
		return "ip";
	}
}

static void ipv4_text(uint32_t a, char buf[static 16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		 (a >> 8) & 0xff, a & 0xff);
}

static int report(struct nftlog *l, struct nftlog_slot *s)
{
	const struct nftlog_pkt *k = &s->k;
	const char *tag = nftlog_port_tag(k->proto, k->dport);
	char src[16], dst[16];
	json_t *o;

	ipv4_text(k->saddr, src);
	ipv4_text(k->daddr, dst);
	o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:I, s:s}", "proto",
		      proto_name(k), "src", src, "dst", dst, "port",
		      (int)k->dport, "reason", k->why, "count",
		      (json_int_t)s->unreported, "total", (json_int_t)s->total,
		      "mode", "nft");
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "tag", tag ? json_string(tag) : json_null());
	s->unreported = 0;
	return l->emit(l->opaque, "net-deny", o);
}

int nftlog_note(struct nftlog *l, const struct nftlog_pkt *p, int64_t now_ms)
{
	struct nftlog_slot *s, *victim = NULL;
	size_t i;

	for (i = 0; i < NFTLOG_SLOTS; i++) {
		s = &l->slot[i];
		if (!s->used) {
			if (!victim || victim->used)
				victim = s;
			continue;
		}
		if (key_eq(&s->k, p)) {
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
		l->suppressed += s->unreported;
	memset(s, 0, sizeof(*s));
	s->k = *p;
	s->used = true;
	s->total = 1;
	s->unreported = 1;
	s->last_ms = now_ms;
	if (!take_token(l, now_ms))
		return 0;
	return report(l, s);
}

int nftlog_flush(struct nftlog *l, int64_t now_ms, bool force)
{
	size_t i;
	int r;

	if (!force && now_ms - l->flushed_ms < NFTLOG_FLUSH_MS)
		return 0;
	l->flushed_ms = now_ms;
	for (i = 0; i < NFTLOG_SLOTS; i++) {
		struct nftlog_slot *s = &l->slot[i];

		if (!s->used || !s->unreported)
			continue;
		if (!force && !take_token(l, now_ms))
			break;
		r = report(l, s);
		if (r)
			return r;
	}
	if (l->suppressed) {
		json_t *o = json_pack("{s:I}", "count",
				      (json_int_t)l->suppressed);

		l->suppressed = 0;
		return l->emit(l->opaque, "net-deny-suppressed", o);
	}
	return 0;
}
