/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_profile.c - the profile parser and validator
 *
 * Every hostile profile below must be refused with exactly the expected
 * "line: reason" (the file name prefix is checked separately), so a
 * change in what is accepted or in the message shows up here.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "profile.h"

static char dir[] = "/tmp/walloff-test-profile-XXXXXX";

#define HEAD "[cell]\nname = t\n"

static const char *write_profile(const char *name, const char *text,
				 size_t len)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

static const struct bad {
	const char *text;
	const char *error;	/* after "path:" */
} bad[] = {
	{ "", "1: [cell] name is required" },
	{ "[cell]\n", "1: [cell] name is required" },
	{ "[cell]\nname = Bad\n", "2: name: 'Bad' may only use a-z, 0-9 and '-'" },
	{ "[cell]\nname = -x\n", "2: name: '-x' may not start with '-'" },
	{ "[cell]\nname = abcdefghijabcdefghijabcdefghijabc\n",
	  "2: name: must be 1 to 32 characters" },
	{ "[cell]\nname = a/b\n", "2: name: 'a/b' may only use a-z, 0-9 and '-'" },
	{ "[cell]\nname = a,b\n", "2: name: 'a,b' may only use a-z, 0-9 and '-'" },
	{ HEAD "name = u\n", "3: duplicate key 'name' (first on line 2)" },
	{ HEAD "colour = red\n", "3: unknown key 'colour' in [cell]" },
	{ HEAD "[gpu]\n", "3: unknown section [gpu]" },
	{ HEAD "[cell]\n", "3: section [cell] repeated (first on line 1)" },
	{ HEAD "[machine\n", "3: malformed section header '[machine'" },
	{ HEAD "[machine] x\n", "3: malformed section header '[machine] x'" },
	{ "name = t\n", "1: key outside any section" },
	{ HEAD "just words\n", "3: expected 'key = value', '[section]' or a comment" },
	{ HEAD "  continued\n", "3: indented line: continuation lines are not allowed" },
	{ HEAD "reviewed = 2026-02-30\n", "3: reviewed: '2026-02-30' is not a date YYYY-MM-DD" },
	{ HEAD "reviewed = 2025-02-29\n", "3: reviewed: '2025-02-29' is not a date YYYY-MM-DD" },
	{ HEAD "reviewed = 26-11-01\n", "3: reviewed: '26-11-01' is not a date YYYY-MM-DD" },
	{ HEAD "owner =\n", "3: owner: empty value" },
	{ HEAD "[machine]\ntype = isapc\n", "4: type: 'isapc' is not one of: pc | q35" },
	{ HEAD "[machine]\nmemory = 512\n", "4: memory: '512' is not a size like 512M or 2G" },
	{ HEAD "[machine]\nmemory = 8M\n", "4: memory: 8M is out of range (16M to 16384M)" },
	{ HEAD "[machine]\nmemory = 99999999999G\n", "4: memory: '99999999999G' is not a size like 512M or 2G" },
	{ HEAD "[machine]\nmemory = -1G\n", "4: memory: '-1G' is not a size like 512M or 2G" },
	{ HEAD "[machine]\ncpus = 0\n", "4: cpus: '0' is not a whole number from 1 to 8" },
	{ HEAD "[machine]\ncpus = 1,2\n", "4: cpus: '1,2' is not a whole number from 1 to 8" },
	{ HEAD "[machine]\naccel = hax\n", "4: accel: 'hax' is not one of: auto | kvm | tcg" },
	{ HEAD "[machine]\ndisplay = gtk\n", "4: display: 'gtk' is not one of: std | cirrus | vmware | none" },
	{ HEAD "[machine]\ninput = virtio-tablet\n", "4: input: 'virtio-tablet' is not one of: ps2 | usb-tablet" },
	{ HEAD "[machine]\nshutdown-timeout = 5w\n", "4: shutdown-timeout: '5w' is not a duration like 90s, 15m, 12h, 30d" },
	{ HEAD "[disk]\nbus = ide\n", "3: [disk] needs an image" },
	{ HEAD "[disk]\nimage = ../outside.img\n", "4: image: path '../outside.img' escapes the profile's folder" },
	{ HEAD "[disk]\nimage = a/../../x.img\n", "4: image: path 'a/../../x.img' escapes the profile's folder" },
	{ HEAD "[disk]\nimage = /dev/sda\n", "4: image: path '/dev/sda' is in /dev, /proc or /sys" },
	{ HEAD "[disk]\nimage = /proc/self/mem\n", "4: image: path '/proc/self/mem' is in /dev, /proc or /sys" },
	{ HEAD "[disk]\nimage = null.img\n", "4: image: path 'null.img' resolves to /dev/null (in /dev, /proc or /sys)" },
	{ HEAD "[disk]\nimage = sub\n", "4: image: path 'sub' is not a regular file" },
	{ HEAD "[disk]\nimage = x.img\nsha256 = abc\n", "5: sha256: expected 64 hex digits" },
	{ HEAD "[disk]\nimage = x.img\nbus = scsi\n", "5: bus: 'scsi' is not one of: ide | ahci | virtio" },
	{ HEAD "[disk]\nimage = x.img\nformat = vmdk\n",
	  "5: format: 'vmdk' is not one of: qcow2 | raw" },
	{ HEAD "[network]\nmode = bridge\n", "4: mode: 'bridge' is not one of: none | user | nft" },
	{ HEAD "[network]\nmode = user\nallow = tcp 10.0.0.1\n",
	  "5: allow: tcp rules need ':<port>', ':<lo>-<hi>' or ':*'" },
	{ HEAD "[network]\nmode = user\nallow = tcp 10.0.0.0/8:1-2-3\n",
	  "5: allow: bad port range '1-2-3'" },
	{ HEAD "[network]\nmode = user\nallow = tcp 10.0.0.1/24:80\n",
	  "5: allow: '10.0.0.1/24' has host bits set beyond /24" },
	{ HEAD "[network]\nmode = user\nallow = tcp 10.0.0.1:80\nallow = tcp 10.0.0.1/32:80\n",
	  "6: allow: same rule as line 5" },
	{ HEAD "[network]\nallow = tcp 10.0.0.1:80\n",
	  "4: allow rules need [network] mode = user or nft" },
	{ HEAD "[network]\nmode = user\ndns-allow = db.example.org\n",
	  "3: dns-allow needs dns = allowlist" },
	{ HEAD "[network]\nmode = user\ndns = allowlist\n",
	  "5: dns = allowlist needs at least one dns-allow name" },
	{ HEAD "[network]\nmode = user\ndns = allowlist\ndns-allow = *.example.org\n",
	  "6: dns-allow: '*.example.org' is not a lowercase host name (no wildcards, no trailing dot)" },
	{ HEAD "[network]\nmode = user\ndns = allowlist\ndns-allow = a..b\n",
	  "6: dns-allow: 'a..b' is not a lowercase host name (no wildcards, no trailing dot)" },
	{ HEAD "[network]\nmode = user\nhost-access = maybe\n",
	  "5: host-access: 'maybe' is not one of: deny | allow" },
	{ HEAD "[network]\nmode = nft\n",
	  "3: mode = nft needs the guest's address (address = A.B.C.D/N)" },
	{ HEAD "[network]\nmode = user\nbridge = br0\n",
	  "3: bridge, address and gateway are for mode = nft" },
	{ HEAD "[network]\nmode = nft\nbridge = br0;rm\n",
	  "5: bridge: 'br0;rm' is not an interface name" },
	/* nft mode: coherent addressing, no user-mode-only features */
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.0/24\ngateway = 10.9.0.1\n",
	  "3: address: the subnet's network or broadcast address cannot be the guest's" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.255/24\ngateway = 10.9.0.1\n",
	  "3: address: the subnet's network or broadcast address cannot be the guest's" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.2/24\n",
	  "3: mode = nft without a bridge is routed: it needs gateway = A.B.C.D (the host side of the tap)" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.2/24\ngateway = 10.8.0.1\n",
	  "3: gateway: must be another host address of the guest's subnet" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.2/24\ngateway = 10.9.0.2\n",
	  "3: gateway: must be another host address of the guest's subnet" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.2/24\ngateway = 10.9.0.255\n",
	  "3: gateway: must be another host address of the guest's subnet" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.2/24\ngateway = 10.9.0.1\nallow = tcp host:80\n",
	  "7: allow: 'host' targets exist in mode = user only; in nft mode name the address" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.2/24\ngateway = 10.9.0.1\nhost-access = allow\n",
	  "3: host-access = allow is for mode = user; in nft mode allow the host's address with a rule" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.2/24\ngateway = 10.9.0.1\ndns = allowlist\ndns-allow = a.example\n",
	  "7: dns = allowlist is enforced by mode = user; in nft mode allow the DNS server with a rule" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.2/31\ngateway = 10.9.0.1\n",
	  "5: address: '10.9.0.2/31' is not ADDRESS/PREFIX (prefix 8-30)" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.2/24\ngateway = 10.9.0.1\nbridge = br0 x\n",
	  "7: bridge: 'br0 x' is not an interface name" },
	{ HEAD "[network]\nmode = nft\naddress = 10.9.0.2/24\ngateway = 10.9.0.1\nbridge = abcdefghijklmnop\n",
	  "7: bridge: interface names are 1 to 15 characters" },
	{ HEAD "[console]\nlisten = 0.0.0.0:5931\n",
	  "3: [console] needs keys = FILE (authorized keys and roles)" },
	{ HEAD "[console]\nlisten = 0.0.0.0\nkeys = k\n",
	  "4: listen: '0.0.0.0' is not IPV4ADDRESS:PORT" },
	{ HEAD "[console]\nlisten = 0.0.0.0:0\nkeys = k\n",
	  "4: listen: bad port in '0.0.0.0:0'" },
	{ HEAD "[console]\nkeys = k\n", "3: [console] needs listen = ADDRESS:PORT" },
	{ HEAD "[console]\nlisten = 127.0.0.1:5931\nkeys = ../k\n",
	  "5: keys: path '../k' escapes the profile's folder" },
	{ HEAD "[console]\nlisten = 127.0.0.1:5931\nkeys = k\nclipboard = both\n",
	  "6: clipboard: 'both' is not one of: none | to-guest" },
	{ HEAD "[snapshots]\nkeep = 101\n", "4: keep: '101' is not a whole number from 0 to 100" },
	{ HEAD "[snapshots]\nmax-age = 1s\n", "4: max-age: 1s is out of range (3600s to 315360000s)" },
	{ HEAD "[limits]\ncpu-quota = 50\n", "4: cpu-quota: '50' is not a percentage from 1% to 800%" },
	{ HEAD "[limits]\ncpu-quota = 0%\n", "4: cpu-quota: '0%' is not a percentage from 1% to 800%" },
	{ HEAD "[limits]\n", "3: [limits] sets no limit" },
	{ HEAD "[machine]\nmemory = 512M\n[limits]\nmemory-max = 520M\n",
	  "6: memory-max must leave QEMU at least 64M above memory (512M)" },
	{ HEAD "[limits]\npids-max = 1\n", "4: pids-max: '1' is not a whole number from 8 to 100000" },
	{ HEAD "[dormancy]\non-stale = ignore\n",
	  "4: on-stale: 'ignore' is not one of: quarantine | refuse | warn" },
	{ HEAD "[dormancy]\non-stale = warn\n", "3: [dormancy] needs max-idle" },
	{ HEAD "description = a\x01" "b\n", "3: control character in profile" },
	{ HEAD "description = a\rb\n", "3: control character in profile" },
	{ HEAD "description = \xc3\x28\n", "3: invalid UTF-8" },
	{ HEAD "description = \xed\xa0\x80\n", "3: invalid UTF-8" },
	{ HEAD "description = \xc0\xaf\n", "3: invalid UTF-8" },
};

