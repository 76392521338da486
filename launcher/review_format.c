/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * review_format.c - a review report as a terminal table, JSON or Markdown
 *
 * The report (struct review_report, filled by review.c) is printed three
 * ways from the same data, so the formats cannot disagree:
 *
 *  - text: one block per control, status first, then the summary and the
 *    evidence lines ("file:line: key = value  (note)"); the rationale is
 *    printed for WARN and FAIL (for every control with verbose). Colour only
 *    when the caller asks (cmd_review: stdout is a tty and NO_COLOR unset).
 *  - JSON: the schema documented in profiles/README.md; review_json() builds
 *    one profile's object, cmd_review.c wraps the list with the totals.
 *  - Markdown: an audit document, one section per profile.
 *
 * Everything printed that came from outside (paths from the command line,
 * profile values, keys-file names) goes through one escaping function per
 * format: control characters become '?' in text, Markdown punctuation is
 * backslash-escaped, JSON is escaped by jansson.
 */
#include <string.h>

#include "review.h"

#define WRAP_COLUMNS	78	/* rationale paragraphs in the terminal */
#define INDENT		"      "

static const char *const colours[] = { "\033[32m", "\033[33m", "\033[1;31m" };
#define COLOUR_OFF "\033[0m"

/* --- text ---------------------------------------------------------------- */

static void put_safe(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void put_status(FILE *f, enum review_status s, bool colour)
{
	if (colour)
		fprintf(f, "%s%s%s", colours[s], review_status_str(s),
			COLOUR_OFF);
	else
		fputs(review_status_str(s), f);
}

/* Wrap "@first text" at WRAP_COLUMNS, every line starting with @indent. */
static void put_wrapped(FILE *f, const char *indent, const char *first,
			const char *text)
{
	size_t col, w, start = strlen(indent);
	const char *s = text;

	fprintf(f, "%s%s", indent, first);
	col = start + strlen(first);
	for (;;) {
		while (*s == ' ')
			s++;
		w = strcspn(s, " ");
		if (!w)
			break;
		if (col + 1 + w > WRAP_COLUMNS) {
			fprintf(f, "\n%s", indent);
			col = start;
		} else {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)w, s);
		col += w;
		s += w;
	}
	fputc('\n', f);
}

static void put_evidence_text(FILE *f, const struct review_report *rep,
			      const struct review_evidence *ev)
{
	fputs(INDENT, f);
	switch (ev->where) {
	case REVIEW_IN_PROFILE:
		put_safe(f, rep->path);
		fprintf(f, ":%d: ", ev->line);
		put_safe(f, ev->key);
		fputs(" = ", f);
		put_safe(f, ev->value);
		break;
	case REVIEW_IN_KEYS:
		put_safe(f, rep->keys_path);
		if (ev->line)
			fprintf(f, ":%d", ev->line);
		break;
	case REVIEW_NOT_SET:
		fputs("not set: ", f);
		put_safe(f, ev->key);
		break;
	}
	if (ev->note[0]) {
		fputs(ev->where == REVIEW_IN_KEYS ? ": " : "  (", f);
		put_safe(f, ev->note);
		if (ev->where != REVIEW_IN_KEYS)
			fputc(')', f);
	}
	fputc('\n', f);
}

static void put_counts(FILE *f, const struct review_report *rep)
{
	fprintf(f, "%u PASS, %u WARN, %u FAIL", rep->n_status[REVIEW_PASS],
		rep->n_status[REVIEW_WARN], rep->n_status[REVIEW_FAIL]);
}

void review_print_text(FILE *f, const struct review_report *rep, bool colour,
		       bool verbose)
{
	char today[16];
	unsigned i, k;

	if (!rep->valid) {
		fputs("INVALID  ", f);
		put_safe(f, rep->error);
		fputc('\n', f);
		return;
	}
	review_date_str(rep->now, today, sizeof(today));
	fputs("== ", f);
	put_safe(f, rep->cell);
	fputs(": ", f);
	put_status(f, rep->status, colour);
	fputs(" (", f);
	put_counts(f, rep);
	fputs(")\n   profile ", f);
	put_safe(f, rep->path);
	fprintf(f, ", review of %s\n\n", today);
	for (i = 0; i < REVIEW_N_CONTROLS; i++) {
		const struct review_result *r = &rep->results[i];

		put_status(f, r->status, colour);
		fprintf(f, "  %-15s %s\n", r->control->id, r->control->title);
		fputs(INDENT, f);
		put_safe(f, r->summary);
		fputc('\n', f);
		for (k = 0; k < r->n_ev; k++)
			put_evidence_text(f, rep, &r->ev[k]);
		if (verbose || r->status != REVIEW_PASS)
			put_wrapped(f, INDENT, "why:", r->control->rationale);
	}
	fputc('\n', f);
}

