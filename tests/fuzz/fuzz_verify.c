/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_verify.c - fuzz target for the QMP reply checks in launcher/verify.c
 *
 * The input is what a hostile QEMU answers to verification: one JSON
 * object mapping each query ("query-pci", "qom-list /machine/peripheral",
 * ...) to its "return" value, as in tests/fixtures/verify/pc-ide-std.json
 * (the seeds are that recording and hostile variants of it). The replies
 * go to verify_device_model() for the profile the recording was made
 * with; a missing query is a failed query. Whatever the replies, the
 * checks must neither crash nor leak, and must say "ok" only when the
 * report lists no problem.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest query key: "qom-list " plus a QOM path. */
#define KEY_MAX 128

static int replay(void *ctx, const char *cmd, json_t *args, json_t **ret,
		  struct err *e)
{
	const char *path = json_string_value(json_object_get(args, "path"));
	char key[KEY_MAX];
	json_t *r;

	snprintf(key, sizeof(key), "%s%s%s", cmd, path ? " " : "",
		 path ? path : "");
	json_decref(args);
	r = json_object_get(ctx, key);
	if (!r)
		return err_set(e, ENOENT, "no reply for %s", key);
	*ret = json_incref(r);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct profile prof;
	json_t *replies, *report = NULL;
	json_error_t je;
	struct err e;

	replies =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!replies)
		return 0;
	memset(&prof, 0, sizeof(prof));
	snprintf(prof.name, sizeof(prof.name), "demo");
	prof.machine = MACHINE_PC;
	prof.memory_mib = 128;
	prof.cpus = 1;
	prof.display = DISPLAY_STD;
	prof.input = INPUT_PS2;
	prof.has_disk = true;
	prof.bus = BUS_IDE;
	prof.format = FORMAT_RAW;
	prof.net = NET_NONE;
	if (!verify_device_model(&prof, "/run/golden/demo", replay, replies,
				 &report, &e)) {
		/* "ok" is never true next to a problem */
		if (json_is_true(json_object_get(report, "ok")) &&
		    json_array_size(json_object_get(report, "problems")))
			abort();
		json_decref(report);
	}
	json_decref(replies);
	return 0;
}
