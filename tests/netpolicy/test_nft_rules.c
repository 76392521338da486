/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_nft_rules.c - the nft-mode ruleset builder, golden and hostile
 *
 * Each golden case builds the libnftnl objects for a cell and compares their
 * printed form (nft_ruleset_print: libnftnl's own output, one object per
 * line) with tests/netpolicy/nft-golden/NAME.txt. A change of the ruleset
 * shows up as a diff to review; WALLOFF_UPDATE_GOLDEN=1 rewrites the files.
 * Hostile cases must be refused before any object is built. The NFLOG
 * parser and the dedup table are tested on hand-built messages.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "nft_log.h"
#include "nft_rules.h"

#define GOLDEN_MAX (64 * 1024)

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void rules(struct rule *r, size_t n, const char *const *text)
{
	struct err e;
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(rule_parse(text[i], &r[i], &e), 0);
}

static void golden(const char *name, const struct nft_cell *c)
{
	char path[4096], *got, *want;
	struct nft_ruleset *rs;
	size_t n, wn;
	struct err e;
	FILE *f;

	rs = nft_ruleset_build(c, &e);
	if (!rs)
		fail_msg("%s: %s", name, e.msg);
	got = calloc(1, GOLDEN_MAX);
	want = calloc(1, GOLDEN_MAX);
	assert_non_null(got);
	assert_non_null(want);
	f = fmemopen(got, GOLDEN_MAX - 1, "w");
	assert_non_null(f);
	nft_ruleset_print(rs, f);
	fclose(f);
	n = strlen(got);
	snprintf(path, sizeof(path), "%s/tests/netpolicy/nft-golden/%s.txt",
		 getenv("WALLOFF_SOURCE_ROOT") ? getenv("WALLOFF_SOURCE_ROOT") :
		 ".", name);
	if (getenv("WALLOFF_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		assert_non_null(f);
		fwrite(got, 1, n, f);
		fclose(f);
	}
	f = fopen(path, "r");
	if (!f)
		fail_msg("%s: missing (WALLOFF_UPDATE_GOLDEN=1 creates it)", path);
	wn = fread(want, 1, GOLDEN_MAX - 1, f);
	fclose(f);
	if (wn != n || memcmp(got, want, n)) {
		fprintf(stderr, "# %s differs; got:\n%s", path, got);
		fail_msg("%s: ruleset differs from the golden file", name);
	}
	free(got);
	free(want);
	nft_ruleset_free(rs);
}

static void test_routed(void **state)
{
	static const char *const txt[] = {
		"tcp 10.20.0.5:1433", "udp 10.20.0.0/24:123",
		"tcp 192.168.1.0/24:8000-8080", "icmp 10.20.0.5",
		"tcp 0.0.0.0/0:*",
	};
	struct rule r[5];
	struct nft_cell c = { .name = "xp-accounting", .ifname = "wo-xp-accountin",
			      .addr = 0x0a630002, .rules = r, .n_rules = 5,
			      .log_group = 0x5742 };

	memcpy(c.mac, MAC, 6);
	rules(r, 5, txt);
	golden("routed", &c);
}

static void test_bridged(void **state)
{
	static const char *const txt[] = { "tcp 10.20.0.5:1433" };
	struct rule r[1];
	struct nft_cell c = { .name = "a", .ifname = "wo-a", .bridged = true,
			      .addr = 0xc0a80a07, .rules = r, .n_rules = 1,
			      .log_group = 0x5701 };

	memcpy(c.mac, MAC, 6);
	rules(r, 1, txt);
	golden("bridged", &c);
}

static void test_no_rules(void **state)
{
	struct nft_cell c = { .name = "locked-down-0", .ifname = "wo-locked-down-",
			      .addr = 0x0a000002, .log_group = 0x57ff };

	memcpy(c.mac, MAC, 6);
	golden("no-rules", &c);
}

static void expect_refused(const struct nft_cell *c, const char *what)
{
	struct err e;
	struct nft_ruleset *rs = nft_ruleset_build(c, &e);

	if (rs) {
		nft_ruleset_free(rs);
		fail_msg("accepted: %s", what);
	}
}

static void test_hostile(void **state)
{
	static const char *const names[] = {
		"", "-a", "A", "a_b", "a b", "a;drop", "a\n", "x/../y",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",	/* 33 */
	};
	static const char *const ifnames[] = {
		"", "wo a", "wo/a", "wo:a", "wo-aaaaaaaaaaaaa" /* 16 */, "wo\x7f",
		"wo\n",
	};
	struct rule r[NFT_MAX_RULES];
	struct nft_cell c = { .name = "ok", .ifname = "wo-ok",
			      .addr = 0x0a000002, .rules = r };
	struct nft_cell h;
	size_t i;

	memcpy(c.mac, MAC, 6);
	memset(r, 0, sizeof(r));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		h = c;
		h.name = names[i];
		expect_refused(&h, names[i]);
	}
	h = c;
	h.name = NULL;
	expect_refused(&h, "NULL name");
	for (i = 0; i < sizeof(ifnames) / sizeof(ifnames[0]); i++) {
		h = c;
		h.ifname = ifnames[i];
		expect_refused(&h, ifnames[i]);
	}
	h = c;
	h.mac[0] = 0x01;
	expect_refused(&h, "multicast MAC");
	h = c;
	h.addr = 0;
	expect_refused(&h, "address 0");
	h = c;
	h.addr = 0xffffffff;
	expect_refused(&h, "broadcast address");

	/* rules that the profile parser would refuse, given directly */
	h = c;
	h.n_rules = 1;
	r[0] = (struct rule){ .proto = 6, .host = true, .port_lo = 1,
			      .port_hi = 1 };
	expect_refused(&h, "host target");
	r[0] = (struct rule){ .proto = 6, .net = 0x0a000001, .prefix = 24,
			      .port_lo = 1, .port_hi = 1 };
	expect_refused(&h, "host bits");
	r[0] = (struct rule){ .proto = 6, .net = 0, .prefix = 33,
			      .port_lo = 1, .port_hi = 1 };
	expect_refused(&h, "prefix 33");
	r[0] = (struct rule){ .proto = 47, .net = 0x0a000001, .prefix = 32 };
	expect_refused(&h, "GRE");
	r[0] = (struct rule){ .proto = 17, .net = 0x0a000001, .prefix = 32,
			      .port_lo = 90, .port_hi = 80 };
	expect_refused(&h, "inverted range");
	r[0] = (struct rule){ .proto = 17, .net = 0x0a000001, .prefix = 32 };
	expect_refused(&h, "port 0");
	h.n_rules = NFT_MAX_RULES;
	for (i = 0; i < NFT_MAX_RULES; i++)
		r[i] = (struct rule){ .proto = 1, .net = 0x0a000001,
				      .prefix = 32 };
	expect_refused(&h, "too many rules");
	h.n_rules = 1;
	h.rules = NULL;
	expect_refused(&h, "NULL rules");
}

