// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The private namespace's FIB (netns.h), set up with ioctls so the test
 * needs no netlink code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/route.h>
#include <linux/sockios.h>

#include "netns.h"
#include "node.h"
#include "packet.h"

int netns_private(void)
{
	return unshare(CLONE_NEWNET) ? -errno : 0;
}

static int write_sysctl(const char *path, const char *val)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

int lo_forwarding(bool on)
{
	/* /proc/sys/net is the namespace of the opener: ours, private. */
	return write_sysctl("/proc/sys/net/ipv4/conf/lo/forwarding",
			    on ? "1" : "0");
}

static void set_sin(struct sockaddr *sa, const char *ip)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = be32_of(ip);
}

/*
 * The kernel keys every neighbour of a loopback device as 0.0.0.0
 * (__ipv4_neigh_lookup_noref()), so lo has at most one neighbour and it
 * answers for every destination routed out of lo; deleting it by any other
 * address fails with ENXIO.
 */
int lo_neighbour(bool add)
{
	struct arpreq arp = {};
	int fd, ret = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_sin(&arp.arp_pa, "0.0.0.0");
	arp.arp_ha.sa_family = ARPHRD_LOOPBACK;
	memcpy(arp.arp_ha.sa_data, neigh_mac, ETH_ALEN);
	arp.arp_flags = ATF_COM | ATF_PERM;
	strcpy(arp.arp_dev, "lo");
	if (ioctl(fd, add ? SIOCSARP : SIOCDARP, &arp) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * Give bpf_fib_lookup() something to find: lo up (is_skb_forwardable()
 * refuses a down device), forwarding on lo (the lookup is done as for a
 * packet received on lo, the skb's device), 10.244.2.0/24 (the other node's
 * pods), 203.0.113.0/24 (the internet) and 192.0.2.0/24 (a no-masquerade
 * prefix) routed out of lo, and a permanent neighbour on lo: lookups succeed
 * (MACs from the neighbour and lo's all-zero address) until a case removes
 * the neighbour to see the NO_NEIGH outcome. 10.244.3.0/24 and
 * 100.64.0.0/10 stay unrouted.
 */
const char *setup_fib(void)
{
	static const char *const routed[] = { "10.244.2.0", "203.0.113.0",
					      "192.0.2.0" };
	static char why[160];
	struct rtentry rt = {};
	struct ifreq ifr = {};
	size_t i;
	int fd, err;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return "socket(AF_INET) failed";
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		goto err;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		goto err;

	for (i = 0; i < sizeof(routed) / sizeof(routed[0]); i++) {
		memset(&rt, 0, sizeof(rt));
		set_sin(&rt.rt_dst, routed[i]);
		set_sin(&rt.rt_genmask, "255.255.255.0");
		rt.rt_flags = RTF_UP;
		rt.rt_dev = "lo";
		if (ioctl(fd, SIOCADDRT, &rt) < 0)
			goto err;
	}
	/*
	 * The node IP is a local address, as on a node: the FIB does not
	 * forward to it. A /32 on an alias of lo, so no prefix route comes
	 * with it.
	 */
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo:1");
	set_sin(&ifr.ifr_addr, NODE_IP);
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
		goto err;
	set_sin(&ifr.ifr_netmask, "255.255.255.255");
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
		goto err;
	close(fd);

	err = lo_neighbour(true);
	if (err) {
		snprintf(why, sizeof(why), "cannot add a neighbour on lo: %s",
			 strerror(-err));
		return why;
	}
	err = lo_forwarding(true);
	if (err) {
		snprintf(why, sizeof(why), "cannot enable forwarding on lo: %s",
			 strerror(-err));
		return why;
	}
	return NULL;
err:
	snprintf(why, sizeof(why), "cannot set up lo and its route: %s",
		 strerror(errno));
	close(fd);
	return why;
}
