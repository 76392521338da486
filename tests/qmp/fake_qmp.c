/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake_qmp.c - a scripted QMP server for the unit tests (see fake_qmp.h)
 *
 * Requests are read one byte at a time so that nothing beyond one request
 * is consumed; replies are the recorded fixture lines with "id" replaced by
 * the request's id, written as QEMU does (compact JSON, "\r\n").
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fake_qmp.h"

/* Largest request a test sends (the partial-write test sends 300 KiB). */
#define FAKE_REQ_MAX (1 << 20)

int fake_start(struct fake *f, fake_script *script, void *arg)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	fflush(NULL);
	f->pid = fork();
	if (f->pid < 0)
		return -1;
	if (f->pid == 0) {
		close(sv[0]);
		signal(SIGPIPE, SIG_IGN);
		script(sv[1], arg);
		_exit(0);
	}
	close(sv[1]);
	f->fd = sv[0];
	return 0;
}

int fake_wait(struct fake *f)
{
	int st;

	if (waitpid(f->pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

char *fake_fixture(const char *name, size_t *len)
{
	char path[4096];
	FILE *fp;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/qmp/%s",
		 WALLOFF_SOURCE_ROOT, name);
	fp = fopen(path, "rb");
	if (!fp) {
		fprintf(stderr, "fake: no fixture %s\n", path);
		_exit(90);
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, fp) != (size_t)n)
		_exit(91);
	buf[n] = '\0';
	fclose(fp);
	if (len)
		*len = (size_t)n;
	return buf;
}

void fake_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* client went away: that is its right */
		p += n;
		len -= (size_t)n;
	}
}

void fake_line(int fd, const char *s)
{
	fake_write(fd, s, strlen(s));
	fake_write(fd, "\r\n", 2);
}

void fake_bytewise(int fd, const char *s)
{
	for (; *s; s++)
		fake_write(fd, s, 1);
}

json_t *fake_read(int fd)
{
	char *buf = malloc(FAKE_REQ_MAX);
	size_t len = 0;
	json_t *j;
	ssize_t n;

	if (!buf)
		_exit(92);
	for (;;) {
		n = read(fd, buf + len, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		if (buf[len] == '\n')
			break;
		if (++len == FAKE_REQ_MAX)
			_exit(93);
	}
	j = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (!j)
		_exit(94);
	return j;
}

void fake_send_fixture(int fd, const char *name)
{
	char *s = fake_fixture(name, NULL);

	fake_write(fd, s, strlen(s));
	free(s);
}

void fake_reply(int fd, const char *fixture, json_t *req)
{
	char *s = fake_fixture(fixture, NULL);
	json_t *j = json_loads(s, 0, NULL);
	char *out;

	if (!j)
		_exit(95);
	json_object_set(j, "id", json_object_get(req, "id"));
	out = json_dumps(j, JSON_COMPACT);
	fake_line(fd, out);
	free(out);
	json_decref(j);
	free(s);
}

void fake_handshake(int fd)
{
	json_t *req;

	fake_send_fixture(fd, "greeting.json");
	req = fake_read(fd);
	if (!req)
		_exit(0);
	if (strcmp(json_string_value(json_object_get(req, "execute")),
		   "qmp_capabilities"))
		_exit(96);
	fake_reply(fd, "qmp_capabilities.reply.json", req);
	json_decref(req);
}

void fake_drain(int fd)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR))
			return;
	}
}
