internal import PKI

/// A TLS failure with OpenSSL's own words: the error queue and, for a refused certificate, the
/// verification result ("certificate has expired", "unable to get local issuer certificate", …).
public struct TLSError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case configuration
        case handshake
        case certificateRefused
        case noPeerCertificate
        case protocolViolation
        case handshakeTimeout
        case closedDuringHandshake
    }

    public var kind: Kind
    public var reasons: [String]

    public init(kind: Kind, reasons: [String]) {
        self.kind = kind
        self.reasons = reasons
    }

    /// A short label for counters and logs: the verification reason if there is one.
    public var label: String { reasons.first ?? kind.rawValue }

    public var description: String {
        reasons.isEmpty ? kind.rawValue : "\(kind.rawValue): \(reasons.joined(separator: "; "))"
    }

    static func draining(_ kind: Kind, context: String? = nil) -> TLSError {
        var reasons = OpenSSLErrors.drain()
        if let context { reasons.insert(context, at: 0) }
        return TLSError(kind: kind, reasons: reasons)
    }
}

enum OpenSSLErrors {
    /// Empties this thread's OpenSSL error queue, oldest entry first, without the numeric code:
    /// "error:0A000102:SSL routines::unsupported protocol" → "SSL routines::unsupported protocol".
    static func drain() -> [String] {
        OpenSSLErrorQueue.drain().map { text in
            let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            return parts.count == 3 && parts[0] == "error" ? String(parts[2]) : text
        }
    }
}
