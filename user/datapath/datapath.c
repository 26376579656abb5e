// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath.skel.h"
#include "datapath/attach.h"
#include "datapath/datapath.h"
#include "lib/fs.h"
#include "lib/log.h"

#define BPFFS_ROOT "/sys/fs/bpf"

static int is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int bpffs_prepare(const char *pin_dir)
{
	char links[PATH_MAX];
	int err;

	if (!strncmp(pin_dir, BPFFS_ROOT "/", strlen(BPFFS_ROOT) + 1) &&
	    !is_bpffs(BPFFS_ROOT)) {
		if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700"))
			return errorf(-errno, "mount bpffs on %s", BPFFS_ROOT);
		pr_info("mounted bpffs on %s", BPFFS_ROOT);
	}
	err = mkdir_p(pin_dir, 0700);
	if (err)
		return error_prefix(err, "pin dir");
	if (!is_bpffs(pin_dir))
		return errorf_raw(-EINVAL, "pin dir %s is not on a bpf filesystem",
				  pin_dir);
	snprintf(links, sizeof(links), "%s/" BL_PIN_LINKS, pin_dir);
	return mkdir_p(links, 0700);
}

void link_pin_path(const struct ctx *c, const char *ifname, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/" BL_PIN_LINKS "/%s", c->pin_dir, ifname);
}

static int pin_prog(const struct ctx *c, struct bpf_program *prog)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, bpf_program__name(prog));
	if (unlink(path) && errno != ENOENT)
		return errorf(-errno, "unpin %s", path);
	if (bpf_obj_pin(bpf_program__fd(prog), path))
		return errorf(-errno, "pin %s", path);
	return 0;
}

/*
 * The NAT table's LRU is per CPU (BPF_F_NO_COMMON_LRU): the kernel gives
 * every possible CPU the same share, rounding the size up to a multiple of
 * their number. Rounded here the same way, the size asked and the size
 * pinned compare equal.
 */
__u32 nat_table_size(__u32 want)
{
	int cpus = libbpf_num_possible_cpus();

	if (cpus <= 1)
		return want;
	return (want + cpus - 1) / cpus * cpus;
}

/* The pinned map name's max_entries and flags; 0 if there is none. */
static __u32 pinned_map_info(const struct ctx *c, const char *name, __u32 *flags)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	*flags = 0;
	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	close(fd);
	*flags = info.map_flags;
	return info.max_entries;
}

__u32 pinned_nat_table(const struct ctx *c, __u32 *flags)
{
	return pinned_map_info(c, BL_PIN(BL_MAP_NAT), flags);
}

__u32 pinned_map_size(const struct ctx *c, const char *name)
{
	__u32 flags;

	return pinned_map_info(c, name, &flags);
}

int datapath_drop_pin(const struct ctx *c, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, name);
	if (unlink(path) && errno != ENOENT)
		return errorf(-errno, "remove %s", path);
	return 0;
}

__u32 pinned_nat_size(const struct ctx *c)
{
	__u32 flags;

	return pinned_nat_table(c, &flags);
}

/*
 * The maps node init writes whole (config, no-masquerade prefixes) hold
 * nothing worth keeping across a reload: where this build's layout of one
 * differs from the pinned one's (an upgrade that grew the config), the old
 * pin goes and the new programs get a new map. The running programs keep
 * theirs until their attachments are moved onto the new ones.
 */
static void unpin_if_changed(const struct ctx *c, const struct bpf_map *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, bpf_map__name(m));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
	    (info.value_size != bpf_map__value_size(m) ||
	     info.key_size != bpf_map__key_size(m))) {
		pr_info("map %s: layout changed (value %u -> %u bytes), made anew",
			bpf_map__name(m), info.value_size, bpf_map__value_size(m));
		unlink(path);
	}
	close(fd);
}

/*
 * The service maps at the sizes asked for. A pinned set of another size
 * cannot be reused (libbpf would refuse the pin): it goes, all the maps
 * together (backends and counters are keyed by the frontends' ids, which
 * both families share), and
 * the new programs get new, empty maps. Until the agent has written its
 * table into them, service addresses go to the host stack (kube-proxy);
 * established service flows live in the NAT table and keep their backend.
 */
