/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft_rules.c - the per-cell nftables table of nft mode
 *
 * A cell in nft mode sits on a tap device; the kernel filters its traffic
 * with one table, "walloff_<cell>" ('-' mapped to '_'), built here with
 * libnftnl and sent as ONE batch through libmnl, so it appears whole or not
 * at all. The batch first adds-then-deletes any table of the same name (a
 * stale one left by a crashed run), then creates ours.
 *
 * Family: inet when the tap is routed (the host is the guest's gateway),
 * bridge when the tap is a bridge port (bridged frames never reach inet
 * hooks without br_netfilter). Both get the same base chains, policy
 * accept so that traffic of other interfaces is untouched:
 *   input, forward:  iifname TAP jump guest
 *   forward (inet):  oifname TAP ct state established,related accept;
 *                    oifname TAP log drop        (nothing may call in)
 * and the regular chain "guest", which decides everything from the tap:
 *   1. ether saddr != the cell's MAC      log "spoof-mac" drop
 *   2. (bridge) ARP with sender IP != the guest address drop, other ARP
 *      accept (routed: ARP goes to the host's own stack, never forwarded)
 *   3. IPv6 (router advertisements included)  log "ipv6" drop
 *   4. anything not IPv4                  log "not-ipv4" drop
 *   5. ip saddr != the guest address      log "spoof-ip" drop
 *   6. (inet) ct state established,related accept
 *   7. one rule per allow rule: daddr/prefix, l4proto, dport range accept
 *   8. log "no-rule" drop
 * Every log goes to the cell's NFLOG group (nft_log_group) with the reason
 * as prefix; walloff-nftlog reads it back into the audit log.
 *
 * Profile text reaches this file only as numbers (addresses, ports), a MAC
 * and two names that were validated ([a-z0-9-] cell names, a kernel
 * interface name); they are re-checked here because this is the boundary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "nft_rules.h"

/* Base chain priority: the usual "filter" slot. */
#define NFT_PRIO_FILTER		0
/* Bytes of each dropped packet copied to NFLOG: IPv4 + TCP/UDP headers. */
#define NFT_LOG_SNAPLEN		128
/* Batch buffer: ~96 rules of at most ~600 bytes each, plus chains. */
#define NFT_BATCH_MAX		(128 * 1024)
/* How long the kernel may take to acknowledge the batch. */
#define NFT_ACK_TIMEOUT_MS	3000
/* NFLOG groups of walloff cells: 0x5700 + one byte of the name's hash. */
#define NFT_LOG_GROUP_BASE	0x5700
/* One netlink answer: libmnl's MNL_SOCKET_BUFFER_SIZE ceiling (8 KiB). */
#define NL_BUF 8192

#define CHAIN_GUEST		"guest"
#define N_CHAINS		3

struct nft_ruleset {
	char table_name[NFT_TABLE_NAME_MAX];
	uint16_t family;
	struct nftnl_table *table;
	struct nftnl_chain *chain[N_CHAINS];
	struct nftnl_rule *rule[NFT_MAX_RULES];
	size_t n_rules;
	int error;		/* first allocation failure while building */
};

static bool cell_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 32 || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-'))
			return false;
	return true;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= NFT_IFNAME_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == '/' || *s == ':' ||
		    (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int nft_table_name(const char *cell, char out[static NFT_TABLE_NAME_MAX])
{
	char *p;

	if (!cell_name_ok(cell))
		return -EINVAL;
	snprintf(out, NFT_TABLE_NAME_MAX, "walloff_%s", cell);
	for (p = out; *p; p++)
		if (*p == '-')
			*p = '_';
	return 0;
}

uint16_t nft_log_group(const char *cell)
{
	uint32_t h = 2166136261u;	/* FNV-1a: stable across builds */

	for (; *cell; cell++)
		h = (h ^ (uint8_t)*cell) * 16777619u;
	return NFT_LOG_GROUP_BASE | (h & 0xff);
}

/* ---- expressions --------------------------------------------------- */

static void add(struct nft_ruleset *rs, struct nftnl_rule *r,
		struct nftnl_expr *x)
{
	if (!x) {
		rs->error = -ENOMEM;
		return;
	}
	nftnl_rule_add_expr(r, x);
}

static void meta(struct nft_ruleset *rs, struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *x = nftnl_expr_alloc("meta");

	if (x) {
		nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(x, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	add(rs, r, x);
}

static void payload(struct nft_ruleset *rs, struct nftnl_rule *r,
		    uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *x = nftnl_expr_alloc("payload");

	if (x) {
		nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	add(rs, r, x);
}

static void cmp(struct nft_ruleset *rs, struct nftnl_rule *r, uint32_t op,
		const void *data, uint32_t len)
{
	struct nftnl_expr *x = nftnl_expr_alloc("cmp");

	if (x) {
		nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, data, len);
	}
	add(rs, r, x);
}

static void mask(struct nft_ruleset *rs, struct nftnl_rule *r,
		 const void *m, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *x = nftnl_expr_alloc("bitwise");

	if (x) {
		nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(x, NFTNL_EXPR_BITWISE_MASK, m, len);
		nftnl_expr_set(x, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	add(rs, r, x);
}

static void ct_est(struct nft_ruleset *rs, struct nftnl_rule *r)
{
	uint32_t m = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) |
		     NF_CT_STATE_BIT(IP_CT_RELATED), zero = 0;
	struct nftnl_expr *x = nftnl_expr_alloc("ct");

	if (x) {
		nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	add(rs, r, x);
	mask(rs, r, &m, sizeof(m));
	cmp(rs, r, NFT_CMP_NEQ, &zero, sizeof(zero));
}

static void logx(struct nft_ruleset *rs, struct nftnl_rule *r,
		 uint16_t group, const char *why)
{
	struct nftnl_expr *x = nftnl_expr_alloc("log");

	if (x) {
		nftnl_expr_set_u16(x, NFTNL_EXPR_LOG_GROUP, group);
		nftnl_expr_set_u32(x, NFTNL_EXPR_LOG_SNAPLEN, NFT_LOG_SNAPLEN);
		nftnl_expr_set_str(x, NFTNL_EXPR_LOG_PREFIX, why);
	}
	add(rs, r, x);
}

static void verdict(struct nft_ruleset *rs, struct nftnl_rule *r, int v,
		    const char *chain)
{
	struct nftnl_expr *x = nftnl_expr_alloc("immediate");

	if (x) {
		nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(x, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
		if (chain)
			nftnl_expr_set_str(x, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	add(rs, r, x);
}

static void ifname(struct nft_ruleset *rs, struct nftnl_rule *r,
		   uint32_t key, const char *name)
{
	char buf[NFT_IFNAME_MAX] = { 0 };

	snprintf(buf, sizeof(buf), "%s", name);	/* rest stays zero */
	meta(rs, r, key);
	cmp(rs, r, NFT_CMP_EQ, buf, sizeof(buf));
}

/*
 * Dependencies that `nft list` needs to print a payload match by name
 * ("ip saddr", "ether saddr") instead of raw offsets (@nh,96,32): they
 * change nothing else, the earlier rules already dropped non-IPv4 frames.
 */
static void ip_dep(struct nft_ruleset *rs, struct nftnl_rule *r)
{
	uint8_t v4 = NFPROTO_IPV4;
	uint16_t ip = htons(ETHERTYPE_IP);

	if (rs->family == NFPROTO_INET) {
		meta(rs, r, NFT_META_NFPROTO);
		cmp(rs, r, NFT_CMP_EQ, &v4, sizeof(v4));
	} else {
		payload(rs, r, NFT_PAYLOAD_LL_HEADER, 12, 2);
		cmp(rs, r, NFT_CMP_EQ, &ip, sizeof(ip));
	}
}

static void ether_dep(struct nft_ruleset *rs, struct nftnl_rule *r)
{
	uint16_t ether = ARPHRD_ETHER;

	if (rs->family == NFPROTO_INET) {
		meta(rs, r, NFT_META_IIFTYPE);
		cmp(rs, r, NFT_CMP_EQ, &ether, sizeof(ether));
	}
}

/* A new rule appended to @chain; NULL (and rs->error) when full or OOM. */
static struct nftnl_rule *rule(struct nft_ruleset *rs, const char *chain)
{
	struct nftnl_rule *r;

	if (rs->n_rules == NFT_MAX_RULES) {
		rs->error = -E2BIG;
		return NULL;
	}
	r = nftnl_rule_alloc();
	if (!r) {
		rs->error = -ENOMEM;
		return NULL;
	}
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, rs->family);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, rs->table_name);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	rs->rule[rs->n_rules++] = r;
	return r;
}

static struct nftnl_chain *chain(struct nft_ruleset *rs, const char *name,
				 int hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c) {
		rs->error = -ENOMEM;
		return NULL;
	}
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, rs->family);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, rs->table_name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, NFT_PRIO_FILTER);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	}
	return c;
}

/* "log <why> drop" on its own, or after the matches already in @r. */
static void log_drop(struct nft_ruleset *rs, struct nftnl_rule *r,
		     uint16_t group, const char *why)
{
	logx(rs, r, group, why);
	verdict(rs, r, NF_DROP, NULL);
}

static void allow_rule(struct nft_ruleset *rs, const struct rule *a)
{
	struct nftnl_rule *r = rule(rs, CHAIN_GUEST);
	uint32_t net = htonl(a->net);
	uint32_t m = htonl(a->prefix ? 0xffffffffu << (32 - a->prefix) : 0);
	uint16_t lo = htons(a->port_lo), hi = htons(a->port_hi);
	uint8_t proto = a->proto;

	if (!r)
		return;
	ip_dep(rs, r);
	if (a->prefix) {
		payload(rs, r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
		if (a->prefix < 32)
			mask(rs, r, &m, sizeof(m));
		cmp(rs, r, NFT_CMP_EQ, &net, sizeof(net));
	}
	meta(rs, r, NFT_META_L4PROTO);
	cmp(rs, r, NFT_CMP_EQ, &proto, sizeof(proto));
	if (proto != RULE_PROTO_ICMP && !(a->port_lo == 1 &&
					  a->port_hi == 65535)) {
		payload(rs, r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		if (a->port_lo == a->port_hi) {
			cmp(rs, r, NFT_CMP_EQ, &lo, sizeof(lo));
		} else {
			cmp(rs, r, NFT_CMP_GTE, &lo, sizeof(lo));
			cmp(rs, r, NFT_CMP_LTE, &hi, sizeof(hi));
		}
	}
	verdict(rs, r, NF_ACCEPT, NULL);
}

static int check_cell(const struct nft_cell *c, struct err *e)
{
	size_t i;

	if (!c->name || !cell_name_ok(c->name))
		return err_set(e, EINVAL, "nft: invalid cell name");
	if (!c->ifname || !ifname_ok(c->ifname))
		return err_set(e, EINVAL, "nft: invalid interface name");
	if (c->mac[0] & 1)
		return err_set(e, EINVAL, "nft: the cell MAC is multicast");
	if (!c->addr || c->addr == 0xffffffffu)
		return err_set(e, EINVAL, "nft: invalid guest address");
	if (c->n_rules > NFT_MAX_RULES - 16 || (c->n_rules && !c->rules))
		return err_set(e, E2BIG, "nft: too many allow rules");
	for (i = 0; i < c->n_rules; i++) {
		const struct rule *a = &c->rules[i];

		if (a->host)
			return err_set(e, EINVAL, "nft: allow rule %zu targets "
				       "'host', which only user mode has", i + 1);
		if (a->prefix > 32 ||
		    (a->prefix < 32 && (a->net & (0xffffffffu >> a->prefix))))
			return err_set(e, EINVAL, "nft: allow rule %zu: host "
				       "bits set or bad prefix", i + 1);
		if (a->proto != RULE_PROTO_ICMP && a->proto != RULE_PROTO_TCP &&
		    a->proto != RULE_PROTO_UDP)
			return err_set(e, EINVAL, "nft: allow rule %zu: protocol",
				       i + 1);
		if (a->proto != RULE_PROTO_ICMP &&
		    (!a->port_lo || a->port_lo > a->port_hi))
			return err_set(e, EINVAL, "nft: allow rule %zu: ports",
				       i + 1);
	}
	return 0;
}

struct nft_ruleset *nft_ruleset_build(const struct nft_cell *c,
				      struct err *e)
{
	uint16_t g = c->log_group, ip = htons(ETHERTYPE_IP);
	uint16_t ip6 = htons(ETHERTYPE_IPV6), arp = htons(ETHERTYPE_ARP);
	uint32_t addr = htonl(c->addr);
	struct nft_ruleset *rs;
	struct nftnl_rule *r;
	size_t i;

	if (check_cell(c, e))
		return NULL;
	rs = calloc(1, sizeof(*rs));
	if (!rs) {
		err_set(e, ENOMEM, "out of memory");
		return NULL;
	}
	nft_table_name(c->name, rs->table_name);
	rs->family = c->bridged ? NFPROTO_BRIDGE : NFPROTO_INET;
	rs->table = nftnl_table_alloc();
	if (!rs->table) {
		rs->error = -ENOMEM;
		goto out;
	}
	nftnl_table_set_u32(rs->table, NFTNL_TABLE_FAMILY, rs->family);
	nftnl_table_set_str(rs->table, NFTNL_TABLE_NAME, rs->table_name);
	rs->chain[0] = chain(rs, "input", NF_INET_LOCAL_IN);
	rs->chain[1] = chain(rs, "forward", NF_INET_FORWARD);
	rs->chain[2] = chain(rs, CHAIN_GUEST, -1);

	/* Base chains: everything from the tap goes through "guest". */
	if ((r = rule(rs, "input"))) {
		ifname(rs, r, NFT_META_IIFNAME, c->ifname);
		verdict(rs, r, NFT_JUMP, CHAIN_GUEST);
	}
	if ((r = rule(rs, "forward"))) {
		ifname(rs, r, NFT_META_IIFNAME, c->ifname);
		verdict(rs, r, NFT_JUMP, CHAIN_GUEST);
	}
	if (!c->bridged) {
		/* Nothing calls in: only replies reach the guest. */
		if ((r = rule(rs, "forward"))) {
			ifname(rs, r, NFT_META_OIFNAME, c->ifname);
			ct_est(rs, r);
			verdict(rs, r, NF_ACCEPT, NULL);
		}
		if ((r = rule(rs, "forward"))) {
			ifname(rs, r, NFT_META_OIFNAME, c->ifname);
			log_drop(rs, r, g, NFT_WHY_INBOUND);
		}
	}

	/* guest: 1. the cell's MAC only */
	if ((r = rule(rs, CHAIN_GUEST))) {
		ether_dep(rs, r);
		payload(rs, r, NFT_PAYLOAD_LL_HEADER, 6, 6);
		cmp(rs, r, NFT_CMP_NEQ, c->mac, 6);
		log_drop(rs, r, g, NFT_WHY_SPOOF_MAC);
	}
	/* 2. ARP for the guest address only (bridge: ARP is forwarded) */
	if (c->bridged) {
		if ((r = rule(rs, CHAIN_GUEST))) {
			meta(rs, r, NFT_META_PROTOCOL);
			cmp(rs, r, NFT_CMP_EQ, &arp, sizeof(arp));
			payload(rs, r, NFT_PAYLOAD_NETWORK_HEADER, 14, 4);
			cmp(rs, r, NFT_CMP_NEQ, &addr, sizeof(addr));
			log_drop(rs, r, g, NFT_WHY_SPOOF_IP);
		}
		if ((r = rule(rs, CHAIN_GUEST))) {
			meta(rs, r, NFT_META_PROTOCOL);
			cmp(rs, r, NFT_CMP_EQ, &arp, sizeof(arp));
			verdict(rs, r, NF_ACCEPT, NULL);
		}
	}
	/* 3. no IPv6 at all: router advertisements, SLAAC, tunnels */
	if ((r = rule(rs, CHAIN_GUEST))) {
		meta(rs, r, NFT_META_PROTOCOL);
		cmp(rs, r, NFT_CMP_EQ, &ip6, sizeof(ip6));
		log_drop(rs, r, g, NFT_WHY_IPV6);
	}
	/* 4. IPv4 only */
	if ((r = rule(rs, CHAIN_GUEST))) {
		meta(rs, r, NFT_META_PROTOCOL);
		cmp(rs, r, NFT_CMP_NEQ, &ip, sizeof(ip));
		log_drop(rs, r, g, NFT_WHY_NOT_IP);
	}
	/* 5. the guest's address only */
	if ((r = rule(rs, CHAIN_GUEST))) {
		ip_dep(rs, r);
		payload(rs, r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		cmp(rs, r, NFT_CMP_NEQ, &addr, sizeof(addr));
		log_drop(rs, r, g, NFT_WHY_SPOOF_IP);
	}
	/* 6. replies of connections allowed before */
	if (!c->bridged && (r = rule(rs, CHAIN_GUEST))) {
		ct_est(rs, r);
		verdict(rs, r, NF_ACCEPT, NULL);
	}
	/* 7. the profile's allow rules */
	for (i = 0; i < c->n_rules; i++)
		allow_rule(rs, &c->rules[i]);
	/* 8. everything else */
	if ((r = rule(rs, CHAIN_GUEST)))
		log_drop(rs, r, g, NFT_WHY_NO_RULE);
out:
	if (rs->error || !rs->chain[0] || !rs->chain[1] || !rs->chain[2]) {
		err_set(e, rs->error ? -rs->error : ENOMEM,
			"nft: building the ruleset: %s",
			strerror(rs->error ? -rs->error : ENOMEM));
		nft_ruleset_free(rs);
		return NULL;
	}
	return rs;
}

void nft_ruleset_print(const struct nft_ruleset *rs, FILE *f)
{
	char buf[4096];
	size_t i;

	nftnl_table_snprintf(buf, sizeof(buf), rs->table,
			     NFTNL_OUTPUT_DEFAULT, 0);
	fprintf(f, "table %s\n", buf);
	for (i = 0; i < N_CHAINS; i++) {
		nftnl_chain_snprintf(buf, sizeof(buf), rs->chain[i],
				     NFTNL_OUTPUT_DEFAULT, 0);
		fprintf(f, "chain %s\n", buf);
	}
	for (i = 0; i < rs->n_rules; i++) {
		nftnl_rule_snprintf(buf, sizeof(buf), rs->rule[i],
				    NFTNL_OUTPUT_DEFAULT, 0);
		fprintf(f, "rule %s\n", buf);
	}
}

void nft_ruleset_free(struct nft_ruleset *rs)
{
	size_t i;

	if (!rs)
		return;
	for (i = 0; i < rs->n_rules; i++)
		nftnl_rule_free(rs->rule[i]);
	for (i = 0; i < N_CHAINS; i++)
		if (rs->chain[i])
			nftnl_chain_free(rs->chain[i]);
	if (rs->table)
		nftnl_table_free(rs->table);
	free(rs);
}

/* ---- sending a batch ----------------------------------------------- */

struct batch {
	struct mnl_nlmsg_batch *b;
	uint32_t seq;
	unsigned acks;		/* messages that ask for an acknowledgement */
	bool full;
};

static char *next(struct batch *bt)
{
	if (!mnl_nlmsg_batch_next(bt->b))
		bt->full = true;
	return mnl_nlmsg_batch_current(bt->b);
}

static void table_msg(struct batch *bt, uint16_t type, uint16_t family,
		      const char *name)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t) {
		bt->full = true;
		return;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, family);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type,
				    family, (type == NFT_MSG_NEWTABLE ?
					     NLM_F_CREATE : 0) | NLM_F_ACK,
				    bt->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	bt->acks++;
	next(bt);
}

/* Send the batch and wait for every acknowledgement or the first error. */
static int send_batch(struct batch *bt, struct err *e)
{
	char buf[NL_BUF];
	struct mnl_socket *nl;
	unsigned acked = 0;
	int ret = 0;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return err_set(e, errno, "netlink: %s", strerror(errno));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = err_set(e, errno, "netlink bind: %s", strerror(errno));
		goto out;
	}
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(bt->b),
			      mnl_nlmsg_batch_size(bt->b)) < 0) {
		ret = err_set(e, errno, "netlink send: %s", strerror(errno));
		goto out;
	}
	while (acked < bt->acks) {
		struct pollfd pfd = { mnl_socket_get_fd(nl), POLLIN, 0 };
		const struct nlmsghdr *nlh;
		ssize_t n;
		int left;

		if (poll(&pfd, 1, NFT_ACK_TIMEOUT_MS) != 1) {
			ret = err_set(e, ETIMEDOUT, "nftables: no answer from "
				      "the kernel");
			goto out;
		}
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			ret = err_set(e, errno, "netlink: %s", strerror(errno));
			goto out;
		}
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *er;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			er = mnl_nlmsg_get_payload(nlh);
			if (er->error) {
				ret = -abs(er->error);
				err_set(e, -ret, "%s", strerror(-ret));
				goto out;
			}
			acked++;
		}
	}
out:
	mnl_socket_close(nl);
	return ret;
}