void review_print_summary(FILE *f, const struct review_report *rep,
			  bool colour)
{
	unsigned i;
	bool any = false;

	if (!rep->valid) {
		fputs("INVALID  ", f);
		put_safe(f, rep->error);
		fputc('\n', f);
		return;
	}
	put_status(f, rep->status, colour);
	fputs("     ", f);
	fprintf(f, "%-24s %2u PASS %2u WARN %2u FAIL  ", rep->cell,
		rep->n_status[REVIEW_PASS], rep->n_status[REVIEW_WARN],
		rep->n_status[REVIEW_FAIL]);
	put_safe(f, rep->path);
	for (i = 0; i < REVIEW_N_CONTROLS; i++) {
		if (rep->results[i].status == REVIEW_PASS)
			continue;
		fprintf(f, "%s%s%s", any ? ", " : "  [",
			rep->results[i].status == REVIEW_FAIL ? "!" : "",
			rep->results[i].control->id);
		any = true;
	}
	fputs(any ? "]\n" : "\n", f);
}

/* --- Markdown ------------------------------------------------------------ */

static void md_put(FILE *f, const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fputc('?', f);
		else if (strchr("\\`*_[]<>|#!~&", *s))
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
}

static void put_evidence_md(FILE *f, const struct review_report *rep,
			    const struct review_evidence *ev)
{
	fputs("- ", f);
	switch (ev->where) {
	case REVIEW_IN_PROFILE:
		md_put(f, rep->path);
		fprintf(f, ":%d: ", ev->line);
		md_put(f, ev->key);
		fputs(" = ", f);
		md_put(f, ev->value);
		break;
	case REVIEW_IN_KEYS:
		md_put(f, rep->keys_path);
		if (ev->line)
			fprintf(f, ":%d", ev->line);
		break;
	case REVIEW_NOT_SET:
		fputs("not set: ", f);
		md_put(f, ev->key);
		break;
	}
	if (ev->note[0]) {
		fputs(" — ", f);
		md_put(f, ev->note);
	}
	fputc('\n', f);
}

void review_print_markdown(FILE *f, const struct review_report *rep)
{
	char today[16];
	unsigned i, k;

	if (!rep->valid) {
		fputs("## ", f);
		md_put(f, rep->path);
		fputs(": INVALID\n\n", f);
		md_put(f, rep->error);
		fputs("\n\n", f);
		return;
	}
	review_date_str(rep->now, today, sizeof(today));
	fputs("## ", f);
	md_put(f, rep->cell);
	fprintf(f, ": %s\n\n| | |\n| --- | --- |\n| Profile | ",
		review_status_str(rep->status));
	md_put(f, rep->path);
	fputs(" |\n| Owner | ", f);
	md_put(f, rep->owner[0] ? rep->owner : "not set");
	fputs(" |\n| Last review | ", f);
	md_put(f, rep->reviewed[0] ? rep->reviewed : "not set");
	fprintf(f, " |\n| Report date | %s |\n| Result | **%s**: ", today,
		review_status_str(rep->status));
	put_counts(f, rep);
	fputs(" |\n\n| Control | Status | Summary |\n| --- | --- | --- |\n", f);
	for (i = 0; i < REVIEW_N_CONTROLS; i++) {
		const struct review_result *r = &rep->results[i];

		fprintf(f, "| %s: ", r->control->id);
		md_put(f, r->control->title);
		fprintf(f, " | %s%s%s | ",
			r->status == REVIEW_PASS ? "" : "**",
			review_status_str(r->status),
			r->status == REVIEW_PASS ? "" : "**");
		md_put(f, r->summary);
		fputs(" |\n", f);
	}
	fputc('\n', f);
	for (i = 0; i < REVIEW_N_CONTROLS; i++) {
		const struct review_result *r = &rep->results[i];

		fprintf(f, "### %s: ", r->control->id);
		md_put(f, r->control->title);
		fprintf(f, " (%s)\n\n", review_status_str(r->status));
		md_put(f, r->summary);
		fputs("\n\n", f);
		for (k = 0; k < r->n_ev; k++)
			put_evidence_md(f, rep, &r->ev[k]);
		fputs("\n*Why:* ", f);
		md_put(f, r->control->rationale);
		fputs("\n\n", f);
	}
}