static int size_service_maps(const struct ctx *c, struct datapath *skel,
			     const struct dp_sizes *sz)
{
	struct {
		struct bpf_map *m;
		__u32 want;
	} v[] = { { skel->maps.svc_frontends, sz->svc_max },
		  { skel->maps.svc_frontends6, sz->svc_max },
		  { skel->maps.svc_stats, sz->svc_max + 1 },
		  { skel->maps.svc_backends, sz->svc_backends_max },
		  { skel->maps.svc_backends6, sz->svc_backends_max } };
	size_t i, n = sizeof(v) / sizeof(v[0]);
	char path[PATH_MAX];
	__u32 have;
	int err, resized = 0;

	for (i = 0; i < n; i++) {
		have = pinned_map_size(c, bpf_map__name(v[i].m));
		if (have && have != v[i].want)
			resized = 1;
	}
	for (i = 0; i < n; i++) {
		if (resized) {
			snprintf(path, sizeof(path), "%s/%s", c->pin_dir, bpf_map__name(v[i].m));
			if (unlink(path) && errno != ENOENT)
				return errorf(-errno, "unpin %s", path);
		}
		err = bpf_map__set_max_entries(v[i].m, v[i].want);
		if (err)
			return errorf(err, "map %s: %u entries", bpf_map__name(v[i].m), v[i].want);
	}
	if (resized)
		pr_warn("service maps resized to %u frontends, %u backend slots: made anew, empty until the agent's next sync",
			sz->svc_max, sz->svc_backends_max);
	return 0;
}

/*
 * The skeleton opened, not loaded: its maps know their pin paths (the
 * trace switch's too), its programs their names.
 */
static int skel_open(const struct ctx *c, struct datapath **out)
{
	DECLARE_LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = c->pin_dir);
	struct datapath *skel;
	char path[PATH_MAX];
	int err;

	skel = datapath__open_opts(&opts);
	if (!skel)
		return errorf(-errno, "open BPF object");
	/*
	 * The trace switch is a global variable (one load on the forward
	 * path), so libbpf does not pin it by name: pin it here, and a reload
	 * keeps the running monitor's setting.
	 */
	snprintf(path, sizeof(path), "%s/" BL_PIN(BL_MAP_TRACE_CFG), c->pin_dir);
	err = bpf_map__set_pin_path(skel->maps.data_trace_cfg, path);
	if (err) {
		datapath__destroy(skel);
		return errorf(err, "open BPF object");
	}
	*out = skel;
	return 0;
}

int datapath_load(const struct ctx *c, const struct dp_sizes *sz, struct datapath **out)
{
	struct datapath *skel;
	struct bpf_program *prog;
	int err;

	err = skel_open(c, &skel);
	if (err)
		return err;
	unpin_if_changed(c, skel->maps.config);
	unpin_if_changed(c, skel->maps.nomasq);
	unpin_if_changed(c, skel->maps.nomasq6);
	err = size_service_maps(c, skel, sz);
	if (err) {
		datapath__destroy(skel);
		return err;
	}
	err = bpf_map__set_max_entries(skel->maps.nat, sz->nat_max);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.nat6, sz->nat6_max);
	if (!err)
		err = datapath__load(skel);
	if (err) {
		datapath__destroy(skel);
		return errorf(err, "load BPF programs (run with -v for the verifier log)");
	}
	bpf_object__for_each_program(prog, skel->obj) {
		err = pin_prog(c, prog);
		if (err) {
			datapath__destroy(skel);
			return err;
		}
	}
	*out = skel;
	return 0;
}

/* What is to be re-pinned: the skeleton's pinned maps and programs whose pins are gone. */
struct repin {
	const struct ctx *c;
	struct bpf_map *maps[32];
	int n_maps;
	struct bpf_program *progs[8];
	int n_progs;
	int done;
};

