// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
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

/* 0: reserved; -EEXIST: taken; other -errno: failure. */
static int try_reserve_path(const char *path, const char *owner)
{
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? -EEXIST : errorf(-errno, "create %s", path);
	if (write(fd, owner, strlen(owner)) != (ssize_t)strlen(owner)) {
		err = errorf(-EIO, "write %s", path);
		unlink(path);
	}
	close(fd);
	return err;
}

static int try_reserve(const struct ctx *c, uint32_t ip, const char *owner)
{
	char path[PATH_MAX];

	ip_path(c, ip, path);
	return try_reserve_path(path, owner);
}

static void owner_of_path(const char *path, char *buf, size_t len)
{
	ssize_t n = -1;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
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

static uint32_t last_get(const struct ctx *c)
{
	char path[PATH_MAX], buf[16] = "";
	uint32_t ip = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/ipam/last", c->state_dir);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	return ip_parse(buf, &ip) ? 0 : ntohl(ip);
}

static void last_set(const struct ctx *c, uint32_t ip)
{
	char path[PATH_MAX], s[16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ipam/last", c->state_dir);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%s\n", ip_str(ip, s));
		fclose(f);
	}
}

int ipam_reserve(const struct ctx *c, const struct cidr *pool, uint32_t want,
		 const char *owner, uint32_t *ip)
{
	char dir[PATH_MAX], s[16], cs[20], who[POD_NAME_MAX + 1];
	uint32_t first, last, start, h, n, count;
	int err;

	snprintf(dir, sizeof(dir), "%s/ipam", c->state_dir);
	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	pool_range(pool, &first, &last);

	if (want) {
		h = ntohl(want);
		if (!cidr_contains(pool, want) || h < first || h > last)
			return errorf_raw(-EINVAL, "address %s is not usable in pod CIDR %s",
					  ip_str(want, s), cidr_str(pool, cs));
		err = try_reserve(c, want, owner);
		if (err == -EEXIST) {
			owner_of(c, want, who, sizeof(who));
			return errorf_raw(-EADDRINUSE, "address %s already in use by %s",
					  ip_str(want, s), who[0] ? who : "another pod");
		}
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
		err = try_reserve(c, htonl(h), owner);
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

int ipam_release(const struct ctx *c, uint32_t ip)
{
	char path[PATH_MAX];

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

static uint64_t last6_get(const struct ctx *c, const struct prefix *pool)
{
	char path[PATH_MAX], buf[IPADDR_STRLEN] = "";
	struct ipaddr a;
	FILE *f;

	snprintf(path, sizeof(path), "%s/ipam/last6", c->state_dir);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	if (ipaddr_parse(buf, &a) || a.family != AF_INET6 || !prefix_contains(pool, a.a))
		return 0;
	return host_part(pool, a.a);
}

static void last6_set(const struct ctx *c, const uint8_t *ip)
{
	char path[PATH_MAX], s[IPADDR_STRLEN];
	FILE *f;

	snprintf(path, sizeof(path), "%s/ipam/last6", c->state_dir);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%s\n", ip6_str(ip, s));
		fclose(f);
	}
}

int ipam_reserve6(const struct ctx *c, const struct prefix *pool, const uint8_t *want,
		  const char *owner, uint8_t *ip)
{
	char dir[PATH_MAX], path[PATH_MAX], s[IPADDR_STRLEN], ps[PREFIX_STRLEN];
	char who[POD_NAME_MAX + 1];
	uint64_t size, start, h, n, tries;
	uint8_t cand[16];
	int err;

	snprintf(dir, sizeof(dir), "%s/ipam", c->state_dir);
	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	/* host addresses 1 .. size - 1 (a /64: all of 2^64 - 1) */
	size = pool->len <= 64 ? 0 : 1ull << (128 - pool->len);
	if (want) {
		if (!prefix_contains(pool, want) || !host_part(pool, want))
			return errorf_raw(-EINVAL, "address %s is not usable in pod CIDR %s",
					  ip6_str(want, s), prefix_str(pool, ps));
		ip6_path(c, want, path);
		err = try_reserve_path(path, owner);
		if (err == -EEXIST) {
			owner_of_path(path, who, sizeof(who));
			return errorf_raw(-EADDRINUSE, "address %s already in use by %s",
					  ip6_str(want, s), who[0] ? who : "another pod");
		}
		if (!err)
			memcpy(ip, want, 16);
		return err;
	}
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
		err = try_reserve_path(path, owner);
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

int ipam_release6(const struct ctx *c, const uint8_t *ip)
{
	char path[PATH_MAX];

	ip6_path(c, ip, path);
	if (unlink(path) && errno != ENOENT)
		return errorf(-errno, "release %s", path);
	return 0;
}
