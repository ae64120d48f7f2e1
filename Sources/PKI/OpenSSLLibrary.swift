internal import COpenSSL

/// Facts about the OpenSSL library the process is linked against.
public enum OpenSSLLibrary {
    /// The runtime version text, for example `OpenSSL 3.0.17 1 Jul 2025`.
    public static var versionString: String {
        guard let text = OpenSSL_version(Int32(OPENSSL_VERSION)) else { return "unknown" }
        return String(cString: text)
    }

    /// The runtime version as OpenSSL encodes it (`0xMNN00PP0L`).
    public static var versionNumber: UInt {
        UInt(OpenSSL_version_num())
    }
}
