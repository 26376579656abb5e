// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Loading the datapath and writing the test node into its maps (env.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath.skel.h"
#include "env.h"
#include "netns.h"
#include "node.h"
#include "packet.h"

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	/* libbpf's debug chatter would bury the one-line-per-case protocol. */
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int write_config(struct env *env, bool configured)
{
	struct bl_config cfg = {};
	__u32 zero = 0;

	if (configured) {
		cfg.node_ip = be32_of(NODE_IP);
		cfg.pod_cidr = be32_of("10.244.1.0");
		cfg.pod_mask = htonl(0xffffff00);
		cfg.cluster_cidr = be32_of("10.244.0.0");
		cfg.cluster_mask = htonl(0xffff0000);
		cfg.uplink_ifindex = 1;
		memcpy(cfg.uplink_mac, uplink_mac, ETH_ALEN);
		cfg.pod_prefix_len = 24;
		cfg.cluster_prefix_len = 16;
		/* as `node init` leaves it: masquerade on, default range */
		cfg.flags = BL_CFG_MASQUERADE;
		cfg.nat_port_min = NAT_LO;
		cfg.nat_port_max = NAT_HI;
		cfg.fwd_gen = 1; /* a first init's */
		/* the default --service-cidr; services to the host (no --bpf-services) */
		cfg.svc_cidr[0] = be32_of(SVC_CIDR);
		cfg.svc_mask[0] = htonl(0xfff00000);
	}
	return bpf_map_update_elem(env->config_fd, &zero, &cfg, BPF_ANY) ?
		       -errno : 0;
}

int update_config(struct env *env, __u32 flags, __u16 lo, __u16 hi)
{
	struct bl_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(env->config_fd, &zero, &cfg))
		return -errno;
	cfg.flags = flags;
	cfg.nat_port_min = lo;
	cfg.nat_port_max = hi;
	return bpf_map_update_elem(env->config_fd, &zero, &cfg, BPF_ANY) ?
		       -errno : 0;
}

int fwd_gen_bump(struct env *env)
{
	struct bl_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(env->config_fd, &zero, &cfg))
		return -errno;
	cfg.fwd_gen++;
	return bpf_map_update_elem(env->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

int read_nat_range(struct env *env, __u16 *lo, __u16 *hi)
{
	struct bl_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(env->config_fd, &zero, &cfg))
		return -errno;
	*lo = cfg.nat_port_min;
	*hi = cfg.nat_port_max;
	return 0;
}

static void endpoint_key(struct bl_endpoint_key *key, const char *ip)
{
	__u32 addr = be32_of(ip);

	/* Network byte order, whatever C type the header gives the field. */
	_Static_assert(sizeof(key->ip) == sizeof(addr), "endpoint key is IPv4");
	memcpy(&key->ip, &addr, sizeof(addr));
}

int add_endpoint(struct env *env, const char *ip, __u32 ifindex, __u32 id,
		 const __u8 *pod_mac, const __u8 *host_mac)
{
	struct bl_endpoint ep = { .ifindex = ifindex, .id = id };
	struct bl_endpoint_key key;

	endpoint_key(&key, ip);
	memcpy(ep.pod_mac, pod_mac, ETH_ALEN);
	memcpy(ep.host_mac, host_mac, ETH_ALEN);
	return bpf_map_update_elem(env->endpoints_fd, &key, &ep, BPF_ANY) ?
		       -errno : 0;
}

int del_endpoint(struct env *env, const char *ip)
{
	struct bl_endpoint_key key;

	endpoint_key(&key, ip);
	return bpf_map_delete_elem(env->endpoints_fd, &key) ? -errno : 0;
}

static int add_nomasq(struct env *env, const char *net, __u32 len)
{
	struct bl_prefix_key k = { .prefixlen = len };
	__u32 addr = be32_of(net), one = 1;

	memcpy(k.ip, &addr, 4);
	return bpf_map_update_elem(env->nomasq_fd, &k, &one, BPF_ANY) ? -errno : 0;
}