static void test_hostile(void **state)
{
	struct profile *p = malloc(sizeof(*p));
	char want[ERR_MSG_MAX];
	struct err e;
	size_t i;

	assert_non_null(p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *path = write_profile("bad.cell", bad[i].text,
						 strlen(bad[i].text));

		err_clear(&e);
		if (profile_load(path, 0, p, &e) != -EINVAL)
			fail_msg("case %zu accepted: %s", i, bad[i].text);
		snprintf(want, sizeof(want), "%s:%s", path, bad[i].error);
		if (strcmp(e.msg, want))
			fail_msg("case %zu:\n got: %s\nwant: %s", i, e.msg, want);
	}
	free(p);
}

static void test_binary_and_huge(void **state)
{
	struct profile *p = malloc(sizeof(*p));
	char line[400], *big;
	const char *path;
	struct err e;

	/* NUL byte */
	path = write_profile("nul.cell", HEAD "description = a\0b\n",
			     sizeof(HEAD "description = a\0b\n") - 1);
	assert_int_equal(profile_load(path, 0, p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, ":3: NUL byte in profile"));

	/* Overlong line */
	memset(line, 'a', sizeof(line));
	memcpy(line, "[cell]\ndescription = ", 21);
	line[sizeof(line) - 1] = '\n';
	path = write_profile("long.cell", line, sizeof(line));
	assert_int_equal(profile_load(path, 0, p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, ":2: line longer than 198 characters"));

	/* Over the file size bound */
	big = malloc(70000);
	memset(big, '#', 70000);
	path = write_profile("big.cell", big, 70000);
	assert_int_equal(profile_load(path, 0, p, &e), -EFBIG);
	free(big);

	/* Not a file */
	assert_int_equal(profile_load(dir, 0, p, &e), -EINVAL);
	assert_int_equal(profile_load("/nonexistent/x.cell", 0, p, &e), -ENOENT);
	free(p);
}

