/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qmp_internal.h - the connection's state and the calls shared between
 * qmp.c (transport, commands, events) and query.c (typed helpers)
 */
#ifndef WALLOFF_QMP_INTERNAL_H
#define WALLOFF_QMP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "qmp.h"
#include "stream.h"

/* Longest job id we watch for; QEMU's ids are short identifiers. */
#define QMP_JOB_ID_MAX 64
/* "MAJOR.MINOR.MICRO" with each part at most 4 digits. */
#define QMP_VERSION_MAX 16

struct qmp {
	int fd;
	struct qmp_stream in;
	json_t *greeting; /* first message, once read */
	json_t *caps;	  /* greeting's capabilities array */
	char version[QMP_VERSION_MAX];
	int timeout_ms; /* for the typed helpers */

	long long next_id;    /* id of the next command */
	long long pending_id; /* command in flight, 0 if none */
	json_t *reply;	      /* its reply, once read */
	long long abandoned_id; /* timed out, abandoned: its late reply is
				 * dropped (qmp_execute_abandon()) */

	json_t **evq; /* ring of max_events events */
	size_t ev_head, ev_len;
	unsigned max_events;
	unsigned long dropped;
	qmp_event_fn *cb;
	void *cb_opaque;
	bool delivering; /* inside qmp_deliver_events() */

	char watch_job[QMP_JOB_ID_MAX]; /* job whose conclusion we wait for */
	bool watch_done;

	bool broken; /* a fatal error happened */
	char broken_msg[ERR_MSG_MAX];
};

/* Monotonic clock in milliseconds. */
int64_t qmp_now_ms(void);

/* Absolute deadline for a timeout in ms (<= 0: the default timeout). */
int64_t qmp_deadline(int timeout_ms);

/* -EPIPE if the connection is broken, else 0. */
int qmp_check_usable(struct qmp *q, struct err *e);

/* Read and handle messages until done(q) or the deadline (-ETIMEDOUT). */
int qmp_pump(struct qmp *q, int64_t deadline, bool (*done)(struct qmp *),
	     struct err *e);

/* qmp_execute() with an absolute deadline and without event delivery. */
int qmp_execute_until(struct qmp *q, const char *cmd, json_t *args,
		      int64_t deadline, json_t **retv, struct err *e);

/* Pump until QEMU closes the socket: 0 then, else negative errno. */
int qmp_wait_eof(struct qmp *q, int64_t deadline, struct err *e);

/* Hand queued events to the callback, if one is set. */
void qmp_deliver_events(struct qmp *q);

#endif /* WALLOFF_QMP_INTERNAL_H */
