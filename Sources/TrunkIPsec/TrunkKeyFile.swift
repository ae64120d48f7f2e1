internal import Glibc
import XFRM

/// Which way an SA carries trunk traffic, seen from the edge.
public enum TrunkDirection: String, Sendable, Hashable, CaseIterable {
    /// Edge to call manager.
    case outbound = "out"
    /// Call manager to edge.
    case inbound = "in"
}

/// The manually keyed SAs of the trunk, one per call manager and direction, as read from the key
/// file. `description` never shows key material.
public struct TrunkKeys: Sendable, Hashable, CustomStringConvertible {
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        public var peer: XFRMAddress
        public var direction: TrunkDirection
        /// Host byte order.
        public var spi: UInt32
        public var algorithms: XFRMAlgorithms
        /// Where the entry is in the key file (0 when built in code).
        public var line: Int

        public init(peer: XFRMAddress, direction: TrunkDirection, spi: UInt32, algorithms: XFRMAlgorithms, line: Int = 0) {
            self.peer = peer
            self.direction = direction
            self.spi = spi
            self.algorithms = algorithms
            self.line = line
        }

        public var description: String {
            "sa \(peer) \(direction.rawValue) spi 0x\(TrunkKeyFile.hex(spi)) \(algorithms)"
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    public func entry(peer: XFRMAddress, direction: TrunkDirection) -> Entry? {
        entries.first { $0.peer == peer && $0.direction == direction }
    }

    public var description: String { entries.map(\.description).joined(separator: "\n") }
}

/// A key file the edge refuses, with every problem found; nothing is installed.
public struct TrunkKeyFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable {
        /// 0 for the file as a whole.
        public var line: Int
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    public var file: String
    public var problems: [Problem]

    public init(file: String, problems: [Problem]) {
        self.file = file
        self.problems = problems
    }

    init(file: String, line: Int = 0, _ message: String) {
        self.init(file: file, problems: [Problem(line: line, message: message)])
    }

    public var description: String {
        problems.map { $0.line == 0 ? "\(file): \($0.message)" : "\(file):\($0.line): \($0.message)" }.joined(separator: "\n")
    }
}

/// The trunk key file: format, permission checks and parser.
///
/// ```
/// # Outpost trunk IPsec keys (manual keying). Mode 0600 (or 0400), owned by root or by the
/// # user outpost runs as; anything group- or world-accessible is refused.
/// outpost-ipsec-keys 1
///
/// # sa <call-manager address> <out|in> spi <SPI> <transform>
/// #   out = edge -> call manager, in = call manager -> edge
/// #   SPI: 0x100 to 0xffffffff (hex with 0x, or decimal), each used once in the file
/// #   transform, exactly as ip-xfrm(8) takes it:
/// #     aead rfc4106(gcm(aes)) 0x<key+salt> 128                    suites aes128gcm16 (20 bytes), aes256gcm16 (36 bytes)
/// #     enc cbc(aes) 0x<key> auth-trunc hmac(sha256) 0x<key> 128   suites aes128-sha256 (16+32 bytes), aes256-sha256 (32+32)
/// sa 192.0.2.10 out spi 0x00001001 aead rfc4106(gcm(aes)) 0x<72 hex digits> 128
/// sa 192.0.2.10 in  spi 0x00002001 aead rfc4106(gcm(aes)) 0x<72 hex digits> 128
/// ```
///
/// Every call manager of the configuration needs exactly one `out` and one `in` line; the two
/// directions need different keys (AES-GCM must never see the same key and nonce twice). A peer
/// is configured with the same values, directions swapped: the edge's `out` SA is the peer's
/// inbound SA (`ip xfrm state add src <edge> dst <peer> proto esp spi <out SPI> ...`).
public enum TrunkKeyFile {
    public static let header = "outpost-ipsec-keys 1"
    /// Larger files are refused before they are read.
    public static let maximumSize = 1 << 20

    /// Reads, checks and parses the key file at `path`: it must be a regular file (not a
    /// symbolic link), owned by root or the effective user, with no group or other permissions.
    public static func load(path: String, configuration: TrunkProtectionConfiguration) throws(TrunkKeyFileError) -> TrunkKeys {
        let text = try read(path: path)
        return try parse(text: text, file: path, configuration: configuration)
    }

