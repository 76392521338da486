/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * profile.c - strict parser and validator for cell profiles
 *
 * A profile is the cell's security policy, written by an admin and read by a
 * reviewer, so the parser is deliberately unforgiving: every line is either
 * blank, a comment, a known [section] or a known "key = value"; anything else
 * stops the parse with "file:line: reason". The first error wins.
 *
 * libinih splits lines into section/key/value. It cannot report line numbers
 * to the handler in Debian's build (INI_HANDLER_LINENO is 0) and it is more
 * lenient than we want (indented continuation lines, unknown sections with
 * no keys, overlong lines split in two), so we feed it through our own
 * reader: read_line() sees every raw line first, counts lines, enforces the
 * line length, rejects control characters, invalid UTF-8 and continuation
 * lines, checks section headers against the table (unknown or repeated
 * section: error) and strips inline "#" comments. The handler then only sees
 * lines that passed, and looks the key up in keys[]: one row per key with
 * its section, whether it may repeat, and the function that validates and
 * stores its value.
 *
 * After the file: required keys, cross-field rules (allow rules need a
 * network, dns-allow needs dns = allowlist, ...) and path safety for the
 * image and keys file (relative to the profile's folder; never into /dev,
 * /proc or /sys, never a device, see common/path.c).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "hex.h"
#include "path.h"
#include "profile.h"

/* Max profile size: profiles are a page or two; refuse anything absurd. */
#define PROFILE_FILE_MAX (64 * 1024)
/* Longest line we accept: libinih's line buffer is INI_MAX_LINE with NUL. */
#define LINE_MAX_CHARS (INI_MAX_LINE - 2)

struct parse;
typedef int (*key_fn)(struct parse *ps, const char *v);

enum section_id {
	SEC_NONE = -1, SEC_CELL, SEC_MACHINE, SEC_DISK, SEC_NETWORK,
	SEC_CONSOLE, SEC_SNAPSHOTS, SEC_LIMITS, SEC_DORMANCY, SEC_COUNT
};

static const char *const section_names[SEC_COUNT] = {
	"cell", "machine", "disk", "network", "console", "snapshots",
	"limits", "dormancy",
};

struct key_def {
	enum section_id sec;
	const char *name;
	bool repeat;
	key_fn fn;
};

struct parse {
	struct profile *p;
	struct err *e;
	unsigned flags;
	FILE *f;
	int line;
	enum section_id sec;
	int section_line[SEC_COUNT];
	int key_line[64];		/* first line of each key in keys[] */
	char image_raw[PROFILE_VALUE_MAX];
	char keys_raw[PROFILE_VALUE_MAX];
	int image_line, keys_line, dns_line;
	bool failed;
};