void review_print_markdown_row(FILE *f, const struct review_report *rep)
{
	if (!rep->valid) {
		fputs("| | **INVALID** | | | | ", f);
		md_put(f, rep->error);
		fputs(" |\n", f);
		return;
	}
	fputs("| ", f);
	md_put(f, rep->cell);
	fprintf(f, " | %s%s%s | %u | %u | %u | ",
		rep->status == REVIEW_PASS ? "" : "**",
		review_status_str(rep->status),
		rep->status == REVIEW_PASS ? "" : "**",
		rep->n_status[REVIEW_PASS], rep->n_status[REVIEW_WARN],
		rep->n_status[REVIEW_FAIL]);
	md_put(f, rep->path);
	fputs(" |\n", f);
}

/* --- JSON ---------------------------------------------------------------- */

static json_t *evidence_json(const struct review_report *rep,
			     const struct review_evidence *ev)
{
	json_t *file = json_null(), *line = json_null(), *value = json_null();

	if (ev->where == REVIEW_IN_PROFILE) {
		file = json_string(rep->path);
		line = json_integer(ev->line);
		value = json_string(ev->value);
	} else if (ev->where == REVIEW_IN_KEYS) {
		file = json_string(rep->keys_path);
		if (ev->line)
			line = json_integer(ev->line);
	}
	return json_pack("{s:s, s:o, s:o, s:s, s:o, s:s}",
			 "where", ev->where == REVIEW_IN_PROFILE ? "profile" :
			 ev->where == REVIEW_IN_KEYS ? "keys" : "not-set",
			 "file", file, "line", line, "key", ev->key,
			 "value", value, "note", ev->note);
}

static json_t *result_json(const struct review_report *rep,
			   const struct review_result *r)
{
	json_t *evs = json_array(), *o;
	unsigned k;

	for (k = 0; k < r->n_ev; k++)
		json_array_append_new(evs, evidence_json(rep, &r->ev[k]));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "id", r->control->id,
		      "title", r->control->title,
		      "status", review_status_str(r->status),
		      "summary", r->summary,
		      "rationale", r->control->rationale,
		      "evidence", evs);
	return o;
}

/* "" becomes null: absent, not empty. */
static json_t *opt_string(const char *s)
{
	return *s ? json_string(s) : json_null();
}

json_t *review_json(const struct review_report *rep)
{
	json_t *results, *o;
	unsigned i;

	if (!rep->valid)
		return json_pack("{s:s, s:b, s:s, s:s}", "path", rep->path,
				 "valid", 0, "status", "INVALID",
				 "error", rep->error);
	results = json_array();
	for (i = 0; i < REVIEW_N_CONTROLS; i++)
		json_array_append_new(results,
				      result_json(rep, &rep->results[i]));
	o = json_pack("{s:s, s:b, s:s, s:s, s:o, s:o, s:o, "
		      "s:{s:i, s:i, s:i}, s:o}",
		      "path", rep->path, "valid", 1,
		      "status", review_status_str(rep->status),
		      "cell", rep->cell,
		      "owner", opt_string(rep->owner),
		      "reviewed", opt_string(rep->reviewed),
		      "keys_file", opt_string(rep->keys_path),
		      "totals", "pass", rep->n_status[REVIEW_PASS],
		      "warn", rep->n_status[REVIEW_WARN],
		      "fail", rep->n_status[REVIEW_FAIL],
		      "results", results);
	return o;
}
