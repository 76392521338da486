/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_tables.c - deny log under a flood (bounded memory and output, every
 * denial counted), flow open/close accounting, and the pump end to end
 * with fake slirp and guest callbacks
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "framegen.h"
#include "pump.h"

#define DST FG_IP(192, 0, 2, 1)

/* ---- a recording emitter and a fake clock ---- */

static int64_t now;
static int n_records, n_open, n_close, n_deny, n_suppr, n_drop;
static json_int_t deny_count_sum, suppressed_sum;
static json_t *last_deny, *last_close;

static int64_t fake_now(void)
{
	return now;
}

static int record(void *ctx, const char *event, json_t *o)
{
	n_records++;
	if (!strcmp(event, "net-deny")) {
		n_deny++;
		deny_count_sum +=
		    json_integer_value(json_object_get(o, "count"));
		json_decref(last_deny);
		last_deny = json_incref(o);
	} else if (!strcmp(event, "net-deny-suppressed")) {
		n_suppr++;
		suppressed_sum +=
		    json_integer_value(json_object_get(o, "count"));
	} else if (!strcmp(event, "net-flow-open")) {
		n_open++;
	} else if (!strcmp(event, "net-flow-close")) {
		n_close++;
		json_decref(last_close);
		last_close = json_incref(o);
	} else if (!strcmp(event, "net-drop")) {
		n_drop++;
	}
	json_decref(o);
	return 0;
}

static const struct emitter rec = {record, NULL};

static int reset(void **state)
{
	now = 1000000;
	n_records = n_open = n_close = n_deny = n_suppr = n_drop = 0;
	deny_count_sum = suppressed_sum = 0;
	json_decref(last_deny);
	json_decref(last_close);
	last_deny = last_close = NULL;
	return 0;
}

static struct denylog dl;

static struct deny_key key(uint32_t daddr, uint16_t port)
{
	struct deny_key k;

	memset(&k, 0, sizeof(k));
	k.proto = 6;
	k.saddr = NET_GUEST;
	k.daddr = daddr;
	k.dport = port;
	k.why = "no-rule";
	return k;
}

static void test_deny_dedup(void **state)
{
	struct deny_key k = key(DST, 80);
	int i;

	denylog_init(&dl, &rec, now);
	for (i = 0; i < 1000; i++)
		assert_int_equal(denylog_note(&dl, &k, now), 0);
	assert_int_equal(n_deny, 1); /* first one only, at once */
	assert_int_equal(
	    json_integer_value(json_object_get(last_deny, "count")), 1);
	assert_int_equal(denylog_flush(&dl, now + 100, false), 0);
	assert_int_equal(n_deny, 1); /* too early */
	now += DENYLOG_FLUSH_MS;
	assert_int_equal(denylog_flush(&dl, now, false), 0);
	assert_int_equal(n_deny, 2);
	assert_int_equal(
	    json_integer_value(json_object_get(last_deny, "count")), 999);
	assert_int_equal(
	    json_integer_value(json_object_get(last_deny, "total")), 1000);
	assert_true(json_is_null(json_object_get(last_deny, "tag")));
}

static void test_deny_flood(void **state)
{
	uint32_t i, total = 100000;

	denylog_init(&dl, &rec, now);
	/* a scan: every denial a new destination, 100k in 1 ms */
	for (i = 0; i < total; i++) {
		struct deny_key k = key(FG_IP(198, 18, 0, 0) + i, 445);

		assert_int_equal(denylog_note(&dl, &k, now), 0);
	}
	/* output bounded by the burst */
	assert_int_equal(n_deny, DENYLOG_BURST);
	now += DENYLOG_FLUSH_MS;
	assert_int_equal(denylog_flush(&dl, now, false), 0);
	/* the rate limit caps the flush too, then one summary */
	assert_true(n_deny <= DENYLOG_BURST + DENYLOG_BURST);
	assert_int_equal(n_suppr, 1);
	assert_int_equal(denylog_flush(&dl, now + 1000000, true), 0);
	/* every single denial is accounted for: reported or suppressed */
	assert_int_equal(deny_count_sum + suppressed_sum, total);
	assert_true(sizeof(dl) < 128 * 1024);
}