    /// The permission and ownership checks and the read, without parsing.
    public static func read(path: String) throws(TrunkKeyFileError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else {
            let code = errno
            if code == ELOOP { throw TrunkKeyFileError(file: path, "is a symbolic link; point key_file at the real file") }
            throw TrunkKeyFileError(file: path, "cannot open: \(ErrnoName.text(code)) (\(ErrnoName.name(code)))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw TrunkKeyFileError(file: path, "cannot stat: \(ErrnoName.text(errno))")
        }
        let mode = status.st_mode
        guard mode & S_IFMT == S_IFREG else { throw TrunkKeyFileError(file: path, "is not a regular file") }
        let permissions = mode & 0o7777
        if permissions & 0o077 != 0 {
            let who = permissions & 0o007 != 0 ? "every user on the system" : "the file's group"
            throw TrunkKeyFileError(
                file: path,
                "mode \(octal(permissions)) lets \(who) access the trunk keys; run chmod 600 \(path)")
        }
        let owner = status.st_uid
        let me = geteuid()
        if owner != 0 && owner != me {
            throw TrunkKeyFileError(file: path, "is owned by uid \(owner); it must belong to root or to uid \(me), which runs outpost")
        }
        guard status.st_size <= maximumSize else {
            throw TrunkKeyFileError(file: path, "is \(status.st_size) bytes; a key file is at most \(maximumSize)")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TrunkKeyFileError(file: path, "cannot read: \(ErrnoName.text(errno))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maximumSize { throw TrunkKeyFileError(file: path, "grew beyond \(maximumSize) bytes while being read") }
        }
        for index in chunk.indices { chunk[index] = 0 }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TrunkKeyFileError(file: path, "is not UTF-8 text")
        }
        return text
    }

    /// Parses key-file text and checks it against the configuration; collects every problem.
    public static func parse(text: String, file: String, configuration: TrunkProtectionConfiguration) throws(TrunkKeyFileError) -> TrunkKeys {
        var problems: [TrunkKeyFileError.Problem] = []
        func problem(_ line: Int, _ message: String) { problems.append(.init(line: line, message: message)) }

        var sawHeader = false
        var entries: [TrunkKeys.Entry] = []
        var spiLines: [UInt32: Int] = [:]
        var entryLines: [String: Int] = [:]
        let suite = configuration.suite

        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map { String($0.unquoted()) }
            if tokens.isEmpty { continue }
            if !sawHeader {
                if tokens.joined(separator: " ") == header {
                    sawHeader = true
                    continue
                }
                if tokens.first == "outpost-ipsec-keys" {
                    problem(lineNumber, "unsupported key file version \"\(tokens.dropFirst().joined(separator: " "))\"; this edge reads version 1")
                    try fail(file, problems)
                }
                problem(lineNumber, "expected \"\(header)\" as the first line that is not a comment")
                try fail(file, problems)
            }
            guard tokens[0] == "sa" else {
                problem(lineNumber, "unknown statement \"\(tokens[0])\"; every line after the header is \"sa <address> <out|in> spi <SPI> <transform>\"")
                continue
            }
            guard tokens.count >= 5 else {
                problem(lineNumber, "incomplete sa line; expected \"sa <address> <out|in> spi <SPI> <transform>\"")
                continue
            }
            guard let peer = XFRMAddress(tokens[1]) else {
                problem(lineNumber, "\"\(tokens[1])\" is not an IPv4 or IPv6 address")
                continue
            }
            guard configuration.callManagers.contains(peer) else {
                let known = configuration.callManagers.map(String.init(describing:)).joined(separator: ", ")
                problem(lineNumber, "\(peer) is not a call manager of the configuration (call_managers: \(known.isEmpty ? "none" : known))")
                continue
            }
            guard let direction = TrunkDirection(rawValue: tokens[2]) else {
                problem(lineNumber, "direction \"\(tokens[2])\" must be out (edge to call manager) or in (call manager to edge)")
                continue
            }
            guard tokens[3] == "spi" else {
                problem(lineNumber, "expected \"spi\" after the direction, found \"\(tokens[3])\"")
                continue
            }
            guard let spi = TrunkNumber.parse(tokens[4], as: UInt32.self) else {
                problem(lineNumber, "SPI \"\(tokens[4])\" is not a 32-bit number (0x100 to 0xffffffff, hex with 0x or decimal)")
                continue
            }
            if spi < 0x100 {
                problem(lineNumber, "SPI 0x\(hex(spi)) is reserved (RFC 4303 reserves 0 to 255); use 0x100 or above")
                continue
            }
            let entryKey = "\(peer) \(direction.rawValue)"
            if let first = entryLines[entryKey] {
                problem(lineNumber, "sa \(peer) \(direction.rawValue) is given twice (first on line \(first)); one SA per call manager and direction")
                continue
            }
            if let first = spiLines[spi] {
                problem(lineNumber, "SPI 0x\(hex(spi)) is already used on line \(first); every SA needs its own SPI")
                continue
            }
            let transform = Array(tokens[5...])
            switch parseTransform(transform, suite: suite) {
            case .failure(let message):
                problem(lineNumber, message)
            case .success(let algorithms):
                entryLines[entryKey] = lineNumber
                spiLines[spi] = lineNumber
                entries.append(TrunkKeys.Entry(peer: peer, direction: direction, spi: spi, algorithms: algorithms, line: lineNumber))
            }
        }
        if !sawHeader {
            problem(0, "is empty; a key file starts with \"\(header)\"")
            try fail(file, problems)
        }
        // Completeness and key separation, only when the lines themselves were fine.
        if problems.isEmpty {
            for manager in configuration.callManagers {
                let outbound = entries.first { $0.peer == manager && $0.direction == .outbound }
                let inbound = entries.first { $0.peer == manager && $0.direction == .inbound }
                if outbound == nil { problem(0, "no \"sa \(manager) out\" line: the edge has no key to send to this call manager") }
                if inbound == nil { problem(0, "no \"sa \(manager) in\" line: the edge has no key to receive from this call manager") }
                if let outbound, let inbound, sharesKey(outbound.algorithms, inbound.algorithms) {
                    problem(inbound.line, "the in and out keys for \(manager) are identical (line \(outbound.line)); each direction needs its own key")
                }
            }
        }
        if !problems.isEmpty { try fail(file, problems) }
        return TrunkKeys(entries: entries)
    }

