/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qmp.h - QMP client: walloff's API to QEMU
 *
 * One struct qmp is one connection to a QEMU monitor socket. Everything QEMU
 * sends is treated as untrusted input (a compromised guest may control
 * QEMU): messages are bounded in size and nesting, the event queue is
 * bounded, every wait has a deadline, and any protocol violation makes the
 * connection unusable ("broken") instead of guessing.
 *
 * Use:
 *	q = qmp_connect("/run/walloff/x/qmp.sock", 10000, &e);
 *	qmp_query_status(q, &st, &e);   ... qmp_cont(q, &e);
 *	poll() on qmp_fd(q) for POLLIN, then qmp_dispatch(q, &e);
 *	qmp_close(q);
 *
 * Events (SHUTDOWN, STOP, RESUME, JOB_STATUS_CHANGE, ...) read at any time,
 * also while a command waits for its reply, go into a bounded queue (oldest
 * dropped and counted when full). If an event callback is set, the queue is
 * drained into it before qmp_dispatch(), qmp_execute() and the helpers
 * return; otherwise the caller takes events with qmp_event_pop().
 *
 * Error classes (negative errno returned, detail in struct err):
 *	-ETIMEDOUT	QEMU silent past the deadline
 *	-ECONNRESET	QEMU closed the connection (between messages)
 *	-EBADMSG	garbage, duplicate keys, a non-object, EOF mid-message
 *	-EILSEQ		invalid UTF-8
 *	-EMSGSIZE	a message longer than the size limit
 *	-ELOOP		a message nested deeper than the depth limit
 *	-EPROTO		valid JSON that breaks the protocol: no or bad greeting,
 *			a reply with an unknown id, a reply of the wrong shape
 *	-EREMOTEIO	QEMU answered with an error (class and desc in e)
 *	-EPIPE		the connection was already broken by an earlier error
 *	other		socket errors (-ENOENT, -ECONNREFUSED, ...), -ENOMEM
 * All but -EREMOTEIO break the connection: close it (and, for walloff, treat
 * QEMU as compromised or hung). -EREMOTEIO leaves it usable.
 */
#ifndef WALLOFF_QMP_H
#define WALLOFF_QMP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "err.h"

/*
 * Longest message accepted by default. QEMU 7.2's query-qmp-schema reply,
 * the largest QMP reply walloff might ask for, is about 200 KiB; 4 MiB
 * leaves room for big query-block/query-pci replies while bounding what a
 * hostile QEMU can make us allocate (the line plus jansson's tree of it).
 */
#define QMP_MAX_MSG_DEFAULT (4u << 20)
/* Deepest nesting by default: real replies nest under 10 (query-pci with
 * bridges adds 4 per bridge level); 64 is generous and keeps jansson's
 * recursive parser far from the stack's end. */
#define QMP_MAX_DEPTH_DEFAULT 64u
/* Events held for the caller by default: a burst (e.g. JOB_STATUS_CHANGE
 * during a snapshot, STOP/RESUME pairs) is tens; QEMU rate-limits the noisy
 * ones (BLOCK_IO_ERROR, RTC_CHANGE) to about one per second. */
#define QMP_MAX_EVENTS_DEFAULT 256u
/* Command timeout used by the helpers unless qmp_set_timeout() says so. */
#define QMP_TIMEOUT_DEFAULT_MS 10000

struct qmp;

/**
 * typedef qmp_event_fn - event callback
 * @opaque:	pointer given to qmp_set_event_cb()
 * @name:	the event's name ("SHUTDOWN", ...), valid during the call
 * @event:	the whole event object ("event", "data", "timestamp"); borrowed,
 *		json_incref() it to keep it
 *
 * Called from qmp_dispatch(), qmp_execute() and the helpers, after they have
 * finished reading; the callback may call qmp_execute() itself, but not
 * qmp_close() (close after the call that delivered the event returns).
 */
typedef void qmp_event_fn(void *opaque, const char *name, json_t *event);

/**
 * qmp_connect() - connect to a QMP unix socket and negotiate capabilities
 * @sock_path:	path of QEMU's -qmp unix socket
 * @timeout_ms:	deadline for the whole handshake, <= 0 for the default; the
 *		connect is retried until then (QEMU may not have created the
 *		socket yet)
 * @e:		error detail
 *
 * Reads the greeting, records QEMU's version and capabilities and sends
 * qmp_capabilities (no optional capability is enabled).
 *
 * Return: the connection, or NULL with @e set
 */
