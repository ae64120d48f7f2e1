internal import CSRTP
internal import CSRTPShims

/// libsrtp's process-wide state.
public enum SRTPLibrary {
    /// Which implementation of AES-CM-128 and HMAC-SHA1 libsrtp runs.
    public enum Primitives: Sendable, Hashable, CustomStringConvertible {
        /// Outpost's OpenSSL EVP types, accepted by libsrtp's own known-answer tests.
        case openSSL
        /// The ones libsrtp was built with (NSS on Debian), because the replacement was refused.
        case builtIn(refusal: String)

        public var description: String {
            switch self {
            case .openSSL: "AES-CM-128 and HMAC-SHA1 over OpenSSL EVP"
            case .builtIn(let refusal): "libsrtp's built-in AES-CM-128 and HMAC-SHA1 (the OpenSSL ones were refused: \(refusal))"
            }
        }
    }

    /// `srtp_init()` and the replacement of its primitives, done exactly once: Swift initializes a
    /// static stored property lazily under `swift_once`, so concurrent first users all wait.
    private static let initialization: Result<Primitives, SRTPError> = {
        let status = srtp_init()
        guard status == srtp_err_status_ok else { return .failure(SRTPError(status: status)) }
        let replaced = srtp_err_status_t(rawValue: UInt32(bitPattern: outpost_srtp_use_openssl_primitives()))
        return .success(replaced == srtp_err_status_ok ? .openSSL : .builtIn(refusal: SRTPError(status: replaced).description))
    }()

    /// Initializes libsrtp if nobody has yet; safe to call from any thread, any number of times.
    public static func initialize() throws(SRTPError) {
        if case .failure(let failure) = initialization { throw failure }
    }

    /// The primitives libsrtp runs; initializes it first.
    public static var primitives: Primitives {
        switch initialization {
        case .success(let primitives): primitives
        case .failure(let error): .builtIn(refusal: error.description)
        }
    }

    /// libsrtp's version text, for example `libsrtp2 2.5.0`.
    public static var versionString: String {
        guard let text = srtp_get_version_string() else { return "unknown" }
        return String(cString: text)
    }
}