static int fail(struct parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parse *ps, const char *fmt, ...)
{
	char reason[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (!ps->failed)
		err_set(ps->e, EINVAL, "%s:%d: %s", ps->p->path, ps->line,
			reason);
	ps->failed = true;
	return -EINVAL;
}

/* --- value parsers ------------------------------------------------------ */

/* Decimal without sign, leading zeros or overflow; at most 9 digits. */
static int parse_uint(const char *s, size_t len, uint64_t *v)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0 || len > 9 || (len > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*v = n;
	return 0;
}

int profile_parse_size_mib(const char *s, uint64_t *mib)
{
	size_t len = strlen(s);
	uint64_t n = 0;

	if (len < 2)
		return -EINVAL;
	if (parse_uint(s, len - 1, &n) || n == 0)
		return -EINVAL;
	switch (s[len - 1]) {
	case 'M':
		*mib = n;
		return 0;
	case 'G':
		*mib = n * 1024;
		return 0;
	}
	return -EINVAL;
}

int profile_parse_duration(const char *s, uint64_t *secs)
{
	size_t len = strlen(s);
	uint64_t n = 0;

	if (len < 2 || parse_uint(s, len - 1, &n) || n == 0)
		return -EINVAL;
	switch (s[len - 1]) {
	case 's':
		*secs = n;
		return 0;
	case 'm':
		*secs = n * 60;
		return 0;
	case 'h':
		*secs = n * 3600;
		return 0;
	case 'd':
		*secs = n * 86400;
		return 0;
	}
	return -EINVAL;
}

/* Pick one of a NULL-terminated list of words; index into *out. */
static int pick(struct parse *ps, const char *key, const char *v,
		const char *const *words, int *out)
{
	char list[128] = "";
	int i;

	for (i = 0; words[i]; i++) {
		if (!strcmp(v, words[i])) {
			*out = i;
			return 0;
		}
		if (i)
			strncat(list, " | ", sizeof(list) - strlen(list) - 1);
		strncat(list, words[i], sizeof(list) - strlen(list) - 1);
	}
	return fail(ps, "%s: '%s' is not one of: %s", key, v, list);
}

/* A key whose value is one word of a list; the field gets its index. */
#define ENUM_KEY(fn, keyname, field, ...)                                     \
	static int fn(struct parse *ps, const char *v)                        \
	{                                                                     \
		static const char *const w_[] = { __VA_ARGS__, NULL };        \
		int i_ = 0, r_ = pick(ps, keyname, v, w_, &i_);               \
		if (!r_)                                                      \
			ps->p->field = i_;                                    \
		return r_;                                                    \
	}

static int text(struct parse *ps, const char *key, const char *v, char *out,
		size_t max)
{
	if (!*v)
		return fail(ps, "%s: empty value", key);
	if (strlen(v) > max)
		return fail(ps, "%s: longer than %zu characters", key, max);
	strcpy(out, v);
	return 0;
}

static int range(struct parse *ps, const char *key, const char *v,
		 uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (parse_uint(v, strlen(v), out) || *out < lo || *out > hi)
		return fail(ps, "%s: '%s' is not a whole number from %llu to %llu",
			    key, v, (unsigned long long)lo,
			    (unsigned long long)hi);
	return 0;
}

static int duration(struct parse *ps, const char *key, const char *v,
		    uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (profile_parse_duration(v, out))
		return fail(ps, "%s: '%s' is not a duration like 90s, 15m, 12h, 30d",
			    key, v);
	if (*out < lo || *out > hi)
		return fail(ps, "%s: %s is out of range (%llus to %llus)", key,
			    v, (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

static int size_mib(struct parse *ps, const char *key, const char *v,
		    uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (profile_parse_size_mib(v, out))
		return fail(ps, "%s: '%s' is not a size like 512M or 2G", key, v);
	if (*out < lo || *out > hi)
		return fail(ps, "%s: %s is out of range (%lluM to %lluM)", key,
			    v, (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

static int ipv4(struct parse *ps, const char *key, const char *v,
		uint32_t *out)
{
	if (rule_parse_ipv4(v, strlen(v), out))
		return fail(ps, "%s: '%s' is not an IPv4 address", key, v);
	return 0;
}

/* --- [cell] ------------------------------------------------------------- */

bool profile_name_valid(const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > PROFILE_NAME_MAX || v[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)v[i]) ||
		      isdigit((unsigned char)v[i]) || v[i] == '-'))
			return false;
	return true;
}

static int k_name(struct parse *ps, const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > PROFILE_NAME_MAX)
		return fail(ps, "name: must be 1 to %d characters", PROFILE_NAME_MAX);
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)v[i]) ||
		      isdigit((unsigned char)v[i]) || v[i] == '-'))
			return fail(ps, "name: '%s' may only use a-z, 0-9 and '-'", v);
	if (v[0] == '-')
		return fail(ps, "name: '%s' may not start with '-'", v);
	strcpy(ps->p->name, v);
	return 0;
}

static int k_description(struct parse *ps, const char *v)
{
	return text(ps, "description", v, ps->p->description, PROFILE_TEXT_MAX);
}

static int k_owner(struct parse *ps, const char *v)
{
	return text(ps, "owner", v, ps->p->owner, PROFILE_TEXT_MAX);
}

static int k_reviewed(struct parse *ps, const char *v)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint64_t y, m, d;
	struct tm tm = { 0 };

	if (strlen(v) != 10 || v[4] != '-' || v[7] != '-' ||
	    parse_uint(v, 4, &y) || y < 1990 || y > 9999 ||
	    (v[5] == '0' ? parse_uint(v + 6, 1, &m) : parse_uint(v + 5, 2, &m)) ||
	    (v[8] == '0' ? parse_uint(v + 9, 1, &d) : parse_uint(v + 8, 2, &d)) ||
	    m < 1 || m > 12 || d < 1 || d > (uint64_t)mdays[m - 1] ||
	    (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return fail(ps, "reviewed: '%s' is not a date YYYY-MM-DD", v);
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)m - 1;
	tm.tm_mday = (int)d;
	ps->p->reviewed = timegm(&tm);
	ps->p->has_reviewed = true;
	return 0;
}

/* --- [machine] ---------------------------------------------------------- */

ENUM_KEY(k_type, "type", machine, "pc", "q35")