struct qmp *qmp_connect(const char *sock_path, int timeout_ms, struct err *e);

/**
 * qmp_connect_fd() - like qmp_connect() on a socket already connected
 * @fd:		connected stream socket; owned by the connection from now on
 *		(closed on failure too)
 * @timeout_ms:	deadline for greeting and negotiation, <= 0 for the default
 * @e:		error detail
 *
 * For a socketpair given to QEMU as "-qmp fd" / "-chardev socket,fd=", and
 * for tests.
 *
 * Return: the connection, or NULL with @e set
 */
struct qmp *qmp_connect_fd(int fd, int timeout_ms, struct err *e);

/**
 * qmp_close() - close the connection and free everything it holds
 * @q:		connection, may be NULL
 *
 * Queued events are discarded.
 */
void qmp_close(struct qmp *q);

/**
 * qmp_version() - QEMU's version from the greeting
 * @q:		connection
 *
 * Return: "MAJOR.MINOR.MICRO", valid until qmp_close()
 */
const char *qmp_version(struct qmp *q);

/**
 * qmp_capabilities() - capabilities QEMU offered in its greeting
 * @q:		connection
 *
 * Return: JSON array of strings (borrowed), e.g. ["oob"]
 */
json_t *qmp_capabilities(struct qmp *q);

/**
 * qmp_set_limits() - change the bounds on what QEMU may send
 * @q:		connection
 * @max_msg:	longest message in bytes (0: unchanged)
 * @max_depth:	deepest nesting (0: unchanged)
 * @max_events:	queued events kept (0: unchanged); shrinking drops the oldest
 *
 * Takes effect for the next message; a message being received keeps the
 * old size limit.
 *
 * Return: 0, or -ENOMEM
 */
int qmp_set_limits(struct qmp *q, size_t max_msg, unsigned max_depth,
		   unsigned max_events);

/**
 * qmp_set_timeout() - timeout of the typed helpers' commands
 * @q:		connection
 * @timeout_ms:	milliseconds, <= 0 for QMP_TIMEOUT_DEFAULT_MS
 */
void qmp_set_timeout(struct qmp *q, int timeout_ms);

/**
 * qmp_fd() - the socket to poll for POLLIN
 * @q:		connection
 *
 * Return: file descriptor; call qmp_dispatch() when it is readable
 */
int qmp_fd(struct qmp *q);

/**
 * qmp_dispatch() - read what QEMU sent and deliver events, without blocking
 * @q:		connection
 * @e:		error detail
 *
 * Return: 0 (also when nothing was there), or a negative errno from the
 * list in this header (-ECONNRESET when QEMU closed the socket, e.g. after
 * quit); events read before an error are still queued/delivered
 */
int qmp_dispatch(struct qmp *q, struct err *e);

/**
 * qmp_set_event_cb() - deliver events to a callback instead of the queue
 * @q:		connection
 * @cb:		callback, NULL to keep events in the queue
 * @opaque:	passed to @cb
 */
void qmp_set_event_cb(struct qmp *q, qmp_event_fn *cb, void *opaque);

/**
 * qmp_event_pop() - take the oldest queued event
 * @q:		connection
 *
 * Return: the event object (caller decrefs), or NULL if none is queued
 */
json_t *qmp_event_pop(struct qmp *q);

/**
 * qmp_events_dropped() - events lost because the queue was full
 * @q:		connection
 *
 * Return: count since qmp_connect()
 */
unsigned long qmp_events_dropped(struct qmp *q);

/**
 * qmp_execute() - run one command and wait for its reply
 * @q:		connection
 * @cmd:	command name, e.g. "query-status"
 * @args:	"arguments" object, stolen (also on failure); may be NULL
 * @timeout_ms:	deadline for sending and the reply, <= 0 for the default
 * @ret:	set to the reply's "return" value (caller decrefs); may be NULL
 * @e:		error detail; for -EREMOTEIO "CLASS: desc" from QEMU
 *
 * Events that arrive while waiting are queued/delivered, not lost. A
 * timeout breaks the connection: QEMU may still answer later (see
 * qmp_execute_abandon() for commands that may outlast their deadline).
 *
 * Return: 0, -EREMOTEIO if QEMU replied with an error, or another negative
 * errno from the list in this header
 */
