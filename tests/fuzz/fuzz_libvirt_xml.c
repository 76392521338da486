/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_libvirt_xml.c - fuzz target for the libvirt export generator
 *
 * The input is a profile, loaded as `walloff check` would from a file in a
 * private temporary folder (not a memfd: image paths relative to
 * /proc/self/fd are refused by the profile's path checks).
 * When it is valid, the documents are generated twice: from the profile as
 * written and from a copy whose free-text values (name, description, owner,
 * paths, bridge) are replaced by plain letters. Escaping must make profile
 * text inert, so both runs must contain exactly as many markup characters
 * (< > ' ") and neither may hold a control character but newline; any
 * difference means a value broke out of its attribute or element.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "libvirt_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/walloff-fuzz-libvirt-XXXXXX";
static char file[sizeof(dir) + 8];

static void cleanup(void)
{
	unlink(file);
	rmdir(dir);
}

static void counts(const char *s, unsigned c[4])
{
	memset(c, 0, 4 * sizeof(*c));
	if (!s)
		return;
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 && *s != '\n')
			abort();
		c[0] += *s == '<';
		c[1] += *s == '>';
		c[2] += *s == '\'';
		c[3] += *s == '"';
	}
}

static void same_markup(const char *a, const char *b)
{
	unsigned ca[4], cb[4];

	counts(a, ca);
	counts(b, cb);
	if (memcmp(ca, cb, sizeof(ca)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct profile p, q;
	struct libvirt_docs d, dq;
	int fd, r;

	if (!file[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(file, sizeof(file), "%s/c.cell", dir);
		atexit(cleanup);
	}
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	r = write(fd, data, size) != (ssize_t)size;
	close(fd);
	if (r || profile_load(file, 0, &p, NULL))
		return 0;
	r = libvirt_xml_build(&p, NULL, &d, NULL);
	if (r) {
		libvirt_docs_free(&d);
		return 0;
	}
	q = p;
	snprintf(q.name, sizeof(q.name), "x");
	snprintf(q.description, sizeof(q.description), "%s",
		 p.description[0] ? "x" : "");
	snprintf(q.owner, sizeof(q.owner), "%s", p.owner[0] ? "x" : "");
	snprintf(q.path, sizeof(q.path), "/x");
	snprintf(q.image, sizeof(q.image), "/x");
	snprintf(q.bridge, sizeof(q.bridge), "%s", p.bridge[0] ? "x" : "");
	if (libvirt_xml_build(&q, NULL, &dq, NULL))
		abort();	/* plain letters are always representable */
	same_markup(d.domain, dq.domain);
	same_markup(d.nwfilter, dq.nwfilter);
	same_markup(d.secret, dq.secret);
	libvirt_docs_free(&d);
	libvirt_docs_free(&dq);
	return 0;
}