static void test_full_profile(void **state)
{
	static const char text[] =
		"#!/usr/bin/env -S walloff run\n"
		"[cell]\n"
		"name        = xp-accounting          # comment\n"
		"description = Accounting package 2004, vendor gone\n"
		"owner       = finance-it@example.org\n"
		"reviewed    = 2026-11-01\n"
		"\n"
		"[machine]\n"
		"type = pc\nmemory = 512M\ncpus = 1\naccel = tcg\nrtc = localtime\n"
		"input = usb-tablet\ndisplay = std\n"
		"[disk]\n"
		"image = x.img\n"
		"sha256 = 3f1c000000000000000000000000000000000000000000000000000000000001\n"
		"bus = ide\nmode = ephemeral\nformat = raw\n"
		"[network]\n"
		"mode = user\nnic = e1000\n"
		"allow = tcp 10.20.0.5:1433\n"
		"allow = udp 10.20.0.9:123\n"
		"dns = allowlist\ndns-allow = db.example.org\nhost-access = deny\n"
		"; semicolon comment\n"
		"[console]\nlisten = 0.0.0.0:5931\nkeys = keys/authorized\n"
		"clipboard = none\nserial = on\n"
		"[snapshots]\nkeep = 3\nmax-age = 30d\n"
		"[limits]\ncpu-quota = 100%\nmemory-max = 768M\npids-max = 64\n"
		"[dormancy]\nmax-idle = 90d\non-stale = quarantine\n";
	struct profile *p = malloc(sizeof(*p));
	const struct profile_line *l;
	char img[PATH_MAX];
	struct err e;
	int fd;

	snprintf(img, sizeof(img), "%s/x.img", dir);
	fd = open(img, O_CREAT | O_WRONLY, 0600);
	close(fd);
	err_clear(&e);
	if (profile_load(write_profile("ok.cell", text, sizeof(text) - 1), 0, p,
			 &e))
		fail_msg("%s", e.msg);
	assert_string_equal(p->name, "xp-accounting");
	assert_string_equal(p->description, "Accounting package 2004, vendor gone");
	assert_int_equal(p->memory_mib, 512);
	assert_int_equal(p->input, INPUT_USB_TABLET);
	assert_string_equal(p->image, img);
	assert_true(p->image_exists);
	assert_false(p->keys_exists);
	assert_int_equal(p->format, FORMAT_RAW);
	assert_int_equal(p->n_allow, 2);
	assert_int_equal(p->allow_line[1], 26);
	assert_int_equal(p->n_dns_allow, 1);
	assert_false(p->host_access);
	assert_true(p->serial);
	assert_int_equal(p->snapshot_keep, 3);
	assert_int_equal(p->snapshot_max_age_s, 30 * 86400);
	assert_int_equal(p->cpu_quota_pct, 100);
	assert_int_equal(p->memory_max_mib, 768);
	assert_int_equal(p->max_idle_s, 90 * 86400);
	assert_int_equal(p->sha256[31], 1);
	assert_true(p->has_reviewed);
	assert_int_equal(p->reviewed, 1793491200);	/* 2026-11-01 UTC */
	l = profile_find_line(p, "network", "allow");
	assert_non_null(l);
	assert_int_equal(l->line, 25);
	assert_string_equal(l->value, "tcp 10.20.0.5:1433");

	/* With PROFILE_FILES_MUST_EXIST the missing keys file is an error. */
	assert_int_equal(profile_load(write_profile("ok.cell", text, sizeof(text) - 1),
				      PROFILE_FILES_MUST_EXIST, p, &e), -EINVAL);
	assert_non_null(strstr(e.msg, ":33: keys: path 'keys/authorized': No such file"));
	free(p);
}

