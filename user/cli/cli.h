/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The `bridgeless` subcommands: each parses its own arguments, returns -errno. */
#ifndef BL_CLI_H
#define BL_CLI_H

#include "node/state.h"

int cmd_node(const struct ctx *c, int argc, char **argv);
int cmd_pod(const struct ctx *c, int argc, char **argv);
int cmd_nat(const struct ctx *c, int argc, char **argv);
int cmd_stats(const struct ctx *c, int argc, char **argv);
int cmd_cni(const struct ctx *c, int argc, char **argv);
int cmd_monitor(const struct ctx *c, int argc, char **argv);
int cmd_metrics(const struct ctx *c, int argc, char **argv);
int cmd_agent(const struct ctx *c, int argc, char **argv);

#endif
