/// A refusal or failure of a `PKIStore` operation, as one line a person can act on
/// (`device SEP001122334455 has no valid certificate to revoke`).
public struct PKIStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate let name: String
        public var description: String { name }

        /// `pki init` has not been run on this state directory.
        public static let notInitialised = Code(name: "notInitialised")
        /// No certificate, device or trusted root matches.
        public static let notFound = Code(name: "notFound")
        /// The thing already exists (a trusted root, a key file that would be overwritten).
        public static let alreadyExists = Code(name: "alreadyExists")
        /// `CertificatePolicy` refused a key or certificate.
        public static let policyViolation = Code(name: "policyViolation")
        /// The input is malformed or contradicts itself.
        public static let invalidInput = Code(name: "invalidInput")
        /// The state directory is not in a state the operation can safely continue from.
        public static let inconsistentState = Code(name: "inconsistentState")
        /// A file-system call failed.
        public static let fileSystem = Code(name: "fileSystem")
        /// OpenSSL failed; the message carries its text.
        public static let openSSL = Code(name: "openSSL")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: PKIError, while doing: String) {
        switch error.code {
        case .policyViolation:
            self.init(.policyViolation, "\(doing): " + error.reasons.joined(separator: "; "))
        case .invalidInput:
            self.init(.invalidInput, "\(doing): " + error.reasons.joined(separator: "; "))
        case .decodingFailed:
            self.init(.invalidInput, "\(doing): \(error)")
        default:
            self.init(.openSSL, "\(doing): \(error)")
        }
    }

    public var description: String { message }
}