static int k_memory(struct parse *ps, const char *v)
{
	/* 16M runs DOS; 16G is far beyond any 32-bit legacy OS. */
	return size_mib(ps, "memory", v, 16, 16384, &ps->p->memory_mib);
}

static int k_cpus(struct parse *ps, const char *v)
{
	uint64_t n = 0;
	int r = range(ps, "cpus", v, 1, 8, &n);

	if (!r)
		ps->p->cpus = (unsigned)n;
	return r;
}

ENUM_KEY(k_accel, "accel", accel, "auto", "kvm", "tcg")

ENUM_KEY(k_rtc, "rtc", rtc, "utc", "localtime")

ENUM_KEY(k_input, "input", input, "ps2", "usb-tablet")

ENUM_KEY(k_display, "display", display, "std", "cirrus", "vmware", "none")

static int k_shutdown_timeout(struct parse *ps, const char *v)
{
	uint64_t s = 0;
	int r = duration(ps, "shutdown-timeout", v, 1, 3600, &s);

	if (!r)
		ps->p->shutdown_timeout_s = (unsigned)s;
	return r;
}

/* --- [disk] ------------------------------------------------------------- */

static int k_image(struct parse *ps, const char *v)
{
	if (!*v)
		return fail(ps, "image: empty value");
	strcpy(ps->image_raw, v);
	ps->image_line = ps->line;
	ps->p->has_disk = true;
	return 0;
}

static int k_sha256(struct parse *ps, const char *v)
{
	if (hex_decode(ps->p->sha256, sizeof(ps->p->sha256), v))
		return fail(ps, "sha256: expected 64 hex digits");
	ps->p->has_sha256 = true;
	return 0;
}

ENUM_KEY(k_format, "format", format, "qcow2", "raw")

ENUM_KEY(k_bus, "bus", bus, "ide", "ahci", "virtio")

ENUM_KEY(k_mode_disk, "mode", disk_mode, "ephemeral", "persistent")

/* --- [network] ---------------------------------------------------------- */

ENUM_KEY(k_mode_net, "mode", net, "none", "user", "nft")

ENUM_KEY(k_nic, "nic", nic, "e1000", "rtl8139", "pcnet", "ne2k_pci")

static int k_allow(struct parse *ps, const char *v)
{
	struct profile *p = ps->p;
	struct err re;
	unsigned i;

	if (p->n_allow >= PROFILE_MAX_ALLOW)
		return fail(ps, "allow: more than %d rules", PROFILE_MAX_ALLOW);
	if (rule_parse(v, &p->allow[p->n_allow], &re))
		return fail(ps, "allow: %s", re.msg);
	for (i = 0; i < p->n_allow; i++)
		if (rule_equal(&p->allow[i], &p->allow[p->n_allow]))
			return fail(ps, "allow: same rule as line %d",
				    p->allow_line[i]);
	p->allow_line[p->n_allow++] = ps->line;
	return 0;
}

ENUM_KEY(k_dns_mode, "dns", dns, "none", "allowlist")

static int k_dns(struct parse *ps, const char *v)
{
	ps->dns_line = ps->line;
	return k_dns_mode(ps, v);
}

/* Hostname in presentation form: labels of [a-z0-9-], 1..63, no edge '-'. */
static bool valid_dns_name(const char *v)
{
	size_t len = strlen(v), lab = 0, i;

	if (len == 0 || len > PROFILE_DNS_NAME_MAX || v[len - 1] == '.')
		return false;
	for (i = 0; i <= len; i++) {
		char c = v[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || v[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!(islower((unsigned char)c) || isdigit((unsigned char)c) ||
		      c == '-'))
			return false;
		if (lab == 0 && c == '-')
			return false;
		lab++;
	}
	return true;
}

static int k_dns_allow(struct parse *ps, const char *v)
{
	struct profile *p = ps->p;
	unsigned i;

	if (p->n_dns_allow >= PROFILE_MAX_DNS)
		return fail(ps, "dns-allow: more than %d names", PROFILE_MAX_DNS);
	if (!valid_dns_name(v))
		return fail(ps, "dns-allow: '%s' is not a lowercase host name "
			    "(no wildcards, no trailing dot)", v);
	for (i = 0; i < p->n_dns_allow; i++)
		if (!strcmp(p->dns_allow[i], v))
			return fail(ps, "dns-allow: '%s' is listed twice", v);
	strcpy(p->dns_allow[p->n_dns_allow++], v);
	return 0;
}

ENUM_KEY(k_host_access, "host-access", host_access, "deny", "allow")

ENUM_KEY(k_on_failure, "on-failure", net_failure, "stop", "restart")

static int k_bridge(struct parse *ps, const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > 15)
		return fail(ps, "bridge: interface names are 1 to 15 characters");
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)v[i]) || v[i] == '-' ||
		      v[i] == '_' || v[i] == '.'))
			return fail(ps, "bridge: '%s' is not an interface name", v);
	strcpy(ps->p->bridge, v);
	return 0;
}

