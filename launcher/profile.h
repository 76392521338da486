/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * profile.h - a cell's profile: the parsed, validated security policy
 *
 * Everything walloff does to a cell derives from this structure; nothing is
 * read from the profile file after profile_load() returns. The raw key/value
 * lines are kept too (struct profile_line), so that `walloff review` can
 * quote the exact line as evidence.
 */
#ifndef WALLOFF_PROFILE_H
#define WALLOFF_PROFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "err.h"
#include "rule.h"

#define PROFILE_NAME_MAX	32	/* [a-z0-9-]{1,32}: used in paths, unit names */
#define PROFILE_TEXT_MAX	160	/* description/owner: one readable line */
#define PROFILE_MAX_ALLOW	64	/* an allowlist longer than this is not reviewable */
#define PROFILE_MAX_DNS		32
#define PROFILE_DNS_NAME_MAX	253	/* RFC 1035 presentation length */
#define PROFILE_MAX_LINES	256	/* key lines kept as evidence */
#define PROFILE_VALUE_MAX	200	/* libinih's line buffer bounds values anyway */

enum machine_type { MACHINE_PC, MACHINE_Q35 };
enum accel_mode { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };
enum rtc_base { RTC_UTC, RTC_LOCALTIME };
enum input_dev { INPUT_PS2, INPUT_USB_TABLET };
enum display_dev { DISPLAY_STD, DISPLAY_CIRRUS, DISPLAY_VMWARE, DISPLAY_NONE };
enum disk_bus { BUS_IDE, BUS_AHCI, BUS_VIRTIO };
enum disk_mode { DISK_EPHEMERAL, DISK_PERSISTENT };
enum disk_format { FORMAT_QCOW2, FORMAT_RAW };
enum net_mode { NET_NONE, NET_USER, NET_NFT };
enum nic_model { NIC_E1000, NIC_RTL8139, NIC_PCNET, NIC_NE2K_PCI };
enum dns_mode { DNS_NONE, DNS_ALLOWLIST };
enum net_failure { NETFAIL_STOP, NETFAIL_RESTART };
enum clipboard_policy { CLIPBOARD_NONE, CLIPBOARD_TO_GUEST };
enum limits_fallback { LIMITS_REFUSE, LIMITS_DEGRADE };
enum stale_action { STALE_QUARANTINE, STALE_REFUSE, STALE_WARN };

/* One "key = value" line as written, for evidence in reports. */
struct profile_line {
	char section[16];
	char key[24];
	char value[PROFILE_VALUE_MAX];
	int line;
};

struct profile {
	char path[PATH_MAX];		/* the profile file as given */
	char dir[PATH_MAX];		/* its folder: relative paths start here */

	/* [cell] */
	char name[PROFILE_NAME_MAX + 1];
	char description[PROFILE_TEXT_MAX + 1];
	char owner[PROFILE_TEXT_MAX + 1];
	bool has_reviewed;
	time_t reviewed;		/* UTC midnight of the review date */

	/* [machine] */
	enum machine_type machine;
	uint64_t memory_mib;
	unsigned cpus;
	enum accel_mode accel;
	enum rtc_base rtc;
	enum input_dev input;
	enum display_dev display;
	unsigned shutdown_timeout_s;

	/* [disk] */
	bool has_disk;
	char image[PATH_MAX];		/* resolved absolute path */
	bool image_exists;
	bool has_sha256;
	uint8_t sha256[32];
	enum disk_format format;
	enum disk_bus bus;
	enum disk_mode disk_mode;

	/* [network] */
	enum net_mode net;
	enum nic_model nic;
	struct rule allow[PROFILE_MAX_ALLOW];
	int allow_line[PROFILE_MAX_ALLOW];
	unsigned n_allow;
	enum dns_mode dns;
	char dns_allow[PROFILE_MAX_DNS][PROFILE_DNS_NAME_MAX + 1];
	unsigned n_dns_allow;
	bool host_access;
	enum net_failure net_failure;
	char bridge[16];		/* nft mode: IFNAMSIZ */
	bool has_guest_address;
	uint32_t guest_address;		/* nft mode, host byte order */
	uint8_t guest_prefix;
	bool has_gateway;
	uint32_t gateway;

	/* [console] */
	bool has_console;
	uint32_t listen_addr;		/* host byte order */
	uint16_t listen_port;
	char keys[PATH_MAX];		/* resolved */
	bool keys_exists;
	enum clipboard_policy clipboard;
	bool serial;
	unsigned handshake_timeout_s;
	unsigned max_sessions;
	unsigned idle_timeout_s;

	/* [snapshots] */
	bool has_snapshots;
	unsigned snapshot_keep;
	uint64_t snapshot_max_age_s;

	/* [limits] */
	bool has_limits;
	unsigned cpu_quota_pct;		/* 0: not set */
	uint64_t memory_max_mib;	/* 0: not set */
	unsigned pids_max;		/* 0: not set */
	enum limits_fallback limits_fallback;

	/* [dormancy] */
	bool has_dormancy;
	uint64_t max_idle_s;
	enum stale_action on_stale;

	/* evidence */
	struct profile_line lines[PROFILE_MAX_LINES];
	unsigned n_lines;
};

/* Flags for profile_load() */
#define PROFILE_FILES_MUST_EXIST 1u	/* image/keys must exist (walloff run) */

/**
 * profile_load() - parse and validate a profile file
 * @path:	profile file
 * @flags:	PROFILE_* flags
 * @p:		output (large: allocate it, do not put it on a small stack)
 * @e:		error as "path:line: reason"
 *
 * Return: 0 or -errno (-EINVAL for an invalid profile)
 */
int profile_load(const char *path, unsigned flags, struct profile *p,
		 struct err *e);

/**
 * profile_name_valid() - is this a valid cell name ([a-z0-9-]{1,32}, not
 * starting with '-')?
 * @name:	text
 *
 * Return: true if valid
 */
bool profile_name_valid(const char *name);

/**
 * profile_print_keys() - print every accepted section and key, one per line
 * as "SECTION KEY", plus " repeatable" for keys that may repeat; the man
 * page test (tests/docs/) checks walloff.cell(5) against this list
 * @f:		where to print
 */
void profile_print_keys(FILE *f);

/**
 * profile_find_line() - the evidence line of a key
 * @p:		profile
 * @section:	section name
 * @key:	key name
 *
 * Return: the first matching line, or NULL if the key was not written
 */
const struct profile_line *profile_find_line(const struct profile *p,
					     const char *section,
					     const char *key);

/**
 * profile_parse_size_mib() - "512M", "2G" to MiB
 * @s:		text
 * @mib:	output
 *
 * Return: 0 or -EINVAL
 */
int profile_parse_size_mib(const char *s, uint64_t *mib);

/**
 * profile_parse_duration() - "30d", "12h", "15m", "90s" to seconds
 * @s:		text
 * @secs:	output
 *
 * Return: 0 or -EINVAL
 */
int profile_parse_duration(const char *s, uint64_t *secs);

/* Names of enum values as written in profiles, for argv, reports, JSON. */
const char *profile_machine_str(enum machine_type m);
const char *profile_bus_str(enum disk_bus b);
const char *profile_nic_str(enum nic_model n);
const char *profile_display_str(enum display_dev d);
const char *profile_net_str(enum net_mode n);

#endif /* WALLOFF_PROFILE_H */
