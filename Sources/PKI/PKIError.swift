internal import COpenSSL

/// A failure reported by OpenSSL (or refused before OpenSSL was called), with OpenSSL's own text.
///
/// `reasons` holds every entry drained from OpenSSL's thread-local error queue at the boundary,
/// oldest first, each formatted by `ERR_error_string_n` (for example
/// `error:1E08010C:DECODER routines::unsupported`). `code` says which kind of operation failed
/// and can grow without breaking callers.
public struct PKIError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate let name: String
        public var description: String { name }

        /// Key generation failed inside OpenSSL.
        public static let keyGenerationFailed = Code(name: "keyGenerationFailed")
        /// PEM or DER input could not be decoded into a key.
        public static let decodingFailed = Code(name: "decodingFailed")
        /// A key could not be encoded.
        public static let encodingFailed = Code(name: "encodingFailed")
        /// The caller asked for something this wrapper does not support.
        public static let unsupported = Code(name: "unsupported")
        /// OpenSSL could not allocate an object.
        public static let allocationFailed = Code(name: "allocationFailed")
        /// Signing (or setting up a signature check) failed inside OpenSSL.
        public static let signingFailed = Code(name: "signingFailed")
        /// A certificate, request or CRL could not be assembled.
        public static let buildFailed = Code(name: "buildFailed")
        /// `CertificatePolicy` refused a key or certificate; `reasons` are its violations.
        public static let policyViolation = Code(name: "policyViolation")
        /// The caller's input was refused before OpenSSL was called (a name, an address, a serial).
        public static let invalidInput = Code(name: "invalidInput")
    }

    public var code: Code
    /// The OpenSSL function (or wrapper step) that failed.
    public var operation: String
    /// OpenSSL's error strings, oldest first; empty when OpenSSL reported nothing.
    public var reasons: [String]

    public init(code: Code, operation: String, reasons: [String]) {
        self.code = code
        self.operation = operation
        self.reasons = reasons
    }

    public var description: String {
        let text = reasons.isEmpty ? "no OpenSSL error reported" : reasons.joined(separator: "; ")
        return "\(code) in \(operation): \(text)"
    }

    /// An error that OpenSSL did not report: the wrapper refused the input itself.
    static func refused(_ code: Code, operation: String, reason: String) -> PKIError {
        PKIError(code: code, operation: operation, reasons: [reason])
    }

    /// Builds an error from OpenSSL's error queue, draining it so nothing leaks into the next call.
    /// Must run on the thread that made the failing call (the queue is thread-local).
    static func drainingOpenSSLQueue(_ code: Code, operation: String) -> PKIError {
        PKIError(code: code, operation: operation, reasons: OpenSSLErrorQueue.drain())
    }
}

/// The calling thread's OpenSSL error queue, read once here for every OpenSSL user above.
public enum OpenSSLErrorQueue {
    /// Empties the calling thread's OpenSSL error queue and returns its entries as text.
    public static func drain() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            buffer.withUnsafeMutableBufferPointer { pointer in
                ERR_error_string_n(code, pointer.baseAddress, pointer.count)
            }
            reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons
    }

    /// Drops stale entries left by earlier calls so an error reports only its own cause.
    static func clear() {
        ERR_clear_error()
    }
}