static int k_address(struct parse *ps, const char *v)
{
	const char *slash = strchr(v, '/');
	uint64_t pfx;

	if (!slash || rule_parse_ipv4(v, (size_t)(slash - v),
				      &ps->p->guest_address) ||
	    parse_uint(slash + 1, strlen(slash + 1), &pfx) || pfx < 8 || pfx > 30)
		return fail(ps, "address: '%s' is not ADDRESS/PREFIX (prefix 8-30)", v);
	ps->p->guest_prefix = (uint8_t)pfx;
	ps->p->has_guest_address = true;
	return 0;
}

static int k_gateway(struct parse *ps, const char *v)
{
	ps->p->has_gateway = true;
	return ipv4(ps, "gateway", v, &ps->p->gateway);
}

/*
 * nft mode: the kernel enforces what these say, so they must be coherent.
 * The guest address may not be its subnet's network or broadcast address;
 * routed (no bridge) needs a gateway, which must be another address of the
 * guest's subnet; "host" targets, dns = allowlist and host-access = allow
 * are walloff-net features with no meaning on a tap, so they are refused
 * rather than silently ignored.
 */
static int at_line(struct parse *ps, int line);

static int check_nft(struct parse *ps)
{
	struct profile *p = ps->p;
	int sec = ps->section_line[SEC_NETWORK];
	uint32_t m = 0xffffffffu << (32 - p->guest_prefix);
	uint32_t a = p->guest_address;
	unsigned i;

	if ((a & ~m) == 0 || (a & ~m) == ~m)
		return at_line(ps, sec),
		       fail(ps, "address: the subnet's network or broadcast "
			    "address cannot be the guest's");
	if (!p->bridge[0] && !p->has_gateway)
		return at_line(ps, sec),
		       fail(ps, "mode = nft without a bridge is routed: it needs "
			    "gateway = A.B.C.D (the host side of the tap)");
	if (p->has_gateway &&
	    ((p->gateway & m) != (a & m) || p->gateway == a ||
	     (p->gateway & ~m) == 0 || (p->gateway & ~m) == ~m))
		return at_line(ps, sec),
		       fail(ps, "gateway: must be another host address of the "
			    "guest's subnet");
	for (i = 0; i < p->n_allow; i++)
		if (p->allow[i].host)
			return at_line(ps, p->allow_line[i]),
			       fail(ps, "allow: 'host' targets exist in mode = "
				    "user only; in nft mode name the address");
	if (p->dns == DNS_ALLOWLIST)
		return at_line(ps, ps->dns_line ? ps->dns_line : sec),
		       fail(ps, "dns = allowlist is enforced by mode = user; in "
			    "nft mode allow the DNS server with a rule");
	if (p->host_access)
		return at_line(ps, sec),
		       fail(ps, "host-access = allow is for mode = user; in nft "
			    "mode allow the host's address with a rule");
	return 0;
}

/* --- [console] ---------------------------------------------------------- */

static int k_listen(struct parse *ps, const char *v)
{
	const char *colon = strrchr(v, ':');
	uint64_t port;

	if (!colon || rule_parse_ipv4(v, (size_t)(colon - v),
				      &ps->p->listen_addr))
		return fail(ps, "listen: '%s' is not IPV4ADDRESS:PORT", v);
	if (parse_uint(colon + 1, strlen(colon + 1), &port) || port < 1 ||
	    port > 65535)
		return fail(ps, "listen: bad port in '%s'", v);
	ps->p->listen_port = (uint16_t)port;
	ps->p->has_console = true;
	return 0;
}

static int k_keys(struct parse *ps, const char *v)
{
	if (!*v)
		return fail(ps, "keys: empty value");
	strcpy(ps->keys_raw, v);
	ps->keys_line = ps->line;
	return 0;
}

ENUM_KEY(k_clipboard, "clipboard", clipboard, "none", "to-guest")

ENUM_KEY(k_serial, "serial", serial, "off", "on")

