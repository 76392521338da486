/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * query.c - typed helpers over qmp_execute(): the queries walloff verifies
 * the device model with, power and run-state commands, snapshot jobs
 *
 * Replies are untrusted like everything from QEMU: every field is checked
 * for its JSON type and range before it is copied into a fixed-size struct
 * field, and a string that does not fit is an error (-EPROTO), never
 * truncated (a truncated qdev id could match a different device in the
 * supervisor's verification). Lists are capped (QMP_PCI_MAX, QMP_LIST_MAX).
 *
 * query-pci nests: a bus lists devices, a bridge lists the devices of its
 * secondary bus under pci_bridge.devices. The walk is recursive; its depth
 * is bounded by the message nesting limit checked in stream.c.
 *
 * Snapshot jobs (snapshot-save/-load/-delete) return at once and run as a
 * QEMU job. Before sending the command we ask qmp.c to watch for that job's
 * JOB_STATUS_CHANGE "concluded" (set before sending, so the event may come
 * before or after the reply); then query-jobs tells whether the job failed
 * ("error" member) and job-dismiss removes it.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "qmp.h"
#include "qmp_internal.h"

/* Copy a string member; absent is allowed only if @optional. */
static int get_str(json_t *obj, const char *key, char *dst, size_t size,
		   bool optional, struct err *e)
{
	json_t *v = json_object_get(obj, key);
	const char *s;

	dst[0] = '\0';
	if (!v && optional)
		return 0;
	s = json_string_value(v);
	if (!s)
		return err_set(e, EPROTO,
			       "QMP reply: '%s' missing or not a string", key);
	if (json_string_length(v) >= size)
		return err_set(e, EPROTO, "QMP reply: '%s' longer than %zu",
			       key, size - 1);
	memcpy(dst, s, json_string_length(v) + 1);
	return 0;
}

static int get_int(json_t *obj, const char *key, int min, int max, int *dst,
		   struct err *e)
{
	json_t *v = json_object_get(obj, key);
	json_int_t i;

	if (!json_is_integer(v))
		return err_set(e, EPROTO,
			       "QMP reply: '%s' missing or not an integer",
			       key);
	i = json_integer_value(v);
	if (i < min || i > max)
		return err_set(e, EPROTO, "QMP reply: '%s' out of range", key);
	*dst = (int)i;
	return 0;
}

static int get_bool(json_t *obj, const char *key, bool optional, bool *dst,
		    struct err *e)
{
	json_t *v = json_object_get(obj, key);

	*dst = false;
	if (!v && optional)
		return 0;
	if (!json_is_boolean(v))
		return err_set(e, EPROTO,
			       "QMP reply: '%s' missing or not a boolean", key);
	*dst = json_is_true(v);
	return 0;
}

/* Run a query whose "return" must be of @type. */
static int query(struct qmp *q, const char *cmd, json_t *args, json_type type,
		 json_t **ret, struct err *e)
{
	int r;

	r = qmp_execute(q, cmd, args, q->timeout_ms, ret, e);
	if (r < 0)
		return r;
	if (!*ret || json_typeof(*ret) != type) {
		json_decref(*ret);
		*ret = NULL;
		return err_set(e, EPROTO, "%s: reply of the wrong type", cmd);
	}
	return 0;
}

int qmp_query_status(struct qmp *q, struct qmp_status *st, struct err *e)
{
	json_t *r = NULL;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = query(q, "query-status", NULL, JSON_OBJECT, &r, e);
	if (ret < 0)
		goto out;
	ret = get_bool(r, "running", false, &st->running, e);
	if (ret == 0)
		ret = get_str(r, "status", st->status, sizeof(st->status),
			      false, e);
out:
	json_decref(r);
	return ret;
}

struct pci_list {
	struct qmp_pci_dev *v;
	size_t n;
};

static int pci_devices(json_t *devs, struct pci_list *l, struct err *e);

static int pci_device(json_t *d, struct pci_list *l, struct err *e)
{
	struct qmp_pci_dev *p;
	json_t *ci, *id, *br;

	if (!json_is_object(d))
		return err_set(e, EPROTO, "query-pci: device not an object");
	if (l->n == QMP_PCI_MAX)
		return err_set(e, EPROTO, "query-pci: more than %d devices",
			       QMP_PCI_MAX);
	p = &l->v[l->n];
	memset(p, 0, sizeof(*p));
	ci = json_object_get(d, "class_info");
	id = json_object_get(d, "id");
	if (!json_is_object(ci) || !json_is_object(id))
		return err_set(e, EPROTO, "query-pci: no class_info/id");
	if (get_int(d, "bus", 0, 255, &p->bus, e) < 0 ||
	    get_int(d, "slot", 0, 31, &p->slot, e) < 0 ||
	    get_int(d, "function", 0, 7, &p->function, e) < 0 ||
	    get_int(ci, "class", 0, 0xffff, &p->class_code, e) < 0 ||
	    get_str(ci, "desc", p->description, sizeof(p->description), true,
		    e) < 0 ||
	    get_int(id, "vendor", 0, 0xffff, &p->vendor_id, e) < 0 ||
	    get_int(id, "device", 0, 0xffff, &p->device_id, e) < 0 ||
	    get_str(d, "qdev_id", p->qdev_id, sizeof(p->qdev_id), false, e) < 0)
		return err_prefix(e, "query-pci");
	l->n++;
	br = json_object_get(d, "pci_bridge");
	if (!br)
		return 0;
	if (!json_is_object(br))
		return err_set(e, EPROTO,
			       "query-pci: pci_bridge not an object");
	/* No "devices" before the firmware numbered the secondary bus. */
	if (!json_object_get(br, "devices"))
		return 0;
	return pci_devices(json_object_get(br, "devices"), l, e);
}

static int pci_devices(json_t *devs, struct pci_list *l, struct err *e)
{
	size_t i;
	int ret;

	if (!json_is_array(devs))
		return err_set(e, EPROTO, "query-pci: devices not an array");
	for (i = 0; i < json_array_size(devs); i++) {
		ret = pci_device(json_array_get(devs, i), l, e);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int qmp_query_pci(struct qmp *q, struct qmp_pci_dev **devs, size_t *n,
		  struct err *e)
{
	struct pci_list l = {0};
	json_t *r = NULL;
	size_t i;
	int ret;

	*devs = NULL;
	*n = 0;
	ret = query(q, "query-pci", NULL, JSON_ARRAY, &r, e);
	if (ret < 0)
		goto out;
	l.v = calloc(QMP_PCI_MAX, sizeof(*l.v));
	if (!l.v) {
		ret = err_set(e, ENOMEM, "query-pci");
		goto out;
	}
	for (i = 0; i < json_array_size(r); i++) {
		json_t *bus = json_array_get(r, i);

		if (!json_is_object(bus)) {
			ret =
			    err_set(e, EPROTO, "query-pci: bus not an object");
			goto out;
		}
		ret = pci_devices(json_object_get(bus, "devices"), &l, e);
		if (ret < 0)
			goto out;
	}
	if (l.n) {
		*devs = l.v;
		*n = l.n;
		l.v = NULL;
	}
	ret = 0;
out:
	free(l.v);
	json_decref(r);
	return ret;
}

static int block_one(json_t *b, struct qmp_block *blk, struct err *e)
{
	json_t *ins;
	int ret;

	if (!json_is_object(b))
		return err_set(e, EPROTO, "query-block: entry not an object");
	if ((ret = get_str(b, "device", blk->device, sizeof(blk->device), false,
			   e)) < 0 ||
	    (ret = get_str(b, "qdev", blk->qdev, sizeof(blk->qdev), true, e)) <
		0 ||
	    (ret = get_bool(b, "removable", false, &blk->removable, e)) < 0)
		return ret;
	ins = json_object_get(b, "inserted");
	if (!ins)
		return 0;
	if (!json_is_object(ins))
		return err_set(e, EPROTO,
			       "query-block: inserted not an object");
	blk->inserted = true;
	if ((ret = get_str(ins, "node-name", blk->node_name,
			   sizeof(blk->node_name), true, e)) < 0 ||
	    (ret = get_str(ins, "file", blk->file, sizeof(blk->file), false,
			   e)) < 0 ||
	    (ret = get_str(ins, "drv", blk->drv, sizeof(blk->drv), false, e)) <
		0 ||
	    (ret = get_bool(ins, "ro", false, &blk->ro, e)) < 0)
		return ret;
	return 0;
}

int qmp_query_block(struct qmp *q, struct qmp_block **blks, size_t *n,
		    struct err *e)
{
	struct qmp_block *v = NULL;
	json_t *r = NULL;
	size_t i, len;
	int ret;

	*blks = NULL;
	*n = 0;
	ret = query(q, "query-block", NULL, JSON_ARRAY, &r, e);
	if (ret < 0)
		goto out;
	len = json_array_size(r);
	if (len > QMP_LIST_MAX) {
		ret = err_set(e, EPROTO, "query-block: more than %d devices",
			      QMP_LIST_MAX);
		goto out;
	}
	if (!len)
		goto out;
	v = calloc(len, sizeof(*v));
	if (!v) {
		ret = err_set(e, ENOMEM, "query-block");
		goto out;
	}
	for (i = 0; i < len; i++) {
		ret = block_one(json_array_get(r, i), &v[i], e);
		if (ret < 0) {
			err_prefix(e, "query-block");
			goto out;
		}
	}
	*blks = v;
	*n = len;
	v = NULL;
out:
	free(v);
	json_decref(r);
	return ret;
}

int qmp_query_chardev(struct qmp *q, struct qmp_chardev **chs, size_t *n,
		      struct err *e)
{
	struct qmp_chardev *v = NULL;
	json_t *r = NULL, *c;
	size_t i, len;
	int ret;

	*chs = NULL;
	*n = 0;
	ret = query(q, "query-chardev", NULL, JSON_ARRAY, &r, e);
	if (ret < 0)
		goto out;
	len = json_array_size(r);
	if (len > QMP_LIST_MAX) {
		ret = err_set(e, EPROTO, "query-chardev: more than %d chardevs",
			      QMP_LIST_MAX);
		goto out;
	}
	if (!len)
		goto out;
	v = calloc(len, sizeof(*v));
	if (!v) {
		ret = err_set(e, ENOMEM, "query-chardev");
		goto out;
	}
	for (i = 0; i < len; i++) {
		c = json_array_get(r, i);
		if (!json_is_object(c)) {
			ret =
			    err_set(e, EPROTO, "query-chardev: not an object");
			goto out;
		}
		if ((ret = get_str(c, "label", v[i].label, sizeof(v[i].label),
				   false, e)) < 0 ||
		    (ret = get_str(c, "filename", v[i].filename,
				   sizeof(v[i].filename), false, e)) < 0 ||
		    (ret = get_bool(c, "frontend-open", true,
				    &v[i].frontend_open, e)) < 0) {
			err_prefix(e, "query-chardev");
			goto out;
		}
	}
	*chs = v;
	*n = len;
	v = NULL;
out:
	free(v);
	json_decref(r);
	return ret;
}

/* A command whose "return" is {} and whose only interest is success. */
static int simple(struct qmp *q, const char *cmd, json_t *args, struct err *e)
{
	json_t *r = NULL;
	int ret;

	ret = qmp_execute(q, cmd, args, q->timeout_ms, &r, e);
	json_decref(r);
	return ret;
}

int qmp_cont(struct qmp *q, struct err *e)
{
	return simple(q, "cont", NULL, e);
}

int qmp_stop(struct qmp *q, struct err *e)
{
	return simple(q, "stop", NULL, e);
}

int qmp_system_powerdown(struct qmp *q, struct err *e)
{
	return simple(q, "system_powerdown", NULL, e);
}

int qmp_quit(struct qmp *q, struct err *e)
{
	int64_t deadline = qmp_deadline(q->timeout_ms);
	int ret;

	ret = qmp_execute_until(q, "quit", NULL, deadline, NULL, e);
	/* QEMU may close the socket before its reply reaches us. */
	if (ret == -ECONNRESET) {
		err_clear(e);
		ret = 0;
	} else if (ret == 0) {
		ret = qmp_wait_eof(q, deadline, e);
	}
	qmp_deliver_events(q);
	return ret;
}

int qmp_screendump(struct qmp *q, const char *filename, struct err *e)
{
	json_t *args = json_pack("{s:s}", "filename", filename);

	if (!args)
		return err_set(e, EINVAL, "screendump: bad file name");
	return simple(q, "screendump", args, e);
}

int qmp_device_del(struct qmp *q, const char *id, struct err *e)
{
	json_t *args = json_pack("{s:s}", "id", id);

	if (!args)
		return err_set(e, EINVAL, "device_del: bad id");
	return simple(q, "device_del", args, e);
}

static bool job_concluded(struct qmp *q)
{
	return q->watch_done;
}

/* The job's "error" in query-jobs, if any: -EREMOTEIO with it in @e. */
static int job_result(struct qmp *q, const char *job_id, int64_t deadline,
		      struct err *e)
{
	json_t *jobs = NULL, *j;
	const char *id, *msg;
	size_t i;
	int ret;

	ret = qmp_execute_until(q, "query-jobs", NULL, deadline, &jobs, e);
	if (ret < 0)
		goto out;
	if (!json_is_array(jobs)) {
		ret = err_set(e, EPROTO, "query-jobs: not an array");
		goto out;
	}
	ret = err_set(e, EPROTO, "query-jobs: job %s not listed", job_id);
	json_array_foreach(jobs, i, j)
	{
		id = json_string_value(json_object_get(j, "id"));
		if (!id || strcmp(id, job_id))
			continue;
		msg = json_string_value(json_object_get(j, "error"));
		if (msg)
			ret = err_set(e, EREMOTEIO, "job %s failed: %.400s",
				      job_id, msg);
		else if (json_object_get(j, "error"))
			ret = err_set(e, EPROTO, "query-jobs: bad error");
		else
			ret = 0;
		break;
	}
out:
	json_decref(jobs);
	return ret;
}

static int snapshot_job(struct qmp *q, const char *cmd, const char *job_id,
			const char *tag, const char *vmstate,
			const char *const *devices, size_t n_devices,
			int timeout_ms, struct err *e)
{
	int64_t deadline = qmp_deadline(timeout_ms);
	json_t *args = NULL, *devs = NULL;
	struct err dismiss_err = {0};
	size_t i;
	int ret, r2;

	if (strlen(job_id) >= sizeof(q->watch_job)) {
		ret = err_set(e, EINVAL, "%s: job id too long", cmd);
		goto out;
	}
	devs = json_array();
	args = json_pack("{s:s, s:s}", "job-id", job_id, "tag", tag);
	if (!devs || !args) {
		ret = err_set(e, ENOMEM, "%s", cmd);
		goto out;
	}
	for (i = 0; i < n_devices; i++) {
		if (json_array_append_new(devs, json_string(devices[i])) < 0) {
			ret = err_set(e, EINVAL, "%s: bad device name", cmd);
			goto out;
		}
	}
	if (json_object_set(args, "devices", devs) < 0 ||
	    (vmstate &&
	     json_object_set_new(args, "vmstate", json_string(vmstate)) < 0)) {
		ret = err_set(e, EINVAL, "%s: bad arguments", cmd);
		goto out;
	}
	strcpy(q->watch_job, job_id);
	q->watch_done = false;
	ret = qmp_execute_until(q, cmd, args, deadline, NULL, e);
	args = NULL;
	if (ret < 0)
		goto out;
	ret = qmp_pump(q, deadline, job_concluded, e);
	if (ret < 0) {
		err_prefix(e, "%s job %s", cmd, job_id);
		goto out;
	}
	ret = job_result(q, job_id, deadline, e);
	if (ret < 0 && ret != -EREMOTEIO)
		goto out;
	r2 = qmp_execute_until(q, "job-dismiss",
			       json_pack("{s:s}", "id", job_id), deadline, NULL,
			       &dismiss_err);
	if (ret == 0 && r2 < 0) {
		ret = r2;
		if (e)
			*e = dismiss_err;
	}
out:
	q->watch_job[0] = '\0';
	json_decref(args);
	json_decref(devs);
	qmp_deliver_events(q);
	return ret;
}

int qmp_snapshot_save(struct qmp *q, const char *job_id, const char *tag,
		      const char *vmstate, const char *const *devices,
		      size_t n_devices, int timeout_ms, struct err *e)
{
	return snapshot_job(q, "snapshot-save", job_id, tag, vmstate, devices,
			    n_devices, timeout_ms, e);
}

int qmp_snapshot_load(struct qmp *q, const char *job_id, const char *tag,
		      const char *vmstate, const char *const *devices,
		      size_t n_devices, int timeout_ms, struct err *e)
{
	return snapshot_job(q, "snapshot-load", job_id, tag, vmstate, devices,
			    n_devices, timeout_ms, e);
}

int qmp_snapshot_delete(struct qmp *q, const char *job_id, const char *tag,
			const char *const *devices, size_t n_devices,
			int timeout_ms, struct err *e)
{
	return snapshot_job(q, "snapshot-delete", job_id, tag, NULL, devices,
			    n_devices, timeout_ms, e);
}
