/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Parsing and printing IPv4 addresses, prefixes and MACs. */
#ifndef BL_ADDR_H
#define BL_ADDR_H

#include <stdint.h>

struct cidr {
	uint32_t net; /* network byte order, host bits cleared */
	uint32_t mask; /* network byte order */
	int len;
};

/* Strict: "a.b.c.d/len" with no host bits set. -EINVAL otherwise. */
int cidr_parse(const char *s, struct cidr *c);
int ip_parse(const char *s, uint32_t *ip);
int cidr_contains(const struct cidr *c, uint32_t ip);
/* Buffers of at least 19 (cidr), 16 (ip) and 18 (mac) bytes. */
const char *cidr_str(const struct cidr *c, char *buf);
const char *ip_str(uint32_t ip, char *buf);
const char *mac_str(const uint8_t *mac, char *buf);
/* "aa:bb:cc:dd:ee:ff"; -EINVAL otherwise. */
int mac_parse(const char *s, uint8_t *mac);
void cidr_from(struct cidr *c, uint32_t net, int len);

#endif
