// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * CNI ADD: the address from the IPAM plugin, the rest through pod_add(),
 * the same code as `bridgeless pod add` (cni/del.c: DEL through pod_del()),
 * under the same state lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "cni/cni.h"
#include "datapath/datapath.h"
#include "lib/log.h"
#include "netlink/link.h"
#include "netlink/netns.h"

int cni_node_ready(const struct cni_req *r, struct node_rec *node, int code)
{
	struct pinned pins;
	int err;

	err = node_load(&r->ctx, node);
	if (err == -ENOENT)
		return cni_errorf(code, err,
				  "node not initialized (no %s/node.json): run `bridgeless node init --uplink DEV --pod-cidr CIDR` first%s",
				  r->ctx.state_dir,
				  code == CNI_ERR_TRY_LATER ? ", then retry" : "");
	if (err)
		return cni_error_code(CNI_ERR_DATAPATH, err);
	/* The maps are gone after a reboot even where the state dir survived. */
	err = pinned_open(&r->ctx, &pins);
	if (err)
		return cni_error_code(code, err);
	pinned_close(&pins);
	return 0;
}

/* Undo the IPAM ADD, keeping the error that made us do it; *released says if it worked. */
static int ipam_rollback(struct cni_req *r, int err, int *released)
{
	char saved[ERR_MSG_MAX];
	cni_code_t code = cni_code;

	snprintf(saved, sizeof(saved), "%s", error_message());
	*released = !cni_ipam_exec(r, "DEL", NULL);
	if (!*released)
		return cni_errorf(code, err, "%s (and releasing its address failed: %s)",
				  saved, error_message());
	return cni_errorf(code, err, "%s", saved);
}

static json_t *iface(const char *name, const uint8_t *mac, const char *sandbox,
		     unsigned int mtu)
{
	char m[18];
	json_t *o = json_pack("{s:s, s:s}", "name", name, "mac", mac_str(mac, m));

	if (sandbox)
		json_object_set_new(o, "sandbox", json_string(sandbox));
	if (mtu)
		json_object_set_new(o, "mtu", json_integer(mtu));
	return o;
}

/*
 * The spec's result: the host end and the pod's interface (the bandwidth
 * plugin looks for the host end, portmap for the sandbox one), the
 * addresses as the pod has them (/32, /128), a default route per family
 * through its gateway (169.254.1.1, fe80::1) and the IPAM plugin's routes
 * through them too, and DNS from the configuration or else from the IPAM
 * plugin.
 * After a previous plugin, its result with ours appended.
 */
static json_t *add_result(const struct cni_req *r, const struct pod_rec *p,
			  unsigned int mtu, json_t *ipam_dns,
			  const struct pod_routes *extra)
{
	json_t *res, *ifs, *ips, *routes, *dns;
	char ip[IPADDR_STRLEN], gw[16], addr[IPADDR_STRLEN + 5];
	size_t base;

	res = r->prev_result ? json_deep_copy(r->prev_result) : json_object();
	ifs = json_object_get(res, "interfaces");
	if (!json_is_array(ifs))
		json_object_set_new(res, "interfaces", ifs = json_array());
	ips = json_object_get(res, "ips");
	if (!json_is_array(ips))
		json_object_set_new(res, "ips", ips = json_array());
	routes = json_object_get(res, "routes");
	if (!json_is_array(routes))
		json_object_set_new(res, "routes", routes = json_array());

	base = json_array_size(ifs);
	json_array_append_new(ifs, iface(p->host_ifname, p->host_mac, NULL, mtu));
	json_array_append_new(ifs, iface(p->ifname, p->mac, r->netns, mtu));
	if (p->ip) {
		snprintf(addr, sizeof(addr), "%s/32", ip_str(p->ip, ip));
		json_array_append_new(ips, json_pack("{s:s, s:I}", "address", addr,
						     "interface", (json_int_t)base + 1));
	}
	if (p->has_ip6) {
		snprintf(addr, sizeof(addr), "%s/128", ip6_str(p->ip6, ip));
		json_array_append_new(ips, json_pack("{s:s, s:I}", "address", addr,
						     "interface", (json_int_t)base + 1));
	}
	if (p->ip)
		json_array_append_new(routes,
				      json_pack("{s:s, s:s}", "dst", "0.0.0.0/0", "gw",
						ip_str(htonl(BL_GATEWAY_IP), gw)));
	if (p->has_ip6)
		json_array_append_new(routes, json_pack("{s:s, s:s}", "dst", "::/0", "gw",
							BL_GATEWAY_IP6_STR));
	cni_routes_result(routes, extra, p);

	dns = json_object_get(r->conf, "dns");
	if (!json_is_object(dns) || !json_object_size(dns))
		dns = ipam_dns;
	if (json_is_object(dns) && json_object_size(dns))
		json_object_set(res, "dns", dns);
	cni_result_convert(res, r->version);
	return res;
}

