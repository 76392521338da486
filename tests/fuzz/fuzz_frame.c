/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_frame.c - every guest frame path of walloff-net on arbitrary bytes
 *
 * The input is one Ethernet frame from the guest. It goes through the
 * whole guest->slirp path (frame parser, MAC pinning, policy, DNS query
 * parser, RST / REFUSED builders, deny log, flow table) with slirp and the
 * guest replaced by callbacks that re-parse whatever we would send, and
 * then through the slirp->guest accounting path as if slirp had sent it.
 */
#include <stdint.h>
#include <string.h>

#include "pump.h"

static struct pump pump;
static struct rule rules[3];
static char *names[] = {"allowed.example"};
static int64_t clk;
static bool built_by_us; /* to_guest() sees our RST/REFUSED frames */

static int64_t fuzz_now(void)
{
	return clk += 7;
}

static void to_slirp(void *ctx, const uint8_t *frame, size_t len)
{
}

static int to_guest(void *ctx, const uint8_t *frame, size_t len)
{
	struct frame f;

	/* what we build must itself parse */
	if (built_by_us && frame_parse_any(frame, len, &f) != DROP_NONE)
		__builtin_trap();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;

	if (!init) {
		rule_parse("tcp 192.0.2.1/32:8080", &rules[0], NULL);
		rule_parse("udp 192.0.2.0/24:*", &rules[1], NULL);
		rule_parse("tcp host:5432", &rules[2], NULL);
		pump.pol.rules = rules;
		pump.pol.n_rules = 3;
		pump.pol.dns = DNS_ALLOWLIST;
		pump.pol.dns_allow = names;
		pump.pol.n_dns_allow = 1;
		pump.to_slirp = to_slirp;
		pump.to_guest = to_guest;
		pump.now_ms = fuzz_now;
		pump_init(&pump);
		init = true;
	}
	/* forget the learned MAC so every input is judged on its own */
	pump.pol.mac_known = false;
	built_by_us = true;
	pump_from_guest(&pump, data, size);
	built_by_us = false;
	pump_to_guest(&pump, data, size);
	pump_tick(&pump, false);
	return 0;
}
