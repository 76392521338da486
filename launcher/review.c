/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * review.c - the controls of `walloff review`, in one table
 *
 * Each row of controls[] is one piece of the standard advice for systems
 * that can no longer be patched (wall it off, keep it off the domain, block
 * outbound traffic, least access, control images and snapshots, limit
 * resources, keep someone answerable): an id, a title, a rationale and a
 * check. A check reads only the validated struct profile (and, for the
 * console, the keys file it names) and fills one struct review_result: a
 * status, a one-line summary and evidence lines that point at the profile
 * line ("file:line: key = value") or say "not set" when a default applies.
 *
 * The verdict rule (see review.h): FAIL when the cell is exposed now, WARN
 * for hygiene. Checks never fail themselves; a keys file that cannot be read
 * is a FAIL of the console control, not an error of the review.
 *
 * The device list is not re-described here: it is read back from the argv
 * that qemu_argv_build() would give QEMU, so the report shows exactly the
 * device model `walloff run` builds (and verifies over QMP before the guest
 * runs).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "qemu_argv.h"
#include "review.h"
#include "strv.h"

#define DAY 86400

/* Wider than this many ports is not "a service" any more (WARN). */
#define PORTS_NARROW_MAX 1024

const char *review_status_str(enum review_status s)
{
	static const char *const names[] = { "PASS", "WARN", "FAIL" };

	return names[s];
}

void review_date_str(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d", &tm);
}

/* --- building results ---------------------------------------------------- */

static void worsen(struct review_result *r, enum review_status s)
{
	if (s > r->status)
		r->status = s;
}

static void summary(struct review_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void summary(struct review_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->summary, sizeof(r->summary), fmt, ap);
	va_end(ap);
}

static struct review_evidence *ev_new(struct review_result *r,
				      enum review_where where, int line,
				      const char *key, const char *value)
{
	struct review_evidence *ev;

	if (r->n_ev >= REVIEW_EVIDENCE_MAX)
		return NULL;
	ev = &r->ev[r->n_ev++];
	ev->where = where;
	ev->line = line;
	snprintf(ev->key, sizeof(ev->key), "%s", key);
	snprintf(ev->value, sizeof(ev->value), "%s", value);
	ev->note[0] = '\0';
	return ev;
}

