// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc ingress of a pod's host veth: every packet a pod sends starts here.
 * Anti-spoofing first (source IP and MAC must be the sending pod's), then:
 * local pod -> redirect_peer; pod CIDR without endpoint -> drop; cluster CIDR
 * and no-masquerade prefixes -> FIB + redirect, source kept; anything else ->
 * SNAT to the node IP + FIB + redirect (or the host stack with masquerade off).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lib/maps.h"
#include "lib/arp.h"
#include "lib/deliver.h"
#include "lib/fib.h"
#include "lib/nat.h"
#include "lib/svc.h"

/* The trace switch every program reads (lib/maps.h); its one definition. */
__u32 trace_rate SEC(".data." BL_PIN(BL_MAP_TRACE_CFG)) = 0;

/*
 * Leave the cluster with the node's address: route first, then translate.
 * An established flow's mapping keeps the FIB's answer (fwd_cache_ok): its
 * packets are translated and sent without a FIB lookup; so are the replies
 * of a connection that came in from outside straight to the pod, untouched.
 */
static __noinline int snat_and_forward(struct __sk_buff *skb,
					    const struct bl_config *cfg,
					    struct iphdr *ip)
{
	struct bpf_fib_lookup params;
	struct snat_pkt p = {};
	struct bl_nat_entry *e;
	struct ethhdr *eth;
	int kind, ret;

	if (ip->ttl <= 1)
		return pass(skb, BL_PASS_TTL);
	p.now = nat_now();
	kind = snat_parse(skb, ip, &p);
	if (kind == SNAT_FLOW || kind == SNAT_ECHO_REPLY) {
		p.e = e = nat_lookup(&p.t);
		/*
		 * Of the unpaired entries, only inbound ones fill it
		 * (snat_egress). A SYN (a new connection, perhaps on an old
		 * tuple) takes the slow path, which checks the mapping.
		 */
		if (e && fwd_cache_ok(e, cfg, skb, p.now) &&
		    !(p.t.tcp_flags & BL_TCP_SYN) &&
		    (kind == SNAT_FLOW || (e->seen & BL_NAT_UNPAIRED))) {
			entry_touch(e, p.t.tcp_flags, p.now);
			ret = BL_NAT_INBOUND_REPLY;
			if (!(e->seen & BL_NAT_UNPAIRED)) {
				ret = BL_NAT_EGRESS;
				if (snat_rewrite(skb, cfg, &p, e))
					return drop(skb, BL_DROP_NAT_UNSUPPORTED);
			}
			ip = ip_headers(skb, &eth);
			if (!ip)
				return drop(skb, BL_DROP_TRUNCATED);
			return send_l2(skb, eth, ip, ret, e->fwd_ifindex,
				       e->fwd_dmac, e->fwd_smac);
		}
	}
	/* Not forwardable (another local address, no route...): host stack. */
	if (!fib_route(skb, ip, cfg->node_ip, &params))
		return pass(skb, BL_PASS_FIB);
	ret = snat_egress(skb, cfg, &p, kind, &params);
	if (ret < 0)
		return drop(skb, -ret);
	if (ret == BL_PASS_NAT_VIA_HOST)
		return pass(skb, ret);
	/* The checksum helpers moved the packet: find the headers again. */
	ip = ip_headers(skb, &eth);
	if (!ip)
		return drop(skb, BL_DROP_TRUNCATED);
	return fib_send(skb, eth, ip, &params, ret);
}

SEC("tc")
int BL_PROG_FROM_POD(struct __sk_buff *skb)
{
	const struct bl_endpoint *dst;
	struct bl_endpoint *src;
	struct bl_endpoint_key key;
	const struct bl_config *cfg;
	struct ethhdr *eth;
	struct iphdr *ip;
	__u32 zero = 0;
	int ret;

	if (skb->protocol == bpf_htons(ETH_P_ARP))
		return handle_arp_from_pod(skb);
	/* A pod sends IPv4 or ARP only: anything else is dropped, counted. */
	ret = parse_ipv4(skb, &eth, &ip);
	if (ret < 0)
		return drop(skb, -ret);

	__builtin_memcpy(key.ip, &ip->saddr, 4);
	src = bpf_map_lookup_elem(&endpoints, &key);
	if (!src || src->ifindex != skb->ifindex)
		return drop(skb, BL_DROP_SPOOF_IP);
	if (!mac_equal(eth->h_source, src->pod_mac))
		return drop(skb, BL_DROP_SPOOF_MAC);
	count_tx(skb, src->slot);

	/* An array entry always exists; before node init it is all zeroes. */
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg || !cfg->node_ip)
		return drop(skb, BL_DROP_NO_CONFIG);
	if (in_service_cidr(cfg, ip->daddr))
		return svc_from_pod(skb, cfg, src, ip);
	/*
	 * A pod that serves service flows or was handed translated ones by
	 * the host: its replies are looked up (svc_tracked_tx). Everybody
	 * else pays one test of a flag already loaded.
	 */
	if (src->flags & BL_EP_TX_TRACKED) {
		ret = svc_tracked_tx(skb);
		if (ret < 0)
			return drop(skb, -ret);
		if (ret == BL_PASS_NAT_VIA_HOST)
			return pass(skb, ret);
		if (ret != BL_NOT_MINE)
			count(skb, ret);
		/* whatever it did, the packet may have moved */
		ip = ip_headers(skb, &eth);
		if (!ip)
			return drop(skb, BL_DROP_TRUNCATED);
	}
	/*
	 * Every endpoint's address lies in the pod CIDR (pod add and the CNI
	 * plugin refuse others), so only those destinations are looked up.
	 */
	if (in_prefix(ip->daddr, cfg->pod_cidr, cfg->pod_mask)) {
		__builtin_memcpy(key.ip, &ip->daddr, 4);
		dst = bpf_map_lookup_elem(&endpoints, &key);
		if (!dst)
			return drop(skb, BL_DROP_NO_ENDPOINT);
		return deliver_to_pod(skb, eth, ip, dst, BL_FWD_LOCAL);
	}
	/* kubelet probes and their replies: the node's own stack */
	if (ip->daddr == cfg->node_ip)
		return pass(skb, BL_PASS_HOST);
	if (no_masquerade(ip->daddr))
		return forward_by_fib(skb, eth, ip, BL_FWD_CLUSTER);
	if (cfg->flags & BL_CFG_MASQUERADE)
		return snat_and_forward(skb, cfg, ip);
	return pass(skb, BL_PASS_HOST);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