static int name_is(const char *kernel_name, const char *ours)
{
	/* The kernel keeps BPF_OBJ_NAME_LEN - 1 characters of a name. */
	return !strncmp(kernel_name, ours, BPF_OBJ_NAME_LEN - 1);
}

static void repin_maps_of(struct repin *r, int prog_fd, const char *prog, int ifindex)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ids[64], i;
	int k;

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return;
	if (info.nr_map_ids > 64)
		info.nr_map_ids = 64;
	len = sizeof(info);
	{
		__u32 n = info.nr_map_ids;

		memset(&info, 0, sizeof(info));
		info.nr_map_ids = n;
		info.map_ids = (__u64)(unsigned long)ids;
		if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
			return;
		if (info.nr_map_ids > n)
			info.nr_map_ids = n;
	}
	for (i = 0; i < info.nr_map_ids; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen)) {
			close(fd);
			continue;
		}
		for (k = 0; k < r->n_maps; k++) {
			struct bpf_map *m = r->maps[k];

			if (!m || !name_is(mi.name, bpf_map__name(m)) ||
			    mi.type != bpf_map__type(m) ||
			    mi.key_size != bpf_map__key_size(m) ||
			    mi.value_size != bpf_map__value_size(m))
				continue;
			if (bpf_obj_pin(fd, bpf_map__pin_path(m))) {
				pr_warn("re-pin map %s: %s", bpf_map__pin_path(m), strerror(errno));
				break;
			}
			pr_warn("map %s (id %u) was not pinned; pinned it again, taken from %s on ifindex %d",
				bpf_map__pin_path(m), mi.id, prog, ifindex);
			r->maps[k] = NULL;
			r->done++;
			break;
		}
		close(fd);
	}
}

static void repin_from(struct repin *r, int ifindex, int egress)
{
	__u32 ids[16];
	int n, i, k, fd;

	n = attach_prog_ids(ifindex, egress, ids, 16);
	for (i = 0; i < n; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		const char *prog = NULL;

		fd = bpf_prog_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			goto next;
		/* Ours, by name: another loader's program on the device is not. */
		for (k = 0; k < r->n_progs; k++)
			if (name_is(info.name, bpf_program__name(r->progs[k])))
				prog = bpf_program__name(r->progs[k]);
		if (!prog)
			goto next;
		repin_maps_of(r, fd, prog, ifindex);
next:
		close(fd);
	}
}

int datapath_repin(const struct ctx *c, const int *ifindex, size_t n)
{
	struct repin r = { .c = c };
	struct datapath *skel;
	struct bpf_program *prog;
	struct bpf_map *map;
	int err, missing = 0;
	size_t i;

	err = skel_open(c, &skel);
	if (err)
		return err;
	bpf_object__for_each_map(map, skel->obj) {
		const char *path = bpf_map__pin_path(map);

		if (!path || access(path, F_OK) == 0 || errno != ENOENT ||
		    r.n_maps == (int)(sizeof(r.maps) / sizeof(r.maps[0])))
			continue;
		r.maps[r.n_maps++] = map;
		missing++;
	}
	bpf_object__for_each_program(prog, skel->obj)
		if (r.n_progs < (int)(sizeof(r.progs) / sizeof(r.progs[0])))
			r.progs[r.n_progs++] = prog;
	/*
	 * The programs attached hold the maps the datapath runs on: pinned
	 * again, node init reuses them, contents and all, where it would
	 * otherwise make empty ones and drop every pod's packets and every
	 * NAT mapping. Programs are not taken: node init loads and pins new
	 * ones and moves every attachment onto them atomically.
	 */
	for (i = 0; missing && i < n && r.done < missing; i++) {
		if (ifindex[i] <= 0)
			continue;
		repin_from(&r, ifindex[i], 0);
		if (r.done < missing)
			repin_from(&r, ifindex[i], 1);
	}
	datapath__destroy(skel);
	return r.done;
}

