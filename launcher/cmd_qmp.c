/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_qmp.c - "walloff qmp SOCKET COMMAND [JSON-ARGUMENTS] [--timeout MS]"
 *
 * A debugging tool: connects to any QMP unix socket with the qmp/ library
 * (so it gets the same bounds and checks as the supervisor), runs one
 * command and prints the reply's "return" value as indented JSON on
 * stdout. Events that arrive meanwhile are ignored. The exit code tells
 * scripts what happened:
 *
 *	0  success, the return value is on stdout
 *	1  QEMU answered with an error ("CLASS: desc" on stderr)
 *	2  usage error (bad option, arguments not a JSON object)
 *	3  no usable answer: timeout, connection refused, broken or hostile peer
 *
 * Errors are one line on stderr, prefixed with "walloff qmp: ".
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmds.h"
#include "err.h"
#include "qmp.h"

#define EXIT_QMP_ERROR 1
#define EXIT_USAGE 2
#define EXIT_BROKEN 3

/* Longest --timeout accepted: one hour, past that use a real client. */
#define QMP_CMD_TIMEOUT_MAX_MS (3600 * 1000)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: walloff qmp SOCKET COMMAND [JSON-ARGUMENTS] "
		"[--timeout MS]\n"
		"\n"
		"Send one QMP command to QEMU's monitor socket and print the\n"
		"reply's return value as JSON.\n"
		"\n"
		"  SOCKET          path of the QMP unix socket\n"
		"  COMMAND         e.g. query-status, query-pci, cont\n"
		"  JSON-ARGUMENTS  the command's arguments, a JSON object,\n"
		"                  e.g. '{\"filename\": \"/tmp/s.ppm\"}'\n"
		"  --timeout MS    deadline for connecting and the reply "
		"(default %d)\n"
		"\n"
		"exit: 0 ok, 1 QEMU error reply, 2 usage, 3 timeout or broken "
		"peer\n",
		QMP_TIMEOUT_DEFAULT_MS);
}

static int parse_timeout(const char *s, int *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > QMP_CMD_TIMEOUT_MAX_MS)
		return -EINVAL;
	*ms = (int)v;
	return 0;
}

int cmd_qmp(int argc, char *argv[])
{
	const char *pos[3] = {NULL};
	int npos = 0, timeout_ms = QMP_TIMEOUT_DEFAULT_MS, i, ret;
	struct err e = {0};
	json_t *args = NULL, *retv = NULL;
	json_error_t je;
	struct qmp *q = NULL;
	char *out = NULL;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--timeout")) {
			if (i + 1 >= argc ||
			    parse_timeout(argv[i + 1], &timeout_ms) < 0) {
				fprintf(stderr,
					"walloff qmp: --timeout needs "
					"milliseconds (1..%d)\n",
					QMP_CMD_TIMEOUT_MAX_MS);
				return EXIT_USAGE;
			}
			i++;
			continue;
		}
		if (npos == 3 || (argv[i][0] == '-' && argv[i][1] == '-')) {
			fprintf(stderr, "walloff qmp: unexpected '%s'\n",
				argv[i]);
			usage(stderr);
			return EXIT_USAGE;
		}
		pos[npos++] = argv[i];
	}
	if (npos < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (pos[2]) {
		args = json_loads(pos[2], JSON_REJECT_DUPLICATES, &je);
		if (!json_is_object(args)) {
			fprintf(stderr,
				"walloff qmp: arguments must be a JSON "
				"object: %s\n",
				args ? "not an object" : je.text);
			ret = EXIT_USAGE;
			goto out;
		}
	}

	q = qmp_connect(pos[0], timeout_ms, &e);
	if (!q) {
		fprintf(stderr, "walloff qmp: %s\n", e.msg);
		ret = EXIT_BROKEN;
		goto out;
	}
	ret = qmp_execute(q, pos[1], args, timeout_ms, &retv, &e);
	args = NULL;
	if (ret < 0) {
		fprintf(stderr, "walloff qmp: %s\n", e.msg);
		ret = ret == -EREMOTEIO ? EXIT_QMP_ERROR : EXIT_BROKEN;
		goto out;
	}
	out = json_dumps(retv, JSON_INDENT(2) | JSON_ENCODE_ANY);
	if (!out) {
		fprintf(stderr, "walloff qmp: cannot format the reply\n");
		ret = EXIT_BROKEN;
		goto out;
	}
	printf("%s\n", out);
	ret = fflush(stdout) ? EXIT_BROKEN : 0;
out:
	free(out);
	json_decref(retv);
	json_decref(args);
	qmp_close(q);
	return ret;
}
