// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Finding a command in the table, parsing its command line, its usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "lib/log.h"

const struct opt_def cli_json_opts[] = {
	{ .name = "json", .kind = OPT_FLAG, .id = CLI_JSON },
	{}
};

const union opt_value *cli_opt(const struct cli_call *call, int id)
{
	int i;

	for (i = call->n_given - 1; i >= 0; i--)
		if (call->given[i].d->id == id)
			return &call->given[i].v;
	return NULL;
}

static void usage_of(const struct cli_cmd *cmd, const char *path, char *buf,
		     size_t len, int indent)
{
	char head[128];

	snprintf(head, sizeof(head), "%s%s%s", path, cmd->operands ? " " : "",
		 cmd->operands ?: "");
	if (cmd->opts)
		opt_usage(buf, len, head, cmd->opts, indent, !cmd->all_optional);
	else
		snprintf(buf, len, "%s", head);
}

/* "node init|status|reset" */
static void group_usage(const struct cli_cmd *g, const char *path, char *buf, size_t len)
{
	size_t n = snprintf(buf, len, "%s ", path);
	int i;

	for (i = 0; g->sub[i] && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? "|" : "", g->sub[i]->name);
}

static int bad_usage(const struct cli_cmd *cmd, const char *path, const char *what,
		     const char *arg)
{
	char usage[1024];

	if (cmd->sub)
		group_usage(cmd, path, usage, sizeof(usage));
	else
		usage_of(cmd, path, usage, sizeof(usage), 0);
	if (what)
		return errorf_raw(-EINVAL, "%s: %s \"%s\"; usage: bridgeless %s", path,
				  what, arg, usage);
	return errorf_raw(-EINVAL, "usage: bridgeless %s", usage);
}

static int parse(struct cli_call *call, int argc, char **argv)
{
	const struct cli_cmd *cmd = call->cmd;
	static const struct opt_def *const none[] = { NULL };
	const struct opt_def *const *tables = cmd->opts ?: none;
	static const struct option help[] = { { "help", no_argument, NULL, 'h' }, {} };
	struct option *opts;
	int opt, err = 0;

	opts = opt_getopt_table(tables, help);
	if (!opts)
		return errorf(-ENOMEM, "%s", call->path);
	optind = 0;
	opterr = 0;
	while (!err && (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const struct opt_def *d = opt_by_val(tables, opt);
		struct cli_given *g = &call->given[call->n_given];

		if (opt == 'h') {
			char usage[1024];

			usage_of(cmd, call->path, usage, sizeof(usage), 8);
			printf("usage: bridgeless %s\n", usage);
			err = 1;
		} else if (!d) {
			err = bad_usage(cmd, call->path, "unknown option or missing value",
					argv[optind - 1]);
		} else if (call->n_given == CLI_MAX_OPTS) {
			err = errorf_raw(-E2BIG, "%s: more than %d options", call->path,
					 CLI_MAX_OPTS);
		} else if (!optarg && d->kind != OPT_FLAG) {
			/* --name of an OPT_VALUE_OPTIONAL option: its least value */
			g->d = d;
			g->v.u = d->min;
			call->n_given++;
		} else {
			g->d = d;
			err = d->kind == OPT_FLAG ? 0 : opt_parse(d, optarg, OPT_FROM_CLI, &g->v);
			if (!err)
				call->n_given++;
			else
				error_prefix(err, "%s", call->path);
		}
	}
	free(opts);
	if (err)
		return err;
	call->operands = argv + optind;
	call->n_operands = argc - optind;
	if (cmd->n_operands >= 0 && call->n_operands != cmd->n_operands)
		return call->n_operands > cmd->n_operands ?
			       bad_usage(cmd, call->path, "unexpected argument",
					 call->operands[cmd->n_operands]) :
			       bad_usage(cmd, call->path, NULL, NULL);
	return 0;
}

int cli_run(const struct ctx *c, const struct cli_cmd *const *cmds, int argc,
	    char **argv)
{
	struct cli_cmd top = { .name = "", .sub = cmds };
	const struct cli_cmd *cmd = &top;
	struct cli_call *call;
	char path[64] = "";
	int i, err;

	/* Down the groups: argv[0] names a command of the current group. */
	while (cmd->sub) {
		const struct cli_cmd *next = NULL;

		for (i = 0; argc > 0 && cmd->sub[i]; i++)
			if (!strcmp(cmd->sub[i]->name, argv[0]))
				next = cmd->sub[i];
		if (!next && cmd == &top)
			return errorf_raw(-EINVAL, "unknown command \"%s\" (try --help)",
					  argc > 0 ? argv[0] : "");
		if (!next)
			return bad_usage(cmd, path, NULL, NULL);
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%s",
			 path[0] ? " " : "", next->name);
		cmd = next;
		if (cmd->sub) {
			argc--;
			argv++;
		}
	}
	call = calloc(1, sizeof(*call));
	if (!call)
		return errorf(-ENOMEM, "%s", path);
	call->cmd = cmd;
	snprintf(call->path, sizeof(call->path), "%s", path);
	/* argv[0] is the command's own name, as getopt wants it. */
	err = parse(call, argc, argv);
	if (err == 1)
		err = 0; /* --help */
	else if (!err)
		err = cmd->run(c, call);
	free(call);
	return err;
}

static void usage_tree(FILE *f, const struct cli_cmd *const *cmds, const char *path)
{
	char sub[64], usage[1024];
	int i;

	for (i = 0; cmds[i]; i++) {
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? " " : "", cmds[i]->name);
		if (cmds[i]->sub) {
			usage_tree(f, cmds[i]->sub, sub);
			continue;
		}
		usage_of(cmds[i], sub, usage, sizeof(usage), 4 + 2);
		fprintf(f, "  %s\n", usage);
	}
}

void cli_usage_all(FILE *f, const struct cli_cmd *const *cmds)
{
	usage_tree(f, cmds, "");
}
