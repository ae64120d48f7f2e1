#define _GNU_SOURCE
#include "outpost_netlink.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/msg.h>
#include <netlink/attr.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

int outpost_nl_enable_ext_ack(struct nl_sock *sock) {
    int on = 1;
    return setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
}

static int outpost_capture_error(struct sockaddr_nl *who, struct nlmsgerr *err, void *arg) {
    (void)who;
    outpost_nl_error *record = arg;
    record->error = err->error;
    record->message[0] = '\0';
    struct nlmsghdr *header = (struct nlmsghdr *)err - 1;
    if (!(header->nlmsg_flags & NLM_F_ACK_TLVS)) return NL_STOP;
    size_t offset = sizeof(*err);
    if (!(header->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
    int total = (int)header->nlmsg_len - (int)sizeof(struct nlmsghdr) - (int)offset;
    if (total <= 0) return NL_STOP;
    struct nlattr *attrs = (struct nlattr *)((char *)err + offset);
    struct nlattr *attr;
    int remaining;
    nla_for_each_attr(attr, attrs, total, remaining) {
        if (nla_type(attr) == NLMSGERR_ATTR_MSG) {
            strncpy(record->message, nla_data(attr), sizeof(record->message) - 1);
            record->message[sizeof(record->message) - 1] = '\0';
        }
    }
    return NL_STOP;
}

int outpost_nl_install_error_capture(struct nl_sock *sock, outpost_nl_error *record) {
    return nl_socket_modify_err_cb(sock, NL_CB_CUSTOM, outpost_capture_error, record);
}

int outpost_enter_network_namespace(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int result = setns(fd, CLONE_NEWNET);
    int saved = errno;
    close(fd);
    return result == 0 ? 0 : -saved;
}