    private static func fail(_ file: String, _ problems: [TrunkKeyFileError.Problem]) throws(TrunkKeyFileError) -> Never {
        throw TrunkKeyFileError(file: file, problems: problems)
    }

    private enum TransformResult {
        case success(XFRMAlgorithms)
        case failure(String)
    }

    private static func parseTransform(_ tokens: [String], suite: TrunkCipherSuite) -> TransformResult {
        let expected = suite.isAEAD
            ? "aead \(suite.cipherName) 0x<\(suite.cipherKeyBytes * 2) hex digits> \(suite.icvBits)"
            : "enc \(suite.cipherName) 0x<\(suite.cipherKeyBytes * 2) hex digits> auth-trunc \(suite.authenticationName ?? "") 0x<\(suite.authenticationKeyBytes * 2) hex digits> \(suite.icvBits)"
        guard let kind = tokens.first else {
            return .failure("missing transform; suite \(suite.rawValue) expects \"\(expected)\"")
        }
        if suite.isAEAD {
            guard kind == "aead" else {
                return .failure("transform \"\(kind) ...\" does not match suite \(suite.rawValue), which expects \"\(expected)\"")
            }
            guard tokens.count == 4 else {
                return .failure("an aead transform is \"\(expected)\" (\(tokens.count) words found, 4 expected)")
            }
            guard tokens[1] == suite.cipherName else {
                return .failure("algorithm \(tokens[1]) does not match suite \(suite.rawValue), which uses \(suite.cipherName)")
            }
            let key: [UInt8]
            switch decodeKey(tokens[2], what: "key", expectedBytes: suite.cipherKeyBytes, suite: suite, meaning: suite.keyMaterialDescription) {
            case .failure(let message): return .failure(message)
            case .success(let bytes): key = bytes
            }
            guard let icv = Int(tokens[3]), icv == suite.icvBits else {
                return .failure("ICV length \(tokens[3]) is not supported; suite \(suite.rawValue) uses \(suite.icvBits) bits")
            }
            return .success(.aead(name: suite.cipherName, key: key, icvBits: icv))
        }
        guard kind == "enc" else {
            return .failure("transform \"\(kind) ...\" does not match suite \(suite.rawValue), which expects \"\(expected)\"")
        }
        guard tokens.count == 7 else {
            return .failure("an enc/auth-trunc transform is \"\(expected)\" (\(tokens.count) words found, 7 expected)")
        }
        guard tokens[1] == suite.cipherName else {
            return .failure("cipher \(tokens[1]) does not match suite \(suite.rawValue), which uses \(suite.cipherName)")
        }
        let cipherKey: [UInt8]
        switch decodeKey(tokens[2], what: "encryption key", expectedBytes: suite.cipherKeyBytes, suite: suite, meaning: suite.keyMaterialDescription) {
        case .failure(let message): return .failure(message)
        case .success(let bytes): cipherKey = bytes
        }
        guard tokens[3] == "auth-trunc" else {
            return .failure("expected \"auth-trunc\" after the encryption key, found \"\(tokens[3])\"")
        }
        guard tokens[4] == suite.authenticationName else {
            return .failure("authentication \(tokens[4]) does not match suite \(suite.rawValue), which uses \(suite.authenticationName ?? "")")
        }
        let authKey: [UInt8]
        switch decodeKey(tokens[5], what: "authentication key", expectedBytes: suite.authenticationKeyBytes, suite: suite, meaning: "32 bytes (HMAC-SHA-256 key, RFC 4868)") {
        case .failure(let message): return .failure(message)
        case .success(let bytes): authKey = bytes
        }
        guard let truncation = Int(tokens[6]), truncation == suite.icvBits else {
            return .failure("truncation \(tokens[6]) is not supported; hmac(sha256) is truncated to 128 bits (RFC 4868)")
        }
        return .success(.cipherAndAuthentication(
            cipher: suite.cipherName, cipherKey: cipherKey, authentication: suite.authenticationName ?? "",
            authenticationKey: authKey, truncationBits: truncation))
    }

