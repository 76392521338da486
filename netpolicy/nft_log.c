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
 * Denials go through user mode's table (denylog.c): the same "net-deny"
 * records {proto, src, dst, port, reason, count, total, tag} plus
 * "mode": "nft", the same dedup without the source port, token bucket and
 * "net-deny-suppressed" summary, so memory is constant and the audit log
 * grows by at most DENYLOG_RATE_PER_S records a second, yet every denial
 * is counted. The table keys reasons by static string: a log prefix that is
 * none of our rules' NFT_WHY_* is counted as "unknown".
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
#include "nft_rules.h"
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

/* ---- dedup and rate limit: denylog.c ---------------------------------- */

void nftlog_init(struct nftlog *l, nftlog_emit_fn fn, void *opaque,
		 int64_t now_ms)
{
	l->em.fn = fn;
	l->em.ctx = opaque;
	denylog_init(&l->dl, &l->em, now_ms);
	l->dl.mode = "nft";
}

/* The log prefix as the static string the table compares by address. */
static const char *why_static(const char *why)
{
	static const char *const known[] = {
		NFT_WHY_NO_RULE, NFT_WHY_SPOOF_MAC, NFT_WHY_SPOOF_IP,
		NFT_WHY_IPV6, NFT_WHY_NOT_IP, NFT_WHY_INBOUND,
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(why, known[i]))
			return known[i];
	return "unknown";
}

int nftlog_note(struct nftlog *l, const struct nftlog_pkt *p, int64_t now_ms)
{
	struct deny_key k;

	memset(&k, 0, sizeof(k));
	/* 0 means IPv4 to the table; an NFLOG packet without a hardware
	 * protocol is "other". */
	k.ethertype = p->ethertype ? p->ethertype : 0xffff;
	k.proto = p->proto;
	k.saddr = p->saddr;
	k.daddr = p->daddr;
	k.dport = p->dport;
	k.why = why_static(p->why);
	k.tag = nftlog_port_tag(p->proto, p->dport);
	return denylog_note(&l->dl, &k, now_ms);
}

int nftlog_flush(struct nftlog *l, int64_t now_ms, bool force)
{
	return denylog_flush(&l->dl, now_ms, force);
}
