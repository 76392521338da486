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

int cmd_keygen(int argc, char *argv[]);
int cmd_connect(int argc, char *argv[]);


#endif /* WALLOFF_CMDS_H */
