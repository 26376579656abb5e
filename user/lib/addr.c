// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include "lib/addr.h"
#include "lib/number.h"

int ip_parse(const char *s, uint32_t *ip)
{
	struct in_addr a;

	/* glibc's inet_pton: exactly four decimal parts, no leading zeros. */
	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = a.s_addr;
	return 0;
}

void cidr_from(struct cidr *c, uint32_t net, int len)
{
	c->len = len;
	c->mask = len ? htonl(~0u << (32 - len)) : 0;
	c->net = net & c->mask;
}

/* A prefix length as cidr_str() prints it: 0-max, no sign, blank or leading zero. */
static int prefix_len_parse_max(const char *s, int max, int *len)
{
	uint64_t v;

	if (s[0] == '0' && s[1])
		return -EINVAL;
	if (num_parse_u64(s, 0, max, &v))
		return -EINVAL;
	*len = v;
	return 0;
}

static int prefix_len_parse(const char *s, int *len)
{
	return prefix_len_parse_max(s, 32, len);
}

int ip_prefix_parse(const char *s, uint32_t *ip, int *len)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');

	if (!slash || slash == s || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, slash - s);
	addr[slash - s] = 0;
	if (ip_parse(addr, ip) || prefix_len_parse(slash + 1, len))
		return -EINVAL;
	return 0;
}

int cidr_parse(const char *s, struct cidr *c)
{
	uint32_t ip;
	int len;

	if (ip_prefix_parse(s, &ip, &len))
		return -EINVAL;
	cidr_from(c, ip, len);
	if (c->net != ip)
		return -EINVAL;
	return 0;
}

int cidr_contains(const struct cidr *c, uint32_t ip)
{
	return (ip & c->mask) == c->net;
}

int cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
	return a->len <= b->len ? cidr_contains(a, b->net) : cidr_contains(b, a->net);
}

int cidr_inside(const struct cidr *inner, const struct cidr *outer)
{
	return inner->len >= outer->len && cidr_contains(outer, inner->net);
}

const char *ip_str(uint32_t ip, char *buf)
{
	struct in_addr a = { .s_addr = ip };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

const char *cidr_str(const struct cidr *c, char *buf)
{
	char ip[INET_ADDRSTRLEN];

	sprintf(buf, "%s/%d", ip_str(c->net, ip), c->len);
	return buf;
}

const char *mac_str(const uint8_t *m, char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
		m[4], m[5]);
	return buf;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int mac_parse(const char *s, uint8_t *mac)
{
	int i, hi, lo;

	/* Exactly "xx:xx:xx:xx:xx:xx" (sscanf's %hhx took blanks, signs, "0x"). */
	for (i = 0; i < 6; i++, s += 3) {
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0 || s[2] != (i < 5 ? ':' : 0))
			return -EINVAL;
		mac[i] = hi << 4 | lo;
	}
	return 0;
}

int ifname_valid(const char *s)
{
	size_t len = strlen(s), i;

	/* The kernel's dev_valid_name(), and no control characters. */
	if (!len || len >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];

		if (ch <= ' ' || ch == 0x7f || ch == '/' || ch == ':')
			return 0;
	}
	return 1;
}

int listen_parse(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	uint64_t port;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (!colon || (colon[1] == '0' && colon[2]) ||
	    num_parse_u64(colon + 1, 1, 65535, &port))
		return -EINVAL;
	hlen = colon - s;
	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = 0;
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = 0;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (!hlen) {
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

int ipaddr_parse(const char *s, struct ipaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	memset(a, 0, sizeof(*a));
	return -EINVAL;
}

const char *ipaddr_str(const struct ipaddr *a, char *buf)
{
	if (!inet_ntop(a->family == AF_INET6 ? AF_INET6 : AF_INET, a->a, buf,
		       IPADDR_STRLEN))
		snprintf(buf, IPADDR_STRLEN, "?");
	return buf;
}

const char *ip6_str(const uint8_t *a, char *buf)
{
	if (!inet_ntop(AF_INET6, a, buf, IPADDR_STRLEN))
		snprintf(buf, IPADDR_STRLEN, "?");
	return buf;
}

void prefix_from(struct prefix *p, int family, const uint8_t *addr, int len)
{
	int bytes = family == AF_INET6 ? 16 : 4, i;

	memset(p, 0, sizeof(*p));
	p->family = family;
	p->len = len;
	for (i = 0; i < bytes; i++) {
		int bits = len - 8 * i;

		p->mask[i] = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
		p->net[i] = addr[i] & p->mask[i];
	}
}

int prefix_parse(const char *s, struct prefix *p)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct ipaddr a;
	int len;

	memset(p, 0, sizeof(*p));
	if (!slash || slash == s || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, slash - s);
	addr[slash - s] = 0;
	if (ipaddr_parse(addr, &a) ||
	    prefix_len_parse_max(slash + 1, a.family == AF_INET6 ? 128 : 32, &len))
		return -EINVAL;
	prefix_from(p, a.family, a.a, len);
	if (memcmp(p->net, a.a, a.family == AF_INET6 ? 16 : 4)) {
		memset(p, 0, sizeof(*p));
		return -EINVAL;
	}
	return 0;
}

const char *prefix_str(const struct prefix *p, char *buf)
{
	char a[IPADDR_STRLEN];

	if (p->family != AF_INET && p->family != AF_INET6) {
		buf[0] = 0;
		return buf;
	}
	if (!inet_ntop(p->family, p->net, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, PREFIX_STRLEN, "%s/%d", a, p->len);
	return buf;
}

int prefix_contains(const struct prefix *p, const uint8_t *addr)
{
	int bytes = p->family == AF_INET6 ? 16 : 4, i;

	for (i = 0; i < bytes; i++)
		if ((addr[i] & p->mask[i]) != p->net[i])
			return 0;
	return 1;
}

int prefix_overlaps(const struct prefix *a, const struct prefix *b)
{
	if (a->family != b->family)
		return 0;
	return a->len <= b->len ? prefix_contains(a, b->net) : prefix_contains(b, a->net);
}

int prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->net, b->net, 16);
}

void prefix_from_cidr(struct prefix *p, const struct cidr *c)
{
	prefix_from(p, AF_INET, (const uint8_t *)&c->net, c->len);
}

int prefix_to_cidr(const struct prefix *p, struct cidr *c)
{
	uint32_t net;

	if (p->family != AF_INET)
		return -EINVAL;
	memcpy(&net, p->net, 4);
	cidr_from(c, net, p->len);
	return 0;
}

int ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : b->family == AF_INET ? 1 :
		       (int)a->family - (int)b->family;
	return memcmp(a->a, b->a, sizeof(a->a));
}
