/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Services of the test node: frontends and backends written as the agent writes them. */
#ifndef UNIT_SERVICES_H
#define UNIT_SERVICES_H

#include <linux/types.h>

#include "env.h"

struct test_backend {
	const char *ip;
	__u16 port;
};

/*
 * Frontend ip:port/proto -> service id, its backends as revision rev,
 * with BL_SVC_* flags and a ClientIP affinity timeout (0: none). Turns
 * BPF services on in the config.
 */
int svc_add(struct env *env, const char *ip, __u16 port, __u8 proto, __u32 id,
	    __u16 rev, __u32 flags, __u32 affinity_s, const struct test_backend *be,
	    unsigned int n);
/* Every case starts without services and with endpoints unmarked. */
int svc_reset(struct env *env);
/* The BL_EP_* flags of the endpoint of ip. */
int endpoint_flags(struct env *env, const char *ip, __u16 *flags);

#endif
