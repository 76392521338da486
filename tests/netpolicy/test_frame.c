/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_frame.c - the frame parser, the policy and the RST builder against
 * well-formed and hostile frames
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "framegen.h"
#include "policy.h"
#include "reply.h"

#define DST FG_IP(192, 0, 2, 1)

static uint8_t buf[2048];
static struct frame fr;

static size_t tcp_syn(uint32_t daddr, uint16_t dport)
{
	struct fg g;

	fg_default(&g, 6, daddr, dport);
	return fg_ipv4(&g, buf, sizeof(buf));
}

static void test_good_tcp(void **state)
{
	size_t n = tcp_syn(DST, 80);

	assert_int_equal(frame_parse(buf, n, &fr), DROP_NONE);
	assert_int_equal(fr.kind, FRAME_IPV4);
	assert_int_equal(fr.proto, 6);
	assert_int_equal(fr.saddr, NET_GUEST);
	assert_int_equal(fr.daddr, DST);
	assert_int_equal(fr.sport, 40000);
	assert_int_equal(fr.dport, 80);
	assert_int_equal(fr.tcp_flags, TCPF_SYN);
	assert_int_equal(fr.payload_len, 0);
}

static void test_truncated_everywhere(void **state)
{
	size_t n = tcp_syn(DST, 80), i;

	/* every proper prefix of a valid frame is refused, never read past */
	for (i = 0; i < n; i++)
		assert_int_not_equal(frame_parse(buf, i, &fr), DROP_NONE);
	assert_int_equal(frame_parse(buf, 5, &fr), DROP_RUNT);
	assert_int_equal(frame_parse(buf, 14 + 19, &fr), DROP_IP_MALFORMED);
	assert_int_equal(frame_parse(buf, 14 + 20 + 19, &fr),
			 DROP_IP_MALFORMED);
}

static void test_bad_ihl(void **state)
{
	size_t n = tcp_syn(DST, 80);

	buf[14] = 0x44;
	fg_ip_fix(buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_MALFORMED);
	buf[14] = 0x4f; /* 60-byte header: options */
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_OPTIONS);
	buf[14] = 0x65; /* version 6 in an IPv4 ethertype */
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_MALFORMED);
}

static void test_ip_options(void **state)
{
	size_t n = tcp_syn(DST, 80);

	/* insert a 4-byte NOP option block, lengths consistent */
	memmove(buf + 38, buf + 34, n - 34);
	memset(buf + 34, 1, 4);
	buf[14] = 0x46;
	buf[17] = (uint8_t)(buf[17] + 4);
	fg_ip_fix(buf);
	assert_int_equal(frame_parse(buf, n + 4, &fr), DROP_IP_OPTIONS);
}

static void test_total_length_lies(void **state)
{
	size_t n = tcp_syn(DST, 80);

	buf[16] = 0x05; /* total length 1280+ > frame */
	fg_ip_fix(buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_MALFORMED);
	buf[16] = 0;
	buf[17] = 19; /* shorter than the header */
	fg_ip_fix(buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_MALFORMED);
	buf[17] = 30; /* header fits, TCP header does not */
	fg_ip_fix(buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_L4_MALFORMED);
	/* Ethernet padding after a correct total length is fine */
	n = tcp_syn(DST, 80);
	memset(buf + n, 0, 20);
	assert_int_equal(frame_parse(buf, n + 20, &fr), DROP_NONE);
	assert_int_equal(fr.payload_len, 0);
}

static void test_bad_checksum(void **state)
{
	size_t n = tcp_syn(DST, 80);

	buf[24] ^= 0xff;
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_MALFORMED);
}

static void test_fragments(void **state)
{
	size_t n = tcp_syn(DST, 80);

	buf[20] = 0x20; /* MF, offset 0 */
	buf[21] = 0;
	fg_ip_fix(buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_FRAGMENT);
	buf[20] = 0x00; /* offset 8 bytes, no MF: last fragment */
	buf[21] = 1;
	fg_ip_fix(buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_FRAGMENT);
	buf[20] = 0x80; /* reserved ("evil") bit */
	buf[21] = 0;
	fg_ip_fix(buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_MALFORMED);
}

