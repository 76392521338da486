/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c - walloff-console: command line, server identity, then proxy_run()
 *
 * Started by the supervisor (launcher/supervisor.c) with the cell's audit
 * log on an inherited O_APPEND descriptor and a ready pipe, already
 * unprivileged. The server's static key lives in --state-dir as
 * console.key (0600), created on first run, so clients can pin it; or, as
 * the supervisor does, it arrives on --key-fd (32 bytes of private key on
 * a pipe) from a key file that this unprivileged process cannot read. The
 * options are a table: name, whether it takes a value, where it goes.
 * Every limit has a safe default and can be tightened from the profile.
 * --notice is text every client gets right after HELLO (the supervisor
 * says so when a dormant cell runs quarantined).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "audit.h"
#include "client.h"
#include "proxy.h"

/* Defaults: generous for people, tight for scanners. */
#define DEF_HANDSHAKE_TIMEOUT_S 10
#define DEF_MAX_SESSIONS 16
#define DEF_MAX_HANDSHAKES 32
#define DEF_RATE_PER_S 5
#define DEF_RATE_BURST 20
#define DEF_IDLE_TIMEOUT_S 3600

static void usage(FILE *f)
{
	fprintf(f,
		"usage: walloff-console --listen ADDR:PORT --vnc PATH --cell NAME\n"
		"         --keys FILE (--state-dir DIR | --key-fd N) --audit-fd N\n"
		"         [--ready-fd N]\n"
		"         [--serial PATH] [--clipboard none|to-guest]\n"
		"         [--handshake-timeout S] [--max-sessions N]\n"
		"         [--max-handshakes N] [--rate N] [--idle-timeout S]\n"
		"         [--notice TEXT]\n");
}

static int num(const char *opt, const char *v, unsigned long max,
	       unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(v, &end, 10);
	if (errno || !*v || *end || *out > max || v[0] == '-') {
		fprintf(stderr, "walloff-console: %s: bad number '%s'\n", opt, v);
		return -1;
	}
	return 0;
}

