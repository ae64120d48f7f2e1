internal import CNetlink
internal import Glibc

/// Owner of a libnl SA object (`struct xfrmnl_sa`) used to build requests.
final class XFRMStateObject {
    /// `struct xfrmnl_sa *`, owned: released with `xfrmnl_sa_put` in `deinit`.
    let pointer: OpaquePointer

    init(operation: String) throws(XFRMError) {
        guard let sa = xfrmnl_sa_alloc() else {
            throw XFRMError(operation: operation, errno: ENOMEM, libnlCode: NLE_NOMEM, libnlMessage: String(cString: nl_geterror(NLE_NOMEM)))
        }
        pointer = sa
    }

    deinit {
        xfrmnl_sa_put(pointer)
    }
}