int read_counters(struct env *env, struct bl_counter_val *sum)
{
	struct bl_counter_val *percpu;
	__u32 key;
	int cpu;

	percpu = calloc(env->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (key = 0; key < BL_COUNTER_MAX; key++) {
		if (bpf_map_lookup_elem(env->counters_fd, &key, percpu)) {
			free(percpu);
			return -errno;
		}
		sum[key].packets = 0;
		sum[key].bytes = 0;
		for (cpu = 0; cpu < env->ncpus; cpu++) {
			sum[key].packets += percpu[cpu].packets;
			sum[key].bytes += percpu[cpu].bytes;
		}
	}
	free(percpu);
	return 0;
}

int prog_fd(struct env *env, enum prog_id prog)
{
	return bpf_program__fd(prog == FROM_POD ? env->skel->progs.from_pod :
			       prog == TO_POD	? env->skel->progs.to_pod :
						  env->skel->progs.from_uplink);
}

/* Private, unpinned maps: the test must not see or change a node's. */
static int load(struct env *env, __u32 nat_max, char *why, size_t n)
{
	struct bpf_map *map;
	int err;

	env->skel = datapath__open();
	if (!env->skel) {
		err = -errno;
		snprintf(why, n, "opening the skeleton: %s", strerror(-err));
		return err;
	}
	err = nat_max ? bpf_map__set_max_entries(env->skel->maps.nat, nat_max) : 0;
	if (err) {
		snprintf(why, n, "sizing the NAT table: %s", strerror(-err));
		return err;
	}
	bpf_object__for_each_map(map, env->skel->obj)
	{
		err = bpf_map__set_pin_path(map, NULL);
		if (err) {
			snprintf(why, n, "unpinning %s: %s", bpf_map__name(map),
				 strerror(-err));
			return err;
		}
	}
	err = datapath__load(env->skel);
	if (err) {
		snprintf(why, n, "loading the datapath: %s", strerror(-err));
		return err;
	}
	env->endpoints_fd = bpf_map__fd(env->skel->maps.endpoints);
	env->config_fd = bpf_map__fd(env->skel->maps.config);
	env->counters_fd = bpf_map__fd(env->skel->maps.counters);
	env->nat_fd = bpf_map__fd(env->skel->maps.nat);
	env->nomasq_fd = bpf_map__fd(env->skel->maps.nomasq);
	env->svc_fe_fd = bpf_map__fd(env->skel->maps.svc_frontends);
	env->svc_be_fd = bpf_map__fd(env->skel->maps.svc_backends);
	env->svc_aff_fd = bpf_map__fd(env->skel->maps.svc_affinity);
	map = bpf_object__find_map_by_name(env->skel->obj, "frags");
	env->frags_fd = map ? bpf_map__fd(map) : -1;
	return 0;
}

int env_open(struct env *env, __u32 nat_max, char *why, size_t n)
{
	int err;

	libbpf_set_print(libbpf_print);
	env->ncpus = libbpf_num_possible_cpus();
	if (env->ncpus <= 0) {
		snprintf(why, n, "cannot count CPUs: %s", strerror(-env->ncpus));
		return env->ncpus ?: -EINVAL;
	}
	err = load(env, nat_max, why, n);
	if (err)
		return err;

	/* as `node init --no-masquerade 192.0.2.0/24` fills it */
	err = add_nomasq(env, "10.244.0.0", 16);
	if (!err)
		err = add_nomasq(env, "192.0.2.0", 24);
	if (err) {
		snprintf(why, n, "filling nomasq: %s", strerror(-err));
		return err;
	}

	err = add_endpoint(env, POD_A_IP, POD_A_IFINDEX, 0x1a2b3c4d, pod_a_mac,
			   host_a_mac);
	if (!err)
		err = add_endpoint(env, POD_B_IP, POD_B_IFINDEX, 0x5e6f7081,
				   pod_b_mac, host_b_mac);
	/* pod A's second address: a client that sends from pod A's interface */
	if (!err)
		err = add_endpoint(env, POD_C_IP, POD_A_IFINDEX, 0x2c3d4e5f, pod_a_mac,
				   host_a_mac);
	if (err) {
		snprintf(why, n, "filling endpoints: %s", strerror(-err));
		return err;
	}
	env->fib_skip = setup_fib();
	return 0;
}

void env_close(struct env *env)
{
	datapath__destroy(env->skel);
	env->skel = NULL;
}