static struct batch *batch_start(struct batch *bt, void *buf)
{
	bt->b = mnl_nlmsg_batch_start(buf, NFT_BATCH_MAX);
	bt->seq = (uint32_t)time(NULL);
	if (!bt->b)
		return NULL;
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	next(bt);
	return bt;
}

static void batch_end(struct batch *bt)
{
	nftnl_batch_end(mnl_nlmsg_batch_current(bt->b), bt->seq++);
	next(bt);
}

static const char *need_cap(int code)
{
	return code == EPERM ? " (mode = nft needs root or CAP_NET_ADMIN)" : "";
}

int nft_ruleset_apply(const struct nft_ruleset *rs, struct err *e)
{
	struct batch bt = { 0 };
	struct nlmsghdr *nlh;
	char *buf;
	size_t i;
	int ret;

	buf = malloc(NFT_BATCH_MAX);
	if (!buf || !batch_start(&bt, buf)) {
		free(buf);
		return err_set(e, ENOMEM, "out of memory");
	}
	/* Stale table: add (no-op if present) then delete, then ours. */
	table_msg(&bt, NFT_MSG_NEWTABLE, rs->family, rs->table_name);
	table_msg(&bt, NFT_MSG_DELTABLE, rs->family, rs->table_name);
	table_msg(&bt, NFT_MSG_NEWTABLE, rs->family, rs->table_name);
	for (i = 0; i < N_CHAINS && !bt.full; i++) {
		nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt.b),
					    NFT_MSG_NEWCHAIN, rs->family,
					    NLM_F_CREATE | NLM_F_ACK, bt.seq++);
		nftnl_chain_nlmsg_build_payload(nlh, rs->chain[i]);
		bt.acks++;
		next(&bt);
	}
	for (i = 0; i < rs->n_rules && !bt.full; i++) {
		nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt.b),
					    NFT_MSG_NEWRULE, rs->family,
					    NLM_F_APPEND | NLM_F_CREATE |
					    NLM_F_ACK, bt.seq++);
		nftnl_rule_nlmsg_build_payload(nlh, rs->rule[i]);
		bt.acks++;
		next(&bt);
	}
	batch_end(&bt);
	if (bt.full) {
		ret = err_set(e, E2BIG, "nft: ruleset larger than the batch");
		goto out;
	}
	ret = send_batch(&bt, e);
	if (ret)
		err_prefix(e, "creating nftables table %s%s", rs->table_name,
			   need_cap(-ret));