int qmp_execute(struct qmp *q, const char *cmd, json_t *args, int timeout_ms,
		json_t **ret, struct err *e);

/**
 * qmp_execute_abandon() - qmp_execute() for a command that may outlast
 *			   its deadline
 * @q:		connection
 * @cmd:	command name, e.g. "snapshot-save"
 * @args:	"arguments" object, stolen (also on failure); may be NULL
 * @timeout_ms:	deadline for sending and the reply, <= 0 for the default
 * @ret:	set to the reply's "return" value (caller decrefs); may be NULL
 * @e:		error detail
 *
 * If the command was sent whole but QEMU has not replied by the deadline,
 * the command is abandoned instead of the connection: -ETIMEDOUT, the
 * connection stays usable, and the reply, when it comes, is read and
 * dropped (QEMU answers in order, so it comes before the reply to any
 * later command). One command at a time can be abandoned; a timeout while
 * one still is breaks the connection as qmp_execute() does.
 *
 * Return: as qmp_execute()
 */
int qmp_execute_abandon(struct qmp *q, const char *cmd, json_t *args,
			int timeout_ms, json_t **ret, struct err *e);

/* Longest name (qdev id, node name, device, label) the helpers return. */
#define QMP_NAME_MAX 128
/* Longest file name or chardev filename the helpers return (PATH_MAX plus
 * room for a chardev prefix/suffix such as "unix:...,server=on"). */
#define QMP_FILE_MAX 4200
/* Most PCI functions query-pci may report: more than any machine walloff
 * builds (pc/q35 with a few devices), far less than memory worth guarding. */
#define QMP_PCI_MAX 512
/* Most block devices / chardevs returned by query-block / query-chardev. */
#define QMP_LIST_MAX 256

struct qmp_status {
	bool running;
	char status[32]; /* "prelaunch", "running", "paused", ... */
};

struct qmp_pci_dev {
	int bus, slot, function;
	int class_code; /* class_info.class, e.g. 0x0200 */
	int vendor_id, device_id;
	char qdev_id[QMP_NAME_MAX];	/* "" when QEMU made the device */
	char description[QMP_NAME_MAX]; /* class_info.desc, may be "" */
};

struct qmp_block {
	char device[QMP_NAME_MAX]; /* "" for -blockdev/-device disks */
	char qdev[QMP_NAME_MAX];
	char node_name[QMP_NAME_MAX]; /* of the inserted medium */
	char file[QMP_FILE_MAX];
	char drv[32];
	bool ro, removable, inserted;
};

struct qmp_chardev {
	char label[QMP_NAME_MAX];
	char filename[QMP_FILE_MAX];
	bool frontend_open;
};

/**
 * qmp_query_status() - query-status
 * @q:		connection
 * @st:		filled with the run state
 * @e:		error detail
 *
 * Return: 0 or negative errno (-EPROTO if the reply has the wrong shape)
 */
int qmp_query_status(struct qmp *q, struct qmp_status *st, struct err *e);

/**
 * qmp_query_pci() - query-pci, flattened: every function on every bus,
 *	including the buses behind PCI bridges (recursively)
 * @q:		connection
 * @devs:	set to a malloc()ed array (caller free()s), NULL when empty
 * @n:		set to the number of entries
 * @e:		error detail
 *
 * Before the firmware ran (QEMU started with -S), bridges have no bus
 * number yet and QEMU lists no devices behind them.
 *
 * Return: 0 or negative errno
 */
int qmp_query_pci(struct qmp *q, struct qmp_pci_dev **devs, size_t *n,
		  struct err *e);

/**
 * qmp_query_block() - query-block
 * @q:		connection
 * @blks:	set to a malloc()ed array (caller free()s), NULL when empty
 * @n:		set to the number of entries
 * @e:		error detail
 *
 * Return: 0 or negative errno
 */
int qmp_query_block(struct qmp *q, struct qmp_block **blks, size_t *n,
		    struct err *e);

/**
 * qmp_query_chardev() - query-chardev
 * @q:		connection
 * @chs:	set to a malloc()ed array (caller free()s), NULL when empty
 * @n:		set to the number of entries
 * @e:		error detail
 *
 * Return: 0 or negative errno
 */