static unsigned int host_mtu(const struct pod_rec *p)
{
	struct link_info li = {};
	struct nl nl = {};

	if (nl_open(&nl) == 0)
		link_get(&nl, p->host_ifname, 0, &li);
	nl_close(&nl);
	error_clear();
	return li.mtu;
}

static int already(const struct cni_req *r)
{
	return cni_errorf(CNI_ERR_DATAPATH, -EEXIST,
			  "container %s already has interface %s on network %s (pod %s): DEL it first",
			  r->container_id, r->ifname, r->network, r->pod_name);
}

/*
 * Under the lock: an ADD of this attachment that was killed mid-way (its
 * pod record is unfinished, or only its CNI record is there) is undone as
 * DEL would, address and all, so that the runtime's retry succeeds; then
 * the CNI record is written, before pod_add() writes the pod's, so that
 * whatever a kill leaves from here on says how to release the address.
 */
static int add_prepare(struct cni_req *r)
{
	struct pod_rec old;
	struct cni_rec rec;
	int err, have_rec;

	err = pod_load(&r->ctx, r->pod_name, &old);
	if (err == 0 && old.state == POD_READY)
		return already(r);
	if (err && err != -ENOENT)
		return cni_error_code(CNI_ERR_DATAPATH,
				      error_prefix(err, "pod %s", r->pod_name));
	have_rec = cni_rec_load(&r->ctx, r->pod_name, &rec) != -ENOENT;
	if (have_rec)
		cni_rec_free(&rec);
	error_clear();
	if (err == 0 || have_rec) {
		pr_info("pod %s: an earlier ADD did not finish; undoing it", r->pod_name);
		err = cni_del_recorded(&r->ctx, r->pod_name, r->path);
		if (err == 1) /* no CNI record: the pod part only */
			err = pod_del(&r->ctx, r->pod_name);
		if (err < 0)
			return cni_error_code(CNI_ERR_DATAPATH,
					      error_prefix(err, "pod %s: undoing an unfinished ADD",
							   r->pod_name));
	}
	err = cni_rec_save(&r->ctx, r->pod_name, r);
	return err ? cni_error_code(CNI_ERR_DATAPATH, err) : 0;
}

/*
 * A failed ADD (pod_add() undid its part): only an address the plugin gave
 * needs giving back; the record goes after it, so that a kill in between
 * leaves what releases it (the agent, DEL or the next ADD use it), and it
 * stays where releasing failed, for the agent to try again.
 */
static int add_undo(struct cni_req *r, int err, int ipam_gave)
{
	char saved[ERR_MSG_MAX];
	int released = 1;

	if (ipam_gave)
		err = ipam_rollback(r, err, &released);
	if (!released)
		return err;
	snprintf(saved, sizeof(saved), "%s", error_message());
	if (cni_rec_remove(&r->ctx, r->pod_name))
		pr_warn("%s", error_message());
	errorf_raw(err, "%s", saved);
	return err;
}

/* pod_add()'s get_ip: the address from the IPAM plugin started before. */
struct add_ipam {
	struct cni_req *r;
	const struct node_rec *node;
	struct cni_ipam_call call;
	struct ipam_addr a;
	struct pod_routes routes; /* the plugin's, for pod_add() */
	int done; /* the plugin ran: 1 it gave an address, -1 it failed */
	int err; /* ours, with its code and message, not pod_add()'s */
	cni_code_t code;
	char msg[ERR_MSG_MAX];
};

static int add_ipam_fail(struct add_ipam *ai, int err)
{
	ai->err = err;
	ai->code = cni_code;
	snprintf(ai->msg, sizeof(ai->msg), "%s", error_message());
	return err;
}