static void test_names(void **state)
{
	char t[NFT_TABLE_NAME_MAX];

	assert_int_equal(nft_table_name("xp-accounting", t), 0);
	assert_string_equal(t, "walloff_xp_accounting");
	assert_int_equal(nft_table_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", t), 0);
	assert_int_equal(strlen(t), 40);
	assert_int_equal(nft_table_name("a_b", t), -22);
	assert_int_equal(nft_table_name("", t), -22);
	/* stable across builds and in the walloff range */
	assert_int_equal(nft_log_group("xp-accounting") & 0xff00, 0x5700);
	assert_int_equal(nft_log_group("a"), nft_log_group("a"));
	assert_int_not_equal(nft_log_group("a"), nft_log_group("b"));
}

/* ---- NFLOG messages -------------------------------------------------- */

static size_t nflog_msg(char *buf, const char *prefix, uint16_t ethertype,
			const uint8_t *pkt, size_t len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfulnl_msg_packet_hdr ph = { .hw_protocol = htons(ethertype) };
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = 2;
	mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof(ph), &ph);
	if (prefix)
		mnl_attr_put_strz(nlh, NFULA_PREFIX, prefix);
	if (pkt)
		mnl_attr_put(nlh, NFULA_PAYLOAD, len, pkt);
	return nlh->nlmsg_len;
}

/* IPv4/TCP 10.99.0.2 -> 10.60.0.2:445 */
static const uint8_t TCP445[] = {
	0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 99, 0, 2, 10, 60, 0, 2,
	0x30, 0x39, 0x01, 0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 2, 0, 0, 0, 0, 0, 0,
};

