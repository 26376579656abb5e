// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/log.h"
#include "lib/number.h"
#include "lib/options.h"

static const char *want(const struct opt_def *d, char *buf, size_t len)
{
	switch (d->kind) {
	case OPT_CIDR: return "want a.b.c.d/len with no host bits";
	case OPT_IPV4: return "want an IPv4 address";
	case OPT_PREFIX: return "want a.b.c.d/len or an IPv6 prefix (2001:db8::/64), host bits clear";
	case OPT_IP: return "want an IPv4 or IPv6 address";
	case OPT_IFNAME:
		return d->flags & OPT_AUTO ?
			       "want an interface name (1-15 characters, no '/', ':', blanks or control characters, not . or ..), or auto (the one with the node IP)" :
			       "want an interface name (1-15 characters, no '/', ':', blanks or control characters, not . or ..)";
	case OPT_PORT_RANGE: return "want LO-HI with 1 <= LO <= HI <= 65535";
	case OPT_UINT:
		snprintf(buf, len, "want %s from %.0f to %.0f", d->unit ?: "a number",
			 d->min, d->max);
		return buf;
	case OPT_SECONDS:
		snprintf(buf, len, "want seconds from %g to %g", d->min, d->max);
		return buf;
	case OPT_ONOFF: return "want on or off";
	case OPT_LISTEN:
		return "bad listen address, want IP:PORT, [IPv6]:PORT or :PORT (PORT 1-65535)";
	case OPT_PATH: return "want a file name";
	default: return "want a value";
	}
}

static int parse(const struct opt_def *d, const char *s, union opt_value *v)
{
	struct sockaddr_storage ss;
	const char *dash;
	uint64_t lo, hi;

	if (!*s)
		return -EINVAL;
	switch (d->kind) {
	case OPT_FLAG: return -EINVAL;
	case OPT_STRING:
	case OPT_PATH:
		v->str = s;
		return 0;
	case OPT_IFNAME:
		v->str = s;
		return ifname_valid(s) ? 0 : -EINVAL;
	case OPT_CIDR: return cidr_parse(s, &v->cidr);
	case OPT_IPV4: return ip_parse(s, &v->ip);
	case OPT_PREFIX: return prefix_parse(s, &v->prefix);
	case OPT_IP: return ipaddr_parse(s, &v->addr);
	case OPT_PORT_RANGE:
		dash = strchr(s, '-');
		if (!dash || num_parse_u64n(s, dash - s, 1, 65535, &lo) ||
		    num_parse_u64(dash + 1, lo, 65535, &hi))
			return -EINVAL;
		v->range.lo = lo;
		v->range.hi = hi;
		return 0;
	case OPT_UINT:
		/* Tables give exact bounds below 2^53; nothing else is asked. */
		return num_parse_u64(s, (uint64_t)d->min, (uint64_t)d->max, &v->u);
	case OPT_SECONDS: return num_parse_decimal(s, d->min, d->max, &v->secs);
	case OPT_ONOFF:
		if (strcmp(s, "on") && strcmp(s, "off"))
			return -EINVAL;
		v->on = !strcmp(s, "on");
		return 0;
	case OPT_LISTEN:
		v->str = s;
		return listen_parse(s, &ss);
	}
	return -EINVAL;
}

int opt_parse(const struct opt_def *d, const char *text, enum opt_source from,
	      union opt_value *v)
{
	char buf[96];

	memset(v, 0, sizeof(*v));
	if (parse(d, text, v))
		return errorf_raw(-EINVAL, "%s%s \"%s\": %s",
				  from == OPT_FROM_CLI ? "--" : "", d->name, text,
				  want(d, buf, sizeof(buf)));
	return 0;
}

const struct opt_def *opt_find(const struct opt_def *table, const char *name)
{
	for (; table->name; table++)
		if (!strcmp(table->name, name))
			return table;
	return NULL;
}

struct option *opt_getopt_table(const struct opt_def *const *tables,
				const struct option *extra)
{
	size_t n = 0, i = 0, k;
	const struct opt_def *d;
	struct option *o;
	int val = OPT_VAL_BASE;

	for (k = 0; extra && extra[k].name; k++)
		n++;
	for (k = 0; tables[k]; k++)
		for (d = tables[k]; d->name; d++)
			n++;
	o = calloc(n + 1, sizeof(*o));
	if (!o)
		return NULL;
	for (k = 0; extra && extra[k].name; k++)
		o[i++] = extra[k];
	for (k = 0; tables[k]; k++)
		for (d = tables[k]; d->name; d++)
			o[i++] = (struct option){ d->name,
						  d->kind == OPT_FLAG ? no_argument :
						  d->flags & OPT_VALUE_OPTIONAL ? optional_argument :
										  required_argument,
						  NULL, val++ };
	return o;
}

const struct opt_def *opt_by_val(const struct opt_def *const *tables, int val)
{
	const struct opt_def *d;
	int i = OPT_VAL_BASE;
	size_t k;

	for (k = 0; tables[k]; k++)
		for (d = tables[k]; d->name; d++)
			if (i++ == val)
				return d;
	return NULL;
}

void opt_usage(char *buf, size_t len, const char *head,
	       const struct opt_def *const *tables, int indent, int required)
{
	const struct opt_def *d;
	size_t used, col, k;
	char item[128];

	used = snprintf(buf, len, "%s", head);
	col = used;
	for (k = 0; tables[k]; k++) {
		for (d = tables[k]; d->name; d++) {
			int req = required && (d->flags & OPT_REQUIRED);
			const char *arg = d->arg;

			if (d->flags & OPT_VALUE_OPTIONAL)
				snprintf(item, sizeof(item), "[--%s[=%s]]", d->name, arg);
			else
				snprintf(item, sizeof(item), "%s--%s%s%s%s%s", req ? "" : "[",
					 d->name, arg ? " " : "", arg ?: "", req ? "" : "]",
					 d->flags & OPT_REPEAT ? "..." : "");
			if (used + strlen(item) + indent + 2 >= len)
				return;
			if (indent && col + 1 + strlen(item) > 80) {
				used += snprintf(buf + used, len - used, "\n%*s%s", indent,
						 "", item);
				col = indent + strlen(item);
			} else {
				used += snprintf(buf + used, len - used, " %s", item);
				col += 1 + strlen(item);
			}
		}
	}
}
