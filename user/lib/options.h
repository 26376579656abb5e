/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Options declared once, as tables: each entry is a long flag (--name) and
 * the config file key of the same name, with the kind of value it takes.
 * From the tables come getopt's long options, the usage text and the
 * checking and parsing of values, so flags, config keys and their error
 * messages cannot drift apart (xdp-tools' option tables are the model).
 */
#ifndef BL_OPTIONS_H
#define BL_OPTIONS_H

#include <getopt.h>
#include <stdint.h>
#include "lib/addr.h"

enum opt_kind {
	OPT_FLAG, /* no value */
	OPT_STRING,
	OPT_PATH, /* a file name */
	OPT_IFNAME, /* an interface name, or "auto" where OPT_AUTO */
	OPT_CIDR, /* a.b.c.d/len, host bits clear */
	OPT_IPV4,
	OPT_PORT_RANGE, /* LO-HI */
	OPT_UINT, /* whole number from min to max */
	OPT_SECONDS, /* seconds, fractions allowed, from min to max */
	OPT_ONOFF,
	OPT_LISTEN, /* IP:PORT, [IPv6]:PORT or :PORT */
	OPT_PREFIX, /* a prefix of either family, host bits clear */
	OPT_IP, /* an IPv4 or IPv6 address */
};

/* opt_def.flags */
#define OPT_REPEAT (1u << 0) /* may be given more than once: a list */
#define OPT_CLI_ONLY (1u << 1) /* a flag only, not a config file key */
#define OPT_AUTO (1u << 2) /* OPT_IFNAME: "auto" is a value too */
#define OPT_REQUIRED (1u << 3) /* shown without brackets in usage */
#define OPT_VALUE_OPTIONAL (1u << 4) /* --name or --name=VALUE; without: min */

struct opt_def {
	const char *name; /* without "--" */
	enum opt_kind kind;
	int id; /* what the table's owner switches on */
	const char *arg; /* the value in usage: "CIDR" */
	unsigned int flags;
	double min, max; /* OPT_UINT, OPT_SECONDS */
	const char *unit; /* OPT_UINT: "entries", "whole seconds" */
};

/* A parsed value; which member holds it follows from the kind. */
union opt_value {
	const char *str; /* OPT_STRING, OPT_PATH, OPT_IFNAME, OPT_LISTEN: the text */
	struct cidr cidr;
	uint32_t ip; /* network byte order */
	struct prefix prefix; /* OPT_PREFIX */
	struct ipaddr addr; /* OPT_IP */
	struct {
		uint16_t lo, hi;
	} range;
	uint64_t u;
	double secs;
	int on;
};

/* Where a value came from: the message names a flag "--key", a file key "key". */
enum opt_source { OPT_FROM_CLI = 1, OPT_FROM_FILE = 2 };

/*
 * Check and parse text as d's value. -EINVAL with the current error
 * `--key "text": want ...` (or `key "text": want ...` from a file).
 */
int opt_parse(const struct opt_def *d, const char *text, enum opt_source from,
	      union opt_value *v);

/* A NULL-name-terminated table's entry by name; NULL if none. */
const struct opt_def *opt_find(const struct opt_def *table, const char *name);

/*
 * getopt_long's options for the tables (a NULL-terminated list of tables),
 * after `extra` (may be NULL; terminated by a zero entry). A table option
 * gets val OPT_VAL_BASE + its index over all tables, see opt_by_val().
 * Free the result.
 */
#define OPT_VAL_BASE 0x1000
struct option *opt_getopt_table(const struct opt_def *const *tables,
				const struct option *extra);
const struct opt_def *opt_by_val(const struct opt_def *const *tables, int val);

/*
 * head, then "--name ARG [--other ARG]..." for the tables into buf: one
 * line (indent 0, for an error message), or wrapped at 80 columns with
 * continuation lines indented by indent. required: OPT_REQUIRED options are
 * shown without brackets (the agent, whose options may come from its config
 * file and the node record too, shows them all in brackets).
 */
void opt_usage(char *buf, size_t len, const char *head,
		const struct opt_def *const *tables, int indent, int required);

#endif