static struct flows fl;

static void test_flows(void **state)
{
	uint8_t buf[256], pl[100] = {0};
	struct frame f, r;
	struct fg g;
	size_t n;

	flows_init(&fl, &rec);
	fg_default(&g, 6, DST, 8080);
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &f), DROP_NONE);
	assert_int_equal(flows_guest(&fl, &f, NULL, now), 0);
	assert_int_equal(n_open, 1);
	g.tcp_flags = TCPF_ACK | TCPF_PSH;
	g.payload = pl;
	g.plen = sizeof(pl);
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse(buf, n, &f), DROP_NONE);
	assert_int_equal(flows_guest(&fl, &f, NULL, now), 0);
	assert_int_equal(n_open, 1);
	/* the answer from slirp: reversed tuple */
	fg_default(&g, 6, NET_GUEST, 40000);
	g.saddr = DST;
	g.sport = 8080;
	g.tcp_flags = TCPF_ACK | TCPF_FIN;
	g.payload = pl;
	g.plen = 40;
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(frame_parse_any(buf, n, &r), DROP_NONE);
	flows_slirp(&fl, &r, now);
	f.tcp_flags = TCPF_FIN | TCPF_ACK;
	f.payload_len = 0;
	assert_int_equal(flows_guest(&fl, &f, NULL, now), 0);
	assert_int_equal(flows_expire(&fl, now, false), 0);
	assert_int_equal(n_close, 0); /* lingering */
	now += FLOW_LINGER_MS;
	assert_int_equal(flows_expire(&fl, now, false), 0);
	assert_int_equal(n_close, 1);
	assert_int_equal(
	    json_integer_value(json_object_get(last_close, "bytes_out")), 100);
	assert_int_equal(
	    json_integer_value(json_object_get(last_close, "bytes_in")), 40);
	assert_string_equal(
	    json_string_value(json_object_get(last_close, "reason")), "fin");
	assert_int_equal(fl.n_open, 0);
}

static void test_flows_full(void **state)
{
	uint8_t buf[128];
	struct frame f;
	struct fg g;
	uint32_t i;
	size_t n;

	flows_init(&fl, &rec);
	for (i = 0; i < FLOWS_MAX + 10; i++) {
		fg_default(&g, 17, DST, 123);
		g.sport = (uint16_t)(1024 + i);
		n = fg_ipv4(&g, buf, sizeof(buf));
		assert_int_equal(frame_parse(buf, n, &f), DROP_NONE);
		now++;
		assert_int_equal(flows_guest(&fl, &f, NULL, now), 0);
	}
	assert_int_equal(fl.n_open, FLOWS_MAX);
	assert_int_equal(n_close, 10);
	assert_string_equal(
	    json_string_value(json_object_get(last_close, "reason")),
	    "evicted");
	now += FLOW_IDLE_UDP_MS;
	assert_int_equal(flows_expire(&fl, now, false), 0);
	assert_int_equal(fl.n_open, 0);
	assert_int_equal(n_close, FLOWS_MAX + 10);
}

/* ---- pump with fake slirp and guest ---- */

static struct pump pump;
static struct rule rules[1];
static int to_slirp_n, to_guest_n;
static uint8_t guest_got[2048];
static size_t guest_got_len;

static void fake_slirp(void *ctx, const uint8_t *frame, size_t len)
{
	to_slirp_n++;
}

static int fake_guest(void *ctx, const uint8_t *frame, size_t len)
{
	to_guest_n++;
	if (len <= sizeof(guest_got)) {
		memcpy(guest_got, frame, len);
		guest_got_len = len;
	}
	return 0;
}

