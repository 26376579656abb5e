/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Parsing and printing IPv4 addresses, prefixes, MACs, interface names and
 * listen addresses; family-tagged IPv4/IPv6 addresses and prefixes. The parsers take
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

/*
 * An IPv4 or an IPv6 prefix, tagged with its family: what options that
 * take either family parse into, and how IPv6 prefixes are kept (IPv4
 * ones are struct cidr, as the IPv4 code has always had them).
 */
struct prefix {
	uint8_t family; /* AF_INET or AF_INET6; 0: none */
	uint8_t net[16]; /* network byte order, host bits clear */
	uint8_t mask[16];
	int len;
};

#define PREFIX_STRLEN 50 /* an IPv6 address, '/', 3 digits */

/* Strict: "addr/len" of either family with no host bits set; -EINVAL otherwise. */
int prefix_parse(const char *s, struct prefix *p);
void prefix_from(struct prefix *p, int family, const uint8_t *addr, int len);
/* buf of PREFIX_STRLEN bytes; "" for a prefix of no family */
const char *prefix_str(const struct prefix *p, char *buf);
/* 1 if addr (of p's family, network byte order) lies in p */
int prefix_contains(const struct prefix *p, const uint8_t *addr);
/* 1 if either contains the other (same family) */
int prefix_overlaps(const struct prefix *a, const struct prefix *b);
int prefix_equal(const struct prefix *a, const struct prefix *b);
/* IPv4 ones and struct cidr, both ways (to_cidr: -EINVAL for IPv6) */
void prefix_from_cidr(struct prefix *p, const struct cidr *c);
int prefix_to_cidr(const struct prefix *p, struct cidr *c);
/* An IPv6 address as text (buf of IPADDR_STRLEN bytes). */
const char *ip6_str(const uint8_t *a, char *buf);

#endif
