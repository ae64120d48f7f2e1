internal import CSRTP

/// libsrtp's process-wide state.
public enum SRTPLibrary {
    /// `srtp_init()`'s result, computed exactly once: Swift initializes a static stored property
    /// lazily under `swift_once`, so concurrent first users all wait for the one call.
    private static let initialization: SRTPError? = {
        let status = srtp_init()
        return status == srtp_err_status_ok ? nil : SRTPError(status: status)
    }()

    /// Initializes libsrtp if nobody has yet; safe to call from any thread, any number of times.
    public static func initialize() throws(SRTPError) {
        if let failure = initialization { throw failure }
    }

    /// libsrtp's version text, for example `libsrtp2 2.5.0`.
    public static var versionString: String {
        guard let text = srtp_get_version_string() else { return "unknown" }
        return String(cString: text)
    }
}
