// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Addresses (IPv4, and IPv4 or IPv6 as the service table holds them),
 * prefixes, MACs, interface and pod names, listen addresses, numbers, CNI
 * versions and every kind of option value: whatever a parser
 * accepts prints back to exactly the text it was given (the parsers are
 * strict: no blanks, signs or leading zeros), or parses again to the same
 * value where there is no one way to print it.
 */
#include <ctype.h>
#include <math.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "cni/cni.h"
#include "fuzz.h"
#include "lib/addr.h"
#include "lib/number.h"
#include "lib/options.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void check_ip(const char *s)
{
	char buf[INET_ADDRSTRLEN];
	uint32_t ip;

	if (ip_parse(s, &ip))
		return;
	oracle(!strcmp(ip_str(ip, buf), s), "ip \"%s\" prints as %s", s, buf);
}

/* IPv4 as given; IPv6 in its one printed form, which parses to the same address. */
static void check_ipaddr(const char *s)
{
	char buf[IPADDR_STRLEN], again[IPADDR_STRLEN];
	struct ipaddr a, b;
	uint32_t ip;

	if (ipaddr_parse(s, &a)) {
		oracle(ip_parse(s, &ip), "ip \"%s\" taken, ipaddr not", s);
		return;
	}
	ipaddr_str(&a, buf);
	oracle(ipaddr_parse(buf, &b) == 0 && !ipaddr_cmp(&a, &b),
	       "ipaddr \"%s\" prints as %s, which reads otherwise", s, buf);
	oracle(!strcmp(ipaddr_str(&b, again), buf), "ipaddr %s prints as %s", buf, again);
	if (a.family == AF_INET)
		oracle(!strcmp(buf, s), "IPv4 \"%s\" prints as %s", s, buf);
}

static void check_cidr(const char *s)
{
	char buf[32];
	struct cidr c;
	uint32_t ip;
	int len, ok;

	ok = ip_prefix_parse(s, &ip, &len) == 0;
	if (ok) {
		char ips[INET_ADDRSTRLEN];

		snprintf(buf, sizeof(buf), "%s/%d", ip_str(ip, ips), len);
		oracle(!strcmp(buf, s), "address \"%s\" prints as %s", s, buf);
		oracle(len >= 0 && len <= 32, "\"%s\": length %d", s, len);
	}
	if (cidr_parse(s, &c))
		return;
	oracle(ok, "cidr \"%s\" taken, address/len not", s);
	oracle(!strcmp(cidr_str(&c, buf), s), "cidr \"%s\" prints as %s", s, buf);
	oracle(cidr_contains(&c, c.net) && cidr_inside(&c, &c) && cidr_overlaps(&c, &c),
	       "cidr \"%s\" is not inside itself", s);
}

static void check_mac(const char *s)
{
	char buf[18], low[64];
	uint8_t mac[6];
	size_t i;

	if (mac_parse(s, mac))
		return;
	for (i = 0; s[i] && i < sizeof(low) - 1; i++)
		low[i] = tolower((unsigned char)s[i]);
	low[i] = 0;
	oracle(!strcmp(mac_str(mac, buf), low), "mac \"%s\" prints as %s", s, buf);
}

static void check_ifname(const char *s)
{
	size_t len = strlen(s), i;
	int ref = len >= 1 && len <= 15 && strcmp(s, ".") && strcmp(s, "..");

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '/' || s[i] == ':')
			ref = 0;
	oracle(ifname_valid(s) == ref, "ifname_valid(\"%s\") = %d", s, !ref);
}

static void check_pod_name(const char *s)
{
	size_t len = strlen(s), i;
	int ref = len >= 1 && len <= POD_NAME_MAX && s[0] != '.' && s[0] != '-';

	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			ref = 0;
	oracle(pod_name_valid(s) == ref, "pod_name_valid(\"%s\") = %d", s, !ref);
}

static void check_listen(const char *s)
{
	struct sockaddr_storage a, b;
	char buf[80], host[INET6_ADDRSTRLEN];

	if (listen_parse(s, &a))
		return;
	if (a.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, sizeof(buf), "%s:%u", host, ntohs(in->sin_port));
		oracle(ntohs(in->sin_port) >= 1, "\"%s\": port 0", s);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;

		oracle(a.ss_family == AF_INET6, "\"%s\": family %d", s, a.ss_family);
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, sizeof(buf), "[%s]:%u", host, ntohs(in6->sin6_port));
	}
	oracle(listen_parse(buf, &b) == 0 && !memcmp(&a, &b, sizeof(a)),
	       "listen \"%s\" printed as %s parses otherwise", s, buf);
}

