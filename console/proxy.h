/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proxy.h - the walloff-console event loop (see proxy.c)
 */
#ifndef WALLOFF_PROXY_H
#define WALLOFF_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"

/**
 * struct proxy_config - everything walloff-console was told on its
 * command line, plus the server identity
 */
struct proxy_config {
	const char *listen;	 /* ADDR:PORT or [ADDR]:PORT */
	const char *vnc_path;	 /* QEMU's VNC unix socket */
	const char *serial_path; /* QEMU's serial unix socket, or NULL */
	const char *cell;
	const char *keys_path;
	bool clipboard_to_guest;
	unsigned handshake_timeout_s;
	unsigned max_sessions;
	unsigned max_handshakes;
	unsigned rate_per_s; /* new connections per source per s */
	unsigned rate_burst;
	unsigned idle_timeout_s; /* 0: never */
	int ready_fd;		 /* -1: none */
	const char *notice;	 /* NOTICE after every HELLO, or NULL; valid
				  * (console_notice_valid()) */
	struct audit *audit;
	uint8_t priv[32], pub[32]; /* server static key */
};

/**
 * proxy_run() - listen and serve until SIGTERM/SIGINT
 * @cfg:	configuration
 * @e:		error
 *
 * Return: 0 after a clean stop, -errno on a fatal error (the cell's
 * console then fails closed)
 */
int proxy_run(struct proxy_config *cfg, struct err *e);

#endif /* WALLOFF_PROXY_H */
