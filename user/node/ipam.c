// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "lib/fs.h"
#include "lib/log.h"
#include "node/ipam.h"

static void ip_path(const struct ctx *c, uint32_t ip, char *buf)
{
	char s[16];

	snprintf(buf, PATH_MAX, "%s/ipam/%s", c->state_dir, ip_str(ip, s));
}

static void ip6_path(const struct ctx *c, const uint8_t *ip, char *buf)
{
	char s[IPADDR_STRLEN];

	snprintf(buf, PATH_MAX, "%s/ipam/%s", c->state_dir, ip6_str(ip, s));
}

/* Usable host range in host byte order: no network or broadcast address. */
static void pool_range(const struct cidr *pool, uint32_t *first, uint32_t *last)
{
	uint32_t net = ntohl(pool->net), size = pool->len ? 1u << (32 - pool->len) : 0;

	if (pool->len >= 31) {
		*first = net;
		*last = net + size - 1;
	} else {
		*first = net + 1;
		*last = net + size - 2;
	}
}

/*
 * The owner's name in a temporary file, which try_reserve() links to the
 * addresses: a reservation appears whole, owner and all, or not at all
 * (a kill between creating and writing it would leave an empty one).
 */
static void owner_temp_path(const struct ctx *c, char *tmp, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/ipam/owner", c->state_dir);
	file_temp_path(path, tmp, len);
}

static int owner_file(const struct ctx *c, const char *owner, char *tmp, size_t len)
{
	owner_temp_path(c, tmp, len);
	return file_create_temp(tmp, owner, strlen(owner), 0600);
}

void ipam_remove_temp(const struct ctx *c)
{
	char tmp[PATH_MAX + 32];

	owner_temp_path(c, tmp, sizeof(tmp));
	unlink(tmp);
}

/* 0: reserved; -EEXIST: taken; other -errno: failure. */
static int try_reserve_path(const char *path, const char *tmp)
{
	/* link(): atomic, never over an existing file or through a symlink. */
	if (link(tmp, path) == 0)
		return 0;
	return errno == EEXIST ? -EEXIST : errorf(-errno, "create %s", path);
}

static int try_reserve(const struct ctx *c, uint32_t ip, const char *tmp)
{
	char path[PATH_MAX];

	ip_path(c, ip, path);
	return try_reserve_path(path, tmp);
}

/* The owner's name in buf ("" if none or unreadable). */
static void owner_of_path(const char *path, char *buf, size_t len)
{
	ssize_t n = -1;
	int fd;

	fd = open_nofollow(path, O_RDONLY, 0);
	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
}

static void owner_of(const struct ctx *c, uint32_t ip, char *buf, size_t len)
{
	char path[PATH_MAX];

	ip_path(c, ip, path);
	owner_of_path(path, buf, len);
}

/* Where the last allocation ended: a hint, a damaged file only resets it. */
static uint32_t last_get(const struct ctx *c)
{
	char path[PATH_MAX], buf[16] = "";
	uint32_t ip = 0;
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/ipam/last", c->state_dir);
	fd = open_nofollow(path, O_RDONLY, 0);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return ip_parse(buf, &ip) ? 0 : ntohl(ip);
}

