// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* `bridgeless agent [flags]`: options from the config file, flags on top. */
#include <errno.h>
#include <stdio.h>
#include "agent/agent.h"
#include "cli/cli.h"
#include "lib/log.h"

/* Every option but these two is also a config file key of the same name. */
enum { AC_CONFIG = 0x7e00, AC_ONCE };
static const struct opt_def cli_only[] = {
	{ .name = "config", .kind = OPT_PATH, .id = AC_CONFIG, .arg = "FILE",
	  .flags = OPT_CLI_ONLY },
	{ .name = "once", .kind = OPT_FLAG, .id = AC_ONCE, .flags = OPT_CLI_ONLY },
	{}
};

static int agent_cmd(const struct ctx *c, const struct cli_call *call)
{
	const union opt_value *config = cli_opt(call, AC_CONFIG);
	const char *path = config ? config->str : AGENT_CONFIG_DEFAULT;
	struct agent_opts o;
	int err, i;

	/* Repairs and events are info; libbpf's own chatter only with -vv. */
	if (log_level < LOG_INFO)
		log_level = LOG_INFO;
	log_libbpf_level = LOG_DEBUG;
	agent_opts_defaults(&o);
	o.once = !!cli_opt(call, AC_ONCE);
	err = agent_config_load(&o, path);
	/* The default file is optional; one that was asked for is not. */
	if (err == -ENOENT && !config) {
		error_clear();
		err = 0;
	} else if (!err) {
		pr_info("agent: read %s", path);
	}
	for (i = 0; !err && i < call->n_given; i++)
		if (!(call->given[i].d->flags & OPT_CLI_ONLY))
			err = agent_opt_apply(&o, call->given[i].d, &call->given[i].v,
					      OPT_FROM_CLI);
	if (!err)
		err = agent_run(c, &o);
	agent_opts_free(&o);
	return err ? error_prefix(err, "agent") : 0;
}

const struct cli_cmd cmd_agent = { .name = "agent", .run = agent_cmd,
				   .opts = CLI_OPTS(cli_only, node_init_opts,
						    agent_opts_table),
				   .all_optional = 1 };
