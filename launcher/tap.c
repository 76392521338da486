/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tap.c - a cell's tap device for nft mode
 *
 * The supervisor (root or CAP_NET_ADMIN) opens /dev/net/tun, creates the
 * tap "wo-<cell>" (cut to IFNAMSIZ-1) with IFF_TAP | IFF_NO_PI and passes
 * the queue descriptor to QEMU (-netdev tap,fd=N): QEMU never opens a
 * device or holds a capability. The tap is not persistent (TUNSETPERSIST
 * 0), so it disappears with the last descriptor: QEMU dies with its
 * supervisor (PR_SET_PDEATHSIG), so a kill -9 leaves no interface.
 *
 * Then, over rtnetlink with libmnl (never `ip`): either the tap becomes a
 * port of the profile's bridge (IFLA_MASTER), or it is routed: the host
 * side gets the gateway address as a /32 and the guest's address a /32
 * route through the tap. The link is set up last, once it is placed.
 * Forwarding (net.ipv4.ip_forward) is the host's policy and left alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "tap.h"

/* The kernel answers a route/link request at once. */
#define RTNL_TIMEOUT_MS 3000
/* One netlink answer: libmnl's MNL_SOCKET_BUFFER_SIZE ceiling (8 KiB). */
#define NL_BUF 8192

void tap_name(const char *cell, char out[static TAP_NAME_MAX])
{
	snprintf(out, TAP_NAME_MAX, "wo-%s", cell);
}

static const char *cap_hint(int code)
{
	return code == EPERM ? " (mode = nft needs root or CAP_NET_ADMIN)" : "";
}

int tap_create(const char *name, struct err *e)
{
	struct ifreq ifr = { 0 };
	int fd, r;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno, "/dev/net/tun: %s%s", strerror(errno),
			       cap_hint(errno));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = err_set(e, errno, "tap %s: %s%s", name, strerror(errno),
			    cap_hint(errno));
		close(fd);
		return r;
	}
	if (ioctl(fd, TUNSETPERSIST, 0L) < 0) {
		r = err_set(e, errno, "tap %s: %s", name, strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

/* Send one request and wait for its acknowledgement. */
static int rtnl(struct nlmsghdr *nlh, bool enoent_ok, struct err *e)
{
	char buf[NL_BUF];
	struct mnl_socket *nl;
	struct pollfd pfd;
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t n;
	int r = 0;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return err_set(e, errno, "rtnetlink: %s", strerror(errno));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = err_set(e, errno, "rtnetlink: %s", strerror(errno));
		goto out;
	}
	pfd = (struct pollfd){ mnl_socket_get_fd(nl), POLLIN, 0 };
	if (poll(&pfd, 1, RTNL_TIMEOUT_MS) != 1) {
		r = err_set(e, ETIMEDOUT, "rtnetlink: no answer");
		goto out;
	}
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl),
				NULL, NULL) < 0) {
		if (!(enoent_ok && (errno == ENODEV || errno == ENOENT)))
			r = err_set(e, errno, "%s%s", strerror(errno),
				    cap_hint(errno));
	}
out:
	mnl_socket_close(nl);
	return r;
}

static int link_index(const char *name, struct err *e)
{
	unsigned idx = if_nametoindex(name);

	if (!idx)
		return err_set(e, errno, "interface %s: %s", name,
			       strerror(errno));
	return (int)idx;
}

static int set_link(int idx, int master, struct err *e)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = idx;
	if (master > 0) {
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	} else {
		ifm->ifi_change = IFF_UP;
		ifm->ifi_flags = IFF_UP;
	}
	return rtnl(nlh, false, e);
}

static int add_addr(int idx, uint32_t a, struct err *e)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	uint32_t na = htonl(a);

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)idx;
	mnl_attr_put_u32(nlh, IFA_LOCAL, na);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, na);
	return rtnl(nlh, false, e);
}

static int add_route(int idx, uint32_t dst, uint32_t src, struct err *e)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_DST, htonl(dst));
	mnl_attr_put_u32(nlh, RTA_PREFSRC, htonl(src));
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)idx);
	return rtnl(nlh, false, e);
}

int tap_attach(const char *name, const char *bridge, uint32_t gateway,
	       uint32_t guest, struct err *e)
{
	int idx, br, r;

	idx = link_index(name, e);
	if (idx < 0)
		return idx;
	if (bridge[0]) {
		br = link_index(bridge, e);
		if (br < 0)
			return err_prefix(e, "bridge");
		r = set_link(idx, br, e);
		if (r)
			return err_prefix(e, "attaching %s to bridge %s", name,
					  bridge);
		r = set_link(idx, 0, e);
		return r ? err_prefix(e, "bringing %s up", name) : 0;
	}
	r = add_addr(idx, gateway, e);
	if (r)
		return err_prefix(e, "gateway address on %s", name);
	r = set_link(idx, 0, e);
	if (r)
		return err_prefix(e, "bringing %s up", name);
	r = add_route(idx, guest, gateway, e);
	return r ? err_prefix(e, "route to the guest via %s", name) : 0;
}

int tap_delete(const char *name, struct err *e)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	int r;

	nlh->nlmsg_type = RTM_DELLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	r = rtnl(nlh, true, e);
	return r ? err_prefix(e, "removing %s", name) : 0;
}
