// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include "datapath/attach.h"
#include "datapath/counters.h"
#include "datapath/datapath.h"
#include "lib/log.h"
#include "node/pod.h"

static void egress_pin_path(const struct ctx *c, const struct pod_rec *p, char *buf)
{
	char name[IF_NAMESIZE + 8];

	snprintf(name, sizeof(name), "%s-egress", p->host_ifname);
	link_pin_path(c, name, buf);
}

int pod_attach(const struct ctx *c, const struct pod_rec *p, int from_pod,
	       int to_pod)
{
	char pin[PATH_MAX];
	int err;

	link_pin_path(c, p->host_ifname, pin);
	err = attach_ingress(p->host_ifindex, from_pod, pin, NULL);
	if (err < 0)
		return error_prefix(err, "attach from_pod to %s", p->host_ifname);
	egress_pin_path(c, p, pin);
	err = attach_egress(p->host_ifindex, to_pod, pin, NULL);
	if (err < 0) {
		pod_detach(c, p);
		return error_prefix(err, "attach to_pod to %s", p->host_ifname);
	}
	return 0;
}

void pod_detach(const struct ctx *c, const struct pod_rec *p)
{
	char pin[PATH_MAX];

	link_pin_path(c, p->host_ifname, pin);
	/* The veth goes next, with its qdisc; in between it is the pod's. */
	detach_ingress(p->host_ifindex, pin, 0);
	egress_pin_path(c, p, pin);
	detach_egress(p->host_ifindex, pin, 0);
}

void pod_endpoint(const struct pod_rec *p, struct bl_endpoint_key *key,
		  struct bl_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	memcpy(key->ip, &p->ip, 4);
	ep->ifindex = p->host_ifindex;
	ep->id = p->id;
	memcpy(ep->pod_mac, p->mac, 6);
	memcpy(ep->host_mac, p->host_mac, 6);
	ep->slot = p->slot;
}

void pod_endpoint6(const struct pod_rec *p, struct bl_endpoint6_key *key,
		   struct bl_endpoint *ep)
{
	struct bl_endpoint_key k4;

	pod_endpoint(p, &k4, ep);
	memcpy(key->ip, p->ip6, 16);
}

const char *pod_ips_str(const struct pod_rec *p, char *buf, size_t len)
{
	char a[16], b[IPADDR_STRLEN];

	snprintf(buf, len, "%s%s%s", p->ip ? ip_str(p->ip, a) : "",
		 p->ip && p->has_ip6 ? "," : "", p->has_ip6 ? ip6_str(p->ip6, b) : "");
	return buf;
}

static int mark_slot(const struct pod_rec *p, void *data)
{
	uint8_t *used = data;

	if (p->slot && p->slot < BL_MAX_EP_SLOTS)
		used[p->slot / 8] |= 1u << (p->slot % 8);
	return 0;
}

/*
 * The lowest ep_stats slot no other pod record holds. The caller holds the
 * state lock, so no other pod add can take it meanwhile. With every slot
 * taken the pod is forwarded as usual, only not counted on its own (0).
 */
int pod_slot_alloc(const struct ctx *c, const char *name, uint32_t *slot)
{
	uint8_t used[BL_MAX_EP_SLOTS / 8] = { 1 }; /* slot 0: nobody's */
	uint32_t i;
	int err;

	err = pod_foreach(c, mark_slot, used);
	if (err)
		return err;
	for (i = 1; i < BL_MAX_EP_SLOTS; i++) {
		if (!(used[i / 8] & (1u << (i % 8)))) {
			*slot = i;
			return 0;
		}
	}
	pr_warn("pod %s: all %d counter slots taken, the pod is not counted on its own",
		name, BL_MAX_EP_SLOTS - 1);
	*slot = 0;
	return 0;
}

/* A slot starts from zero, whatever a pod before left in it. */
void pod_slot_clear(const struct ctx *c, uint32_t slot)
{
	int fd;

	if (!slot)
		return;
	fd = pin_open(c, BL_PIN(BL_MAP_EP_STATS));
	if (fd >= 0) {
		if (ep_stats_clear(fd, slot))
			pr_warn("%s", error_message());
		close(fd);
	}
	error_clear();
}