static void test_tcp_doff(void **state)
{
	size_t n = tcp_syn(DST, 80);

	buf[46] = 4 << 4; /* data offset below 20 bytes */
	assert_int_equal(frame_parse(buf, n, &fr), DROP_L4_MALFORMED);
	buf[46] = 15 << 4; /* 60 bytes, segment has 20 */
	assert_int_equal(frame_parse(buf, n, &fr), DROP_L4_MALFORMED);
}

static void test_udp_length(void **state)
{
	struct fg g;
	size_t n;

	fg_default(&g, 17, DST, 123);
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &fr), DROP_NONE);
	buf[38] = 0;
	buf[39] = 7; /* below the UDP header */
	assert_int_equal(frame_parse(buf, n, &fr), DROP_L4_MALFORMED);
	buf[39] = 200; /* past the datagram */
	assert_int_equal(frame_parse(buf, n, &fr), DROP_L4_MALFORMED);
}

static void test_zero_ports(void **state)
{
	struct fg g;
	size_t n;

	fg_default(&g, 6, DST, 0);
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &fr), DROP_ZERO_PORT);
	fg_default(&g, 17, DST, 53);
	g.sport = 0;
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &fr), DROP_ZERO_PORT);
}

static void test_spoofed_source(void **state)
{
	struct fg g;
	size_t n;

	fg_default(&g, 6, DST, 80);
	g.saddr = FG_IP(10, 0, 2, 16);
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_SPOOF);
	g.saddr = 0; /* 0.0.0.0 only for DHCP */
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &fr), DROP_IP_SPOOF);
	fg_default(&g, 17, 0xffffffffu, 67);
	g.saddr = 0;
	g.sport = 68;
	g.dmac = FG_BCAST_MAC;
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &fr), DROP_NONE);
}

static void test_broadcast_multicast(void **state)
{
	struct fg g;
	size_t n;

	fg_default(&g, 17, FG_IP(10, 0, 2, 255), 137); /* NetBIOS bcast */
	g.sport = 137;
	g.dmac = FG_BCAST_MAC;
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &fr), DROP_BROADCAST);
	fg_default(&g, 17, FG_IP(239, 255, 255, 250), 1900); /* SSDP */
	g.dmac = "\x01\x00\x5e\x7f\xff\xfa";
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &fr), DROP_BROADCAST);
	fg_default(&g, 6, DST, 80); /* unicast IP in a broadcast frame */
	g.dmac = FG_BCAST_MAC;
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &fr), DROP_BROADCAST);
	fg_default(&g, 6, 0xffffffffu, 80);
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &fr), DROP_BROADCAST);
}

static void test_martians(void **state)
{
	assert_int_equal(
	    frame_parse(buf, tcp_syn(FG_IP(127, 0, 0, 1), 22), &fr),
	    DROP_MARTIAN);
	assert_int_equal(frame_parse(buf, tcp_syn(FG_IP(0, 1, 2, 3), 22), &fr),
			 DROP_MARTIAN);
	assert_int_equal(
	    frame_parse(buf, tcp_syn(FG_IP(240, 0, 0, 1), 22), &fr),
	    DROP_MARTIAN);
}

