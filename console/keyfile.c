/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keyfile.c - private key files, base64 public keys and fingerprints
 *
 * A private key file is one line: "walloff-key-v1 <base64 private key>".
 * It is created with O_CREAT|O_EXCL and mode 0600 (an existing file is
 * never overwritten: that would silently destroy an identity) and written
 * in full before it is fsync'd; a key file readable by group or others is
 * refused when loading, as ssh does. The same format holds the server's
 * static key in the cell's state dir. Fingerprints are "SHA256:" plus
 * the unpadded base64 of SHA-256 over the public key, ssh's familiar form.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "client.h"
#include "noise.h"

#define KEYFILE_MAGIC "walloff-key-v1 "
/* magic + base64 + newline, with room to spare for detection of junk */
#define KEYFILE_MAX 128

void console_key_b64(char out[static CONSOLE_B64_LEN],
		     const uint8_t pub[static CONSOLE_KEY_LEN])
{
	sodium_bin2base64(out, CONSOLE_B64_LEN, pub, CONSOLE_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

int console_key_from_b64(uint8_t pub[static CONSOLE_KEY_LEN], const char *s)
{
	size_t n = 0, len = strlen(s);
	const char *end;

	if (len != CONSOLE_B64_LEN - 1)
		return -EINVAL;
	if (sodium_base642bin(pub, CONSOLE_KEY_LEN, s, len, NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) ||
	    n != CONSOLE_KEY_LEN || *end)
		return -EINVAL;
	return 0;
}

void console_fingerprint(char out[static CONSOLE_FPR_LEN],
			 const uint8_t pub[static CONSOLE_KEY_LEN])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	memcpy(out, "SHA256:", 7);
	crypto_hash_sha256(h, pub, CONSOLE_KEY_LEN);
	sodium_bin2base64(out + 7, CONSOLE_FPR_LEN - 7, h, sizeof(h),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int console_key_generate(const char *path, uint8_t pub[static CONSOLE_KEY_LEN],
			 struct err *e)
{
	uint8_t priv[CONSOLE_KEY_LEN];
	char line[KEYFILE_MAX], b64[CONSOLE_B64_LEN];
	int fd, r = 0, n;

	if (sodium_init() < 0)
		return err_set(e, EIO, "libsodium init failed");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	noise_keypair(priv, pub);
	console_key_b64(b64, priv);
	n = snprintf(line, sizeof(line), KEYFILE_MAGIC "%s\n", b64);
	if (fchmod(fd, 0600) || write_all(fd, line, (size_t)n) || fsync(fd)) {
		r = err_set(e, errno ? errno : EIO, "%s: %s", path,
			    strerror(errno));
		unlink(path);
	}
	close(fd);
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(line, sizeof(line));
	sodium_memzero(b64, sizeof(b64));
	return r;
}

int console_key_load(const char *path, uint8_t priv[static CONSOLE_KEY_LEN],
		     uint8_t pub[static CONSOLE_KEY_LEN], struct err *e)
{
	char buf[KEYFILE_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t len = strlen(KEYFILE_MAGIC);
	int fd, r = 0;

	if (sodium_init() < 0)
		return err_set(e, EIO, "libsodium init failed");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		r = err_set(e, EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		r = err_set(e, EPERM,
			    "%s: private key readable by others (chmod 600 it)",
			    path);
		goto out;
	}
	n = read(fd, buf, KEYFILE_MAX);
	if (n < 0) {
		r = err_set(e, errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	if ((size_t)n < len || memcmp(buf, KEYFILE_MAGIC, len)) {
		r = err_set(e, EINVAL, "%s: not a walloff key file", path);
		goto out;
	}
	buf[strcspn(buf, "\n")] = '\0';
	if (console_key_from_b64(priv, buf + len) || noise_pubkey(pub, priv)) {
		r = err_set(e, EINVAL, "%s: damaged key file", path);
		goto out;
	}
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return r;
}

int console_key_load_or_create(const char *path,
			       uint8_t priv[static CONSOLE_KEY_LEN],
			       uint8_t pub[static CONSOLE_KEY_LEN],
			       bool *created, struct err *e)
{
	uint8_t tmp[CONSOLE_KEY_LEN];
	int r;

	*created = false;
	r = console_key_generate(path, tmp, e);
	if (!r)
		*created = true;
	else if (r != -EEXIST)
		return r;
	err_clear(e);
	return console_key_load(path, priv, pub, e);
}