    private enum KeyResult {
        case success([UInt8])
        case failure(String)
    }

    /// Decodes `0x`-prefixed (or bare) hex; the messages never repeat the key.
    private static func decodeKey(_ text: String, what: String, expectedBytes: Int, suite: TrunkCipherSuite, meaning: String) -> KeyResult {
        var digits = Substring(text)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty else { return .failure("\(what) is empty; suite \(suite.rawValue) needs \(meaning)") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.utf8.count / 2)
        var high: UInt8?
        for (position, character) in digits.utf8.enumerated() {
            let value: UInt8
            switch character {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = character - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = character - UInt8(ascii: "A") + 10
            default:
                let shown = (0x21...0x7E).contains(character) ? "'\(Character(Unicode.Scalar(character)))'" : "byte 0x\(String(character, radix: 16))"
                return .failure("\(what) is not hexadecimal: \(shown) at digit \(position + 1)")
            }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        if high != nil {
            return .failure("\(what) has an odd number of hex digits (\(digits.utf8.count)); suite \(suite.rawValue) needs \(expectedBytes * 2) digits, \(meaning)")
        }
        guard bytes.count == expectedBytes else {
            return .failure("\(what) is \(bytes.count) bytes (\(bytes.count * 2) hex digits); suite \(suite.rawValue) needs \(meaning)")
        }
        if bytes.allSatisfy({ $0 == 0 }) {
            return .failure("\(what) is all zeros; generate random keys (outpost ipsec keygen)")
        }
        return .success(bytes)
    }

    private static func sharesKey(_ a: XFRMAlgorithms, _ b: XFRMAlgorithms) -> Bool {
        switch (a, b) {
        case (.aead(_, let keyA, _), .aead(_, let keyB, _)):
            return keyA == keyB
        case (.cipherAndAuthentication(_, let cipherA, _, let authA, _), .cipherAndAuthentication(_, let cipherB, _, let authB, _)):
            return cipherA == cipherB || authA == authB
        default:
            return false
        }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func hexBytes(_ bytes: [UInt8]) -> String {
        let table = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