out:
	mnl_nlmsg_batch_stop(bt.b);
	free(buf);
	return ret;
}

int nft_table_delete(const char *cell, struct err *e)
{
	static const uint16_t fam[] = { NFPROTO_INET, NFPROTO_BRIDGE };
	char name[NFT_TABLE_NAME_MAX];
	struct batch bt = { 0 };
	char *buf;
	size_t i;
	int ret;

	if (nft_table_name(cell, name))
		return err_set(e, EINVAL, "'%s' is not a cell name", cell);
	buf = malloc(NFT_BATCH_MAX);
	if (!buf || !batch_start(&bt, buf)) {
		free(buf);
		return err_set(e, ENOMEM, "out of memory");
	}
	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		table_msg(&bt, NFT_MSG_NEWTABLE, fam[i], name);
		table_msg(&bt, NFT_MSG_DELTABLE, fam[i], name);
	}
	batch_end(&bt);
	ret = bt.full ? err_set(e, E2BIG, "batch") : send_batch(&bt, e);
	if (ret)
		err_prefix(e, "removing nftables table %s%s", name,
			   need_cap(-ret));
	mnl_nlmsg_batch_stop(bt.b);
	free(buf);
	return ret;
}

struct list_ctx {
	void (*cb)(const char *cell, void *opaque);
	void *opaque;
	int n;
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct list_ctx *l = data;
	struct nftnl_table *t = nftnl_table_alloc();
	const char *name;
	char cell[NFT_TABLE_NAME_MAX], *p;

	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
		name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
		if (name && !strncmp(name, "walloff_", 8) &&
		    strlen(name + 8) < sizeof(cell)) {
			strcpy(cell, name + 8);
			for (p = cell; *p; p++)
				if (*p == '_')
					*p = '-';
			if (cell_name_ok(cell)) {
				l->cb(cell, l->opaque);
				l->n++;
			}
		}
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

int nft_cells_with_tables(void (*cb)(const char *cell, void *opaque),
			  void *opaque, struct err *e)
{
	char buf[NL_BUF];
	struct list_ctx l = { cb, opaque, 0 };
	uint32_t seq = (uint32_t)time(NULL);
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	ssize_t n;
	int r = 0;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return err_set(e, errno, "netlink: %s", strerror(errno));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_UNSPEC,
				    NLM_F_DUMP, seq);
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = err_set(e, errno, "netlink: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		struct pollfd pfd = { mnl_socket_get_fd(nl), POLLIN, 0 };

		if (poll(&pfd, 1, NFT_ACK_TIMEOUT_MS) != 1) {
			r = err_set(e, ETIMEDOUT, "nftables: no answer");
			goto out;
		}
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0) {
			r = err_set(e, errno, "netlink: %s", strerror(errno));
			goto out;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl),
			       table_cb, &l);
		if (r < 0) {
			r = err_set(e, errno, "listing nftables tables: %s%s",
				    strerror(errno), need_cap(errno));
			goto out;
		}
		if (r == MNL_CB_STOP)
			break;
	}
	r = l.n;
out:
	mnl_socket_close(nl);
	return r;
}
