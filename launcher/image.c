/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * image.c - base images: pinned by SHA-256, never written, overlaid
 *
 * The base image of a legacy machine is the golden copy. It is opened
 * read-only by QEMU, and before every start we hash it in full and compare
 * with the profile's pin: an image that drifted (edited, infected, swapped)
 * is refused. All writes go to a qcow2 overlay created here with qemu-img;
 * for ephemeral disks the supervisor deletes it when the cell stops.
 *
 * The overlay records the base as its backing file, but QEMU is never asked
 * to follow it: the supervisor's -blockdev wires "backing" to our read-only
 * base node explicitly (see qemu_argv.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "hex.h"
#include "image.h"

/* Read size for hashing: large enough to stream at disk speed. */
#define HASH_CHUNK (1 << 20)

int image_sha256_fd(int fd, uint8_t out[static 32], struct err *e)
{
	crypto_hash_sha256_state st;
	uint8_t *buf;
	ssize_t n;
	int ret = 0;

	buf = malloc(HASH_CHUNK);
	if (!buf)
		return err_set(e, ENOMEM, "out of memory");
	crypto_hash_sha256_init(&st);
	for (;;) {
		n = read(fd, buf, HASH_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = err_set(e, errno, "reading image: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&st, buf, (size_t)n);
	}
	crypto_hash_sha256_final(&st, out);
	if (lseek(fd, 0, SEEK_SET) < 0)
		ret = err_set(e, errno, "seek: %s", strerror(errno));
out:
	free(buf);
	return ret;
}

int image_open_pinned(const struct profile *p, int *fdp,
		      char actual[static 65], struct err *e)
{
	struct stat st;
	uint8_t h[32];
	char want[65];
	int fd, ret;

	*fdp = -1;
	fd = open(p->image, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return err_set(e, errno, "base image %s: %s", p->image,
			       strerror(errno));
	/* The profile check resolved the path; check the object we hold. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = err_set(e, EPERM, "base image %s is not a regular file",
			      p->image);
		goto fail;
	}
	ret = image_sha256_fd(fd, h, e);
	if (ret)
		goto fail;
	hex_encode(actual, h, sizeof(h));
	if (!p->has_sha256) {
		ret = err_set(e, ENOKEY,
			      "%s: [disk] has no sha256 pin; add: sha256 = %s",
			      p->path, actual);
		goto fail;
	}
	if (sodium_memcmp(h, p->sha256, sizeof(h))) {
		hex_encode(want, p->sha256, sizeof(p->sha256));
		ret = err_set(e, EBADMSG,
			      "base image %s does not match its pin: sha256 is %s, "
			      "profile pins %s; refusing to start",
			      p->image, actual, want);
		goto fail;
	}
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return ret;
}

int image_create_overlay(const char *qemu_img, const char *base,
			 enum disk_format format, const char *overlay,
			 struct err *e)
{
	char backing[4200], out[512];
	int pipefd[2], status;
	ssize_t n = 0, r;
	pid_t pid;

	if ((size_t)snprintf(backing, sizeof(backing), "%s", base) >=
	    sizeof(backing))
		return err_set(e, ENAMETOOLONG, "base path too long");
	if (pipe2(pipefd, O_CLOEXEC))
		return err_set(e, errno, "pipe: %s", strerror(errno));

	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return err_set(e, errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		char *const argv[] = {
			(char *)qemu_img, "create", "-q", "-f", "qcow2",
			"-F", format == FORMAT_RAW ? "raw" : "qcow2",
			"-b", backing, (char *)overlay, NULL,
		};
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		umask(0077);
		execv(qemu_img, argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((size_t)n < sizeof(out) - 1) {
		r = read(pipefd[0], out + n, sizeof(out) - 1 - (size_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	out[n] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char *nl;

		while ((nl = strchr(out, '\n')))
			*nl = ' ';
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			return err_set(e, ENOENT, "cannot run %s", qemu_img);
		return err_set(e, EIO, "qemu-img create failed: %s", out);
	}
	return 0;
}
