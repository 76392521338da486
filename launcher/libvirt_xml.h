/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt_xml.h - profile → libvirt domain, nwfilter and secret XML
 * (`walloff export --libvirt`): pure text generation, no I/O
 */
#ifndef WALLOFF_LIBVIRT_XML_H
#define WALLOFF_LIBVIRT_XML_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "profile.h"

/* Largest document: 64 allow rules at ~300 bytes each plus the domain's
 * fixed part stay far below this; anything bigger is a bug, not a profile. */
#define LIBVIRT_XML_MAX		(128 * 1024)

/* Where a persistent cell's encrypted overlay lives when not told:
 * libvirt's default storage pool, which sVirt labels for QEMU. */
#define LIBVIRT_OVERLAY_DIR	"/var/lib/libvirt/images"

/* libvirt network a user-mode (or routed nft-mode) cell's NIC joins when
 * not told: the one every libvirt host defines. */
#define LIBVIRT_DEFAULT_NETWORK	"default"

/* The nwfilter's name: this prefix plus the cell name. */
#define LIBVIRT_FILTER_PREFIX	"walloff-"

/* Metadata namespace of the <walloff:cell> element in the domain. */
#define LIBVIRT_XMLNS		"urn:x-walloff:libvirt-export:1"

/* Site choices the profile does not hold; NULL fields take the defaults. */
struct libvirt_opts {
	const char *overlay;	/* persistent: the encrypted overlay's path */
	const char *network;	/* libvirt network for user/routed nft NICs */
};

/* The generated documents, each NUL-terminated and malloc'd. */
struct libvirt_docs {
	char *domain;		/* always */
	char *nwfilter;		/* NULL for [network] mode = none */
	char *secret;		/* NULL unless [disk] mode = persistent */
	char secret_uuid[37];	/* "" unless persistent */
	char overlay[PATH_MAX];	/* persistent: the overlay path used */
};

/**
 * libvirt_xml_build() - the libvirt documents for a cell
 * @p:		validated profile, with a [disk]
 * @o:		site options, may be NULL
 * @d:		output; free with libvirt_docs_free() (also after an error)
 * @e:		error
 *
 * Every value taken from the profile or @o is XML-escaped; a value holding
 * a character XML 1.0 cannot carry (control characters, invalid UTF-8,
 * U+FFFE/U+FFFF) is refused with -EINVAL. Allow rules that only walloff-net
 * can enforce ("host" targets) are left out of the nwfilter with a comment
 * saying so; libvirt_xml_losses() lists them for the user.
 *
 * Return: 0, -EINVAL (profile value not representable, no disk), -E2BIG
 * (document over LIBVIRT_XML_MAX) or -ENOMEM
 */
int libvirt_xml_build(const struct profile *p, const struct libvirt_opts *o,
		      struct libvirt_docs *d, struct err *e);

/**
 * libvirt_docs_free() - release the documents
 * @d:		documents (fields set to NULL)
 */
void libvirt_docs_free(struct libvirt_docs *d);

/**
 * libvirt_xml_losses() - profile settings the export cannot carry over
 * @p:		validated profile
 * @out:	output: one "- setting: what to do" line per loss, "" if none
 * @len:	size of @out
 *
 * Return: number of losses
 */
unsigned libvirt_xml_losses(const struct profile *p, char *out, size_t len);

/**
 * libvirt_xml_text_ok() - can XML 1.0 carry this text as is?
 * @s:		NUL-terminated text
 *
 * Valid UTF-8 without control characters (C0, DEL, C1), surrogates or the
 * non-characters U+FFFE/U+FFFF.
 *
 * Return: true if it can
 */
bool libvirt_xml_text_ok(const char *s);

#endif /* WALLOFF_LIBVIRT_XML_H */
