// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* RFC 1071 checksums for building and checking frames (csum.h). */
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "csum.h"

__u32 csum_add(__u32 sum, const void *data, __u32 len)
{
	const __u8 *p = data;
	__u32 i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

__u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

__u32 pseudo_sum(const struct iphdr *ip, __u8 proto, __u16 l4_len)
{
	__u8 ph[12];

	memcpy(ph, &ip->saddr, 4);
	memcpy(ph + 4, &ip->daddr, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = l4_len >> 8;
	ph[11] = l4_len & 0xff;
	return csum_add(0, ph, sizeof(ph));
}

__u32 l4_csum_off(__u8 proto)
{
	return proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) :
	       proto == IPPROTO_UDP ? offsetof(struct udphdr, check) : 0;
}
