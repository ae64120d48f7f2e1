#pragma once
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/errno.h>

// libnl swallows the kernel's extended-ack text unless a custom error callback keeps it.
// The callback stores errno and the NLMSGERR_ATTR_MSG string in the caller's record.
typedef struct outpost_nl_error {
    int error;          // negative errno from the kernel, 0 if none
    char message[256];  // extended-ack message, empty if the kernel sent none
} outpost_nl_error;

int outpost_nl_enable_ext_ack(struct nl_sock *sock);
int outpost_nl_install_error_capture(struct nl_sock *sock, outpost_nl_error *record);

// Moves the calling thread into the network namespace at `path` (e.g. /run/netns/NAME), so the
// netlink sockets it opens afterwards program that namespace's XFRM. Returns 0 or -errno.
int outpost_enter_network_namespace(const char *path);