static int k_handshake_timeout(struct parse *ps, const char *v)
{
	uint64_t s = 0;
	int r = duration(ps, "handshake-timeout", v, 1, 60, &s);

	if (!r)
		ps->p->handshake_timeout_s = (unsigned)s;
	return r;
}

static int k_max_sessions(struct parse *ps, const char *v)
{
	uint64_t n = 0;
	int r = range(ps, "max-sessions", v, 1, 4096, &n);

	if (!r)
		ps->p->max_sessions = (unsigned)n;
	return r;
}

static int k_idle_timeout(struct parse *ps, const char *v)
{
	uint64_t s = 0;
	int r = duration(ps, "idle-timeout", v, 10, 7 * 86400, &s);

	if (!r)
		ps->p->idle_timeout_s = (unsigned)s;
	return r;
}

/* --- [snapshots] [limits] [dormancy] ------------------------------------ */

static int k_keep(struct parse *ps, const char *v)
{
	uint64_t n = 0;
	int r = range(ps, "keep", v, 0, 100, &n);

	if (!r)
		ps->p->snapshot_keep = (unsigned)n;
	ps->p->has_snapshots = true;
	return r;
}

static int k_max_age(struct parse *ps, const char *v)
{
	ps->p->has_snapshots = true;
	return duration(ps, "max-age", v, 3600, 3650ULL * 86400,
			&ps->p->snapshot_max_age_s);
}

static int k_cpu_quota(struct parse *ps, const char *v)
{
	size_t n = strlen(v);
	uint64_t pct;

	if (n < 2 || v[n - 1] != '%' || parse_uint(v, n - 1, &pct) || pct < 1 ||
	    pct > 800)
		return fail(ps, "cpu-quota: '%s' is not a percentage from 1%% to 800%%", v);
	ps->p->cpu_quota_pct = (unsigned)pct;
	ps->p->has_limits = true;
	return 0;
}

static int k_memory_max(struct parse *ps, const char *v)
{
	ps->p->has_limits = true;
	return size_mib(ps, "memory-max", v, 32, 65536, &ps->p->memory_max_mib);
}

static int k_pids_max(struct parse *ps, const char *v)
{
	uint64_t n = 0;
	int r = range(ps, "pids-max", v, 8, 100000, &n);

	if (!r)
		ps->p->pids_max = (unsigned)n;
	ps->p->has_limits = true;
	return r;
}

ENUM_KEY(k_on_unavailable, "on-unavailable", limits_fallback, "refuse", "degrade")

static int k_max_idle(struct parse *ps, const char *v)
{
	ps->p->has_dormancy = true;
	return duration(ps, "max-idle", v, 3600, 3650ULL * 86400,
			&ps->p->max_idle_s);
}

ENUM_KEY(k_on_stale_mode, "on-stale", on_stale, "quarantine", "refuse", "warn")

static int k_on_stale(struct parse *ps, const char *v)
{
	ps->p->has_dormancy = true;
	return k_on_stale_mode(ps, v);
}

static const struct key_def keys[] = {
	{ SEC_CELL, "name", false, k_name },
	{ SEC_CELL, "description", false, k_description },
	{ SEC_CELL, "owner", false, k_owner },
	{ SEC_CELL, "reviewed", false, k_reviewed },
	{ SEC_MACHINE, "type", false, k_type },
	{ SEC_MACHINE, "memory", false, k_memory },
	{ SEC_MACHINE, "cpus", false, k_cpus },
	{ SEC_MACHINE, "accel", false, k_accel },
	{ SEC_MACHINE, "rtc", false, k_rtc },
	{ SEC_MACHINE, "input", false, k_input },
	{ SEC_MACHINE, "display", false, k_display },
	{ SEC_MACHINE, "shutdown-timeout", false, k_shutdown_timeout },
	{ SEC_DISK, "image", false, k_image },
	{ SEC_DISK, "sha256", false, k_sha256 },
	{ SEC_DISK, "format", false, k_format },
	{ SEC_DISK, "bus", false, k_bus },
	{ SEC_DISK, "mode", false, k_mode_disk },
	{ SEC_NETWORK, "mode", false, k_mode_net },
	{ SEC_NETWORK, "nic", false, k_nic },
	{ SEC_NETWORK, "allow", true, k_allow },
	{ SEC_NETWORK, "dns", false, k_dns },
	{ SEC_NETWORK, "dns-allow", true, k_dns_allow },
	{ SEC_NETWORK, "host-access", false, k_host_access },
	{ SEC_NETWORK, "on-failure", false, k_on_failure },
	{ SEC_NETWORK, "bridge", false, k_bridge },
	{ SEC_NETWORK, "address", false, k_address },
	{ SEC_NETWORK, "gateway", false, k_gateway },
	{ SEC_CONSOLE, "listen", false, k_listen },
	{ SEC_CONSOLE, "keys", false, k_keys },
	{ SEC_CONSOLE, "clipboard", false, k_clipboard },
	{ SEC_CONSOLE, "serial", false, k_serial },
	{ SEC_CONSOLE, "handshake-timeout", false, k_handshake_timeout },
	{ SEC_CONSOLE, "max-sessions", false, k_max_sessions },
	{ SEC_CONSOLE, "idle-timeout", false, k_idle_timeout },
	{ SEC_SNAPSHOTS, "keep", false, k_keep },
	{ SEC_SNAPSHOTS, "max-age", false, k_max_age },
	{ SEC_LIMITS, "cpu-quota", false, k_cpu_quota },
	{ SEC_LIMITS, "memory-max", false, k_memory_max },
	{ SEC_LIMITS, "pids-max", false, k_pids_max },
	{ SEC_LIMITS, "on-unavailable", false, k_on_unavailable },
	{ SEC_DORMANCY, "max-idle", false, k_max_idle },
	{ SEC_DORMANCY, "on-stale", false, k_on_stale },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(N_KEYS <= 64, "key_line[] is too small");

void profile_print_keys(FILE *f)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		fprintf(f, "%s %s%s\n", section_names[keys[i].sec], keys[i].name,
			keys[i].repeat ? " repeatable" : "");
}

