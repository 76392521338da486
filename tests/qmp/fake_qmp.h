/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fake_qmp.h - a scripted QMP server for the unit tests
 *
 * fake_start() forks a child that runs a script on one end of a socketpair
 * and returns the other end, ready for qmp_connect_fd(). Scripts replay the
 * fixtures recorded from QEMU 7.2 (tests/fixtures/qmp/) with the client's
 * ids, or misbehave on purpose. The child never uses cmocka: it exits with
 * _exit() and the parent checks what the client saw.
 */
#ifndef WALLOFF_FAKE_QMP_H
#define WALLOFF_FAKE_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

struct fake {
	pid_t pid;
	int fd; /* client end */
};

typedef void fake_script(int fd, void *arg);

/* Fork the server; returns 0 or -1. */
int fake_start(struct fake *f, fake_script *script, void *arg);
/* Reap the server; returns its exit status (0 when the script finished). */
int fake_wait(struct fake *f);

/* Child side helpers. */
char *fake_fixture(const char *name, size_t *len); /* malloc'ed file */
void fake_write(int fd, const void *buf, size_t len);
void fake_line(int fd, const char *s);	   /* s + "\r\n" */
void fake_bytewise(int fd, const char *s); /* one write() per byte */
json_t *fake_read(int fd);		   /* next request, NULL at EOF */
void fake_send_fixture(int fd, const char *name);
void fake_reply(int fd, const char *fixture, json_t *req); /* with req's id */
void fake_handshake(int fd);
void fake_drain(int fd); /* read until EOF */

#endif
