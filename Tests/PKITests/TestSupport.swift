import Foundation
import PKI
import Testing

/// Helpers shared by the PKI tests: scratch directories, the openssl CLI, fixed clocks.
enum TestSupport {
    /// A fresh directory under the system's temporary directory, removed by the caller's `defer`.
    static func scratchDirectory(_ label: String = "pki") throws -> String {
        let template = NSTemporaryDirectory() + "outpost-\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw TestFailure("mkdtemp failed") }
        return String(cString: made)
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `openssl` with `arguments`; returns its exit status and stdout+stderr.
    @discardableResult
    static func openssl(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func write(bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Two lowercase hex digits.
    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    static func read(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// Permission bits from stat(2).
    static func mode(_ path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode & 0o7777)
    }

    static func time(_ text: String) -> PKITime {
        PKITime(iso8601: text)!
    }

    /// A policy whose clock is stuck at `text`.
    static func policy(at text: String, fipsMode: Bool = false) -> CertificatePolicy {
        let now = time(text)
        return CertificatePolicy(fipsMode: fipsMode, clock: { now })
    }

    /// A store whose clock is the real one unless `at` is given; EC server keys to keep RSA
    /// key generation (slow in debug builds) to the SAST key.
    static func store(_ directory: String, at text: String? = nil, fipsMode: Bool = false) -> PKIStore {
        let policy = text.map { TestSupport.policy(at: $0, fipsMode: fipsMode) } ?? CertificatePolicy(fipsMode: fipsMode)
        return PKIStore(
            stateDirectory: directory,
            settings: PKIStore.Settings(serverKey: .ecP256, deviceKey: .ecP256, policy: policy))
    }

    /// A CA shared by the tests that need one but do not care which.
    static let authority: CertificateAuthority = {
        try! CertificateAuthority.createRoot(subject: DistinguishedName(commonName: "Test Edge CA", organization: "Outpost Tests"))
    }()

    /// The 1024-bit RSA test key from WrapperTests (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024`).
    static let rsa1024PEM = """
        -----BEGIN PRIVATE KEY-----
        MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAKa9MP4XiSdN+sog
        gCyckuHgP/qA9gjiweWdodkrHkmbn340ndoviyLNGhznxwYGVAJYRxFoDT/qtdeM
        XyZ0uYQU6cxXWktHEJZ1vCdZVeM78jorgUG5zU4VyVKUVwrrO6PqoVV2WJrbdTzo
        Zrj8cyDJblcAav3U04HPBjUj1jTZAgMBAAECgYBjK5VvGwp9MRkfjRMO9ZU6+Qi0
        cm1jPZM7gXTY2JdsCj5jbuIP+kUTzs9gL86k27CtsFmclbmDsZK0AA47riMD4Rmp
        mRHsE4KdxoLxPtLuA1QZDyVFROqUoerSDH0nzx7IfhO9L7D/vocjDAqf2/a2rMoA
        F9rp/kDXmU6k+W5JMQJBANS/IcHNSCnUMYQI/AHB1jQ2IA5WhIha556+K6bOE/Mn
        9YfzGjW/CuSh2GjN6NE3JnGhz+iYon2ihFR+l7AockUCQQDIo35BHtNv1tE8spYd
        Hl3Pe3KXcOsItyIw7li8HLi0vdaPhd1xpVDJXYakdOiVYG/u6MhPh0Nu69wzDXLT
        0GuFAkAAxPQtTD2/kPng3Vtz8iyBIdT52ExAZfvCcjOcNdCSp4lWxYVJvngenYs3
        zc7Sut1Tud8Tm0GzLJxH5fFMfMj1AkBLsDmJsWpL73rhbfFpLLJw+f3hmWxgzk0s
        rk11MVSQgmj1nadLHvUZ8ZlAYwX2i/nN46zlK37J0lowPCuMMjzNAkEAiXPqbwsi
        P1N8z8aYVH+3kC4FM54Xf/7ORlmmyXIBv9boIYSd/FVLP4gBrkpuwebg2BL45ws5
        i3NSPeZVxaatOg==
        -----END PRIVATE KEY-----

        """
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
