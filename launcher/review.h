/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * review.h - `walloff review`: a profile as a security report
 *
 * One table of controls (review.c) turns a validated profile into a list of
 * results: PASS, WARN or FAIL, a one-line summary, the evidence (the profile
 * lines, or "not set") and the control's rationale. review_format.c prints
 * a report as a terminal table, JSON or Markdown. The supervisor uses
 * review_failures() to refuse a profile with FAILs.
 *
 * Principle for the verdicts: FAIL means the cell is exposed now (a path in
 * or out that the advice forbids, a console that cannot be trusted, an image
 * that cannot be verified); WARN means hygiene that decays or needs a human
 * judgement (retention, limits, dormancy, owner, stale review, clipboard).
 */
#ifndef WALLOFF_REVIEW_H
#define WALLOFF_REVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "err.h"
#include "profile.h"

/* Version of the --json output; bump on any incompatible change. */
#define REVIEW_SCHEMA_VERSION	1
/* A review older than this many days is stale (WARN). */
#define REVIEW_MAX_AGE_DAYS	180
/* One line of text in a report: a summary or a note on one evidence line. */
#define REVIEW_NOTE_MAX		200
/* "section.key": the longest section (16) and key (24) names fit. */
#define REVIEW_KEY_MAX		42
/* Every allow rule can be evidence, plus the lines that frame them. */
#define REVIEW_EVIDENCE_MAX	(PROFILE_MAX_ALLOW + 8)

/* Ordered: a result's status is the worst of its findings. */
enum review_status { REVIEW_PASS, REVIEW_WARN, REVIEW_FAIL };

/* Where a piece of evidence comes from. */
enum review_where {
	REVIEW_IN_PROFILE,	/* a line of the profile */
	REVIEW_IN_KEYS,		/* a keys-file line (line 0: the whole file) */
	REVIEW_NOT_SET,		/* the key is absent: the default applies */
};

struct review_evidence {
	enum review_where where;
	int line;			/* 0 for REVIEW_NOT_SET / whole file */
	char key[REVIEW_KEY_MAX];	/* "network.allow" */
	char value[PROFILE_VALUE_MAX];	/* as written; "" when not set */
	char note[REVIEW_NOTE_MAX];	/* what this line means, may be "" */
};

struct review_result;
struct review_report;

struct review_control {
	const char *id;		/* stable, for scripts and --accept-risk */
	const char *title;
	const char *rationale;	/* one paragraph: why the advice says so */
	void (*check)(const struct profile *p, const struct review_report *rep,
		      struct review_result *r);
};

struct review_result {
	const struct review_control *control;
	enum review_status status;
	char summary[REVIEW_NOTE_MAX];
	struct review_evidence ev[REVIEW_EVIDENCE_MAX];
	unsigned n_ev;
};

#define REVIEW_N_CONTROLS 14

/* The report on one profile; large (use the heap). */
struct review_report {
	char path[PATH_MAX];		/* the profile as given */
	bool valid;
	char error[ERR_MSG_MAX];	/* invalid: "file:line: reason" */
	char cell[PROFILE_NAME_MAX + 1];
	char owner[PROFILE_TEXT_MAX + 1];
	char reviewed[16];		/* YYYY-MM-DD or "" */
	char keys_path[PATH_MAX];	/* keys file as named (unresolved) */
	time_t now;			/* UTC midnight of the review day */
	struct review_result results[REVIEW_N_CONTROLS];
	unsigned n_status[3];		/* results per enum review_status */
	enum review_status status;	/* worst result */
};

/**
 * review_controls() - the table of controls, in report order
 * @n:		output: number of controls (REVIEW_N_CONTROLS)
 *
 * Return: the table
 */
const struct review_control *review_controls(unsigned *n);

/**
 * review_now() - "today" for reviews: WALLOFF_NOW=YYYY-MM-DD if set (tests,
 * reproducible reports), else the current UTC day
 * @now:	output: UTC midnight
 * @e:		error (WALLOFF_NOW malformed)
 *
 * Return: 0 or -EINVAL
 */
