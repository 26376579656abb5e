// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The state files: a pod record, the node record, a CNI record, the
 * agent's service table (services.json; the first input byte picks which,
 * the rest is the file). Whatever loads saves to a
 * file that loads to the same record, and saving that again writes the
 * same bytes; what does not load is refused whole (what pod del, the agent
 * and node reset then move to quarantine).
 */
#include "cni/cni.h"
#include "node/services.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_quiet();
	return 0;
}

static void same_text(json_t *a, json_t *b, const char *what)
{
	char *sa = json_dumps(a, JSON_SORT_KEYS), *sb = json_dumps(b, JSON_SORT_KEYS);

	oracle(sa && sb && !strcmp(sa, sb), "%s saves otherwise the second time:\n%s\n%s",
	       what, sa, sb);
	free(sa);
	free(sb);
}

static void check_pod(json_t *j)
{
	struct pod_rec p, q;
	json_t *a, *b;

	/* pod_load() takes the name from the file name: the record must agree. */
	if (pod_rec_from_json(j, "web-1", &p))
		return;
	oracle(pod_name_valid(p.name) && ifname_valid(p.ifname), "bad names taken");
	oracle(p.state == POD_ADDING || (p.ip && p.host_ifindex),
	       "a pod past its add without address or veth");
	a = pod_rec_to_json(&p);
	oracle(a && pod_rec_from_json(a, "web-1", &q) == 0, "saved pod record refused");
	oracle(!memcmp(&p, &q, sizeof(p)), "pod record loads otherwise");
	b = pod_rec_to_json(&q);
	same_text(a, b, "pod record");
	json_decref(a);
	json_decref(b);
}

static void check_node(json_t *j)
{
	struct node_rec n, m;
	json_t *a, *b;

	if (node_rec_from_json(j, &n))
		return;
	oracle(ifname_valid(n.uplink) && n.nat_port_min <= n.nat_port_max, "bad node taken");
	a = node_rec_to_json(&n);
	oracle(a && node_rec_from_json(a, &m) == 0, "saved node record refused");
	oracle(!memcmp(&n, &m, sizeof(n)), "node record loads otherwise");
	b = node_rec_to_json(&m);
	same_text(a, b, "node record");
	json_decref(a);
	json_decref(b);
}

static void check_cni(json_t *j)
{
	struct cni_rec rec, rec2;
	struct cni_req r = {};
	json_t *a;

	if (cni_rec_from_json(j, &rec))
		return;
	oracle(ifname_valid(rec.ifname), "bad interface taken");
	r.container_id = rec.container_id;
	r.ifname = rec.ifname;
	r.network = rec.network;
	r.conf = rec.conf;
	r.path = rec.cni_path;
	a = cni_rec_to_json(&r);
	oracle(a && cni_rec_from_json(a, &rec2) == 0, "saved cni record refused");
	oracle(!strcmp(rec.container_id, rec2.container_id) && !strcmp(rec.ifname, rec2.ifname) &&
		       !strcmp(rec.network, rec2.network) && !rec.cni_path == !rec2.cni_path &&
		       (!rec.cni_path || !strcmp(rec.cni_path, rec2.cni_path)),
	       "cni record loads otherwise");
	json_decref(a);
	cni_rec_free(&rec);
	cni_rec_free(&rec2);
}

static void check_services(json_t *j)
{
	struct svc_table t, u;
	json_t *a, *b;
	size_t i;

	if (svc_table_from_json(json_object_get(j, "services"), &t))
		return;
	a = svc_table_to_json(&t);
	oracle(a && svc_table_from_json(a, &u) == 0, "saved service table refused");
	oracle(t.n == u.n, "service table loads otherwise");
	for (i = 0; i < t.n; i++)
		oracle(service_equal(&t.v[i], &u.v[i]), "service %zu loads otherwise", i);
	b = svc_table_to_json(&u);
	same_text(a, b, "service table");
	json_decref(a);
	json_decref(b);
	svc_table_free(&t);
	svc_table_free(&u);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	json_t *j;

	if (size < 1 || size > 65536)
		return 0;
	j = json_loadb((const char *)data + 1, size - 1, 0, NULL);
	if (j) {
		switch (data[0] % 4) {
		case 0: check_pod(j); break;
		case 1: check_node(j); break;
		case 2: check_cni(j); break;
		default: check_services(j); break;
		}
	}
	json_decref(j);
	error_clear();
	return 0;
}
