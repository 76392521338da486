/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net_policy.c - what walloff-net's policy costs per frame
 *
 * Reads a corpus of frames (default: the fuzz_frame seeds: allowed and
 * denied TCP, UDP, DNS, ARP, DHCP, fragments, spoofs, IPv6...) and times,
 * per frame, in the same run:
 *   memcpy     copying the frame once (the anchor: the least any
 *              forwarder does with a frame)
 *   policy     frame_parse + policy_decide (what runs before slirp_input)
 *   pump       the whole guest path without I/O: policy, flow accounting,
 *              deny log, RST/REFUSED building (audit records discarded)
 * and prints ns/frame and the ratio to memcpy. It never asserts timings.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "pump.h"

#define MAX_FRAMES 256
#define FRAME_CAP 2048
/* Enough rounds over the corpus for ~0.2-1 s per measurement. */
#define ROUNDS 200000

static uint8_t frames[MAX_FRAMES][FRAME_CAP];
static size_t lens[MAX_FRAMES];
static size_t n_frames;
static int64_t clk;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t fake_now(void)
{
	return ++clk;
}

static void to_slirp(void *ctx, const uint8_t *f, size_t len)
{
}

static int to_guest(void *ctx, const uint8_t *f, size_t len)
{
	return 0;
}

static int discard(void *ctx, const char *event, json_t *o)
{
	json_decref(o);
	return 0;
}

static int load(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d) {
		perror(dir);
		return -1;
	}
	while ((de = readdir(d)) && n_frames < MAX_FRAMES) {
		char p[4096];
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		f = fopen(p, "rb");
		if (!f)
			continue;
		lens[n_frames] = fread(frames[n_frames], 1, FRAME_CAP, f);
		fclose(f);
		n_frames++;
	}
	closedir(d);
	return n_frames ? 0 : -1;
}

int main(int argc, char *argv[])
{
	static struct pump pump;
	static uint8_t sink[FRAME_CAP];
	const char *dir = argc > 1 ? argv[1] :
				     WALLOFF_SOURCE_ROOT "/tests/fuzz/corpus/frame";
	struct rule rules[2];
	struct decision d;
	struct frame f;
	double t0, t_copy, t_pol, t_pump, per;
	unsigned long sum = 0;
	size_t r, i;

	if (load(dir))
		return 1;
	rule_parse("tcp 192.0.2.1/32:8080", &rules[0], NULL);
	rule_parse("udp 192.0.2.0/24:123", &rules[1], NULL);
	pump.pol.rules = rules;
	pump.pol.n_rules = 2;
	pump.pol.dns = DNS_NONE;
	pump.em.fn = discard;
	pump.to_slirp = to_slirp;
	pump.to_guest = to_guest;
	pump.now_ms = fake_now;
	pump_init(&pump);

	t0 = now_s();
	for (r = 0; r < ROUNDS; r++)
		for (i = 0; i < n_frames; i++) {
			memcpy(sink, frames[i], lens[i]);
			__asm__ volatile("" : : "r"(sink) : "memory");
			sum += sink[r % 14];
		}
	t_copy = now_s() - t0;

	t0 = now_s();
	for (r = 0; r < ROUNDS; r++)
		for (i = 0; i < n_frames; i++) {
			policy_decide(&pump.pol, frames[i], lens[i], &f, &d);
			sum += d.verdict;
		}
	t_pol = now_s() - t0;

	t0 = now_s();
	for (r = 0; r < ROUNDS; r++)
		for (i = 0; i < n_frames; i++)
			pump_from_guest(&pump, frames[i], lens[i]);
	t_pump = now_s() - t0;

	per = 1e9 / ((double)ROUNDS * (double)n_frames);
	printf("net-policy: %zu frames x %d rounds (checksum %lu)\n", n_frames,
	       ROUNDS, sum & 1);
	printf("  memcpy  %7.1f ns/frame (anchor)\n", t_copy * per);
	printf("  policy  %7.1f ns/frame  %5.1fx memcpy\n", t_pol * per,
	       t_pol / t_copy);
	printf("  pump    %7.1f ns/frame  %5.1fx memcpy\n", t_pump * per,
	       t_pump / t_copy);
	return 0;
}
