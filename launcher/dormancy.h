/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dormancy.h - dormant or drifted cells: detect at start, apply on-stale
 */
#ifndef WALLOFF_DORMANCY_H
#define WALLOFF_DORMANCY_H

#include <stdbool.h>
#include <time.h>

#include "cell.h"
#include "err.h"
#include "profile.h"

#define DORMANCY_FILE	"dormancy.json"	/* in the state folder */
#define REVIEW_FILE	"review.json"	/* written by `walloff review --ack` */
#define DORMANCY_REASON_MAX 400

enum dormancy_verdict {
	DORMANCY_OK,		/* fresh, or reviewed since it went stale */
	DORMANCY_WARN,		/* stale, on-stale = warn: start, audit it */
	DORMANCY_QUARANTINE,	/* stale: start with [network] mode = none */
	DORMANCY_REFUSE,	/* stale: do not start */
};

struct dormancy {
	enum dormancy_verdict verdict;
	bool enabled;			/* the profile has [dormancy]: record */
	bool stale;			/* stale and not acknowledged by a review */
	time_t stale_since;		/* when it was first found stale */
	char reason[DORMANCY_REASON_MAX];
	char base_sha256[65];
	char profile_sha256[65];
	time_t now;
};

/**
 * dormancy_check() - is this cell dormant or changed since its last review?
 * @c:		cell
 * @p:		profile ([dormancy] max-idle and on-stale)
 * @base_sha256: hex digest of the base image just verified
 * @profile_sha256: hex digest of the profile file
 * @now:	current time (tests fake the clock by editing the state file)
 * @out:	verdict and reason
 * @e:		error (unreadable or invalid state files)
 *
 * Stale means: idle longer than max-idle since the last recorded start,
 * or the base image or the profile differs from the last recorded start
 * (the profile: from the last review, when STATE/review.json exists), or a
 * stale finding recorded earlier that no review has acknowledged since. A
 * review acknowledges when review.json's profile_sha256 is the current
 * profile's and its date is not older than the finding. Reads only.
 *
 * Return: 0 or -errno
 */
int dormancy_check(const struct cell *c, const struct profile *p,
		   const char *base_sha256, const char *profile_sha256,
		   time_t now, struct dormancy *out, struct err *e);

/**
 * dormancy_record() - write STATE/dormancy.json after a successful start
 * (only for profiles with a [dormancy] section)
 * @c:		cell
 * @d:		the verdict this start ran under (a stale finding is kept
 *		until a review acknowledges it)
 * @e:		error
 *
 * Return: 0 or -errno
 */
int dormancy_record(const struct cell *c, const struct dormancy *d,
		    struct err *e);

struct audit;

/**
 * dormancy_start() - the supervisor's dormancy step: check, audit, apply
 * @c:		cell
 * @p:		profile
 * @a:		audit log
 * @base_sha256: verified base digest
 * @profile_sha256: profile digest
 * @d:		output: the verdict, for dormancy_record()
 * @quarantined: output: a copy of @p with [network] mode = none if the
 *		cell must run quarantined (caller frees), else NULL
 * @run_exit:	set to RUN_STALE when refused, RUN_ERROR on errors
 *
 * Return: 0 to go on, -errno to stop the start
 */
int dormancy_start(const struct cell *c, const struct profile *p,
		   struct audit *a, const char *base_sha256,
		   const char *profile_sha256, struct dormancy *d,
		   struct profile **quarantined, int *run_exit);

/**
 * dormancy_notice() - the text users see on the console of a quarantined
 * cell (walloff-console --notice)
 * @c:		cell
 * @d:		the QUARANTINE verdict
 * @out:	output; printable ASCII on one line (reason characters
 *		outside it become '?'), cut to fit
 * @len:	size of @out
 */
void dormancy_notice(const struct cell *c, const struct dormancy *d,
		     char *out, size_t len);

#endif /* WALLOFF_DORMANCY_H */
