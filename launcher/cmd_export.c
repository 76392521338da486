/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_export.c - `walloff export --libvirt [-o FILE] PROFILE`: a cell as
 * libvirt documents, for sites that run libvirt-based clusters
 *
 * The profile is loaded and validated exactly as `walloff check` does (same
 * messages, exit 3 when invalid; the image may not exist yet). The documents
 * come from launcher/libvirt_xml.c, which does no I/O; this file only
 * chooses where they go:
 *
 *   -o FILE        FILE               the domain (virsh define FILE)
 *                  FILE.nwfilter.xml  the egress allowlist (network != none)
 *                  FILE.secret.xml    the disk key's secret (persistent)
 *                  A sibling the profile no longer needs is removed, so the
 *                  folder never holds a stale filter or secret for it.
 *   no -o          one document on stdout: --document domain (default),
 *                  nwfilter or secret.
 *
 * On stderr: what libvirt cannot enforce for this profile, whether the
 * security review FAILs (a warning: `walloff run` would refuse it), and the
 * virsh steps to put the cell on a host.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cmds.h"
#include "libvirt_xml.h"
#include "profile.h"
#include "review.h"

enum {
	EXPORT_OK = 0,
	EXPORT_ERROR = 1,
	EXPORT_USAGE = 2,
	EXPORT_INVALID = 3,
};

/* Room for every loss libvirt_xml_losses() can list with 64 host rules. */
#define LOSSES_MAX	8192

static void usage(FILE *f)
{
	fprintf(f,
		"usage: walloff export --libvirt [-o FILE | --document "
		"domain|nwfilter|secret]\n"
		"                      [--overlay PATH] [--network NAME] PROFILE\n"
		"Writes a libvirt domain XML with the lockdown of `walloff run`\n"
		"(whitelisted devices only, no passthrough, VNC on a unix socket,\n"
		"memballoon none, sVirt), an nwfilter for the egress allowlist and,\n"
		"for mode = persistent, the disk key's secret (without the key).\n"
		"-o, --output FILE writes FILE, FILE.nwfilter.xml and\n"
		"FILE.secret.xml;"
		" without it one document goes to stdout (default: the domain).\n"
		"--overlay: the encrypted overlay of a persistent cell (default\n"
		LIBVIRT_OVERLAY_DIR "/walloff-CELL.qcow2); --network: the libvirt\n"
		"network of the NIC (default '" LIBVIRT_DEFAULT_NETWORK "').\n"
		"Exit: 0 written, 1 error, 2 usage, 3 invalid profile.\n");
}

/* libvirt wants absolute paths; a profile given by a relative path has a
 * relative image path (profile_load() resolves against the profile's
 * folder as given). */
static int absolutize(char *path, size_t len)
{
	char cwd[PATH_MAX], tmp[PATH_MAX];

	if (path[0] == '/' || !path[0])
		return 0;
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", cwd, path) >=
	    sizeof(tmp) || strlen(tmp) >= len)
		return -ENAMETOOLONG;
	strcpy(path, tmp);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	size_t len = strlen(text), off = 0;
	ssize_t w;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0)
		return -errno;
	while (off < len) {
		w = write(fd, text + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0)
		ret = -errno;
out:
	if (close(fd) < 0 && !ret)
		ret = -errno;
	return ret;
}

/* Write @text to @base@suffix, or remove that file if @text is NULL. */
static int put_sibling(const char *base, const char *suffix,
		       const char *text)
{
	char path[PATH_MAX];
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s%s", base, suffix) >=
	    sizeof(path)) {
		fprintf(stderr, "walloff export: %s%s: path too long\n", base,
			suffix);
		return -ENAMETOOLONG;
	}
	if (!text) {
		if (unlink(path) < 0 && errno != ENOENT) {
			r = -errno;
			fprintf(stderr, "walloff export: %s: %s\n", path,
				strerror(-r));
			return r;
		}
		return 0;
	}
	r = write_file(path, text);
	if (r)
		fprintf(stderr, "walloff export: %s: %s\n", path, strerror(-r));
	return r;
}

/* A path as one shell word, for the copy-pastable hints on stderr. */
static void shq(const char *s)
{
	fputc('\'', stderr);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stderr);
		else
			fputc(*s, stderr);
	}
	fputc('\'', stderr);
}