static void last_set(const struct ctx *c, uint32_t ip)
{
	char path[PATH_MAX], s[20], ips[16];
	int fd, len;

	/* Rewritten in place: half a hint is no hint, no temporary file needed. */
	snprintf(path, sizeof(path), "%s/ipam/last", c->state_dir);
	fd = open_nofollow(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	len = snprintf(s, sizeof(s), "%s\n", ip_str(ip, ips));
	if (write(fd, s, len) != len)
		pr_debug("%s: short write", path);
	close(fd);
}

/* -EADDRINUSE (quietly): the address given is taken. */
static int reserve(const struct ctx *c, const struct cidr *pool, int given,
		   uint32_t want, const char *tmp, uint32_t *ip)
{
	uint32_t first, last, start, h, n, count;
	char cs[20];
	int err;

	pool_range(pool, &first, &last);
	if (given) {
		err = try_reserve(c, want, tmp);
		if (err == -EEXIST)
			return -EADDRINUSE;
		if (!err)
			*ip = want;
		return err;
	}

	count = last - first + 1;
	start = last_get(c);
	if (start < first || start >= last)
		start = first - 1;
	for (n = 1; n <= count; n++) {
		h = first + (start - first + n) % count;
		err = try_reserve(c, htonl(h), tmp);
		if (err == -EEXIST)
			continue;
		if (err)
			return err;
		last_set(c, htonl(h));
		*ip = htonl(h);
		return 0;
	}
	return errorf_raw(-ENOSPC, "pod CIDR %s exhausted: all %u addresses in use",
			  cidr_str(pool, cs), count);
}

int ipam_reserve(const struct ctx *c, const struct cidr *pool, int given,
		 uint32_t want, const char *owner, uint32_t *ip)
{
	char dir[PATH_MAX], s[16], cs[20], who[POD_NAME_MAX + 1], tmp[PATH_MAX + 32];
	uint32_t first, last, h;
	int err;

	snprintf(dir, sizeof(dir), "%s/ipam", c->state_dir);
	err = mkdir_state(dir);
	if (err)
		return err;
	pool_range(pool, &first, &last);
	h = ntohl(want);
	if (given && (!cidr_contains(pool, want) || h < first || h > last))
		return errorf_raw(-EINVAL, "address %s is not usable in pod CIDR %s",
				  ip_str(want, s), cidr_str(pool, cs));
	err = owner_file(c, owner, tmp, sizeof(tmp));
	if (err)
		return err;
	err = reserve(c, pool, given, want, tmp, ip);
	unlink(tmp);
	if (err == -EADDRINUSE) {
		owner_of(c, want, who, sizeof(who));
		return errorf_raw(-EADDRINUSE, "address %s already in use by %s",
				  ip_str(want, s), pod_name_valid(who) ? who : "another pod");
	}
	return err;
}

int ipam_release(const struct ctx *c, uint32_t ip, const char *owner)
{
	char path[PATH_MAX], who[POD_NAME_MAX + 1];

	/* Not another pod's: the address may have been handed on since. */
	owner_of(c, ip, who, sizeof(who));
	if (owner && strcmp(who, owner))
		return 0;
	ip_path(c, ip, path);
	if (unlink(path) && errno != ENOENT)
		return errorf(-errno, "release %s", path);
	return 0;
}

/* The host part of an address of pool (at most 64 bits), and back. */
static uint64_t host_part(const struct prefix *pool, const uint8_t *ip)
{
	uint64_t h = 0;
	int i;

	for (i = 8; i < 16; i++)
		h = h << 8 | (uint8_t)(ip[i] & ~pool->mask[i]);
	return h;
}

static void with_host_part(const struct prefix *pool, uint64_t h, uint8_t *ip)
{
	int i;

	memcpy(ip, pool->net, 16);
	for (i = 15; i >= 8; i--, h >>= 8)
		ip[i] |= (uint8_t)h & ~pool->mask[i];
}

/* Where the last IPv6 allocation ended: a hint, as last_get(). */
static uint64_t last6_get(const struct ctx *c, const struct prefix *pool)
{
	char path[PATH_MAX], buf[IPADDR_STRLEN] = "";
	struct ipaddr a;
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/ipam/last6", c->state_dir);
	fd = open_nofollow(path, O_RDONLY, 0);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (ipaddr_parse(buf, &a) || a.family != AF_INET6 || !prefix_contains(pool, a.a))
		return 0;
	return host_part(pool, a.a);
}

static void last6_set(const struct ctx *c, const uint8_t *ip)
{
	char path[PATH_MAX], s[IPADDR_STRLEN + 2], ips[IPADDR_STRLEN];
	int fd, len;

	snprintf(path, sizeof(path), "%s/ipam/last6", c->state_dir);
	fd = open_nofollow(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return;
	len = snprintf(s, sizeof(s), "%s\n", ip6_str(ip, ips));
	if (write(fd, s, len) != len)
		pr_debug("%s: short write", path);
	close(fd);
}

/* -EADDRINUSE (quietly): the address wanted is taken. */
static int reserve6(const struct ctx *c, const struct prefix *pool, const uint8_t *want,
		    const char *tmp, uint8_t *ip)
{
	char path[PATH_MAX], ps[PREFIX_STRLEN];
	uint64_t size, start, h, n, tries;
	uint8_t cand[16];
	int err;

	if (want) {
		ip6_path(c, want, path);
		err = try_reserve_path(path, tmp);
		if (err == -EEXIST)
			return -EADDRINUSE;
		if (!err)
			memcpy(ip, want, 16);
		return err;
	}
	/* host addresses 1 .. size - 1 (a /64: all of 2^64 - 1) */
	size = pool->len <= 64 ? 0 : 1ull << (128 - pool->len);
	/*
	 * Round robin from the last address given out. A node has at most
	 * BL_MAX_ENDPOINTS pods, so that many tries past the taken ones find
	 * a free address in any pool larger than that.
	 */
	start = last6_get(c, pool);
	tries = size && size - 1 < (uint64_t)BL_MAX_ENDPOINTS + 1 ? size - 1 :
							      (uint64_t)BL_MAX_ENDPOINTS + 1;
	for (n = 1; n <= tries; n++) {
		h = start + n;
		if (size)
			h = (h - 1) % (size - 1) + 1;
		else if (!h)
			h = 1;
		with_host_part(pool, h, cand);
		ip6_path(c, cand, path);
		err = try_reserve_path(path, tmp);
		if (err == -EEXIST)
			continue;
		if (err)
			return err;
		last6_set(c, cand);
		memcpy(ip, cand, 16);
		return 0;
	}
	return errorf_raw(-ENOSPC, "pod CIDR %s exhausted: %llu addresses in use",
			  prefix_str(pool, ps), (unsigned long long)tries);
}

int ipam_reserve6(const struct ctx *c, const struct prefix *pool, const uint8_t *want,
		  const char *owner, uint8_t *ip)
{
	char dir[PATH_MAX], path[PATH_MAX], s[IPADDR_STRLEN], ps[PREFIX_STRLEN];
	char who[POD_NAME_MAX + 1], tmp[PATH_MAX + 32];
	int err;

	snprintf(dir, sizeof(dir), "%s/ipam", c->state_dir);
	err = mkdir_state(dir);
	if (err)
		return err;
	if (want && (!prefix_contains(pool, want) || !host_part(pool, want)))
		return errorf_raw(-EINVAL, "address %s is not usable in pod CIDR %s",
				  ip6_str(want, s), prefix_str(pool, ps));
	err = owner_file(c, owner, tmp, sizeof(tmp));
	if (err)
		return err;
	err = reserve6(c, pool, want, tmp, ip);
	unlink(tmp);
	if (err == -EADDRINUSE) {
		ip6_path(c, want, path);
		owner_of_path(path, who, sizeof(who));
		return errorf_raw(-EADDRINUSE, "address %s already in use by %s",
				  ip6_str(want, s), pod_name_valid(who) ? who : "another pod");
	}
	return err;
}

int ipam_release6(const struct ctx *c, const uint8_t *ip, const char *owner)
{
	char path[PATH_MAX], who[POD_NAME_MAX + 1];

	ip6_path(c, ip, path);
	/* Not another pod's: the address may have been handed on since. */
	owner_of_path(path, who, sizeof(who));
	if (owner && strcmp(who, owner))
		return 0;
	if (unlink(path) && errno != ENOENT)
		return errorf(-errno, "release %s", path);
	return 0;
}

int ipam_foreach(const struct ctx *c,
		 int (*fn)(uint32_t ip, const char *owner, void *data), void *data)
{
	char dir[PATH_MAX], who[POD_NAME_MAX + 1];
	struct dirent *de;
	uint32_t ip;
	int err = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/ipam", c->state_dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : errorf(-errno, "open %s", dir);
	while (!err && (de = readdir(d))) {
		if (ip_parse(de->d_name, &ip))
			continue;
		owner_of(c, ip, who, sizeof(who));
		err = fn(ip, who, data);
	}
	closedir(d);
	return err;
}

struct release_of {
	const struct ctx *c;
	const char *owner;
	int n, err;
};

static int release_if_owner(uint32_t ip, const char *owner, void *data)
{
	struct release_of *r = data;
	int err;

	if (strcmp(owner, r->owner))
		return 0;
	err = ipam_release(r->c, ip, r->owner);
	if (err && !r->err)
		r->err = err;
	if (!err)
		r->n++;
	return 0;
}

int ipam_release_all(const struct ctx *c, const char *owner)
{
	struct release_of r = { c, owner, 0, 0 };
	char dir[PATH_MAX], path[PATH_MAX + 256], who[POD_NAME_MAX + 1];
	struct dirent *de;
	struct ipaddr a;
	int err = ipam_foreach(c, release_if_owner, &r);
	DIR *d;

	if (err)
		return err;
	/* IPv6 reservations: ipam_foreach() walks the IPv4 ones. */
	snprintf(dir, sizeof(dir), "%s/ipam", c->state_dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? r.err ?: r.n : errorf(-errno, "open %s", dir);
	while ((de = readdir(d))) {
		if (ipaddr_parse(de->d_name, &a) || a.family != AF_INET6)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		owner_of_path(path, who, sizeof(who));
		if (strcmp(who, owner))
			continue;
		err = ipam_release6(c, a.a, owner);
		if (err && !r.err)
			r.err = err;
		if (!err)
			r.n++;
	}
	closedir(d);
	return r.err ?: r.n;
}
