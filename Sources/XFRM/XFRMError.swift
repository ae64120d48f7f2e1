internal import CNetlink
internal import Glibc

/// A failed XFRM operation, with everything the layers below said about it: the kernel's errno,
/// the kernel's extended-ack message, and libnl's own error code and text.
public struct XFRMError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The libnl call (or wrapper step) that failed, e.g. `xfrmnl_sa_add`.
    public var operation: String
    /// The errno the kernel (or a failing system call) reported; 0 when there was none.
    public var errno: Int32
    /// errno's symbolic name, e.g. `EPROTONOSUPPORT`; empty when `errno` is 0.
    public var errnoName: String
    /// The kernel's extended-ack text (`NLMSGERR_ATTR_MSG`), if it sent one.
    public var kernelMessage: String?
    /// libnl's error code (positive `NLE_*`); 0 when libnl was not involved.
    public var libnlCode: Int32
    /// libnl's text for `libnlCode` (`nl_geterror`).
    public var libnlMessage: String
    /// Set when the wrapper refused the request itself, saying why.
    public var detail: String?

    public init(
        operation: String, errno: Int32, kernelMessage: String? = nil,
        libnlCode: Int32 = 0, libnlMessage: String = "", detail: String? = nil
    ) {
        self.operation = operation
        self.errno = errno
        self.errnoName = errno == 0 ? "" : ErrnoName.name(errno)
        self.kernelMessage = kernelMessage
        self.libnlCode = libnlCode
        self.libnlMessage = libnlMessage
        self.detail = detail
    }

    /// An error for a request the wrapper refuses before it reaches libnl.
    static func invalidArgument(_ operation: String, _ detail: String) -> XFRMError {
        XFRMError(operation: operation, errno: EINVAL, detail: detail)
    }

    /// An error from a libnl return value (`-NLE_*`), the errno the shim captured from the
    /// kernel's NLMSG_ERROR (negative, 0 if none), that message's extended ack, and the C `errno`
    /// left by a failing system call.
    static func libnl(
        _ operation: String, result: Int32, kernelError: Int32, kernelMessage: String, systemErrno: Int32
    ) -> XFRMError {
        let code = result < 0 ? -result : result
        let errnoValue = kernelError != 0 ? -kernelError : systemErrno
        return XFRMError(
            operation: operation,
            errno: errnoValue,
            kernelMessage: kernelMessage.isEmpty ? nil : kernelMessage,
            libnlCode: code,
            libnlMessage: String(cString: nl_geterror(code)))
    }

    public var description: String {
        var parts: [String] = []
        if errno != 0 { parts.append("\(errnoName) (\(errno), \(ErrnoName.text(errno)))") }
        if let kernelMessage { parts.append("kernel: \(kernelMessage)") }
        if libnlCode != 0 { parts.append("libnl: \(libnlMessage)") }
        if let detail { parts.append(detail) }
        return "\(operation) failed: " + (parts.isEmpty ? "unknown error" : parts.joined(separator: "; "))
    }
}
