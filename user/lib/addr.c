// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "lib/addr.h"

int ip_parse(const char *s, uint32_t *ip)
{
	struct in_addr a;

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

int cidr_parse(const char *s, struct cidr *c)
{
	char addr[INET_ADDRSTRLEN], *end;
	const char *slash = strchr(s, '/');
	uint32_t ip;
	long len;

	if (!slash || slash == s || (size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, slash - s);
	addr[slash - s] = 0;
	if (ip_parse(addr, &ip))
		return -EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || len < 0 || len > 32)
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

int mac_parse(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -EINVAL;
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

int ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : b->family == AF_INET ? 1 :
		       (int)a->family - (int)b->family;
	return memcmp(a->a, b->a, sizeof(a->a));
}