static void test_arp(void **state)
{
	size_t n;

	n = fg_arp(FG_GUEST_MAC, FG_GUEST_MAC, NET_GUEST, NET_GATEWAY, buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_NONE);
	assert_int_equal(fr.kind, FRAME_ARP);
	n = fg_arp(FG_GUEST_MAC, FG_GUEST_MAC, 0, NET_GUEST, buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_NONE); /* probe */
	/* claiming the gateway's address: ARP spoofing */
	n = fg_arp(FG_GUEST_MAC, FG_GUEST_MAC, NET_GATEWAY, NET_GUEST, buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_ARP_SPOOF);
	/* sender MAC differs from the Ethernet source */
	n = fg_arp(FG_GUEST_MAC, "\x52\x54\x00\x00\x00\x01", NET_GUEST,
		   NET_GATEWAY, buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_ARP_SPOOF);
	n = fg_arp(FG_GUEST_MAC, FG_GUEST_MAC, NET_GUEST, NET_GATEWAY, buf);
	buf[18] = 16; /* hlen 16 */
	assert_int_equal(frame_parse(buf, n, &fr), DROP_ARP_MALFORMED);
	n = fg_arp(FG_GUEST_MAC, FG_GUEST_MAC, NET_GUEST, NET_GATEWAY, buf);
	buf[21] = 9; /* op 9 */
	assert_int_equal(frame_parse(buf, n, &fr), DROP_ARP_MALFORMED);
	assert_int_equal(frame_parse(buf, 14 + 27, &fr), DROP_ARP_MALFORMED);
}

static void test_vlan_ipv6_other(void **state)
{
	size_t n = tcp_syn(DST, 80);

	buf[12] = 0x81;
	buf[13] = 0x00;
	assert_int_equal(frame_parse(buf, n, &fr), DROP_VLAN);
	buf[12] = 0x88;
	buf[13] = 0xa8;
	assert_int_equal(frame_parse(buf, n, &fr), DROP_VLAN);
	buf[12] = 0x86;
	buf[13] = 0xdd;
	assert_int_equal(frame_parse(buf, n, &fr), DROP_NON_IPV4);
	buf[12] = 0x88;
	buf[13] = 0xcc; /* LLDP */
	assert_int_equal(frame_parse(buf, n, &fr), DROP_NON_IPV4);
	assert_int_equal(frame_parse(buf, 2000, &fr), DROP_OVERSIZE);
}

static void test_other_protocol(void **state)
{
	size_t n = tcp_syn(DST, 80);

	buf[23] = 47; /* GRE */
	fg_ip_fix(buf);
	assert_int_equal(frame_parse(buf, n, &fr), DROP_PROTO);
}

/* ---- policy ---- */

static struct rule rules[4];
static char *names[] = {"licence.example.org"};
static struct policy pol;

static void setup_policy(bool host_access)
{
	memset(&pol, 0, sizeof(pol));
	assert_int_equal(rule_parse("tcp 192.0.2.1/32:8080", &rules[0], NULL),
			 0);
	assert_int_equal(rule_parse("udp 192.0.2.0/24:123", &rules[1], NULL),
			 0);
	assert_int_equal(rule_parse("tcp host:5432", &rules[2], NULL), 0);
	pol.rules = rules;
	pol.n_rules = 3;
	pol.host_access = host_access;
	pol.dns = DNS_ALLOWLIST;
	pol.dns_allow = names;
	pol.n_dns_allow = 1;
}

static enum verdict decide(size_t n, struct decision *d)
{
	policy_decide(&pol, buf, n, &fr, d);
	return d->verdict;
}

static void test_policy_rules(void **state)
{
	struct decision d;
	struct fg g;

	setup_policy(false);
	assert_int_equal(decide(tcp_syn(DST, 8080), &d), VERDICT_PASS);
	assert_int_equal(decide(tcp_syn(DST, 80), &d), VERDICT_DENY);
	assert_string_equal(d.why, "no-rule");
	assert_null(d.tag);
	assert_int_equal(decide(tcp_syn(FG_IP(192, 0, 2, 2), 8080), &d),
			 VERDICT_DENY);
	assert_int_equal(decide(tcp_syn(DST, 445), &d), VERDICT_DENY);
	assert_string_equal(d.tag, "domain");
	fg_default(&g, 17, FG_IP(192, 0, 2, 77), 123);
	assert_int_equal(decide(fg_ipv4(&g, buf, sizeof(buf)), &d),
			 VERDICT_PASS);
	fg_default(&g, 6, FG_IP(192, 0, 2, 77), 123); /* tcp != udp */
	assert_int_equal(decide(fg_ipv4(&g, buf, sizeof(buf)), &d),
			 VERDICT_DENY);
	fg_default(&g, 1, DST, 0); /* no icmp rule */
	assert_int_equal(decide(fg_ipv4(&g, buf, sizeof(buf)), &d),
			 VERDICT_DENY);
}

