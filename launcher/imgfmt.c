/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imgfmt.c - what kind of disk image is this file? Decided by content.
 *
 * A file name says nothing: "disk.img" can be a qcow2 whose header asks
 * QEMU to open /etc/shadow as its backing file, and a raw image whose first
 * bytes happen to spell "QFI\xfb" would be misread by a guessing tool. So
 * walloff never guesses and never trusts an extension: this file reads a
 * few bounded blocks of the header and says which format it is, with the
 * facts the import and the sweep need (virtual size, encryption, backing or
 * parent file, external data files).
 *
 * Reads: the first 64 KiB, the last 512 bytes (VHD footer), and for some
 * formats one more bounded block whose offset comes from the header (qcow2
 * backing name, VHD dynamic header, VMDK descriptor, VHDX region and
 * metadata tables). Every offset and length from the file is checked
 * against the file size and a fixed cap before it is used; a header that
 * fails a check keeps its kind and gets a `problem`, so callers refuse it
 * rather than treat it as raw.
 *
 * Order matters: formats with a magic at offset 0 first; then the VHD
 * footer (a fixed VHD is a raw disk followed by a footer, so it would
 * otherwise look like an MBR disk); then raw disks (GPT, MBR, bare volume).
 * The result is only a claim about the header: QEMU still parses the rest
 * and the import asks `qemu-img info` with the explicit format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imgfmt.h"

/* Enough for every header we parse and a whole VMDK text descriptor. */
#define HEAD_MAX	65536
/* A VHD footer is 512 bytes (511 in some very old images). */
#define VHD_FOOTER	512
/* VMDK embedded / text descriptors are a few hundred bytes; cap at 64 KiB. */
#define VMDK_DESC_MAX	65536
/* Descriptor lines we care about are short; a 1023-byte parent hint fits. */
#define VMDK_LINE_MAX	1100
/* VHDX: region tables at 192 KiB, each 64 KiB; metadata table 64 KiB. */
#define VHDX_REGION_OFF	0x30000
#define VHDX_TABLE_MAX	65536
#define VHDX_MAX_ENTRIES 2047

static const uint8_t vhdx_meta_guid[16] = {
	0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
	0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e,
};
static const uint8_t vhdx_params_guid[16] = {
	0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d,
	0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b,
};
static const uint8_t vhdx_size_guid[16] = {
	0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48,
	0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8,
};

