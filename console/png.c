/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * png.c - the smallest useful PNG encoder: IHDR, one IDAT, IEND
 *
 * Truecolour 8-bit RGB, no interlace; every row uses filter type 0 and
 * the whole image is one zlib stream (compress2), which is plenty for
 * screenshots of text-mode and desktop screens. Chunk CRCs come from
 * zlib's crc32(). The file is written under a temporary name and renamed,
 * so a reader never sees half an image.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "png.h"

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
	uint8_t hdr[8], crc[4];
	uLong c;

	be32(hdr, len);
	memcpy(hdr + 4, type, 4);
	c = crc32(0, hdr + 4, 4);
	if (len)
		c = crc32(c, data, len);
	be32(crc, (uint32_t)c);
	if (fwrite(hdr, 1, 8, f) != 8 ||
	    (len && fwrite(data, 1, len, f) != len) ||
	    fwrite(crc, 1, 4, f) != 4)
		return -EIO;
	return 0;
}

int png_write_rgb(const char *path, const uint8_t *rgb, unsigned w, unsigned h,
		  struct err *e)
{
	static const uint8_t sig[8] = {0x89, 'P',  'N',	 'G',
				       '\r', '\n', 0x1a, '\n'};
	uint8_t ihdr[13] = {0};
	size_t row = (size_t)w * 3, rawlen = (row + 1) * h, y;
	uint8_t *raw = NULL, *z = NULL;
	uLongf zlen;
	char tmp[4096];
	FILE *f = NULL;
	int r = 0;

	if (!w || !h || w > PNG_MAX_DIM || h > PNG_MAX_DIM)
		return err_set(e, EINVAL, "png: bad size %ux%u", w, h);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return err_set(e, ENAMETOOLONG, "png: name too long");
	raw = malloc(rawlen);
	zlen = compressBound((uLong)rawlen);
	z = malloc(zlen);
	if (!raw || !z) {
		r = err_set(e, ENOMEM, "png: out of memory");
		goto out;
	}
	for (y = 0; y < h; y++) {
		raw[y * (row + 1)] = 0;
		memcpy(raw + y * (row + 1) + 1, rgb + y * row, row);
	}
	if (compress2(z, &zlen, raw, (uLong)rawlen, 6) != Z_OK) {
		r = err_set(e, EIO, "png: compression failed");
		goto out;
	}
	be32(ihdr, w);
	be32(ihdr + 4, h);
	ihdr[8] = 8; /* bit depth */
	ihdr[9] = 2; /* truecolour */
	f = fopen(tmp, "wbx");
	if (!f) {
		r = err_set(e, errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fwrite(sig, 1, 8, f) != 8 || chunk(f, "IHDR", ihdr, 13) ||
	    chunk(f, "IDAT", z, (uint32_t)zlen) || chunk(f, "IEND", NULL, 0) ||
	    fclose(f)) {
		f = NULL;
		unlink(tmp);
		r = err_set(e, EIO, "%s: write failed", tmp);
		goto out;
	}
	f = NULL;
	if (rename(tmp, path)) {
		r = err_set(e, errno, "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
out:
	if (f)
		fclose(f);
	free(raw);
	free(z);
	return r;
}