static void test_policy_host(void **state)
{
	struct decision d;

	setup_policy(false);
	assert_int_equal(decide(tcp_syn(NET_GATEWAY, 22), &d), VERDICT_DENY);
	assert_string_equal(d.why, "host-access");
	assert_string_equal(d.tag, "host");
	assert_true(d.to_host);
	assert_int_equal(decide(tcp_syn(NET_GATEWAY, 5432), &d), VERDICT_PASS);
	/* every 10.0.2.x except .3 is the host loopback for slirp */
	assert_int_equal(decide(tcp_syn(FG_IP(10, 0, 2, 100), 22), &d),
			 VERDICT_DENY);
	assert_true(d.to_host);
	assert_int_equal(decide(tcp_syn(NET_GATEWAY, 445), &d), VERDICT_DENY);
	assert_string_equal(d.tag, "domain");
	assert_int_equal(decide(tcp_syn(NET_DNS, 22), &d), VERDICT_DENY);
	assert_false(policy_needs_host_loopback(&pol) == false);
	setup_policy(true);
	assert_int_equal(decide(tcp_syn(NET_GATEWAY, 22), &d), VERDICT_PASS);
	pol.n_rules = 2;
	pol.host_access = false;
	assert_false(policy_needs_host_loopback(&pol));
}

static void test_policy_dns(void **state)
{
	uint8_t q[300];
	struct decision d;
	struct fg g;
	size_t n;

	setup_policy(false);
	fg_default(&g, 17, NET_DNS, 53);
	g.payload = q;
	g.plen = fg_dns_query(7, "Licence.Example.ORG", q, sizeof(q));
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(decide(n, &d), VERDICT_PASS);
	assert_true(d.is_dns);
	g.plen = fg_dns_query(7, "evil.example.org", q, sizeof(q));
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(decide(n, &d), VERDICT_DNS_REFUSE);
	assert_string_equal(d.dq.name, "evil.example.org");
	assert_string_equal(d.why, "dns-name");
	pol.dns = DNS_NONE;
	g.plen = fg_dns_query(7, "licence.example.org", q, sizeof(q));
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(decide(n, &d), VERDICT_DNS_REFUSE);
	assert_string_equal(d.why, "dns-none");
	q[12] = 0xc0; /* compression pointer: denied, no answer */
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(decide(n, &d), VERDICT_DENY);
	assert_string_equal(d.tag, "dns");
	fg_default(&g, 6, NET_DNS, 53); /* DNS over TCP */
	assert_int_equal(decide(fg_ipv4(&g, buf, sizeof(buf)), &d),
			 VERDICT_DENY);
}

static void test_policy_dhcp_arp_mac(void **state)
{
	struct decision d;
	struct fg g;
	size_t n;

	setup_policy(false);
	fg_default(&g, 17, 0xffffffffu, 67);
	g.saddr = 0;
	g.sport = 68;
	g.dmac = FG_BCAST_MAC;
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(decide(n, &d), VERDICT_PASS);
	n = fg_arp(FG_GUEST_MAC, FG_GUEST_MAC, NET_GUEST, NET_GATEWAY, buf);
	assert_int_equal(decide(n, &d), VERDICT_PASS);
	/* a second MAC after the first is learned */
	fg_default(&g, 6, DST, 8080);
	g.smac = "\x52\x54\x00\x66\x66\x66";
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(decide(n, &d), VERDICT_DROP);
	assert_int_equal(d.drop, DROP_MAC_SPOOF);
	n = fg_arp("\x52\x54\x00\x66\x66\x66", "\x52\x54\x00\x66\x66\x66",
		   NET_GUEST, NET_GATEWAY, buf);
	assert_int_equal(decide(n, &d), VERDICT_DROP);
}