static void test_parse(void **state)
{
	char buf[1024];
	struct nftlog_pkt p;
	uint8_t pkt[sizeof(TCP445)];
	size_t n;

	n = nflog_msg(buf, "no-rule", 0x0800, TCP445, sizeof(TCP445));
	assert_int_equal(nftlog_parse_msg(buf, n, &p), 0);
	assert_string_equal(p.why, "no-rule");
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.saddr, 0x0a630002);
	assert_int_equal(p.daddr, 0x0a3c0002);
	assert_int_equal(p.dport, 445);
	assert_string_equal(nftlog_port_tag(p.proto, p.dport), "domain");

	/* truncated: header claims IHL 15 (60 bytes) with 40 present */
	memcpy(pkt, TCP445, sizeof(pkt));
	pkt[0] = 0x4f;
	n = nflog_msg(buf, "no-rule", 0x0800, pkt, sizeof(pkt));
	assert_int_equal(nftlog_parse_msg(buf, n, &p), 0);
	assert_int_equal(p.proto, 0);
	assert_int_equal(p.dport, 0);
	/* non-first fragment: no port */
	memcpy(pkt, TCP445, sizeof(pkt));
	pkt[7] = 0x10;
	n = nflog_msg(buf, "no-rule", 0x0800, pkt, sizeof(pkt));
	assert_int_equal(nftlog_parse_msg(buf, n, &p), 0);
	assert_int_equal(p.dport, 0);
	/* 21 bytes: too short for ports */
	n = nflog_msg(buf, "no-rule", 0x0800, TCP445, 21);
	assert_int_equal(nftlog_parse_msg(buf, n, &p), 0);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.dport, 0);
	/* IPv6 ethertype with IPv4-looking bytes: not parsed as IPv4 */
	n = nflog_msg(buf, "ipv6", 0x86dd, TCP445, sizeof(TCP445));
	assert_int_equal(nftlog_parse_msg(buf, n, &p), 0);
	assert_int_equal(p.saddr, 0);
	/* long prefix is cut, missing prefix named */
	n = nflog_msg(buf, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0x0800, NULL, 0);
	assert_int_equal(nftlog_parse_msg(buf, n, &p), 0);
	assert_int_equal(strlen(p.why), NFTLOG_WHY_MAX - 1);
	n = nflog_msg(buf, NULL, 0x0800, NULL, 0);
	assert_int_equal(nftlog_parse_msg(buf, n, &p), 0);
	assert_string_equal(p.why, "unknown");
	/* malformed */
	assert_int_equal(nftlog_parse_msg(buf, 3, &p), -22);
	n = nflog_msg(buf, "x", 0x0800, NULL, 0);
	((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)n + 100;
	assert_int_equal(nftlog_parse_msg(buf, n, &p), -22);
	n = nflog_msg(buf, "x", 0x0800, NULL, 0);
	((struct nlmsghdr *)buf)->nlmsg_type = 0x401;
	assert_int_equal(nftlog_parse_msg(buf, n, &p), -22);
}

struct sink {
	int n;
	json_t *last;
};

static int sink(void *opaque, const char *event, json_t *d)
{
	struct sink *s = opaque;

	s->n++;
	json_decref(s->last);
	json_object_set_new(d, "event", json_string(event));
	s->last = d;
	return 0;
}

static void test_dedup(void **state)
{
	static struct nftlog l;
	struct sink s = { 0 };
	struct nftlog_pkt p = { .why = "no-rule", .ethertype = 0x0800,
				.proto = 6, .saddr = 0x0a630002,
				.daddr = 0x0a3c0002, .dport = 445 };
	int i;

	nftlog_init(&l, sink, &s, 0);
	assert_int_equal(nftlog_note(&l, &p, 1), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(json_string_value(json_object_get(s.last, "tag")),
			    "domain");
	assert_string_equal(json_string_value(json_object_get(s.last, "dst")),
			    "10.60.0.2");
	assert_string_equal(json_string_value(json_object_get(s.last, "mode")),
			    "nft");
	assert_string_equal(json_string_value(json_object_get(s.last, "proto")),
			    "tcp");
	for (i = 0; i < 99; i++)
		nftlog_note(&l, &p, 2);
	assert_int_equal(s.n, 1);	/* repeats only counted */
	nftlog_flush(&l, 3, false);
	assert_int_equal(s.n, 1);	/* before the interval */
	nftlog_flush(&l, NFTLOG_FLUSH_MS + 1, false);
	assert_int_equal(s.n, 2);
	assert_int_equal(json_integer_value(json_object_get(s.last, "count")), 99);
	assert_int_equal(json_integer_value(json_object_get(s.last, "total")), 100);

	/* a sweep: at most the burst is written at once */
	nftlog_init(&l, sink, &s, 0);
	s.n = 0;
	for (i = 0; i < 1000; i++) {
		p.daddr = 0x0a000000 + (uint32_t)i;
		nftlog_note(&l, &p, 5);
	}
	assert_int_equal(s.n, NFTLOG_BURST);
	nftlog_flush(&l, 6, true);
	assert_string_equal(json_string_value(json_object_get(s.last, "event")),
			    "net-deny-suppressed");
	json_decref(s.last);
}

/* Reasons are keyed by our rules' static names; IPv6 and ARP are named. */
static void test_dedup_names(void **state)
{
	static struct nftlog l;
	struct sink s = { 0 };
	struct nftlog_pkt p = { .why = "not-ours", .ethertype = 0x86dd };

	nftlog_init(&l, sink, &s, 0);
	assert_int_equal(nftlog_note(&l, &p, 1), 0);
	assert_string_equal(json_string_value(json_object_get(s.last, "reason")),
			    "unknown");
	assert_string_equal(json_string_value(json_object_get(s.last, "proto")),
			    "ipv6");
	strcpy(p.why, NFT_WHY_SPOOF_MAC);
	p.ethertype = 0x0806;
	assert_int_equal(nftlog_note(&l, &p, 1), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(json_string_value(json_object_get(s.last, "reason")),
			    "spoof-mac");
	assert_string_equal(json_string_value(json_object_get(s.last, "proto")),
			    "arp");
	p.ethertype = 0;	/* no hardware protocol: not IPv4 */
	assert_int_equal(nftlog_note(&l, &p, 1), 0);
	assert_string_equal(json_string_value(json_object_get(s.last, "proto")),
			    "other");
	json_decref(s.last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routed),
		cmocka_unit_test(test_bridged),
		cmocka_unit_test(test_no_rules),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_dedup_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