int pin_open(const struct ctx *c, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", c->pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT)
		return errorf_raw(-ENOENT,
				  "node not initialized (no %s; run `bridgeless node init` first)",
				  path);
	if (fd < 0)
		return errorf(-errno, "open %s", path);
	return fd;
}

int pinned_open(const struct ctx *c, struct pinned *p)
{
	int *fds[] = { &p->endpoints, &p->config, &p->counters, &p->from_pod,
		       &p->from_uplink, &p->nat, &p->nomasq, &p->to_pod,
		       &p->endpoints6, &p->nat6 };
	const char *names[] = { BL_PIN(BL_MAP_ENDPOINTS), BL_PIN(BL_MAP_CONFIG),
				BL_PIN(BL_MAP_COUNTERS), BL_PIN(BL_PROG_FROM_POD),
				BL_PIN(BL_PROG_FROM_UPLINK), BL_PIN(BL_MAP_NAT),
				BL_PIN(BL_MAP_NOMASQ), BL_PIN(BL_PROG_TO_POD),
				BL_PIN(BL_MAP_ENDPOINTS6), BL_PIN(BL_MAP_NAT6) };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		*fds[i] = -1;
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		*fds[i] = pin_open(c, names[i]);
		if (*fds[i] < 0) {
			int err = *fds[i];

			pinned_close(p);
			return err;
		}
	}
	return 0;
}

void pinned_close(struct pinned *p)
{
	int *fds[] = { &p->endpoints, &p->config, &p->counters, &p->from_pod,
		       &p->from_uplink, &p->nat, &p->nomasq, &p->to_pod,
		       &p->endpoints6, &p->nat6 };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int remove_pin(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (unlink(path) && errno != ENOENT)
		return errorf(-errno, "remove %s", path);
	return 0;
}

/*
 * Only what we pinned: the pin dir may be shared (or, by mistake, be the
 * bpffs root), so nothing else in it is ours to remove.
 */
int datapath_unpin(const struct ctx *c)
{
	static const char *const pins[] = {
		BL_PIN(BL_MAP_ENDPOINTS), BL_PIN(BL_MAP_CONFIG), BL_PIN(BL_MAP_COUNTERS),
		BL_PIN(BL_MAP_NAT), BL_PIN(BL_MAP_NOMASQ), BL_PIN(BL_PROG_FROM_POD),
		BL_PIN(BL_PROG_FROM_UPLINK), BL_PIN(BL_PROG_TO_POD), BL_PIN(BL_MAP_FRAGS),
		BL_PIN(BL_MAP_EP_STATS), BL_PIN(BL_MAP_EVENTS), BL_PIN(BL_MAP_TRACE_CFG),
		BL_PIN(BL_MAP_SVC_FRONTENDS), BL_PIN(BL_MAP_SVC_BACKENDS),
		BL_PIN(BL_MAP_SVC_AFFINITY), BL_PIN(BL_MAP_SVC_STATS),
		BL_PIN(BL_MAP_ENDPOINTS6), BL_PIN(BL_MAP_NOMASQ6), BL_PIN(BL_MAP_NAT6),
		BL_PIN(BL_MAP_FRAGS6), BL_PIN(BL_MAP_SVC_FRONTENDS6),
		BL_PIN(BL_MAP_SVC_BACKENDS6), BL_PIN(BL_MAP_SVC_AFFINITY6)
	};
	char links[PATH_MAX];
	struct dirent *de;
	int err = 0;
	size_t i;
	DIR *d;

	snprintf(links, sizeof(links), "%s/" BL_PIN_LINKS, c->pin_dir);
	d = opendir(links);
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				err = remove_pin(links, de->d_name) ?: err;
		closedir(d);
		if (rmdir(links) && errno != ENOENT)
			pr_warn("remove %s: %s", links, strerror(errno));
	}
	for (i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		err = remove_pin(c->pin_dir, pins[i]) ?: err;
	/* Only if empty: something else may live there. */
	if (rmdir(c->pin_dir) && errno != ENOENT && errno != ENOTEMPTY && errno != EBUSY)
		pr_warn("remove %s: %s", c->pin_dir, strerror(errno));
	return err;
}

int datapath_prog_fd(const struct datapath *dp, enum dp_prog which)
{
	switch (which) {
	case DP_FROM_POD: return bpf_program__fd(dp->progs.from_pod);
	case DP_FROM_UPLINK: return bpf_program__fd(dp->progs.from_uplink);
	case DP_TO_POD: return bpf_program__fd(dp->progs.to_pod);
	}
	return -EINVAL;
}

void datapath_close(struct datapath *dp)
{
	datapath__destroy(dp);
}

int datapath_set_config(struct datapath *dp, struct bl_config *cfg)
{
	int fd = bpf_map__fd(dp->maps.config);
	struct bl_config prev;
	__u32 zero = 0;

	/*
	 * A new forwarding generation: NAT entries of a reused map drop the
	 * next hops they cached before this init (the uplink or its routes
	 * may have changed).
	 */
	if (bpf_map_lookup_elem(fd, &zero, &prev))
		prev.fwd_gen = 0;
	cfg->fwd_gen = prev.fwd_gen + 1;
	if (bpf_map_update_elem(fd, &zero, cfg, BPF_ANY))
		return errorf(-errno, "write config map");
	return 0;
}

static int prefix_wanted(const struct cidr *v, int n, const struct bl_prefix_key *k)
{
	int i;

	for (i = 0; i < n; i++)
		if (k->prefixlen == (__u32)v[i].len && !memcmp(k->ip, &v[i].net, 4))
			return 1;
	return 0;
}

/*
 * New entries go in before stale ones go out: on a running node (agent
 * restart, upgrade) a packet in between must never find the cluster CIDR
 * missing, or it would be SNATed.
 */
int datapath_set_nomasq(struct datapath *dp, const struct cidr *v, int n)
{
	int fd = bpf_map__fd(dp->maps.nomasq);
	struct bl_prefix_key k, keys[BL_MAX_NOMASQ * 2];
	size_t nkeys = 0, j;
	__u32 one = 1;
	int i;

	for (i = 0; i < n; i++) {
		memset(&k, 0, sizeof(k));
		k.prefixlen = v[i].len;
		memcpy(k.ip, &v[i].net, 4);
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY))
			return errorf(-errno, "no-masquerade map");
	}
	while (nkeys < sizeof(keys) / sizeof(keys[0]) &&
	       bpf_map_get_next_key(fd, nkeys ? &keys[nkeys - 1] : NULL,
				    &keys[nkeys]) == 0)
		nkeys++;
	for (j = 0; j < nkeys; j++)
		if (!prefix_wanted(v, n, &keys[j]))
			bpf_map_delete_elem(fd, &keys[j]);
	return 0;
}