static void next_steps(const struct profile *p, const struct libvirt_docs *d,
		       const char *out)
{
	const char *f = out ? out : "DOMAIN.xml";

	fprintf(stderr, "walloff export: on the libvirt host:\n");
	if (d->nwfilter)
		fprintf(stderr, "  virsh nwfilter-define %s.nwfilter.xml\n", f);
	if (d->secret) {
		fprintf(stderr,
			"  virsh secret-define %s.secret.xml\n"
			"  virsh secret-set-value --secret %s --file KEYFILE "
			"--plain\n"
			"  qemu-img create -f qcow2 -F %s -b ",
			f, d->secret_uuid,
			p->format == FORMAT_RAW ? "raw" : "qcow2");
		shq(p->image);
		fprintf(stderr, " \\\n    --object secret,id=k,file=KEYFILE "
			"-o encrypt.format=luks,encrypt.key-secret=k \\\n    ");
		shq(d->overlay);
		fprintf(stderr,
			"\n  (KEYFILE: 32 random bytes, 0600, e.g. from "
			"/dev/urandom; keep it\n"
			"  with your key escrow and shred it on the host "
			"afterwards)\n");
	}
	fprintf(stderr, "  virsh define %s\n", f);
}

static int emit(const struct profile *p, const struct libvirt_docs *d,
		const char *out, const char *doc)
{
	const char *text;

	if (out) {
		if (put_sibling(out, "", d->domain) ||
		    put_sibling(out, ".nwfilter.xml", d->nwfilter) ||
		    put_sibling(out, ".secret.xml", d->secret))
			return EXPORT_ERROR;
		return EXPORT_OK;
	}
	if (!strcmp(doc, "domain")) {
		text = d->domain;
	} else if (!strcmp(doc, "nwfilter")) {
		text = d->nwfilter;
		if (!text) {
			fprintf(stderr, "walloff export: %s has [network] mode "
				"= none: there is no nwfilter\n", p->path);
			return EXPORT_USAGE;
		}
	} else {
		text = d->secret;
		if (!text) {
			fprintf(stderr, "walloff export: %s has no persistent "
				"disk: there is no secret\n", p->path);
			return EXPORT_USAGE;
		}
	}
	if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
		perror("walloff export: stdout");
		return EXPORT_ERROR;
	}
	return EXPORT_OK;
}

int cmd_export(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "libvirt", no_argument, NULL, 'l' },
		{ "output", required_argument, NULL, 'o' },
		{ "document", required_argument, NULL, 'd' },
		{ "overlay", required_argument, NULL, 'v' },
		{ "network", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct libvirt_opts lo = { 0 };
	struct libvirt_docs d = { 0 };
	const char *out = NULL, *doc = NULL;
	char fails[256] = "", *losses = NULL;
	struct profile *p = NULL;
	bool libvirt = false;
	struct err e;
	int c, r, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			libvirt = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'd':
			doc = optarg;
			break;
		case 'v':
			lo.overlay = optarg;
			break;
		case 'n':
			lo.network = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXPORT_OK;
		default:
			usage(stderr);
			return EXPORT_USAGE;
		}
	}
	if (!libvirt || optind != argc - 1 || (out && doc) ||
	    (out && !*out) ||
	    (doc && strcmp(doc, "domain") && strcmp(doc, "nwfilter") &&
	     strcmp(doc, "secret"))) {
		usage(stderr);
		return EXPORT_USAGE;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "walloff export: libsodium failed to start\n");
		return EXPORT_ERROR;
	}
	p = malloc(sizeof(*p));
	losses = malloc(LOSSES_MAX);
	if (!p || !losses) {
		fprintf(stderr, "walloff export: out of memory\n");
		ret = EXPORT_ERROR;
		goto out;
	}
	err_clear(&e);
	if (profile_load(argv[optind], 0, p, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		ret = e.code == EINVAL ? EXPORT_INVALID : EXPORT_ERROR;
		goto out;
	}
	r = absolutize(p->image, sizeof(p->image));
	if (!r)
		r = absolutize(p->path, sizeof(p->path));
	if (r) {
		fprintf(stderr, "walloff export: %s: %s\n", p->path,
			strerror(-r));
		ret = EXPORT_ERROR;
		goto out;
	}
	r = libvirt_xml_build(p, &lo, &d, &e);
	if (r) {
		fprintf(stderr, "walloff export: %s\n", e.msg);
		ret = r == -EINVAL ? EXPORT_INVALID : EXPORT_ERROR;
		goto out;
	}
	ret = emit(p, &d, out, doc ? doc : "domain");
	if (ret)
		goto out;

	if (libvirt_xml_losses(p, losses, LOSSES_MAX))
		fprintf(stderr, "walloff export: not enforced by libvirt for "
			"%s:\n%s", p->name, losses);
	r = review_failures(p, fails, sizeof(fails));
	if (r > 0)
		fprintf(stderr, "walloff export: warning: the security review "
			"FAILs (%s); `walloff run` would refuse this profile\n",
			fails);
	if (out)
		next_steps(p, &d, out);
out:
	libvirt_docs_free(&d);
	free(losses);
	free(p);
	return ret;
}
