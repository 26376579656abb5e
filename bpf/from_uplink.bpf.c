// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc ingress of the node's uplink. Traffic for a local pod (from other nodes)
 * goes straight into the pod; everything else is the host's own traffic and
 * passes untouched and uncounted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "lib/maps.h"
#include "lib/deliver.h"

SEC("tc")
int from_uplink(struct __sk_buff *skb)
{
	struct bl_endpoint_key key;
	const struct bl_endpoint *ep;
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *ip;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (pull_headers(skb, sizeof(*eth) + sizeof(*ip)))
		return TC_ACT_OK;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	ip = data + sizeof(*eth);
	if ((void *)(ip + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4 || ip->ihl < 5)
		return TC_ACT_OK;

	__builtin_memcpy(key.ip, &ip->daddr, 4);
	ep = bpf_map_lookup_elem(&endpoints, &key);
	if (!ep)
		return TC_ACT_OK;
	return deliver_to_pod(skb, eth, ip, ep, BL_FWD_FROM_UPLINK);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