int qmp_query_chardev(struct qmp *q, struct qmp_chardev **chs, size_t *n,
		      struct err *e);

/**
 * qmp_cont() - cont: start or resume the guest
 * @q:		connection
 * @e:		error detail
 *
 * Return: 0 or negative errno
 */
int qmp_cont(struct qmp *q, struct err *e);

/**
 * qmp_stop() - stop: pause the guest
 * @q:		connection
 * @e:		error detail
 *
 * Return: 0 or negative errno
 */
int qmp_stop(struct qmp *q, struct err *e);

/**
 * qmp_system_powerdown() - system_powerdown: ACPI power button
 * @q:		connection
 * @e:		error detail
 *
 * Return: 0 or negative errno
 */
int qmp_system_powerdown(struct qmp *q, struct err *e);

/**
 * qmp_quit() - quit, then wait until QEMU closes the socket
 * @q:		connection
 * @e:		error detail
 *
 * The SHUTDOWN event QEMU sends before closing is queued/delivered. The
 * connection is unusable afterwards; qmp_close() it.
 *
 * Return: 0 once QEMU closed the socket, or negative errno
 */
int qmp_quit(struct qmp *q, struct err *e);

/**
 * qmp_screendump() - screendump to a file (PPM) written by QEMU
 * @q:		connection
 * @filename:	path as QEMU sees it
 * @e:		error detail
 *
 * Return: 0 or negative errno
 */
int qmp_screendump(struct qmp *q, const char *filename, struct err *e);

/**
 * qmp_device_del() - device_del (the removal completes later, with a
 *	DEVICE_DELETED event)
 * @q:		connection
 * @id:		qdev id
 * @e:		error detail
 *
 * Return: 0 or negative errno
 */
int qmp_device_del(struct qmp *q, const char *id, struct err *e);

/**
 * qmp_snapshot_save() - snapshot-save job, waited for and dismissed
 * @q:		connection
 * @job_id:	job id to use (unique among QEMU's jobs)
 * @tag:	snapshot name
 * @vmstate:	node name of the disk that receives the RAM state
 * @devices:	node names of the disks to snapshot
 * @n_devices:	number of entries in @devices
 * @timeout_ms:	deadline for the whole job, <= 0 for the default
 * @e:		error detail; for a failed job, QEMU's job error
 *
 * Waits for JOB_STATUS_CHANGE "concluded", reads the job's result with
 * query-jobs and removes it with job-dismiss. The JOB_STATUS_CHANGE events
 * are queued/delivered like any other.
 *
 * Return: 0, -EREMOTEIO if the command or the job failed, or negative errno
 */
int qmp_snapshot_save(struct qmp *q, const char *job_id, const char *tag,
		      const char *vmstate, const char *const *devices,
		      size_t n_devices, int timeout_ms, struct err *e);

/**
 * qmp_snapshot_load() - snapshot-load job; arguments as qmp_snapshot_save()
 * @q:		connection
 * @job_id:	job id to use
 * @tag:	snapshot name
 * @vmstate:	node name of the disk holding the RAM state
 * @devices:	node names of the disks to revert
 * @n_devices:	number of entries in @devices
 * @timeout_ms:	deadline for the whole job, <= 0 for the default
 * @e:		error detail
 *
 * Return: 0, -EREMOTEIO if the command or the job failed, or negative errno
 */
int qmp_snapshot_load(struct qmp *q, const char *job_id, const char *tag,
		      const char *vmstate, const char *const *devices,
		      size_t n_devices, int timeout_ms, struct err *e);

/**
 * qmp_snapshot_delete() - snapshot-delete job
 * @q:		connection
 * @job_id:	job id to use
 * @tag:	snapshot name
 * @devices:	node names of the disks to delete it from
 * @n_devices:	number of entries in @devices
 * @timeout_ms:	deadline for the whole job, <= 0 for the default
 * @e:		error detail
 *
 * Return: 0, -EREMOTEIO if the command or the job failed, or negative errno
 */
int qmp_snapshot_delete(struct qmp *q, const char *job_id, const char *tag,
			const char *const *devices, size_t n_devices,
			int timeout_ms, struct err *e);

#endif /* WALLOFF_QMP_H */
