/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nft_rules.h - the per-cell nftables table of nft mode (libnftnl + libmnl)
 *
 * Public to the launcher (it creates and removes the table as root); the
 * ruleset itself is described in nft_rules.c.
 */
#ifndef WALLOFF_NFT_RULES_H
#define WALLOFF_NFT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "rule.h"

/* "walloff_" + a 32-character cell name + NUL; NFT_NAME_MAXLEN is 256. */
#define NFT_TABLE_NAME_MAX	48
/* IFNAMSIZ: the tap's name as the kernel stores it. */
#define NFT_IFNAME_MAX		16
/* Bound of the rules in a table: fixed rules plus one per allow rule. */
#define NFT_MAX_RULES		96

/* Log prefixes: the reason of a drop, read back by walloff-nftlog. */
#define NFT_WHY_NO_RULE		"no-rule"
#define NFT_WHY_SPOOF_MAC	"spoof-mac"
#define NFT_WHY_SPOOF_IP	"spoof-ip"
#define NFT_WHY_IPV6		"ipv6"
#define NFT_WHY_NOT_IP		"not-ipv4"
#define NFT_WHY_INBOUND		"inbound"

/* What the table is built from (no launcher types: see DESIGN.md). */
struct nft_cell {
	const char *name;		/* cell name, [a-z0-9-]{1,32} */
	const char *ifname;		/* the cell's tap */
	bool bridged;			/* tap is a bridge port: bridge family */
	uint8_t mac[6];			/* the only source MAC allowed */
	uint32_t addr;			/* the only source IPv4, host order */
	const struct rule *rules;	/* allow rules (no "host" targets) */
	size_t n_rules;
	uint16_t log_group;		/* NFLOG group of the drops */
};

struct nft_ruleset;

/**
 * nft_table_name() - "walloff_<cell>" with '-' mapped to '_'
 * @cell:	cell name
 * @out:	output
 *
 * Return: 0, or -EINVAL if the name is not a valid cell name
 */
int nft_table_name(const char *cell, char out[static NFT_TABLE_NAME_MAX]);

/**
 * nft_log_group() - the cell's NFLOG group, derived from its name
 * @cell:	cell name
 *
 * Return: a group in 0x5700..0x57ff (one per cell on a host; a clash is
 * reported as EBUSY when the log reader binds it)
 */
uint16_t nft_log_group(const char *cell);

/**
 * nft_ruleset_build() - the table, its chains and rules as libnftnl objects
 * @c:		cell
 * @e:		error
 *
 * Return: ruleset, or NULL with @e set (invalid input or out of memory)
 */
struct nft_ruleset *nft_ruleset_build(const struct nft_cell *c,
				      struct err *e);

/**
 * nft_ruleset_print() - stable, readable dump (libnftnl's default output,
 * one object a line), for golden tests and reviews
 * @rs:		ruleset
 * @f:		output
 */
void nft_ruleset_print(const struct nft_ruleset *rs, FILE *f);

/**
 * nft_ruleset_free() - free
 * @rs:		ruleset, may be NULL
 */
void nft_ruleset_free(struct nft_ruleset *rs);

/**
 * nft_ruleset_apply() - replace the cell's table in one atomic batch
 * @rs:		ruleset
 * @e:		error (EPERM: CAP_NET_ADMIN is missing)
 *
 * The batch deletes any table of the same name first (a stale one from a
 * crashed run) and creates the new one: the kernel applies all or nothing.
 *
 * Return: 0 or -errno
 */
int nft_ruleset_apply(const struct nft_ruleset *rs, struct err *e);

/**
 * nft_table_delete() - remove a cell's tables (inet and bridge family), if
 * present, in one batch
 * @cell:	cell name
 * @e:		error
 *
 * Return: 0 or -errno
 */
int nft_table_delete(const char *cell, struct err *e);

/**
 * nft_cells_with_tables() - the cells that have a walloff table (any family)
 * @cb:		called once per table with the cell name ('_' mapped back
 *		to '-')
 * @opaque:	its argument
 * @e:		error
 *
 * Return: number of tables, or -errno
 */
int nft_cells_with_tables(void (*cb)(const char *cell, void *opaque),
			  void *opaque, struct err *e);

#endif /* WALLOFF_NFT_RULES_H */
