/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ARP and ICMP wire formats the datapath reads. <linux/if_arp.h> and
 * <linux/icmp.h> include <linux/if.h>, which pulls glibc's <sys/socket.h>
 * into a -target bpf build (and through it gnu/stubs-32.h, which only
 * libc6-dev-i386 has), so BPF code takes these few definitions from here.
 * Every other UAPI header the BPF code includes is free of libc; the
 * Makefile checks that no BPF object depends on a libc header.
 */
#ifndef BL_PROTO_H
#define BL_PROTO_H

#include <linux/types.h>

#define ARPHRD_ETHER 1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2

struct arphdr {
	__be16 ar_hrd;
	__be16 ar_pro;
	__u8 ar_hln;
	__u8 ar_pln;
	__be16 ar_op;
};

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	union {
		struct {
			__be16 id;
			__be16 sequence;
		} echo;
		__be32 gateway;
		struct {
			__be16 __unused;
			__be16 mtu;
		} frag;
		__u8 reserved[4];
	} un;
};

_Static_assert(sizeof(struct arphdr) == 8, "arphdr is 8 bytes on the wire");
_Static_assert(sizeof(struct icmphdr) == 8, "icmphdr is 8 bytes on the wire");

#endif
