internal import CNetlink
internal import COutpostShims.Netlink