/* --- the line reader and the inih handler ------------------------------- */

/* Length of a valid UTF-8 sequence starting at s, or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
			return 0;	/* overlong, surrogates */
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static int check_section(struct parse *ps, char *s)
{
	char *end = strchr(s, ']');
	int i;

	if (!end || end[1] != '\0')
		return fail(ps, "malformed section header '%s'", s);
	*end = '\0';
	for (i = 0; i < SEC_COUNT; i++) {
		if (strcmp(s + 1, section_names[i]))
			continue;
		if (ps->section_line[i])
			return fail(ps, "section [%s] repeated (first on line %d)",
				    s + 1, ps->section_line[i]);
		ps->section_line[i] = ps->line;
		ps->sec = (enum section_id)i;
		*end = ']';
		return 0;
	}
	return fail(ps, "unknown section [%s]", s + 1);
}

/* Raw line filter between the file and libinih, see the top comment. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	size_t n, i;
	char *s;
	int c;

	if (ps->failed)
		return NULL;
	/* Read one whole line into str ourselves so we see its real length. */
	for (n = 0;;) {
		c = getc(ps->f);
		if (c == EOF)
			break;
		if (c == '\0') {
			ps->line++;
			fail(ps, "NUL byte in profile");
			return NULL;
		}
		if (n + 2 >= (size_t)num || n >= LINE_MAX_CHARS) {
			ps->line++;
			fail(ps, "line longer than %d characters", LINE_MAX_CHARS);
			return NULL;
		}
		str[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (n == 0)
		return NULL;
	str[n] = '\0';
	ps->line++;

	/* Strip the line ending; a lone CR anywhere is refused below. */
	if (str[n - 1] == '\n')
		str[--n] = '\0';
	if (n && str[n - 1] == '\r')
		str[--n] = '\0';

	for (i = 0; i < n;) {
		unsigned char u = (unsigned char)str[i];
		size_t l;

		if (u < 0x20 && u != '\t')
			goto ctl;
		if (u == 0x7f)
			goto ctl;
		l = utf8_len((const unsigned char *)str + i);
		if (!l || i + l > n) {
			fail(ps, "invalid UTF-8");
			return NULL;
		}
		i += l;
	}

	/* Inline comments: whitespace then '#'. */
	for (i = 1; i < n; i++) {
		if (str[i] == '#' && (str[i - 1] == ' ' || str[i - 1] == '\t')) {
			str[i] = '\0';
			break;
		}
	}
	rstrip(str);

	s = str;
	if (*s == ' ' || *s == '\t') {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s && *s != '#' && *s != ';') {
			fail(ps, "indented line: continuation lines are not allowed");
			return NULL;
		}
		str[0] = '\0';	/* blank or comment-only */
		str[1] = '\n';
		return str;
	}
	if (*s == '[') {
		if (check_section(ps, s))
			return NULL;
	} else if (*s && *s != '#' && *s != ';') {
		char *eq = strchr(s, '=');

		if (!eq) {
			fail(ps, "expected 'key = value', '[section]' or a comment");
			return NULL;
		}
		if (ps->sec == SEC_NONE) {
			fail(ps, "key outside any section");
			return NULL;
		}
	}
	strcat(str, "\n");
	return str;
ctl:
	fail(ps, "control character in profile");
	return NULL;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse *ps = user;
	struct profile *p = ps->p;
	size_t i;

	if (ps->failed)
		return 0;
	for (i = 0; i < N_KEYS; i++) {
		if (strcmp(section, section_names[keys[i].sec]) ||
		    strcmp(name, keys[i].name))
			continue;
		if (ps->key_line[i] && !keys[i].repeat)
			return fail(ps, "duplicate key '%s' (first on line %d)",
				    name, ps->key_line[i]), 0;
		if (!ps->key_line[i])
			ps->key_line[i] = ps->line;
		if (!*value)
			return fail(ps, "%s: empty value", name), 0;
		if (p->n_lines < PROFILE_MAX_LINES) {
			struct profile_line *l = &p->lines[p->n_lines++];

			snprintf(l->section, sizeof(l->section), "%s", section);
			snprintf(l->key, sizeof(l->key), "%s", name);
			snprintf(l->value, sizeof(l->value), "%s", value);
			l->line = ps->line;
		}
		return keys[i].fn(ps, value) ? 0 : 1;
	}
	return fail(ps, "unknown key '%s' in [%s]", name, section), 0;
}

