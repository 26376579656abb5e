/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Pod address allocation from the node's pod CIDR, one file per reserved
 * address in STATE/ipam holding its owner's (the pod's) name, created
 * O_EXCL, so a reservation is atomic even without the state lock.
 * Allocation goes round-robin from the last address handed out, so a
 * just-freed address is not reused at once.
 */
#ifndef BL_IPAM_H
#define BL_IPAM_H

#include "node/state.h"

/*
 * given: want (0.0.0.0 too) or an error; else the next free address.
 * Returns 0 and *ip, or -errno with a message.
 */
int ipam_reserve(const struct ctx *c, const struct cidr *pool, int given,
		 uint32_t want, const char *owner, uint32_t *ip);
/* Release ip if owner (NULL: anybody) holds it; not held is no error. */
int ipam_release(const struct ctx *c, uint32_t ip, const char *owner);
/*
 * The same for IPv6, from an IPv6 pod CIDR of /64 or longer (its host
 * part fits in 64 bits): want NULL for the next free address (the
 * network's own address, ::0 of the prefix, is never given out).
 */
int ipam_reserve6(const struct ctx *c, const struct prefix *pool, const uint8_t *want,
		  const char *owner, uint8_t *ip);
int ipam_release6(const struct ctx *c, const uint8_t *ip, const char *owner);
/* The file a reservation killed mid-way leaves (the caller holds the lock). */
void ipam_remove_temp(const struct ctx *c);
/* Every reservation owner holds (both families): how many were released, or -errno. */
int ipam_release_all(const struct ctx *c, const char *owner);
/* Calls fn for each IPv4 reservation with its owner's name ("" if unreadable). */
int ipam_foreach(const struct ctx *c,
		 int (*fn)(uint32_t ip, const char *owner, void *data), void *data);

#endif