static void ev_note(struct review_evidence *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ev_note(struct review_evidence *ev, const char *fmt, ...)
{
	va_list ap;

	if (!ev)
		return;
	va_start(ap, fmt);
	vsnprintf(ev->note, sizeof(ev->note), fmt, ap);
	va_end(ap);
}

/* Evidence for "section.key": its line, or "not set". */
static struct review_evidence *ev_key(struct review_result *r,
				      const struct profile *p,
				      const char *section, const char *key)
{
	const struct profile_line *l = profile_find_line(p, section, key);
	char name[REVIEW_KEY_MAX];

	snprintf(name, sizeof(name), "%s.%s", section, key);
	if (!l)
		return ev_new(r, REVIEW_NOT_SET, 0, name, "");
	return ev_new(r, REVIEW_IN_PROFILE, l->line, name, l->value);
}

/* Evidence for allow rule i, quoted as written. */
static struct review_evidence *ev_allow(struct review_result *r,
					const struct profile *p, unsigned i)
{
	char text[RULE_TEXT_MAX];
	unsigned k;

	for (k = 0; k < p->n_lines; k++)
		if (p->lines[k].line == p->allow_line[i])
			return ev_new(r, REVIEW_IN_PROFILE, p->allow_line[i],
				      "network.allow", p->lines[k].value);
	rule_format(&p->allow[i], text, sizeof(text));
	return ev_new(r, REVIEW_IN_PROFILE, p->allow_line[i], "network.allow",
		      text);
}

/* Evidence for [network] mode, saying what the default means. */
static struct review_evidence *ev_net_mode(struct review_result *r,
					   const struct profile *p)
{
	struct review_evidence *ev = ev_key(r, p, "network", "mode");

	if (ev && ev->where == REVIEW_NOT_SET)
		ev_note(ev, "default: none (no network card)");
	return ev;
}

/* Evidence for a key whose default applies, saying which default. */
static void ev_default(struct review_result *r, const struct profile *p,
		       const char *section, const char *key, const char *dflt)
{
	struct review_evidence *ev = ev_key(r, p, section, key);

	if (ev && ev->where == REVIEW_NOT_SET)
		ev_note(ev, "default: %s", dflt);
}

/* --- classifications ----------------------------------------------------- */

enum review_status review_prefix_status(unsigned prefix)
{
	if (prefix < 16)
		return REVIEW_FAIL;
	if (prefix < 24)
		return REVIEW_WARN;
	return REVIEW_PASS;
}

enum review_status review_ports_status(const struct rule *r)
{
	unsigned width;

	if (r->proto == RULE_PROTO_ICMP)
		return REVIEW_PASS;
	width = (unsigned)r->port_hi - r->port_lo + 1;
	if (r->port_lo <= 1 && r->port_hi == 65535)
		return REVIEW_FAIL;
	if (width > PORTS_NARROW_MAX)
		return REVIEW_WARN;
	return REVIEW_PASS;
}

/* The domain ports are common/rule.c's, shared with the network audit tags. */

unsigned review_domain_ports(const struct rule *r, char *out, size_t len)
{
	unsigned n = 0;
	size_t i, used = 0;

	if (len)
		out[0] = '\0';
	if (r->proto == RULE_PROTO_ICMP)
		return 0;
	for (i = 0; i < rule_n_domain_ports; i++) {
		int w;

		if (rule_domain_ports[i].port < r->port_lo ||
		    rule_domain_ports[i].port > r->port_hi)
			continue;
		if (used < len) {
			w = snprintf(out + used, len - used, "%s%u (%s)",
				     n ? ", " : "", rule_domain_ports[i].port,
				     rule_domain_ports[i].name);
			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}

/* --- the checks ---------------------------------------------------------- */

static void check_devices(const struct profile *p,
			  const struct review_report *rep,
			  struct review_result *r)
{
	struct qemu_plan plan = { .qemu = "qemu-system-x86_64",
				  .run_dir = "/run/walloff/review",
				  .kvm = false };
	struct strv sv = { 0 };
	char list[REVIEW_NOTE_MAX] = "";
	size_t used = 0, i;
	struct err e;

	if (qemu_argv_build(p, &plan, &sv, &e)) {
		worsen(r, REVIEW_FAIL);
		summary(r, "no device model can be built: %s", e.msg);
		goto evidence;
	}
	for (i = 0; i + 1 < sv.n; i++) {
		json_t *j;
		const char *drv;
		int w;

		if (strcmp(sv.v[i], "-device"))
			continue;
		j = json_loads(sv.v[i + 1], 0, NULL);
		drv = json_string_value(json_object_get(j, "driver"));
		if (drv && used < sizeof(list)) {
			w = snprintf(list + used, sizeof(list) - used, ", %s",
				     drv);
			used += w > 0 ? (size_t)w : 0;
		}
		json_decref(j);
	}
	summary(r, "%s built-ins%s; no passthrough or raw options exist",
		p->machine == MACHINE_Q35 ? "q35 (ICH9)" : "pc (i440fx/PIIX3)",
		list);
evidence:
	strv_free(&sv);
	ev_default(r, p, "machine", "type", profile_machine_str(p->machine));
	ev_default(r, p, "machine", "display", profile_display_str(p->display));
	ev_default(r, p, "machine", "input",
		   p->input == INPUT_USB_TABLET ? "usb-tablet" : "ps2");
	if (p->has_disk)
		ev_default(r, p, "disk", "bus", profile_bus_str(p->bus));
	if (p->net != NET_NONE)
		ev_default(r, p, "network", "nic", profile_nic_str(p->nic));
}

static void check_egress(const struct profile *p,
			 const struct review_report *rep,
			 struct review_result *r)
{
	unsigned i, n_rules = 0, broad = 0;

	if (p->net == NET_NONE) {
		summary(r, "network mode none: the cell has no network card");
		ev_net_mode(r, p);
		return;
	}
	ev_note(ev_key(r, p, "network", "mode"),
		"everything not allowed below is denied");
	for (i = 0; i < p->n_allow; i++) {
		const struct rule *ru = &p->allow[i];
		enum review_status ps, pp;
		struct review_evidence *ev;

		if (ru->host)
			continue;	/* the host-loopback control */
		n_rules++;
		ps = review_prefix_status(ru->prefix);
		pp = review_ports_status(ru);
		ev = ev_allow(r, p, i);
		if (ps == REVIEW_PASS && pp == REVIEW_PASS) {
			ev_note(ev, "narrow");
			continue;
		}
		broad++;
		worsen(r, ps);
		worsen(r, pp);
		if (ps != REVIEW_PASS && pp != REVIEW_PASS)
			ev_note(ev, "%s: /%u (%llu addresses) and %u ports",
				review_status_str(ps > pp ? ps : pp),
				ru->prefix, 1ULL << (32 - ru->prefix),
				(unsigned)ru->port_hi - ru->port_lo + 1);
		else if (ps != REVIEW_PASS && ru->proto == RULE_PROTO_ICMP)
			ev_note(ev, "%s: /%u: pings (and ICMP tunnels) to %llu "
				"addresses", review_status_str(ps), ru->prefix,
				1ULL << (32 - ru->prefix));
		else if (ps != REVIEW_PASS)
			ev_note(ev, "%s: /%u reaches %llu addresses",
				review_status_str(ps), ru->prefix,
				1ULL << (32 - ru->prefix));
		else if (pp == REVIEW_FAIL)
			ev_note(ev, "FAIL: all ports");
		else
			ev_note(ev, "WARN: %u ports",
				(unsigned)ru->port_hi - ru->port_lo + 1);
	}
	if (!n_rules)
		summary(r, "default deny: no allow rule to the network");
	else if (!broad)
		summary(r, "default deny; %u narrow allow rule%s", n_rules,
			n_rules == 1 ? "" : "s");
	else
		summary(r, "%u of %u allow rules %s broad (shorter than /24 or "
			"more than %d ports)", broad, n_rules,
			broad == 1 ? "is" : "are", PORTS_NARROW_MAX);
}

static void check_domain_ports(const struct profile *p,
			       const struct review_report *rep,
			       struct review_result *r)
{
	char ports[REVIEW_NOTE_MAX];
	unsigned i, hits = 0;

	if (p->net == NET_NONE) {
		summary(r, "network mode none: no domain controller is reachable");
		ev_net_mode(r, p);
		return;
	}
	for (i = 0; i < p->n_allow; i++) {
		if (!review_domain_ports(&p->allow[i], ports, sizeof(ports)))
			continue;
		hits++;
		worsen(r, REVIEW_FAIL);
		ev_note(ev_allow(r, p, i), "reaches %s", ports);
	}
	if (hits)
		summary(r, "%u allow rule%s reach%s Kerberos/RPC/NetBIOS/LDAP/SMB "
			"ports", hits, hits == 1 ? "" : "s",
			hits == 1 ? "es" : "");
	else
		summary(r, "%u allow rule%s, none reaching 88, 135, 137-139, "
			"389, 445, 464, 636, 3268, 3269", p->n_allow,
			p->n_allow == 1 ? "" : "s");
	if (!hits)
		ev_key(r, p, "network", "mode");
}

static void check_host(const struct profile *p,
		       const struct review_report *rep,
		       struct review_result *r)
{
	struct review_evidence *ev;
	unsigned i, n_host = 0;

	if (p->net == NET_NONE) {
		summary(r, "network mode none: the host is unreachable");
		ev_net_mode(r, p);
		return;
	}
	ev = ev_key(r, p, "network", "host-access");
	if (p->host_access) {
		worsen(r, REVIEW_FAIL);
		ev_note(ev, "FAIL: every service on the host's loopback is reachable");
	} else {
		ev_note(ev, "default: deny");
		if (ev && ev->where == REVIEW_IN_PROFILE)
			ev->note[0] = '\0';
	}
	for (i = 0; i < p->n_allow; i++) {
		const struct rule *ru = &p->allow[i];
		enum review_status s;

		if (!ru->host)
			continue;
		n_host++;
		s = review_ports_status(ru);
		s = s == REVIEW_PASS ? REVIEW_WARN : REVIEW_FAIL;
		worsen(r, s);
		if (ru->proto == RULE_PROTO_ICMP)
			ev_note(ev_allow(r, p, i), "WARN: the host answers pings");
		else if (ru->port_lo == ru->port_hi)
			ev_note(ev_allow(r, p, i), "%s: host port %u",
				review_status_str(s), ru->port_lo);
		else if (ru->port_lo <= 1 && ru->port_hi == 65535)
			ev_note(ev_allow(r, p, i), "FAIL: every host port");
		else
			ev_note(ev_allow(r, p, i), "%s: %u host ports",
				review_status_str(s),
				(unsigned)ru->port_hi - ru->port_lo + 1);
	}
	if (p->host_access)
		summary(r, "host-access = allow: the guest reaches the host's loopback");
	else if (n_host)
		summary(r, "%u allow rule%s to the host's loopback", n_host,
			n_host == 1 ? "" : "s");
	else
		summary(r, "the guest cannot reach the host's loopback");
}

static void check_dns(const struct profile *p, const struct review_report *rep,
		      struct review_result *r)
{
	unsigned i;

	if (p->net == NET_NONE) {
		summary(r, "network mode none: no DNS");
		ev_net_mode(r, p);
		return;
	}
	if (p->dns == DNS_NONE) {
		summary(r, "DNS off: the guest resolves nothing");
		ev_default(r, p, "network", "dns", "none");
		return;
	}
	summary(r, "DNS answers only %u listed name%s", p->n_dns_allow,
		p->n_dns_allow == 1 ? "" : "s");
	ev_key(r, p, "network", "dns");
	for (i = 0; i < p->n_lines; i++)
		if (!strcmp(p->lines[i].section, "network") &&
		    !strcmp(p->lines[i].key, "dns-allow"))
			ev_new(r, REVIEW_IN_PROFILE, p->lines[i].line,
			       "network.dns-allow", p->lines[i].value);
}

static void check_console(const struct profile *p,
			  const struct review_report *rep,
			  struct review_result *r)
{
	struct keyfile_summary ks;
	struct review_evidence *ev;
	struct err e;
	char addr[16];

	if (!p->has_console) {
		summary(r, "no console: nothing listens for a viewer");
		ev_key(r, p, "console", "listen");
		return;
	}
	snprintf(addr, sizeof(addr), "%u.%u.%u.%u", p->listen_addr >> 24,
		 (p->listen_addr >> 16) & 255, (p->listen_addr >> 8) & 255,
		 p->listen_addr & 255);
	ev_note(ev_key(r, p, "console", "listen"),
		"Noise_XX proxy; QEMU's VNC is a unix socket only");
	ev = ev_key(r, p, "console", "keys");
	if (keyfile_inspect(rep->keys_path, &ks, &e)) {
		worsen(r, REVIEW_FAIL);
		ev_note(ev, "FAIL: cannot read the keys file: %s", strerror(e.code));
		summary(r, "keys file unreadable: nobody can be authorised");
		return;
	}
	if (ks.is_symlink || !ks.is_regular) {
		worsen(r, REVIEW_FAIL);
		ev_note(ev, "FAIL: %s", ks.is_symlink ?
			"is a symbolic link (its target can be swapped)" :
			"not a regular file");
		summary(r, "keys file is not a plain file");
		return;
	}
	if (ks.mode & 022) {
		worsen(r, REVIEW_FAIL);
		ev_note(ev, "FAIL: mode %04o: others can change who gets in",
			ks.mode);
		summary(r, "keys file writable by group or others");
	} else if (ks.mode & 004) {
		worsen(r, REVIEW_FAIL);
		ev_note(ev, "FAIL: mode %04o: world-readable", ks.mode);
		summary(r, "keys file readable by everyone on the host");
	} else if (ks.mode & 040) {
		worsen(r, REVIEW_WARN);
		ev_note(ev, "WARN: mode %04o: group-readable", ks.mode);
		summary(r, "keys file readable by its group");
	} else if (ks.bad_line) {
		ev_note(ev, "mode %04o", ks.mode);	/* no key counts */
	} else {
		ev_note(ev, "mode %04o; %u admin, %u operate, %u view", ks.mode,
			ks.n_keys[ROLE_ADMIN], ks.n_keys[ROLE_OPERATE],
			ks.n_keys[ROLE_VIEW]);
	}
	if (ks.bad_line) {
		worsen(r, REVIEW_FAIL);
		ev_note(ev_new(r, REVIEW_IN_KEYS, ks.bad_line, "keys", ""),
			"FAIL: %s", ks.bad_reason);
		summary(r, "keys file line %d is invalid", ks.bad_line);
		return;
	}
	if (!ks.n_keys[ROLE_ADMIN]) {
		worsen(r, REVIEW_FAIL);
		ev_note(ev_new(r, REVIEW_IN_KEYS, 0, "keys", ""),
			"FAIL: no admin key (%u operate, %u view)",
			ks.n_keys[ROLE_OPERATE], ks.n_keys[ROLE_VIEW]);
		summary(r, "no admin key: the cell cannot be administered");
		return;
	}
	if (r->status != REVIEW_PASS)
		return;
	summary(r, "encrypted proxy on %s:%u; %u admin, %u operate, %u view key%s",
		addr, p->listen_port, ks.n_keys[ROLE_ADMIN],
		ks.n_keys[ROLE_OPERATE], ks.n_keys[ROLE_VIEW],
		ks.n_keys[ROLE_VIEW] == 1 ? "" : "s");
}

static void check_clipboard(const struct profile *p,
			    const struct review_report *rep,
			    struct review_result *r)
{
	struct review_evidence *ev;

	if (!p->has_console) {
		summary(r, "no console: no clipboard");
		ev_key(r, p, "console", "listen");
		return;
	}
	ev = ev_key(r, p, "console", "clipboard");
	if (p->clipboard == CLIPBOARD_NONE) {
		summary(r, "no clipboard in either direction");
		if (ev && ev->where == REVIEW_NOT_SET)
			ev_note(ev, "default: none");
		return;
	}
	worsen(r, REVIEW_WARN);
	summary(r, "operators can paste text into the guest (never out of it)");
	ev_note(ev, "WARN: host-to-guest text");
}

static void check_image(const struct profile *p,
			const struct review_report *rep,
			struct review_result *r)
{
	if (!p->has_disk) {
		summary(r, "no disk");
		ev_key(r, p, "disk", "image");
		return;
	}
	ev_key(r, p, "disk", "image");
	if (p->has_sha256) {
		summary(r, "pinned: walloff run refuses an image with another hash");
		ev_key(r, p, "disk", "sha256");
		return;
	}
	worsen(r, REVIEW_FAIL);
	summary(r, "not pinned: any image at that path would boot");
	ev_note(ev_key(r, p, "disk", "sha256"), "FAIL: not set");
}

static void check_encrypted(const struct profile *p,
			    const struct review_report *rep,
			    struct review_result *r)
{
	struct review_evidence *ev;

	if (!p->has_disk) {
		summary(r, "no disk");
		ev_key(r, p, "disk", "image");
		return;
	}
	ev = ev_key(r, p, "disk", "mode");
	if (p->disk_mode == DISK_PERSISTENT) {
		summary(r, "persistent writes go to a LUKS-encrypted overlay");
		ev_note(ev, "walloff always encrypts persistent overlays");
	} else {
		summary(r, "ephemeral: writes are discarded when the cell stops");
		if (ev && ev->where == REVIEW_NOT_SET)
			ev_note(ev, "default: ephemeral");
	}
}

static void check_snapshots(const struct profile *p,
			    const struct review_report *rep,
			    struct review_result *r)
{
	const struct profile_line *keep, *age;
	struct review_evidence *ev;

	keep = profile_find_line(p, "snapshots", "keep");
	age = profile_find_line(p, "snapshots", "max-age");
	ev = ev_key(r, p, "snapshots", "keep");
	if (!keep) {
		worsen(r, REVIEW_WARN);
		ev_note(ev, "WARN: no count limit");
	}
	ev = ev_key(r, p, "snapshots", "max-age");
	if (!age) {
		worsen(r, REVIEW_WARN);
		ev_note(ev, "WARN: no age limit");
	} else if (p->snapshot_max_age_s > 365ULL * DAY) {
		worsen(r, REVIEW_WARN);
		ev_note(ev, "WARN: longer than a year");
	}
	if (!keep && !age)
		summary(r, "no retention: snapshots (memory, credentials) pile up");
	else if (r->status != REVIEW_PASS)
		summary(r, "retention only partly bounded");
	else
		summary(r, "at most %u snapshots, none older than %llu days",
			p->snapshot_keep,
			(unsigned long long)(p->snapshot_max_age_s / DAY));
}

static void check_limits(const struct profile *p,
			 const struct review_report *rep,
			 struct review_result *r)
{
	static const char *const keys[] = { "cpu-quota", "memory-max",
					    "pids-max" };
	struct review_evidence *ev;
	unsigned i, missing = 0;

	for (i = 0; i < 3; i++) {
		ev = ev_key(r, p, "limits", keys[i]);
		if (ev && ev->where == REVIEW_NOT_SET) {
			missing++;
			ev_note(ev, "WARN: not set");
		}
	}
	if (missing)
		worsen(r, REVIEW_WARN);
	if (p->limits_fallback == LIMITS_DEGRADE) {
		worsen(r, REVIEW_WARN);
		ev_note(ev_key(r, p, "limits", "on-unavailable"),
			"WARN: runs unlimited when cgroups are unavailable");
	}
	if (missing == 3)
		summary(r, "no limits: the guest may take the host's CPU, memory, processes");
	else if (missing)
		summary(r, "%u of 3 limits set", 3 - missing);
	else if (p->limits_fallback == LIMITS_DEGRADE)
		summary(r, "limits set, but dropped when cgroups are unavailable");
	else
		summary(r, "CPU, memory and process limits set; refused if unavailable");
}

static void check_dormancy(const struct profile *p,
			   const struct review_report *rep,
			   struct review_result *r)
{
	struct review_evidence *ev;

	ev = ev_key(r, p, "dormancy", "max-idle");
	if (!p->has_dormancy || !p->max_idle_s) {
		worsen(r, REVIEW_WARN);
		ev_note(ev, "WARN: not set");
		summary(r, "no dormancy policy: a forgotten copy can wake up stale");
		return;
	}
	if (p->max_idle_s > 365ULL * DAY) {
		worsen(r, REVIEW_WARN);
		ev_note(ev, "WARN: longer than a year");
	}
	ev = ev_key(r, p, "dormancy", "on-stale");
	if (p->on_stale == STALE_WARN) {
		worsen(r, REVIEW_WARN);
		ev_note(ev, "WARN: a stale cell still starts with its network");
	} else if (ev && ev->where == REVIEW_NOT_SET) {
		ev_note(ev, "default: quarantine");
	}
	summary(r, "idle for %llu days: %s",
		(unsigned long long)(p->max_idle_s / DAY),
		p->on_stale == STALE_QUARANTINE ? "starts without network" :
		p->on_stale == STALE_REFUSE ? "refused until reviewed" :
		"only a warning");
}

static void check_owner(const struct profile *p,
			const struct review_report *rep,
			struct review_result *r)
{
	struct review_evidence *ev = ev_key(r, p, "cell", "owner");

	if (p->owner[0]) {
		summary(r, "owner: %s", p->owner);
		return;
	}
	worsen(r, REVIEW_WARN);
	ev_note(ev, "WARN: not set");
	summary(r, "nobody is named as answerable for this cell");
}

static void check_review_date(const struct profile *p,
			      const struct review_report *rep,
			      struct review_result *r)
{
	struct review_evidence *ev = ev_key(r, p, "cell", "reviewed");
	long long days;

	if (!p->has_reviewed) {
		worsen(r, REVIEW_WARN);
		ev_note(ev, "WARN: not set");
		summary(r, "never reviewed");
		return;
	}
	days = ((long long)rep->now - (long long)p->reviewed) / DAY;
	if (p->reviewed > rep->now) {
		worsen(r, REVIEW_FAIL);
		ev_note(ev, "FAIL: %lld days in the future", -days);
		summary(r, "review date in the future: the staleness clock is void");
	} else if (days > REVIEW_MAX_AGE_DAYS) {
		worsen(r, REVIEW_WARN);
		ev_note(ev, "WARN: %lld days ago", days);
		summary(r, "last reviewed %lld days ago (limit %d)", days,
			REVIEW_MAX_AGE_DAYS);
	} else {
		summary(r, "reviewed %lld day%s ago", days, days == 1 ? "" : "s");
	}
}

/* --- the table ----------------------------------------------------------- */

static const struct review_control controls[REVIEW_N_CONTROLS] = {
	{ "devices", "No raw device passthrough",
	  "A legacy guest is assumed compromised; every emulated device is "
	  "attack surface towards the host and every passed-through device "
	  "gives the guest real hardware. walloff has no option for PCI/USB "
	  "passthrough or raw QEMU arguments: the profile picks among a few "
	  "emulated models, and walloff run checks the running device model "
	  "over QMP before the guest starts.",
	  check_devices },
	{ "egress", "Egress default-deny, no broad allow",
	  "An unpatchable system must not reach the internet or roam the "
	  "network. Everything is denied unless an allow rule names it; a rule "
	  "must name one server or a small subnet (/24 or longer) and specific "
	  "ports. Shorter than /16 or all ports is FAIL; /16 to /23 or more "
	  "than 1024 ports is WARN.",
	  check_egress },
	{ "domain-ports", "No domain or Active Directory ports",
	  "Legacy machines stay off the domain and use local accounts only: a "
	  "compromised XP that can speak Kerberos, RPC, NetBIOS, LDAP or SMB "
	  "to a domain controller or file server can harvest or relay "
	  "credentials and spread laterally. Any allow rule whose port range "
	  "includes 88, 135, 137-139, 389, 445, 464, 636, 3268 or 3269 FAILs.",
	  check_domain_ports },
	{ "host-loopback", "Host loopback not reachable",
	  "Services bound to the host's 127.0.0.1 trust local callers; a guest "
	  "that reaches them escapes the wall. host-access = allow FAILs; an "
	  "explicit `host` rule for one port or a small range is a WARN that a "
	  "reviewer must justify; a `host` rule for all ports or more than 1024 "
	  "ports FAILs.",
	  check_host },
	{ "dns", "DNS off or allowlisted",
	  "DNS is a tunnel out of any network that forwards it. The cell either "
	  "resolves nothing or only the names listed in dns-allow; the "
	  "validator refuses every other form, so this control records which "
	  "names the guest can resolve.",
	  check_dns },
	{ "console", "Console only through the encrypted proxy",
	  "The screen and keyboard of the guest are its administration path. "
	  "walloff serves them only through an authenticated, encrypted proxy "
	  "(Noise_XX) whose keys file lists who may connect and in which role. "
	  "That file must be a plain file (not a symlink that can be retargeted) "
	  "that nobody but its owner can change or read, and it must hold at "
	  "least one admin key. Group-readable is a WARN.",
	  check_console },
	{ "clipboard", "Clipboard policy",
	  "A shared clipboard is a data channel. walloff never copies from the "
	  "guest; to-guest lets operators paste text in, which is convenient "
	  "and a WARN for the reviewer to accept.",
	  check_clipboard },
	{ "image-pinned", "Base image pinned by sha256",
	  "The base image is the system. Pinning its sha256 in the profile "
	  "means the reviewed image is the one that boots: walloff run refuses "
	  "a file with another hash. An unpinned image FAILs.",
	  check_image },
	{ "disk-encrypted", "Persistent disks encrypted",
	  "Disks of legacy systems hold data and cached credentials. Ephemeral "
	  "disks discard every write when the cell stops; persistent mode "
	  "always writes to a LUKS-encrypted overlay in walloff, so both pass; "
	  "the report says which one the cell uses.",
	  check_encrypted },
	{ "snapshots", "Snapshot retention set",
	  "Snapshots hold the guest's memory and disks, with its credentials, "
	  "at a point in time. Without keep and max-age they pile up and old, "
	  "vulnerable states linger. Missing or over a year: WARN.",
	  check_snapshots },
	{ "limits", "Resource limits set",
	  "A runaway or hostile guest must not starve the host or its "
	  "neighbours. cpu-quota, memory-max and pids-max bound QEMU through "
	  "cgroups; on-unavailable = degrade runs without them. Any missing "
	  "limit or degrade: WARN.",
	  check_limits },
	{ "dormancy", "Dormancy policy set",
	  "A copy that sleeps for months drifts from the reviewed state and can "
	  "re-infect when woken. max-idle says how long a cell may stay unused; "
	  "on-stale = quarantine or refuse keeps a stale cell off the network "
	  "until someone reviews it. Not set, over a year, or on-stale = warn: "
	  "WARN.",
	  check_dormancy },
	{ "owner", "Owner named",
	  "Every legacy system needs someone answerable for it: who asks for "
	  "exceptions, who decides to retire it. Not set: WARN.",
	  check_owner },
	{ "review-date", "Reviewed within 180 days",
	  "Needs and threats change; a profile nobody has looked at for half "
	  "a year is a policy nobody owns. Older than 180 days or not set: "
	  "WARN. A date in the future FAILs: it defeats the staleness clock "
	  "and is a typo or an attempt to skip reviews.",
	  check_review_date },
};

const struct review_control *review_controls(unsigned *n)
{
	*n = REVIEW_N_CONTROLS;
	return controls;
}

/* --- running ------------------------------------------------------------- */

int review_now(time_t *now, struct err *e)
{
	const char *env = getenv("WALLOFF_NOW");
	struct tm tm = { 0 };
	char check[16], *end;

	if (!env || !*env) {
		*now = time(NULL) / DAY * DAY;
		return 0;
	}
	end = strptime(env, "%Y-%m-%d", &tm);
	if (!end || *end || strlen(env) != 10)
		goto bad;
	*now = timegm(&tm);
	/* strptime() takes 2026-02-30; timegm() would make it March 2. */
	review_date_str(*now, check, sizeof(check));
	if (strcmp(check, env))
		goto bad;
	return 0;
bad:
	return err_set(e, EINVAL, "WALLOFF_NOW: '%s' is not a date YYYY-MM-DD",
		       env);
}

static void report_init(struct review_report *rep, const char *path,
			time_t now)
{
	memset(rep, 0, sizeof(*rep));
	snprintf(rep->path, sizeof(rep->path), "%s", path);
	rep->now = now;
}

void review_invalid(const char *path, const char *error, time_t now,
		    struct review_report *rep)
{
	report_init(rep, path, now);
	snprintf(rep->error, sizeof(rep->error), "%s", error);
}

void review_profile(const struct profile *p, time_t now,
		    struct review_report *rep)
{
	const struct profile_line *kl = profile_find_line(p, "console", "keys");
	unsigned i;

	report_init(rep, p->path, now);
	rep->valid = true;
	snprintf(rep->cell, sizeof(rep->cell), "%s", p->name);
	snprintf(rep->owner, sizeof(rep->owner), "%s", p->owner);
	if (p->has_reviewed)
		review_date_str(p->reviewed, rep->reviewed,
				sizeof(rep->reviewed));
	/* The keys file as named, so that a symlink is seen, not followed. */
	if (kl && kl->value[0] == '/')
		snprintf(rep->keys_path, sizeof(rep->keys_path), "%s",
			 kl->value);
	else if (kl && snprintf(rep->keys_path, sizeof(rep->keys_path),
				"%s/%s", p->dir, kl->value) >=
			       (int)sizeof(rep->keys_path))
		rep->keys_path[0] = '\0';	/* the console check FAILs */
	for (i = 0; i < REVIEW_N_CONTROLS; i++) {
		struct review_result *r = &rep->results[i];

		r->control = &controls[i];
		r->status = REVIEW_PASS;
		controls[i].check(p, rep, r);
		rep->n_status[r->status]++;
		if (r->status > rep->status)
			rep->status = r->status;
	}
}

int review_failures(const struct profile *p, char *ids, size_t len)
{
	struct review_report *rep = malloc(sizeof(*rep));
	bool cut = false;
	size_t used = 0;
	time_t now;
	int n = 0;
	unsigned i;

	if (len)
		ids[0] = '\0';
	if (!rep)
		return -ENOMEM;
	if (review_now(&now, NULL))
		now = time(NULL) / DAY * DAY;
	review_profile(p, now, rep);
	for (i = 0; i < REVIEW_N_CONTROLS; i++) {
		const char *id = rep->results[i].control->id;
		size_t need = strlen(id) + (used ? 1 : 0);

		if (rep->results[i].status != REVIEW_FAIL)
			continue;
		n++;
		if (cut || !len)
			continue;
		/* Keep room for "..." and the NUL in case a later id is cut. */
		if (used + need + 4 <= len) {
			snprintf(ids + used, len - used, "%s%s",
				 used ? "," : "", id);
			used += need;
		} else {
			cut = true;
			if (used + 4 <= len)
				strcpy(ids + used, "...");
		}
	}
	free(rep);
	return n;
}
