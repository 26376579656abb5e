/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Parsing and printing IPv4 addresses, prefixes, MACs, interface names and
 * listen addresses; family-tagged IPv4/IPv6 addresses. The parsers take
 * exactly what the printers print (no blanks, signs or leading zeros):
 * parse -> print gives the text back, except that an IPv6 address prints
 * in its one RFC 5952 form (which parses back to the same address).
 */
#ifndef BL_ADDR_H
#define BL_ADDR_H

#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	uint32_t net; /* network byte order, host bits cleared */
	uint32_t mask; /* network byte order */
	int len;
};

/* Strict: "a.b.c.d/len" with no host bits set. -EINVAL otherwise. */
int cidr_parse(const char *s, struct cidr *c);
/* "a.b.c.d/len", host bits allowed (an interface address). -EINVAL otherwise. */
int ip_prefix_parse(const char *s, uint32_t *ip, int *len);
int ip_parse(const char *s, uint32_t *ip);
int cidr_contains(const struct cidr *c, uint32_t ip);
/* The two prefixes share an address. */
int cidr_overlaps(const struct cidr *a, const struct cidr *b);
/* Every address of inner is in outer. */
int cidr_inside(const struct cidr *inner, const struct cidr *outer);
/* Buffers of at least 19 (cidr), 16 (ip) and 18 (mac) bytes. */
const char *cidr_str(const struct cidr *c, char *buf);
const char *ip_str(uint32_t ip, char *buf);
const char *mac_str(const uint8_t *mac, char *buf);
/* "aa:bb:cc:dd:ee:ff"; -EINVAL otherwise. */
int mac_parse(const char *s, uint8_t *mac);
void cidr_from(struct cidr *c, uint32_t net, int len);
/*
 * 1 if s can name a network interface: 1-15 bytes, not "." or "..", no
 * '/', ':', blank or control character. 0 otherwise.
 */
int ifname_valid(const char *s);
/* "IP:PORT", "[IPv6]:PORT" or ":PORT" (any IPv4 address), PORT 1-65535. */
int listen_parse(const char *s, struct sockaddr_storage *ss);

/*
 * An IPv4 or an IPv6 address, tagged with its family, for what holds both
 * (the service table: dual-stack Services). Compare with ipaddr_cmp().
 */
struct ipaddr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t a[16]; /* network byte order; IPv4 in the first 4 bytes, rest 0 */
};

#define IPADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

/* "a.b.c.d" or an IPv6 address (inet_pton's forms); -EINVAL otherwise. */
int ipaddr_parse(const char *s, struct ipaddr *a);
/* buf of IPADDR_STRLEN bytes; IPv6 in its RFC 5952 form. */
const char *ipaddr_str(const struct ipaddr *a, char *buf);
/* IPv4 before IPv6, then by address bytes. */
int ipaddr_cmp(const struct ipaddr *a, const struct ipaddr *b);

#endif
