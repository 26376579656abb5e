// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Reading and filling the test node's NAT table (nat_table.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "nat_table.h"
#include "node.h"

void nat_key(struct bl_nat_key *k, const char *saddr, const char *daddr,
	     __u16 sport, __u16 dport, __u8 proto, __u8 dir)
{
	__u32 s = be32_of(saddr), d = be32_of(daddr);

	memset(k, 0, sizeof(*k));
	memcpy(k->saddr, &s, 4);
	memcpy(k->daddr, &d, 4);
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->dir = dir;
}

static int map_clear(int fd)
{
	__u8 k[64]; /* larger than any key here */

	while (bpf_map_get_next_key(fd, NULL, k) == 0)
		if (bpf_map_delete_elem(fd, k))
			return -errno;
	return 0;
}

int nat_clear(struct env *env)
{
	int err = map_clear(env->nat_fd);

	if (!err && env->frags_fd >= 0)
		err = map_clear(env->frags_fd);
	return err;
}

int nat_count(struct env *env, __u8 dir)
{
	struct bl_nat_key k, *prev = NULL, cur;
	struct bl_nat_entry e;
	int n = 0;

	while (bpf_map_get_next_key(env->nat_fd, prev, &k) == 0) {
		if (bpf_map_lookup_elem(env->nat_fd, &k, &e) == 0 &&
		    (!dir || k.dir == dir))
			n++;
		cur = k;
		prev = &cur;
	}
	return n;
}

int nat_occupy(struct env *env, const char *remote, __u16 rport, __u16 port,
	       __u8 proto)
{
	struct bl_nat_entry e = { .port = 1234 };
	__u32 other = be32_of("10.244.1.250");
	struct bl_nat_key k;

	nat_key(&k, remote, NODE_IP, rport, port, proto, BL_DIR_INGRESS);
	memcpy(e.addr, &other, 4);
	return bpf_map_update_elem(env->nat_fd, &k, &e, BPF_NOEXIST) ? -errno : 0;
}

const char *ipstr(const __u8 *a, char *buf)
{
	return inet_ntop(AF_INET, a, buf, INET_ADDRSTRLEN);
}

int expect_mapping(struct env *env, __u8 proto, const char *pod_ip,
		   __u16 pod_port, const char *remote, __u16 rport,
		   __u16 node_port, struct bl_nat_entry *out, char *why,
		   size_t n)
{
	struct bl_nat_entry e, i;
	struct bl_nat_key k;
	char a[INET_ADDRSTRLEN];

	nat_key(&k, pod_ip, remote, pod_port, rport, proto, BL_DIR_EGRESS);
	if (bpf_map_lookup_elem(env->nat_fd, &k, &e)) {
		snprintf(why, n, "nat: no egress entry %s:%u -> %s:%u proto %u (%d entries)",
			 pod_ip, pod_port, remote, rport, proto, nat_count(env, 0));
		return -1;
	}
	if (memcmp(e.addr, &(__u32){ be32_of(NODE_IP) }, 4) || e.port != node_port ||
	    (e.seen & BL_NAT_INBOUND)) {
		snprintf(why, n, "nat: egress entry -> %s:%u seen %#x, want %s:%u",
			 ipstr(e.addr, a), e.port, e.seen, NODE_IP, node_port);
		return -1;
	}
	nat_key(&k, remote, NODE_IP, rport, node_port, proto, BL_DIR_INGRESS);
	if (bpf_map_lookup_elem(env->nat_fd, &k, &i)) {
		snprintf(why, n, "nat: no ingress entry %s:%u -> %s:%u proto %u",
			 remote, rport, NODE_IP, node_port, proto);
		return -1;
	}
	if (memcmp(i.addr, &(__u32){ be32_of(pod_ip) }, 4) || i.port != pod_port) {
		snprintf(why, n, "nat: ingress entry -> %s:%u, want %s:%u",
			 ipstr(i.addr, a), i.port, pod_ip, pod_port);
		return -1;
	}
	if (!e.created_ns || e.last_seen_ns < e.created_ns) {
		snprintf(why, n, "nat: egress entry times created %llu last seen %llu",
			 (unsigned long long)e.created_ns,
			 (unsigned long long)e.last_seen_ns);
		return -1;
	}
	if (out)
		*out = e;
	return 0;
}

int expect_n(struct env *env, int egress, int ingress, char *why, size_t n)
{
	int e = nat_count(env, BL_DIR_EGRESS), i = nat_count(env, BL_DIR_INGRESS);

	if (e == egress && i == ingress)
		return 0;
	snprintf(why, n, "nat: %d egress + %d ingress entries, want %d + %d", e,
		 i, egress, ingress);
	return -1;
}

int nat_empty(struct env *env, const struct pkt *got, char *why, size_t n)
{
	int c = nat_count(env, 0);

	if (c == 0)
		return 0;
	snprintf(why, n, "nat: %d entries, want none", c);
	return -1;
}

/*
 * The FIB of the test namespace sends SRV_IP out of lo (index 1, all-zero
 * MAC, MTU 65536, kept as 65535) to the permanent neighbour neigh_mac.
 */
int expect_fwd_cache(const struct bl_nat_entry *e, char *why, size_t n)
{
	if (!e->fwd_ns || e->fwd_gen != 1 || e->fwd_ifindex != POD_A_IFINDEX ||
	    e->fwd_mtu != 65535 || memcmp(e->fwd_dmac, neigh_mac, ETH_ALEN) ||
	    memcmp(e->fwd_smac, lo_mac, ETH_ALEN)) {
		snprintf(why, n, "nat: forwarding cache ns %llu gen %u ifindex %u mtu %u dmac %02x..%02x, want set, 1, 1, 65535, neigh_mac",
			 (unsigned long long)e->fwd_ns, e->fwd_gen, e->fwd_ifindex,
			 e->fwd_mtu, e->fwd_dmac[0], e->fwd_dmac[5]);
		return -1;
	}
	return 0;
}

int expect_no_fwd_cache(const struct bl_nat_entry *e, char *why, size_t n)
{
	if (!e->fwd_ns)
		return 0;
	snprintf(why, n, "nat: an unresolved neighbour was cached (ifindex %u)",
		 e->fwd_ifindex);
	return -1;
}