/* --- after the file: requirements and cross-field rules ----------------- */

static int at_line(struct parse *ps, int line)
{
	ps->line = line;
	return 0;
}

static int resolve(struct parse *ps, const char *key, const char *raw,
		   int line, char *out, bool *exists)
{
	struct err pe;
	int r;

	at_line(ps, line);
	r = path_resolve_file(ps->p->dir, raw,
			      ps->flags & PROFILE_FILES_MUST_EXIST, out,
			      PATH_MAX, &pe);
	if (r)
		return fail(ps, "%s: %s", key, pe.msg);
	*exists = access(out, F_OK) == 0;
	return 0;
}

static int finish(struct parse *ps)
{
	struct profile *p = ps->p;
	int last = ps->line;

	if (!ps->section_line[SEC_CELL] || !p->name[0])
		return at_line(ps, ps->section_line[SEC_CELL] ? ps->section_line[SEC_CELL] : 1),
		       fail(ps, "[cell] name is required");

	if (ps->section_line[SEC_DISK]) {
		if (!p->has_disk)
			return at_line(ps, ps->section_line[SEC_DISK]),
			       fail(ps, "[disk] needs an image");
		if (resolve(ps, "image", ps->image_raw, ps->image_line,
			    p->image, &p->image_exists))
			return -EINVAL;
	}

	if (p->net == NET_NONE && p->n_allow)
		return at_line(ps, p->allow_line[0]),
		       fail(ps, "allow rules need [network] mode = user or nft");
	if (p->net != NET_NFT && (p->bridge[0] || p->has_guest_address ||
				  p->has_gateway))
		return at_line(ps, ps->section_line[SEC_NETWORK]),
		       fail(ps, "bridge, address and gateway are for mode = nft");
	if (p->net == NET_NFT && !p->has_guest_address)
		return at_line(ps, ps->section_line[SEC_NETWORK]),
		       fail(ps, "mode = nft needs the guest's address (address = A.B.C.D/N)");
	if (p->net == NET_NFT && check_nft(ps))	/* nft mode validation */
		return -EINVAL;
	if (p->n_dns_allow && p->dns != DNS_ALLOWLIST)
		return at_line(ps, ps->dns_line ? ps->dns_line : ps->section_line[SEC_NETWORK]),
		       fail(ps, "dns-allow needs dns = allowlist");
	if (p->dns == DNS_ALLOWLIST && !p->n_dns_allow)
		return at_line(ps, ps->dns_line),
		       fail(ps, "dns = allowlist needs at least one dns-allow name");
	if (p->dns == DNS_ALLOWLIST && p->net == NET_NONE)
		return at_line(ps, ps->dns_line),
		       fail(ps, "dns = allowlist needs [network] mode = user or nft");

	if (ps->section_line[SEC_CONSOLE]) {
		if (!p->has_console)
			return at_line(ps, ps->section_line[SEC_CONSOLE]),
			       fail(ps, "[console] needs listen = ADDRESS:PORT");
		if (!ps->keys_raw[0])
			return at_line(ps, ps->section_line[SEC_CONSOLE]),
			       fail(ps, "[console] needs keys = FILE (authorized keys and roles)");
		if (resolve(ps, "keys", ps->keys_raw, ps->keys_line, p->keys,
			    &p->keys_exists))
			return -EINVAL;
	}
	if (ps->section_line[SEC_DORMANCY] && !p->max_idle_s)
		return at_line(ps, ps->section_line[SEC_DORMANCY]),
		       fail(ps, "[dormancy] needs max-idle");
	if (ps->section_line[SEC_LIMITS] && !p->cpu_quota_pct &&
	    !p->memory_max_mib && !p->pids_max)
		return at_line(ps, ps->section_line[SEC_LIMITS]),
		       fail(ps, "[limits] sets no limit");
	if (p->memory_max_mib && p->memory_max_mib < p->memory_mib + 64)
		return at_line(ps, profile_find_line(p, "limits", "memory-max")->line),
		       fail(ps, "memory-max must leave QEMU at least 64M above memory (%lluM)",
			    (unsigned long long)p->memory_mib);
	ps->line = last;
	return 0;
}