static int add_get_ip(void *arg, struct pod_ips *ips)
{
	struct add_ipam *ai = arg;
	struct cni_req *r = ai->r;
	json_t *ires = NULL;
	char s1[IPADDR_STRLEN], s2[PREFIX_STRLEN];
	int err;

	err = cni_ipam_finish(&ai->call, &ires);
	ai->done = err ? -1 : 1;
	if (err)
		return add_ipam_fail(ai, err);
	if (!ires)
		return add_ipam_fail(ai, cni_errorf(CNI_ERR_IPAM, -EINVAL,
						    "ipam %s ADD: printed no result",
						    r->ipam_type));
	err = cni_ipam_addr(ires, &ai->a);
	if (!err)
		err = cni_ipam_routes(r, ires, &ai->routes);
	json_decref(ires);
	if (err)
		return add_ipam_fail(ai, err);
	if (ai->a.has_ip && (!node_has_ipv4(ai->node) ||
			 !cidr_contains(&ai->node->pod_cidr, ai->a.ip)))
		return add_ipam_fail(ai, cni_errorf(CNI_ERR_CONFIG, -EINVAL,
			"ipam %s gave %s, outside the node's pod CIDR %s: make the ipam range the pod CIDR (`bridgeless cni install` writes such a conflist)",
			r->ipam_type, ip_str(ai->a.ip, s1),
			node_has_ipv4(ai->node) ? cidr_str(&ai->node->pod_cidr, s2) :
						  "(none: the node has no IPv4)"));
	if (ai->a.has_ip6 && (!node_has_ipv6(ai->node) ||
			      !prefix_contains(&ai->node->pod_cidr6, ai->a.ip6)))
		return add_ipam_fail(ai, cni_errorf(CNI_ERR_CONFIG, -EINVAL,
			"ipam %s gave %s, outside the node's IPv6 pod CIDR %s: make the ipam range the pod CIDR (`bridgeless cni install` writes such a conflist)",
			r->ipam_type, ip6_str(ai->a.ip6, s1),
			node_has_ipv6(ai->node) ? prefix_str(&ai->node->pod_cidr6, s2) :
						  "(none: the node has no IPv6)"));
	ips->v4 = ai->a.has_ip;
	ips->ip = ai->a.ip;
	ips->v6 = ai->a.has_ip6;
	memcpy(ips->ip6, ai->a.ip6, 16);
	return 0;
}

/*
 * The IPAM plugin is started first and starts up while the pod's
 * interfaces are made; it gets its stdin, and with it the request for an
 * address, only when pod_add() needs the address (add_get_ip). What is
 * refused before that was refused without the plugin doing anything.
 */
int cni_add(struct cni_req *r, json_t **result)
{
	struct add_ipam ai = { .r = r };
	struct pod_add_req preq;
	struct pod_rec p, old;
	struct node_rec node;
	char path[PATH_MAX];
	int err, fd, lock;

	*result = NULL;
	cni_ipam_start(r, "ADD", &ai.call);
	err = cni_node_ready(r, &node, CNI_ERR_TRY_LATER);
	if (err)
		goto cancel;
	ai.node = &node;

	/*
	 * Everything that can be refused without side effects, before IPAM,
	 * and the netns opened before the lock: nothing waits under it.
	 */
	fd = netns_open(r->netns, path, sizeof(path));
	if (fd == -ENOENT) {
		err = cni_error_code(CNI_ERR_UNKNOWN_CONTAINER,
				     error_prefix(fd, "CNI_NETNS"));
		goto cancel;
	}
	if (fd < 0) {
		err = cni_error_code(CNI_ERR_ENV, error_prefix(fd, "CNI_NETNS"));
		goto cancel;
	}
	if (pod_load(&r->ctx, r->pod_name, &old) == 0 && old.state == POD_READY) {
		close(fd);
		err = already(r);
		goto cancel;
	}
	error_clear();

	lock = state_lock(&r->ctx);
	if (lock < 0) {
		close(fd);
		err = cni_error_code(CNI_ERR_DATAPATH, lock);
		goto cancel;
	}
	/* What an ADD killed mid-way left goes; then our record of intent. */
	err = add_prepare(r);
	if (err) {
		state_unlock(lock);
		close(fd);
		goto cancel;
	}
	preq = (struct pod_add_req){ .name = r->pod_name, .nsfd = fd, .netns = path,
				     .ifname = r->ifname, .get_ip = add_get_ip,
				     .get_ip_arg = &ai, .routes = &ai.routes };
	err = pod_add(&r->ctx, &preq, &p);
	close(fd);
	if (!ai.done)
		cni_ipam_cancel(&ai.call); /* pod_add() failed before it asked */
	if (err && ai.err) /* the IPAM plugin's or its address's */
		cni_errorf(ai.code, ai.err, "%s", ai.msg);
	else if (err)
		cni_error_code(err == -ENOENT ? CNI_ERR_UNKNOWN_CONTAINER :
						CNI_ERR_DATAPATH,
			       error_prefix(err, "pod %s", r->pod_name));
	if (err) {
		json_decref(ai.a.dns);
		err = add_undo(r, err, ai.done == 1);
		state_unlock(lock);
		return err;
	}
	state_unlock(lock);

	*result = add_result(r, &p, host_mtu(&p), ai.a.dns, &ai.routes);
	json_decref(ai.a.dns);
	return 0;

cancel:
	cni_ipam_cancel(&ai.call);
	return err;
}