static void test_defaults_and_units(void **state)
{
	struct profile *p = malloc(sizeof(*p));
	uint64_t v;
	struct err e;

	assert_int_equal(profile_load(write_profile("min.cell", HEAD, strlen(HEAD)),
				      0, p, &e), 0);
	assert_int_equal(p->machine, MACHINE_PC);
	assert_int_equal(p->accel, ACCEL_AUTO);
	assert_int_equal(p->net, NET_NONE);
	assert_int_equal(p->shutdown_timeout_s, 60);
	assert_false(p->has_disk);

	assert_int_equal(profile_parse_size_mib("2G", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(profile_parse_size_mib("0M", &v), -EINVAL);
	assert_int_equal(profile_parse_size_mib("1T", &v), -EINVAL);
	assert_int_equal(profile_parse_size_mib("M", &v), -EINVAL);
	assert_int_equal(profile_parse_duration("12h", &v), 0);
	assert_int_equal(v, 43200);
	assert_int_equal(profile_parse_duration("012h", &v), -EINVAL);
	assert_int_equal(profile_parse_duration("1.5h", &v), -EINVAL);
	assert_true(profile_name_valid("xp-accounting"));
	assert_false(profile_name_valid("../etc"));
	assert_false(profile_name_valid(""));
	free(p);
}

static int setup(void **state)
{
	char p[PATH_MAX];

	if (!mkdtemp(dir))
		return -1;
	snprintf(p, sizeof(p), "%s/null.img", dir);
	if (symlink("/dev/null", p))
		return -1;
	snprintf(p, sizeof(p), "%s/sub", dir);
	if (mkdir(p, 0700))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_binary_and_huge),
		cmocka_unit_test(test_full_profile),
		cmocka_unit_test(test_defaults_and_units),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
