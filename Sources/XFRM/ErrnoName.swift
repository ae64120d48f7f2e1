internal import Glibc

/// Symbolic names of the errno values netlink and XFRM report. glibc's `strerrorname_np` is a GNU
/// extension Swift does not see, so the names live here.
public enum ErrnoName {
    public static func name(_ code: Int32) -> String {
        table[code] ?? "E\(code)"
    }

    /// glibc's description of `code` ("Protocol not supported").
    public static func text(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    private static let table: [Int32: String] = [
        EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO",
        ENXIO: "ENXIO", E2BIG: "E2BIG", EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM",
        EACCES: "EACCES", EFAULT: "EFAULT", EBUSY: "EBUSY", EEXIST: "EEXIST", ENODEV: "ENODEV",
        EINVAL: "EINVAL", ENFILE: "ENFILE", EMFILE: "EMFILE", ENOSPC: "ENOSPC", ERANGE: "ERANGE",
        ENOSYS: "ENOSYS", ENODATA: "ENODATA", ENOLINK: "ENOLINK", EPROTO: "EPROTO",
        EBADMSG: "EBADMSG", EOVERFLOW: "EOVERFLOW", ENOTSOCK: "ENOTSOCK", EMSGSIZE: "EMSGSIZE",
        EPROTOTYPE: "EPROTOTYPE", ENOPROTOOPT: "ENOPROTOOPT", EPROTONOSUPPORT: "EPROTONOSUPPORT",
        ESOCKTNOSUPPORT: "ESOCKTNOSUPPORT", EOPNOTSUPP: "EOPNOTSUPP", EPFNOSUPPORT: "EPFNOSUPPORT",
        EAFNOSUPPORT: "EAFNOSUPPORT", EADDRINUSE: "EADDRINUSE", EADDRNOTAVAIL: "EADDRNOTAVAIL",
        ENETDOWN: "ENETDOWN", ENETUNREACH: "ENETUNREACH", ENOBUFS: "ENOBUFS", ENOTCONN: "ENOTCONN",
        ETIMEDOUT: "ETIMEDOUT", ECONNREFUSED: "ECONNREFUSED", EHOSTUNREACH: "EHOSTUNREACH",
        EALREADY: "EALREADY", EINPROGRESS: "EINPROGRESS", ENOKEY: "ENOKEY",
        EKEYEXPIRED: "EKEYEXPIRED", EKEYREJECTED: "EKEYREJECTED",
    ]
}