int review_now(time_t *now, struct err *e);

/**
 * review_profile() - run every control on a validated profile
 * @p:		profile (profile_load() succeeded)
 * @now:	UTC midnight of the review day
 * @rep:	output
 */
void review_profile(const struct profile *p, time_t now,
		    struct review_report *rep);

/**
 * review_invalid() - a report for a profile the validator refused
 * @path:	the profile as given
 * @error:	the validator's "file:line: reason"
 * @now:	UTC midnight of the review day
 * @rep:	output
 */
void review_invalid(const char *path, const char *error, time_t now,
		    struct review_report *rep);

/**
 * review_failures() - the FAIL controls of a profile, for `walloff run`
 * @p:		validated profile
 * @ids:	output: failing control ids, comma-separated ("" if none);
 *		truncated to fit (ends in "..." if cut)
 * @len:	size of @ids
 *
 * "Today" is review_now(), or the clock if WALLOFF_NOW is malformed.
 *
 * Return: number of FAIL controls (0: nothing to refuse), or -ENOMEM
 */
int review_failures(const struct profile *p, char *ids, size_t len);

/* Classifications used by the controls, exported for the unit tests. */

/**
 * review_prefix_status() - how broad is a destination prefix?
 * @prefix:	CIDR prefix length 0..32
 *
 * Return: FAIL below /16, WARN for /16 to /23, PASS from /24
 */
enum review_status review_prefix_status(unsigned prefix);

/**
 * review_ports_status() - how broad is a rule's port range?
 * @r:		tcp or udp rule (icmp: PASS)
 *
 * Return: FAIL for all ports ("*" or 1-65535), WARN for more than 1024
 * ports, PASS otherwise
 */
enum review_status review_ports_status(const struct rule *r);

/**
 * review_domain_ports() - domain/AD ports a rule reaches
 * @r:		rule
 * @out:	output: "88 (Kerberos), 445 (SMB)" or "" if none
 * @len:	size of @out
 *
 * Return: number of domain ports in the rule's range (0 for icmp)
 */
unsigned review_domain_ports(const struct rule *r, char *out, size_t len);

/**
 * review_status_str() - "PASS", "WARN" or "FAIL"
 * @s:		status
 *
 * Return: static string
 */
const char *review_status_str(enum review_status s);

/* Output, see review_format.c. */

/**
 * review_print_text() - the full terminal report of one profile
 * @f:		output
 * @rep:	report
 * @colour:	use ANSI colours
 * @verbose:	print the rationale of every control, not only WARN/FAIL
 */
void review_print_text(FILE *f, const struct review_report *rep, bool colour,
		       bool verbose);

/**
 * review_print_summary() - one line for a profile
 * @f:		output
 * @rep:	report
 * @colour:	use ANSI colours
 */
void review_print_summary(FILE *f, const struct review_report *rep,
			  bool colour);

/**
 * review_print_markdown() - the audit report of one profile
 * @f:		output
 * @rep:	report
 */
void review_print_markdown(FILE *f, const struct review_report *rep);

/**
 * review_print_markdown_row() - one row of the Markdown summary table
 * (| Cell | Result | PASS | WARN | FAIL | Profile |)
 * @f:		output
 * @rep:	report
 */
void review_print_markdown_row(FILE *f, const struct review_report *rep);

/**
 * review_json() - one profile's report in the --json schema
 * @rep:	report
 *
 * Return: new object, or NULL when out of memory
 */
json_t *review_json(const struct review_report *rep);

/**
 * review_date_str() - YYYY-MM-DD of a UTC time
 * @t:		time
 * @out:	output, at least 11 bytes
 * @len:	size of @out
 */
void review_date_str(time_t t, char *out, size_t len);

#endif /* WALLOFF_REVIEW_H */