static void defaults(struct profile *p)
{
	p->machine = MACHINE_PC;
	p->memory_mib = 256;
	p->cpus = 1;
	p->accel = ACCEL_AUTO;
	p->rtc = RTC_LOCALTIME;
	p->input = INPUT_PS2;
	p->display = DISPLAY_STD;
	p->shutdown_timeout_s = 60;
	p->format = FORMAT_QCOW2;
	p->bus = BUS_IDE;
	p->disk_mode = DISK_EPHEMERAL;
	p->net = NET_NONE;
	p->nic = NIC_E1000;
	p->dns = DNS_NONE;
	p->net_failure = NETFAIL_STOP;
	p->clipboard = CLIPBOARD_NONE;
	p->serial = false;
	p->handshake_timeout_s = 10;
	p->max_sessions = 16;
	p->idle_timeout_s = 3600;
	p->limits_fallback = LIMITS_REFUSE;
	p->on_stale = STALE_QUARANTINE;
}

int profile_load(const char *path, unsigned flags, struct profile *p,
		 struct err *e)
{
	struct parse ps = { .p = p, .e = e, .flags = flags, .sec = SEC_NONE };
	struct stat st;
	int ret = 0, r;

	memset(p, 0, sizeof(*p));
	defaults(p);
	if (snprintf(p->path, sizeof(p->path), "%s", path) >= (int)sizeof(p->path) ||
	    path_dirname(path, p->dir, sizeof(p->dir)))
		return err_set(e, ENAMETOOLONG, "%s: path too long", path);

	ps.f = fopen(path, "re");
	if (!ps.f)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	if (fstat(fileno(ps.f), &st)) {
		ret = err_set(e, errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = err_set(e, EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > PROFILE_FILE_MAX) {
		ret = err_set(e, EFBIG, "%s: larger than %d bytes", path,
			      PROFILE_FILE_MAX);
		goto out;
	}

	r = ini_parse_stream(read_line, &ps, handler, &ps);
	if (ps.failed) {
		ret = -EINVAL;
		goto out;
	}
	if (r) {
		/* inih found something our reader let through. */
		ps.line = r > 0 ? r : ps.line;
		ret = fail(&ps, "syntax error");
		goto out;
	}
	if (ferror(ps.f)) {
		ret = err_set(e, EIO, "%s: read error", path);
		goto out;
	}
	ret = finish(&ps);
out:
	fclose(ps.f);
	return ret;
}

const struct profile_line *profile_find_line(const struct profile *p,
					     const char *section,
					     const char *key)
{
	unsigned i;

	for (i = 0; i < p->n_lines; i++)
		if (!strcmp(p->lines[i].section, section) &&
		    !strcmp(p->lines[i].key, key))
			return &p->lines[i];
	return NULL;
}

const char *profile_machine_str(enum machine_type m)
{
	return m == MACHINE_Q35 ? "q35" : "pc";
}

const char *profile_bus_str(enum disk_bus b)
{
	static const char *const s[] = { "ide", "ahci", "virtio" };

	return s[b];
}

const char *profile_nic_str(enum nic_model n)
{
	static const char *const s[] = { "e1000", "rtl8139", "pcnet", "ne2k_pci" };

	return s[n];
}

const char *profile_display_str(enum display_dev d)
{
	static const char *const s[] = { "std", "cirrus", "vmware", "none" };

	return s[d];
}

const char *profile_net_str(enum net_mode n)
{
	static const char *const s[] = { "none", "user", "nft" };

	return s[n];
}