/* ---- RST ---- */

static void test_rst(void **state)
{
	uint8_t out[128];
	struct frame r;
	size_t n = tcp_syn(DST, 80);

	assert_int_equal(frame_parse(buf, n, &fr), DROP_NONE);
	n = reply_tcp_rst(&fr, out, sizeof(out));
	assert_int_equal(n, REPLY_RST_LEN);
	assert_int_equal(frame_parse_any(out, n, &r), DROP_NONE);
	assert_int_equal(r.saddr, DST);
	assert_int_equal(r.daddr, NET_GUEST);
	assert_int_equal(r.sport, 80);
	assert_int_equal(r.dport, 40000);
	assert_int_equal(r.tcp_flags, TCPF_RST | TCPF_ACK);
	assert_int_equal(r.tcp_ack, 1001);
	assert_memory_equal(out, FG_GUEST_MAC, 6);
	assert_memory_equal(out + 6, FG_GW_MAC, 6);
	/* TCP checksum over pseudo header verifies to zero */
	assert_int_equal(ip_checksum(out + 34, 20,
				     (DST >> 16) + (DST & 0xffff) +
					 (NET_GUEST >> 16) +
					 (NET_GUEST & 0xffff) + 6 + 20),
			 0);
	assert_int_equal(reply_tcp_rst(&fr, out, 10), 0);
	fr.tcp_flags = TCPF_RST;
	assert_int_equal(reply_tcp_rst(&fr, out, sizeof(out)), 0);
	fr.tcp_flags = TCPF_ACK;
	fr.tcp_ack = 555;
	n = reply_tcp_rst(&fr, out, sizeof(out));
	assert_int_equal(frame_parse_any(out, n, &r), DROP_NONE);
	assert_int_equal(r.tcp_flags, TCPF_RST);
	assert_int_equal(r.tcp_seq, 555);
}

static void test_drop_names(void **state)
{
	int i;

	for (i = 0; i < DROP__COUNT; i++)
		assert_non_null(frame_drop_name((enum frame_drop)i));
	assert_string_equal(frame_drop_name(DROP_IP_FRAGMENT), "ip-fragment");
	assert_string_equal(frame_drop_name((enum frame_drop)999), "unknown");
	assert_string_equal(policy_port_tag(6, 88), "domain");
	assert_string_equal(policy_port_tag(17, 137), "domain");
	assert_string_equal(policy_port_tag(6, 3269), "domain");
	assert_null(policy_port_tag(6, 80));
	assert_null(policy_port_tag(1, 445));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_tcp),
	    cmocka_unit_test(test_truncated_everywhere),
	    cmocka_unit_test(test_bad_ihl),
	    cmocka_unit_test(test_ip_options),
	    cmocka_unit_test(test_total_length_lies),
	    cmocka_unit_test(test_bad_checksum),
	    cmocka_unit_test(test_fragments),
	    cmocka_unit_test(test_tcp_doff),
	    cmocka_unit_test(test_udp_length),
	    cmocka_unit_test(test_zero_ports),
	    cmocka_unit_test(test_spoofed_source),
	    cmocka_unit_test(test_broadcast_multicast),
	    cmocka_unit_test(test_martians),
	    cmocka_unit_test(test_arp),
	    cmocka_unit_test(test_vlan_ipv6_other),
	    cmocka_unit_test(test_other_protocol),
	    cmocka_unit_test(test_policy_rules),
	    cmocka_unit_test(test_policy_host),
	    cmocka_unit_test(test_policy_dns),
	    cmocka_unit_test(test_policy_dhcp_arp_mac),
	    cmocka_unit_test(test_rst),
	    cmocka_unit_test(test_drop_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
