// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The node namespace's sysctls that node init changes and node reset puts
 * back: IPv4 forwarding, and the NAT port range reserved from the host's
 * ephemeral ports where the two overlap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lib/fs.h"
#include "lib/log.h"
#include "node/sysctl.h"

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"
#define IP6_FORWARD "/proc/sys/net/ipv6/conf/all/forwarding"
#define RESERVED_PORTS "/proc/sys/net/ipv4/ip_local_reserved_ports"
#define PORT_RANGE "/proc/sys/net/ipv4/ip_local_port_range"

/*
 * If the NAT range overlaps the host's ephemeral ports, reserve it there, so
 * the node's own connections never take a port a mapping may use. The
 * default range lies above the default ephemeral range and needs nothing.
 */
int sysctl_reserve_nat_ports(struct node_rec *n)
{
	char range[64], prev[sizeof(n->reserved_ports_prev)], next[320];
	unsigned int lo, hi;
	int err;

	if (file_read_line(PORT_RANGE, range, sizeof(range)) ||
	    sscanf(range, "%u %u", &lo, &hi) != 2)
		return 0;
	if (n->nat_port_max < lo || n->nat_port_min > hi)
		return 0;
	err = file_read_line(RESERVED_PORTS, prev, sizeof(prev));
	if (err)
		return errorf(err, "read %s", RESERVED_PORTS);
	snprintf(next, sizeof(next), "%s%s%u-%u", prev, prev[0] ? "," : "",
		 n->nat_port_min, n->nat_port_max);
	err = file_write_line(RESERVED_PORTS, next);
	if (err)
		return errorf(err, "reserve NAT ports %u-%u in %s", n->nat_port_min,
			      n->nat_port_max, RESERVED_PORTS);
	if (!n->reserved_ports_changed)
		snprintf(n->reserved_ports_prev, sizeof(n->reserved_ports_prev), "%s",
			 prev);
	n->reserved_ports_changed = 1;
	pr_info("reserved NAT ports %u-%u in %s", n->nat_port_min,
		n->nat_port_max, RESERVED_PORTS);
	return 0;
}

void sysctl_restore_reserved_ports(const struct node_rec *n)
{
	if (n->reserved_ports_changed &&
	    file_write_line(RESERVED_PORTS, n->reserved_ports_prev))
		pr_warn("could not restore %s", RESERVED_PORTS);
}

/* Forwarding must be on for the host-routed paths; remember if we turned it on. */
int sysctl_enable_ip_forward(int *changed)
{
	char v = '0';
	int fd, err = 0;

	*changed = 0;
	fd = open(IP_FORWARD, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errorf(-errno, "open %s", IP_FORWARD);
	if (read(fd, &v, 1) == 1 && v == '0') {
		if (pwrite(fd, "1\n", 2, 0) != 2)
			err = errorf(-errno, "enable %s", IP_FORWARD);
		else
			*changed = 1;
	}
	close(fd);
	return err;
}

int sysctl_restore_ip_forward(void)
{
	int fd = open(IP_FORWARD, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, "0\n", 2) != 2)
		pr_warn("could not restore %s", IP_FORWARD);
	close(fd);
	return 0;
}


static void accept_ra_path(const struct node_rec *n, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/sys/net/ipv6/conf/%s/accept_ra", n->uplink);
}

int sysctl_enable_ip6_forward(struct node_rec *n, int *changed)
{
	char v[8] = "", ra[8] = "", path[PATH_MAX];
	int err;

	*changed = 0;
	err = file_read_line(IP6_FORWARD, v, sizeof(v));
	if (err)
		return errorf(err, "read %s (IPv6 disabled?)", IP6_FORWARD);
	if (!strcmp(v, "1"))
		return 0;
	accept_ra_path(n, path, sizeof(path));
	if (file_read_line(path, ra, sizeof(ra)) == 0 && !strcmp(ra, "1")) {
		if (file_write_line(path, "2"))
			pr_warn("could not set %s to 2: the uplink ignores router advertisements now",
				path);
		else if (n->uplink_accept_ra_prev < 0)
			n->uplink_accept_ra_prev = 1;
	}
	err = file_write_line(IP6_FORWARD, "1");
	if (err)
		return errorf(err, "enable %s", IP6_FORWARD);
	*changed = 1;
	return 0;
}

void sysctl_restore_ip6_forward(const struct node_rec *n)
{
	char path[PATH_MAX], v[8];

	if (n->ip6_forward_changed && file_write_line(IP6_FORWARD, "0"))
		pr_warn("could not restore %s", IP6_FORWARD);
	if (n->uplink_accept_ra_prev >= 0) {
		accept_ra_path(n, path, sizeof(path));
		snprintf(v, sizeof(v), "%d", n->uplink_accept_ra_prev);
		if (file_write_line(path, v))
			pr_warn("could not restore %s", path);
	}
}
