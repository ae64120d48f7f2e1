internal import COutpostShims.Netlink

/// Network namespaces are per thread: the trunk's XFRM state may live in a namespace of its own
/// (the WAN side of the box), and a thread that enters it programs that namespace's kernel state.
public enum NetworkNamespace {
    /// Moves the calling thread into the namespace at `path` (for `ip netns`, /run/netns/NAME).
    public static func enterOnCurrentThread(path: String) throws(XFRMError) {
        let result = outpost_enter_network_namespace(path)
        guard result == 0 else {
            throw XFRMError(operation: "setns(\(path))", errno: -result)
        }
    }
}
