/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmd_log.c - `walloff log [--json] CELL`: the cell's audit log
 *
 * Default output is one readable line per record: time, event, details.
 * --json prints the JSONL records as stored. Lines that do not parse (a
 * torn write after a crash, tampering) are shown flagged, never hidden.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "cell.h"
#include "cmds.h"
#include "profile.h"

int cmd_log(int argc, char *argv[])
{
	char path[PATH_MAX], line[AUDIT_RECORD_MAX + 2];
	const char *name = NULL;
	bool json = false;
	struct cell c;
	struct err e;
	FILE *f;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--help")) {
			printf("usage: walloff log [--json] CELL\n"
			       "Prints the cell's audit log (one record per line).\n");
			return 0;
		} else if (!name)
			name = argv[i];
		else
			name = "";
	}
	if (!name || !profile_name_valid(name)) {
		fprintf(stderr, "usage: walloff log [--json] CELL\n");
		return 2;
	}
	if (cell_init(&c, name, &e)) {
		fprintf(stderr, "walloff log: %s\n", e.msg);
		return 1;
	}
	cell_path(&c, CELL_STATE, "audit.jsonl", path);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "walloff log: no audit log for cell %s (%s)\n",
			name, path);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		json_t *r, *d;
		char *ds;

		if (json) {
			fputs(line, stdout);
			continue;
		}
		r = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(r)) {
			printf("?? unparsable record: %.200s", line);
			json_decref(r);
			continue;
		}
		d = json_object_get(r, "details");
		ds = d ? json_dumps(d, JSON_COMPACT) : NULL;
		{
			const char *t = json_string_value(json_object_get(r, "time"));
			const char *ev = json_string_value(json_object_get(r, "event"));

			printf("%s  %-16s %s\n", t ? t : "?", ev ? ev : "?",
			       ds ? ds : "");
		}
		free(ds);
		json_decref(r);
	}
	fclose(f);
	return 0;
}
