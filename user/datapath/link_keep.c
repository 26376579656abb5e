// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "datapath/datapath.h"
#include "datapath/link_keep.h"
#include "lib/fs.h"
#include "lib/log.h"

struct held {
	char name[32]; /* "blXXXXXXXX-egress", "uplink" */
	int fd, ifindex;
	__u32 id;
};

static struct held *held;
static size_t n_held;

static int link_id(int fd, __u32 *id)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

static struct held *find(const char *name)
{
	size_t i;

	for (i = 0; i < n_held; i++)
		if (held[i].fd >= 0 && !strcmp(held[i].name, name))
			return &held[i];
	return NULL;
}

void link_keep(const struct ctx *c, const struct kept_link *links, size_t n)
{
	struct held *next = n ? calloc(n, sizeof(*next)) : NULL, *h;
	char path[PATH_MAX];
	size_t i, k = 0;
	__u32 id = 0;
	int fd;

	if (n && !next)
		return; /* keep what we hold: better than letting go */
	for (i = 0; i < n; i++) {
		if (strlen(links[i].name) >= sizeof(next[k].name))
			continue;
		link_pin_path(c, links[i].name, path);
		fd = bpf_obj_get(path);
		h = find(links[i].name);
		if (fd >= 0 && link_id(fd, &id)) {
			close(fd);
			fd = -1;
		}
		if (h && (fd < 0 || id == h->id)) {
			/* The link we hold is the one pinned (or none is): keep it. */
			if (fd >= 0)
				close(fd);
			next[k] = *h;
			h->fd = -1;
		} else if (fd >= 0) {
			next[k] = (struct held){ .fd = fd, .id = id };
		} else {
			continue; /* tc mode, or not attached */
		}
		snprintf(next[k].name, sizeof(next[k].name), "%s", links[i].name);
		next[k].ifindex = links[i].ifindex;
		k++;
	}
	for (i = 0; i < n_held; i++)
		if (held[i].fd >= 0)
			close(held[i].fd);
	free(held);
	held = next;
	n_held = k;
}

/*
 * The link is still attached to its device. A tcx link's info holds its
 * ifindex (0 once detached) first in the union, where this libbpf's UAPI
 * header knows it as xdp.ifindex (tcx came with kernel 6.6).
 */
static int still_attached(const struct held *h)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(h->fd, &info, &len))
		return 0;
	return info.xdp.ifindex && (int)info.xdp.ifindex == h->ifindex;
}

int link_keep_repin(const struct ctx *c)
{
	char path[PATH_MAX], dir[PATH_MAX];
	size_t i;
	int n = 0;

	for (i = 0; i < n_held; i++) {
		link_pin_path(c, held[i].name, path);
		if (access(path, F_OK) == 0 || errno != ENOENT || !still_attached(&held[i]))
			continue;
		snprintf(dir, sizeof(dir), "%s/" BL_PIN_LINKS, c->pin_dir);
		if (mkdir_p(dir, 0700) || bpf_obj_pin(held[i].fd, path)) {
			pr_warn("link pin %s was removed; pinning it again: %s", path,
				error_message()[0] ? error_message() : strerror(errno));
			error_clear();
			continue;
		}
		pr_warn("link pin %s was removed; pinned it again (the agent held the link, so its program stayed attached)",
			path);
		n++;
	}
	return n;
}
