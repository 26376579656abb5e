// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "node.h"
#include "packet.h"
#include "services.h"

int svc_add(struct env *env, const char *ip, __u16 port, __u8 proto, __u32 id,
	    __u16 rev, __u32 flags, __u32 affinity_s, const struct test_backend *be,
	    unsigned int n)
{
	struct bl_svc_key k = { .port = port, .proto = proto };
	struct bl_svc s = { .id = id, .rev = rev, .count = n, .affinity_s = affinity_s,
			    .flags = flags };
	struct bl_config cfg;
	__u32 addr = be32_of(ip), zero = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct bl_svc_backend_key bk = { .id = id, .rev = rev, .slot = i };
		struct bl_svc_backend b = { .port = be[i].port };
		__u32 a = be32_of(be[i].ip);

		memcpy(b.addr, &a, 4);
		if (bpf_map_update_elem(env->svc_be_fd, &bk, &b, BPF_ANY))
			return -errno;
	}
	memcpy(k.addr, &addr, 4);
	if (bpf_map_update_elem(env->svc_fe_fd, &k, &s, BPF_ANY) ||
	    bpf_map_lookup_elem(env->config_fd, &zero, &cfg))
		return -errno;
	cfg.flags |= BL_CFG_SERVICES;
	return bpf_map_update_elem(env->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

static int clear(int fd, size_t key_size)
{
	__u8 k[64], next[64];

	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(k, next, key_size);
		if (bpf_map_delete_elem(fd, k))
			return -errno;
	}
	return 0;
}

int svc_reset(struct env *env)
{
	struct bl_endpoint_key k, *prev = NULL;
	struct bl_endpoint ep;
	int err;

	err = clear(env->svc_fe_fd, sizeof(struct bl_svc_key));
	if (!err)
		err = clear(env->svc_be_fd, sizeof(struct bl_svc_backend_key));
	if (!err)
		err = clear(env->svc_aff_fd, sizeof(struct bl_svc_affinity_key));
	while (!err && bpf_map_get_next_key(env->endpoints_fd, prev, &k) == 0) {
		if (bpf_map_lookup_elem(env->endpoints_fd, &k, &ep) == 0 && ep.flags) {
			ep.flags = 0;
			if (bpf_map_update_elem(env->endpoints_fd, &k, &ep, BPF_EXIST))
				err = -errno;
		}
		prev = &k;
	}
	return err;
}

int endpoint_flags(struct env *env, const char *ip, __u16 *flags)
{
	struct bl_endpoint_key k;
	struct bl_endpoint ep;
	__u32 a = be32_of(ip);

	memcpy(k.ip, &a, 4);
	if (bpf_map_lookup_elem(env->endpoints_fd, &k, &ep))
		return -errno;
	*flags = ep.flags;
	return 0;
}