static void pump_setup(void)
{
	memset(&pump, 0, sizeof(pump));
	assert_int_equal(rule_parse("tcp 192.0.2.1/32:8080", &rules[0], NULL),
			 0);
	pump.pol.rules = rules;
	pump.pol.n_rules = 1;
	pump.pol.dns = DNS_NONE;
	pump.em = rec;
	pump.to_slirp = fake_slirp;
	pump.to_guest = fake_guest;
	pump.now_ms = fake_now;
	pump_init(&pump);
	to_slirp_n = to_guest_n = 0;
}

static void test_pump(void **state)
{
	uint8_t buf[512], q[300];
	struct frame r;
	struct fg g;
	json_t *st;
	size_t n;

	pump_setup();
	fg_default(&g, 6, DST, 8080);
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(pump_from_guest(&pump, buf, n), 0);
	assert_int_equal(to_slirp_n, 1);
	assert_int_equal(n_open, 1);

	/* denied SYN to 445: audit with the domain tag, RST to the guest */
	fg_default(&g, 6, DST, 445);
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(pump_from_guest(&pump, buf, n), 0);
	assert_int_equal(to_slirp_n, 1);
	assert_int_equal(to_guest_n, 1);
	assert_int_equal(frame_parse_any(guest_got, guest_got_len, &r),
			 DROP_NONE);
	assert_true(r.tcp_flags & TCPF_RST);
	assert_string_equal(
	    json_string_value(json_object_get(last_deny, "tag")), "domain");
	assert_int_equal(json_integer_value(json_object_get(last_deny, "port")),
			 445);

	/* denied UDP: no answer */
	fg_default(&g, 17, DST, 9999);
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(pump_from_guest(&pump, buf, n), 0);
	assert_int_equal(to_guest_n, 1);

	/* DNS with dns=none: REFUSED built by us */
	fg_default(&g, 17, NET_DNS, 53);
	g.payload = q;
	g.plen = fg_dns_query(9, "example.com", q, sizeof(q));
	n = fg_ipv4(&g, buf, sizeof(buf));
	assert_int_equal(pump_from_guest(&pump, buf, n), 0);
	assert_int_equal(to_guest_n, 2);
	assert_int_equal(to_slirp_n, 1);
	assert_int_equal(frame_parse_any(guest_got, guest_got_len, &r),
			 DROP_NONE);
	assert_int_equal(r.sport, 53);
	assert_int_equal(r.saddr, NET_DNS);
	assert_int_equal(guest_got[r.payload_off + 3] & 0xf, 5);
	assert_string_equal(
	    json_string_value(json_object_get(last_deny, "name")),
	    "example.com");

	/* garbage: dropped and counted */
	memset(buf, 0xff, 60);
	assert_int_equal(pump_from_guest(&pump, buf, 60), 0);
	assert_int_equal(pump.st.dropped[DROP_NON_IPV4], 1);
	now += PUMP_DROP_REPORT_MS;
	assert_int_equal(pump_tick(&pump, false), 0);
	assert_int_equal(n_drop, 1);

	st = pump_stats_json(&pump);
	assert_non_null(st);
	assert_int_equal(json_integer_value(json_object_get(st, "allowed")), 1);
	assert_int_equal(json_integer_value(json_object_get(st, "denied")), 3);
	assert_int_equal(json_integer_value(json_object_get(st, "dropped")), 1);
	assert_int_equal(json_integer_value(json_object_get(st, "dns_refused")),
			 1);
	json_decref(st);
	assert_int_equal(pump_tick(&pump, true), 0);
	assert_int_equal(n_close, 1);
}

static int teardown(void **state)
{
	return reset(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_deny_dedup, reset, teardown),
	    cmocka_unit_test_setup_teardown(test_deny_flood, reset, teardown),
	    cmocka_unit_test_setup_teardown(test_flows, reset, teardown),
	    cmocka_unit_test_setup_teardown(test_flows_full, reset, teardown),
	    cmocka_unit_test_setup_teardown(test_pump, reset, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