struct src {
	imgfmt_pread_fn rd;
	void *opaque;
	uint64_t size;
	struct err *e;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/*
 * Read exactly @len bytes at @off inside the file: 1 if done, 0 if the
 * range is outside the file or short, -errno on a read error.
 */
static int get(struct src *s, void *buf, size_t len, uint64_t off)
{
	long n;

	if (off > s->size || len > s->size - off)
		return 0;
	n = s->rd(s->opaque, buf, len, off);
	if (n < 0)
		return err_set(s->e, (int)-n, "read at %llu: %s",
			       (unsigned long long)off, strerror((int)-n));
	return (size_t)n == len;
}

static void problem(struct imgfmt_info *o, const char *what)
{
	if (!o->problem[0])
		snprintf(o->problem, sizeof(o->problem), "%s", what);
}

/* Keep a printable copy of a name from the file: never used as a path. */
static void set_backing(struct imgfmt_info *o, const uint8_t *name, size_t n)
{
	size_t i;

	o->has_backing = true;
	if (n > IMGFMT_BACKING_MAX)
		n = IMGFMT_BACKING_MAX;
	for (i = 0; i < n; i++)
		o->backing[i] =
		    (char)(name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?');
	o->backing[n] = '\0';
}

static void set_size(struct imgfmt_info *o, uint64_t bytes)
{
	o->has_virtual_size = true;
	o->virtual_size = bytes;
}

static int probe_qcow(struct src *s, const uint8_t *h, size_t n,
		      struct imgfmt_info *o)
{
	uint64_t boff;
	uint32_t blen, cbits;
	uint8_t name[IMGFMT_BACKING_MAX];
	int r;

	o->kind = IMGFMT_QCOW2;
	if (n < 72) {
		problem(o, "qcow2 header truncated");
		return 0;
	}
	o->qcow2_version = be32(h + 4);
	boff = be64(h + 8);
	blen = be32(h + 16);
	switch (o->qcow2_version) {
	case 1:
		cbits = h[32];
		set_size(o, be64(h + 24));
		o->qcow2_crypt = be32(h + 36);
		break;
	case 2:
	case 3:
		cbits = be32(h + 20);
		set_size(o, be64(h + 24));
		o->qcow2_crypt = be32(h + 32);
		if (o->qcow2_version == 3) {
			if (n < 104) {
				problem(o, "qcow2 v3 header truncated");
				break;
			}
			/* Incompatible feature bit 2: external data file. */
			if (be64(h + 72) & 4)
				o->external_files = true;
			if (be64(h + 72) & ~(uint64_t)0x1f)
				problem(o, "qcow2 has unknown incompatible features");
		}
		break;
	default:
		problem(o, "unsupported qcow version");
		return 0;
	}
	if (cbits < 9 || cbits > 21)
		problem(o, "qcow2 cluster size out of range");
	if (o->qcow2_crypt > 2)
		problem(o, "qcow2 has an unknown encryption method");
	o->encrypted = o->qcow2_crypt != 0;
	if (!boff)
		return 0;
	/* A backing file is recorded even if its name cannot be read. */
	o->has_backing = true;
	if (!blen || blen > sizeof(name)) {
		problem(o, "qcow2 backing file name length out of range");
		return 0;
	}
	r = get(s, name, blen, boff);
	if (r < 0)
		return r;
	if (!r) {
		problem(o, "qcow2 backing file name outside the file");
		return 0;
	}
	set_backing(o, name, blen);
	return 0;
}

/* VHD footer (also copied at offset 0 of dynamic disks), big-endian. */
static int probe_vhd(struct src *s, const uint8_t *f, struct imgfmt_info *o)
{
	uint32_t type = be32(f + 60);
	uint64_t doff = be64(f + 16);
	uint8_t dyn[1024];
	char name[256];
	size_t i, k = 0;
	int r;

	o->kind = IMGFMT_VHD;
	set_size(o, be64(f + 48));
	if (type < 2 || type > 4) {
		problem(o, "VHD disk type unknown");
		return 0;
	}
	if (type != 4)
		return 0;
	/* Differencing: the parent's name is in the dynamic header. */
	o->has_backing = true;
	r = get(s, dyn, sizeof(dyn), doff);
	if (r < 0)
		return r;
	if (!r || memcmp(dyn, "cxsparse", 8)) {
		problem(o, "VHD dynamic header unreadable");
		return 0;
	}
	/* Parent Unicode Name: 512 bytes of UTF-16BE at 64. */
	for (i = 64; i + 1 < 64 + 512 && k < sizeof(name); i += 2) {
		if (!dyn[i] && !dyn[i + 1])
			break;
		name[k++] = (char)(dyn[i] ? '?' : dyn[i + 1]);
	}
	set_backing(o, (const uint8_t *)name, k);
	return 0;
}

/*
 * A VMDK descriptor: "key=value" lines and extent lines such as
 *   RW 2048 SPARSE "disk-s001.vmdk"
 * @text is NUL-terminated. Extents name other files (never trusted here:
 * the import refuses descriptors with extents); parentFileNameHint names a
 * parent image.
 */
/* "RW|RDONLY|NOACCESS <sectors> ...": an extent line; its size. */
static bool extent_line(const char *v, unsigned long long *sectors)
{
	static const char *const access[] = { "RW ", "RDONLY ", "NOACCESS " };
	size_t i, n;
	char *end;

	for (i = 0; i < sizeof(access) / sizeof(access[0]); i++) {
		n = strlen(access[i]);
		if (strncmp(v, access[i], n))
			continue;
		v += n;
		v += strspn(v, " \t");
		if (*v < '0' || *v > '9')
			return false;
		errno = 0;
		*sectors = strtoull(v, &end, 10);
		return end != v;	/* ERANGE gives ULLONG_MAX: caught later */
	}
	return false;
}

static void vmdk_descriptor(const char *text, bool embedded,
			    struct imgfmt_info *o)
{
	const char *line = text;
	uint64_t total = 0;
	bool extents = false;

	while (line && *line) {
		const char *start = line, *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		unsigned long long sectors;
		char l[VMDK_LINE_MAX];
		char *v;

		line = end ? end + 1 : NULL;
		if (len >= sizeof(l))
			continue;	/* no line we read is this long */
		memcpy(l, start, len);
		l[len] = '\0';
		v = l + strspn(l, " \t");
		if (!strncmp(v, "parentFileNameHint=", 19)) {
			v += 19;
			v[strcspn(v, "\r")] = '\0';
			if (*v == '"')
				v++;
			len = strlen(v);
			if (len && v[len - 1] == '"')
				len--;
			set_backing(o, (const uint8_t *)v, len);
		} else if (extent_line(v, &sectors)) {
			extents = true;
			if (sectors > (UINT64_MAX >> 9) - total)
				problem(o, "VMDK extent sizes overflow");
			else
				total += sectors;
		}
	}
	if (!embedded) {
		if (extents)
			o->external_files = true;
		else
			problem(o, "VMDK descriptor lists no extent");
		set_size(o, total << 9);
	}
}

static int probe_vmdk_sparse(struct src *s, const uint8_t *h, size_t n,
			     struct imgfmt_info *o)
{
	uint64_t cap, doff, dsize;
	char *desc;
	int r;

	o->kind = IMGFMT_VMDK;
	if (n < 77) {
		problem(o, "VMDK header truncated");
		return 0;
	}
	cap = le64(h + 12);
	doff = le64(h + 28);
	dsize = le64(h + 36);
	if (cap > UINT64_MAX >> 9)
		problem(o, "VMDK capacity overflows");
	else
		set_size(o, cap << 9);
	if (!doff || !dsize)
		return 0;
	if (doff > UINT64_MAX >> 9 || dsize > VMDK_DESC_MAX >> 9) {
		problem(o, "VMDK descriptor offset or size out of range");
		return 0;
	}
	desc = calloc(1, VMDK_DESC_MAX + 1);
	if (!desc)
		return err_set(s->e, ENOMEM, "out of memory");
	r = get(s, desc, (size_t)dsize << 9, doff << 9);
	if (r > 0)
		vmdk_descriptor(desc, true, o);
	else if (!r)
		problem(o, "VMDK descriptor outside the file");
	free(desc);
	return r < 0 ? r : 0;
}

static int probe_vhdx(struct src *s, struct imgfmt_info *o)
{
	uint8_t *t = malloc(VHDX_TABLE_MAX);
	uint64_t moff = 0, tsz, isz;
	uint32_t mlen = 0, cnt, i;
	int r, found = 0;

	o->kind = IMGFMT_VHDX;
	if (!t)
		return err_set(s->e, ENOMEM, "out of memory");
	r = get(s, t, VHDX_TABLE_MAX, VHDX_REGION_OFF);
	if (r <= 0 || memcmp(t, "regi", 4)) {
		problem(o, "VHDX region table missing");
		goto out;
	}
	cnt = le32(t + 8);
	if (cnt > VHDX_MAX_ENTRIES) {
		problem(o, "VHDX region table too large");
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		const uint8_t *en = t + 16 + 32 * (size_t)i;

		if (!memcmp(en, vhdx_meta_guid, 16)) {
			moff = le64(en + 16);
			mlen = le32(en + 24);
		}
	}
	if (!moff || mlen < VHDX_TABLE_MAX) {
		problem(o, "VHDX metadata region missing");
		goto out;
	}
	r = get(s, t, VHDX_TABLE_MAX, moff);
	if (r <= 0 || memcmp(t, "metadata", 8)) {
		problem(o, "VHDX metadata table missing");
		goto out;
	}
	cnt = le16(t + 10);
	if (cnt > VHDX_MAX_ENTRIES) {
		problem(o, "VHDX metadata table too large");
		goto out;
	}
	for (i = 0; i < cnt; i++) {
		const uint8_t *en = t + 32 + 32 * (size_t)i;
		bool params = !memcmp(en, vhdx_params_guid, 16);
		bool size = !memcmp(en, vhdx_size_guid, 16);
		uint8_t v[8];

		if (!params && !size)
			continue;
		tsz = le32(en + 16);
		isz = le32(en + 20);
		if (isz < 8 || tsz > mlen || isz > mlen - tsz) {
			problem(o, "VHDX metadata item out of range");
			continue;
		}
		r = get(s, v, sizeof(v), moff + tsz);
		if (r < 0)
			goto out;
		if (!r) {
			problem(o, "VHDX metadata item outside the file");
			continue;
		}
		found++;
		if (size)
			set_size(o, le64(v));
		else if (le32(v + 4) & 2)	/* HasParent */
			o->has_backing = true;
	}
	if (found < 2)
		problem(o, "VHDX metadata incomplete");
	r = 0;
out:
	free(t);
	return r < 0 ? r : 0;
}

static bool mbr_sane(const uint8_t *h, uint64_t size)
{
	int i, used = 0;

	for (i = 0; i < 4; i++) {
		const uint8_t *pe = h + 446 + 16 * i;
		uint32_t start = le32(pe + 8), count = le32(pe + 12);

		if (pe[0] != 0 && pe[0] != 0x80)
			return false;
		if (!pe[4])
			continue;
		if (!start || !count || (uint64_t)start * 512 >= size)
			return false;
		used++;
	}
	return used > 0;
}

static bool boot_volume(const uint8_t *h)
{
	if (h[0] != 0xeb && h[0] != 0xe9)
		return false;
	return !memcmp(h + 3, "NTFS    ", 8) || !memcmp(h + 0x36, "FAT", 3) ||
	       !memcmp(h + 0x52, "FAT32", 5);
}

int imgfmt_probe(imgfmt_pread_fn rd, void *opaque, uint64_t file_size,
		 struct imgfmt_info *o, struct err *e)
{
	struct src s = { rd, opaque, file_size, e };
	uint8_t *h, tail[VHD_FOOTER];
	size_t n;
	long got;
	int r = 0;

	memset(o, 0, sizeof(*o));
	o->file_size = file_size;
	n = file_size < HEAD_MAX ? (size_t)file_size : HEAD_MAX;
	h = calloc(1, HEAD_MAX + 1);
	if (!h)
		return err_set(e, ENOMEM, "out of memory");
	got = n ? rd(opaque, h, n, 0) : 0;
	if (got < 0) {
		r = err_set(e, (int)-got, "read: %s", strerror((int)-got));
		goto out;
	}
	n = (size_t)got;

	if (n >= 4 && !memcmp(h, "QFI\xfb", 4)) {
		r = probe_qcow(&s, h, n, o);
		goto out;
	}
	if (n >= 8 && !memcmp(h, "LUKS\xba\xbe", 6)) {
		o->kind = IMGFMT_LUKS;
		o->encrypted = true;
		goto out;
	}
	if (n >= 8 && !memcmp(h, "vhdxfile", 8)) {
		r = probe_vhdx(&s, o);
		goto out;
	}
	if (n >= 4 && !memcmp(h, "KDMV", 4)) {
		r = probe_vmdk_sparse(&s, h, n, o);
		goto out;
	}
	if (n >= 21 && !strncasecmp((char *)h, "# Disk DescriptorFile", 21)) {
		o->kind = IMGFMT_VMDK;
		if (file_size > VMDK_DESC_MAX)
			problem(o, "VMDK descriptor too large");
		else
			vmdk_descriptor((char *)h, false, o);
		goto out;
	}
	if (n >= 0x178 && le32(h + 0x40) == 0xbeda107f) {
		uint32_t type = le32(h + 0x4c);

		o->kind = IMGFMT_VDI;
		set_size(o, le64(h + 0x170));
		if (type < 1 || type > 4)
			problem(o, "VDI image type unknown");
		if (type == 3 || type == 4)
			set_backing(o, (const uint8_t *)"(VDI differencing image)", 24);
		goto out;
	}
	if (n >= VHD_FOOTER && !memcmp(h, "conectix", 8)) {
		r = probe_vhd(&s, h, o);
		goto out;
	}
	if (file_size >= VHD_FOOTER) {
		r = get(&s, tail, sizeof(tail), file_size - VHD_FOOTER);
		if (r < 0)
			goto out;
		if (r && !memcmp(tail, "conectix", 8)) {
			r = probe_vhd(&s, tail, o);
			goto out;
		}
		/* Old 511-byte footers: the cookie sits one byte later. */
		if (r && !memcmp(tail + 1, "conectix", 8)) {
			memmove(tail, tail + 1, VHD_FOOTER - 1);
			tail[VHD_FOOTER - 1] = 0;
			r = probe_vhd(&s, tail, o);
			goto out;
		}
		r = 0;
	}
	if (n >= 1024 && h[510] == 0x55 && h[511] == 0xaa &&
	    (!memcmp(h + 512, "EFI PART", 8) ||
	     (n >= 4104 && !memcmp(h + 4096, "EFI PART", 8)))) {
		o->kind = IMGFMT_RAW_GPT;
		set_size(o, file_size);
	} else if (n >= 512 && h[510] == 0x55 && h[511] == 0xaa &&
		   mbr_sane(h, file_size)) {
		o->kind = IMGFMT_RAW_MBR;
		set_size(o, file_size);
	} else if (n >= 512 && h[510] == 0x55 && h[511] == 0xaa &&
		   boot_volume(h)) {
		o->kind = IMGFMT_RAW_VOLUME;
		set_size(o, file_size);
	}
out:
	free(h);
	return r < 0 ? r : 0;
}

static long fd_pread(void *opaque, void *buf, size_t len, uint64_t off)
{
	int fd = *(int *)opaque;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done,
			  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		done += (size_t)n;
	}
	return (long)done;
}

int imgfmt_probe_fd(int fd, struct imgfmt_info *out, struct err *e)
{
	uint64_t size;
	struct stat st;

	if (fstat(fd, &st))
		return err_set(e, errno, "fstat: %s", strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		/* A physical disk being imported: its size is not in st_size. */
		if (ioctl(fd, BLKGETSIZE64, &size))
			return err_set(e, errno, "disk size: %s", strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		return err_set(e, EINVAL, "not a regular file or block device");
	}
	return imgfmt_probe(fd_pread, &fd, size, out, e);
}

struct membuf {
	const uint8_t *p;
	size_t n;
};

static long mem_pread(void *opaque, void *buf, size_t len, uint64_t off)
{
	const struct membuf *m = opaque;

	if (off >= m->n)
		return 0;
	if (len > m->n - off)
		len = m->n - (size_t)off;
	memcpy(buf, m->p + off, len);
	return (long)len;
}

int imgfmt_probe_buf(const uint8_t *buf, size_t len, struct imgfmt_info *out)
{
	struct membuf m = { buf, len };

	return imgfmt_probe(mem_pread, &m, len, out, NULL);
}

const char *imgfmt_name(enum imgfmt_kind k)
{
	switch (k) {
	case IMGFMT_QCOW2:	return "qcow2";
	case IMGFMT_VHDX:	return "vhdx";
	case IMGFMT_VHD:	return "vhd";
	case IMGFMT_VMDK:	return "vmdk";
	case IMGFMT_VDI:	return "vdi";
	case IMGFMT_LUKS:	return "luks";
	case IMGFMT_RAW_MBR:	return "raw-mbr";
	case IMGFMT_RAW_GPT:	return "raw-gpt";
	case IMGFMT_RAW_VOLUME:	return "raw-volume";
	case IMGFMT_UNKNOWN:	break;
	}
	return "unknown";
}

const char *imgfmt_qemu_driver(enum imgfmt_kind k)
{
	switch (k) {
	case IMGFMT_QCOW2:	return "qcow2";
	case IMGFMT_VHDX:	return "vhdx";
	case IMGFMT_VHD:	return "vpc";
	case IMGFMT_VMDK:	return "vmdk";
	case IMGFMT_VDI:	return "vdi";
	case IMGFMT_RAW_MBR:
	case IMGFMT_RAW_GPT:
	case IMGFMT_RAW_VOLUME:	return "raw";
	case IMGFMT_LUKS:
	case IMGFMT_UNKNOWN:	break;
	}
	return NULL;
}