static void check_numbers(const char *s)
{
	uint64_t v, w;
	double d;
	char buf[32];
	size_t i;

	if (num_parse_u64(s, 0, UINT64_MAX, &v) == 0) {
		for (i = 0; s[i]; i++)
			oracle(isdigit((unsigned char)s[i]), "number \"%s\" has a non-digit", s);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
		oracle(num_parse_u64(buf, v, v, &w) == 0 && w == v, "number \"%s\"", s);
		for (i = 0; s[i] == '0' && s[i + 1]; i++)
			;
		oracle(!strcmp(s + i, buf), "number \"%s\" is %s", s, buf);
	}
	if (num_parse_decimal(s, 0, 1e18, &d) == 0) {
		oracle(isfinite(d) && d >= 0 && d <= 1e18, "decimal \"%s\" is %g", s, d);
		for (i = 0; s[i]; i++)
			oracle(isdigit((unsigned char)s[i]) || s[i] == '.',
			       "decimal \"%s\" has a sign, blank or exponent", s);
	}
	if (cni_version_num(s) >= 0) {
		int n = cni_version_num(s);

		snprintf(buf, sizeof(buf), "%d.%d.%d", n / 10000, n / 100 % 100, n % 100);
		oracle(!strcmp(buf, s), "version \"%s\" prints as %s", s, buf);
	}
}

/* Every kind of option value, as flags and agent.conf keys take them. */
static void check_options(const char *s)
{
	static const struct opt_def defs[] = {
		{ .name = "s", .kind = OPT_STRING },
		{ .name = "p", .kind = OPT_PATH },
		{ .name = "i", .kind = OPT_IFNAME, .flags = OPT_AUTO },
		{ .name = "c", .kind = OPT_CIDR },
		{ .name = "4", .kind = OPT_IPV4 },
		{ .name = "r", .kind = OPT_PORT_RANGE },
		{ .name = "u", .kind = OPT_UINT, .min = 16, .max = 1u << 26 },
		{ .name = "t", .kind = OPT_SECONDS, .min = 0.001, .max = 1e9 },
		{ .name = "o", .kind = OPT_ONOFF },
		{ .name = "l", .kind = OPT_LISTEN },
		{}
	};
	const struct opt_def *d;
	union opt_value v, w;
	char buf[64];

	for (d = defs; d->name; d++) {
		if (opt_parse(d, s, OPT_FROM_FILE, &v)) {
			oracle(error_message()[0], "option %s \"%s\": refused without a message",
			       d->name, s);
			continue;
		}
		switch (d->kind) {
		case OPT_PORT_RANGE:
			oracle(v.range.lo >= 1 && v.range.lo <= v.range.hi, "range \"%s\"", s);
			snprintf(buf, sizeof(buf), "%u-%u", v.range.lo, v.range.hi);
			oracle(opt_parse(d, buf, OPT_FROM_FILE, &w) == 0 &&
				       w.range.lo == v.range.lo && w.range.hi == v.range.hi,
			       "range \"%s\" printed as %s", s, buf);
			break;
		case OPT_UINT:
			oracle(v.u >= 16 && v.u <= 1u << 26, "uint \"%s\" is %llu", s,
			       (unsigned long long)v.u);
			break;
		case OPT_SECONDS:
			oracle(v.secs >= 0.001 && v.secs <= 1e9, "seconds \"%s\" is %g", s, v.secs);
			break;
		case OPT_IFNAME:
			oracle(ifname_valid(s), "ifname option \"%s\"", s);
			break;
		default:
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *s;

	if (size > 512)
		return 0;
	s = fuzz_str(data, size);
	check_ip(s);
	check_ipaddr(s);
	check_cidr(s);
	check_mac(s);
	check_ifname(s);
	check_pod_name(s);
	check_listen(s);
	check_numbers(s);
	check_options(s);
	error_clear();
	free(s);
	return 0;
}
