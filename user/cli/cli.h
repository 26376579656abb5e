/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The `bridgeless` commands as one table (iproute2's cmds[] + do_cmd()):
 * each command names its operands and its options (lib/options.h), from
 * which come getopt's options, the usage lines and the checking of values.
 * A command's run() gets what was given, parsed, and returns -errno with a
 * one-line message (lib/log.h); main() prints it.
 */
#ifndef BL_CLI_H
#define BL_CLI_H

#include <stdio.h>
#include "lib/ctx.h"
#include "lib/options.h"

#define CLI_MAX_OPTS 64 /* options one command line may give */

struct cli_call;

struct cli_cmd {
	const char *name;
	const struct cli_cmd *const *sub; /* a group: its subcommands, NULL-ended; or: */
	int (*run)(const struct ctx *c, const struct cli_call *call);
	const char *operands; /* usage of the operands, "NAME"; NULL: none */
	int n_operands; /* how many; -1: any number */
	const struct opt_def *const *opts; /* tables of options, NULL-ended; NULL: none */
	int all_optional; /* usage shows every option in brackets (see opt_usage) */
};

struct cli_given {
	const struct opt_def *d;
	union opt_value v;
};

/* One command line, parsed. */
struct cli_call {
	const struct cli_cmd *cmd;
	char path[64]; /* "pod add" */
	char **operands;
	int n_operands;
	struct cli_given given[CLI_MAX_OPTS]; /* in the order given */
	int n_given;
};

#define CLI_OPTS(...) ((const struct opt_def *const[]){ __VA_ARGS__, NULL })
/* --json, for the commands that print JSON on request */
enum { CLI_JSON = 0x7f00 };
extern const struct opt_def cli_json_opts[];

/* The value of the last option with this id, NULL if it was not given. */
const union opt_value *cli_opt(const struct cli_call *call, int id);

/*
 * Find the command argv names in cmds (descending into groups), parse its
 * options and operands, and run it. Bad usage: -EINVAL, the message naming
 * what was wrong and the command's usage.
 */
int cli_run(const struct ctx *c, const struct cli_cmd *const *cmds, int argc,
	    char **argv);
/* Every command's usage, one a line, each indented by two blanks. */
void cli_usage_all(FILE *f, const struct cli_cmd *const *cmds);

/* The commands, each in its own cmd_*.c. */
extern const struct cli_cmd cmd_node, cmd_pod, cmd_nat, cmd_stats, cmd_cni,
	cmd_monitor, cmd_metrics, cmd_agent, cmd_service;

#endif