/* Exactly 32 bytes, then EOF: the private key; the public one is derived. */
static int read_key_fd(int fd, uint8_t priv[static 32], uint8_t pub[static 32])
{
	uint8_t extra;
	size_t n = 0;
	ssize_t r;

	while (n < 32) {
		r = read(fd, priv + n, 32 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	r = n == 32 ? read(fd, &extra, 1) : -1;
	close(fd);
	if (n != 32 || r != 0) {
		sodium_memzero(priv, 32);
		return -1;
	}
	return crypto_scalarmult_base(pub, priv);
}

int main(int argc, char *argv[])
{
	struct proxy_config cfg = {
		.handshake_timeout_s = DEF_HANDSHAKE_TIMEOUT_S,
		.max_sessions = DEF_MAX_SESSIONS,
		.max_handshakes = DEF_MAX_HANDSHAKES,
		.rate_per_s = DEF_RATE_PER_S,
		.rate_burst = DEF_RATE_BURST,
		.idle_timeout_s = DEF_IDLE_TIMEOUT_S,
		.ready_fd = -1,
	};
	const char *state_dir = NULL, *clip = "none";
	unsigned long audit_fd = ULONG_MAX, ready = ULONG_MAX, key_fd = ULONG_MAX;
	unsigned long v;
	char keypath[PATH_MAX];
	struct err e = { 0 };
	bool created;
	int i, r;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!val) {
			usage(stderr);
			return 2;
		}
		i++;
		if (!strcmp(o, "--listen"))
			cfg.listen = val;
		else if (!strcmp(o, "--vnc"))
			cfg.vnc_path = val;
		else if (!strcmp(o, "--serial"))
			cfg.serial_path = val;
		else if (!strcmp(o, "--cell"))
			cfg.cell = val;
		else if (!strcmp(o, "--keys"))
			cfg.keys_path = val;
		else if (!strcmp(o, "--state-dir"))
			state_dir = val;
		else if (!strcmp(o, "--clipboard"))
			clip = val;
		else if (!strcmp(o, "--notice")) {
			/* shown on users' terminals: strict (control.c) */
			if (!console_notice_valid(val)) {
				fprintf(stderr, "walloff-console: --notice: "
					"1-%d bytes of printable UTF-8 on one "
					"line\n", CONSOLE_NOTICE_MAX);
				return 2;
			}
			cfg.notice = val;
		}
		else if (!strcmp(o, "--audit-fd")) {
			if (num(o, val, INT_MAX, &audit_fd))
				return 2;
		} else if (!strcmp(o, "--key-fd")) {
			if (num(o, val, INT_MAX, &key_fd))
				return 2;
		} else if (!strcmp(o, "--ready-fd")) {
			if (num(o, val, INT_MAX, &ready))
				return 2;
		} else if (!strcmp(o, "--handshake-timeout")) {
			if (num(o, val, 600, &v) || !v)
				return 2;
			cfg.handshake_timeout_s = (unsigned)v;
		} else if (!strcmp(o, "--max-sessions")) {
			if (num(o, val, 10000, &v) || !v)
				return 2;
			cfg.max_sessions = (unsigned)v;
		} else if (!strcmp(o, "--max-handshakes")) {
			if (num(o, val, 10000, &v) || !v)
				return 2;
			cfg.max_handshakes = (unsigned)v;
		} else if (!strcmp(o, "--rate")) {
			if (num(o, val, 100000, &v) || !v)
				return 2;
			cfg.rate_per_s = (unsigned)v;
			cfg.rate_burst = (unsigned)(v * 4);
		} else if (!strcmp(o, "--idle-timeout")) {
			if (num(o, val, 30 * 86400, &v))
				return 2;
			cfg.idle_timeout_s = (unsigned)v;
		} else {
			fprintf(stderr, "walloff-console: unknown option %s\n", o);
			usage(stderr);
			return 2;
		}
	}
	if (!cfg.listen || !cfg.vnc_path || !cfg.cell || !cfg.keys_path ||
	    (!state_dir == (key_fd == ULONG_MAX)) || audit_fd == ULONG_MAX) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(clip, "to-guest")) {
		cfg.clipboard_to_guest = true;
	} else if (strcmp(clip, "none")) {
		fprintf(stderr, "walloff-console: --clipboard none|to-guest\n");
		return 2;
	}
	if (ready != ULONG_MAX)
		cfg.ready_fd = (int)ready;
	if (sodium_init() < 0) {
		fprintf(stderr, "walloff-console: libsodium init failed\n");
		return 1;
	}
	cfg.audit = audit_fdopen((int)audit_fd, cfg.cell, &e);
	if (!cfg.audit) {
		fprintf(stderr, "walloff-console: audit: %s\n", e.msg);
		return 1;
	}
	if (key_fd != ULONG_MAX) {
		if (read_key_fd((int)key_fd, cfg.priv, cfg.pub)) {
			fprintf(stderr, "walloff-console: --key-fd: no 32-byte key\n");
			audit_close(cfg.audit);
			return 1;
		}
		created = false;
	} else if (snprintf(keypath, sizeof(keypath), "%s/console.key",
			    state_dir) >= (int)sizeof(keypath)) {
		fprintf(stderr, "walloff-console: --state-dir too long\n");
		return 1;
	} else if (console_key_load_or_create(keypath, cfg.priv, cfg.pub,
					      &created, &e)) {
		fprintf(stderr, "walloff-console: server key: %s\n", e.msg);
		audit_close(cfg.audit);
		return 1;
	}
	if (created) {
		char fpr[CONSOLE_FPR_LEN];

		console_fingerprint(fpr, cfg.pub);
		audit_logf(cfg.audit, "console-key-created", "{s:s}",
			   "fingerprint", fpr);
	}
	r = proxy_run(&cfg, &e);
	sodium_memzero(cfg.priv, sizeof(cfg.priv));
	if (r)
		fprintf(stderr, "walloff-console: %s\n", e.msg);
	audit_close(cfg.audit);
	return r ? 1 : 0;
}
