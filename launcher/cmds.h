/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cmds.h - entry points of the walloff subcommands, one file each
 * (launcher/cmd_NAME.c), dispatched from the table in launcher/main.c
 *
 * Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit code.
 */
#ifndef WALLOFF_CMDS_H
#define WALLOFF_CMDS_H

/**
 * cmd_qmp() - "walloff qmp SOCKET COMMAND [JSON-ARGUMENTS] [--timeout MS]"
 * @argc:	argument count, argv[0] is "qmp"
 * @argv:	arguments
 *
 * Return: exit code: 0 ok, 1 QEMU error reply, 2 usage, 3 timeout/broken peer
 */
int cmd_qmp(int argc, char *argv[]);

int cmd_check(int argc, char *argv[]);
int cmd_run(int argc, char *argv[]);
int cmd_stop(int argc, char *argv[]);
int cmd_status(int argc, char *argv[]);
int cmd_log(int argc, char *argv[]);
int cmd_serial(int argc, char *argv[]);
int cmd_review(int argc, char *argv[]);
int cmd_keygen(int argc, char *argv[]);
int cmd_connect(int argc, char *argv[]);
/* nft mode (launcher/cmd_net.c): `walloff net cleanup [CELL]` */
int cmd_net(int argc, char *argv[]);

int cmd_image(int argc, char *argv[]);		/* cmd_image.c */
int cmd_destroy(int argc, char *argv[]);	/* cmd_destroy.c */
int cmd_snapshot(int argc, char *argv[]);	/* cmd_snapshot.c */
int cmd_export(int argc, char *argv[]);		/* cmd_export.c: --libvirt */
int cmd_unit(int argc, char *argv[]);		/* cmd_unit.c (systemd) */

#endif /* WALLOFF_CMDS_H */