static int prefix6_wanted(const struct prefix *v, int n, const struct bl_prefix6_key *k)
{
	int i;

	for (i = 0; i < n; i++)
		if (k->prefixlen == (__u32)v[i].len && !memcmp(k->ip, v[i].net, 16))
			return 1;
	return 0;
}

int datapath_set_nomasq6(struct datapath *dp, const struct prefix *v, int n)
{
	int fd = bpf_map__fd(dp->maps.nomasq6);
	struct bl_prefix6_key k, keys[BL_MAX_NOMASQ * 2];
	size_t nkeys = 0, j;
	__u32 one = 1;
	int i;

	for (i = 0; i < n; i++) {
		memset(&k, 0, sizeof(k));
		k.prefixlen = v[i].len;
		memcpy(k.ip, v[i].net, 16);
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY))
			return errorf(-errno, "IPv6 no-masquerade map");
	}
	while (nkeys < sizeof(keys) / sizeof(keys[0]) &&
	       bpf_map_get_next_key(fd, nkeys ? &keys[nkeys - 1] : NULL, &keys[nkeys]) == 0)
		nkeys++;
	for (j = 0; j < nkeys; j++)
		if (!prefix6_wanted(v, n, &keys[j]))
			bpf_map_delete_elem(fd, &keys[j]);
	return 0;
}
