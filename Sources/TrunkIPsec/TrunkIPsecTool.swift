internal import Glibc
import XFRM

/// What the `outpost ipsec …` and `outpost show ipsec` commands do, so that the executable only
/// parses arguments. Every operation acts on the kernel of the calling thread's network namespace.
public enum TrunkIPsecTool {
    /// A command's outcome: the text to print and the exit status.
    public struct Outcome: Sendable {
        public var text: String
        public var status: Int32

        public init(text: String, status: Int32) {
            self.text = text
            self.status = status
        }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String

        public init(_ description: String) {
            self.description = description
        }
    }

    /// The keys for manual keying: `path` or the configuration's `key_file`; nil with external keying.
    public static func loadKeys(configuration: TrunkProtectionConfiguration, path: String?) throws(Failure) -> TrunkKeys? {
        guard configuration.keying == .manual else { return nil }
        do throws(TrunkKeyFileError) {
            return try TrunkKeyFile.load(path: path ?? configuration.keyFile, configuration: configuration)
        } catch {
            throw Failure("refusing the key file, nothing was installed:\n\(error)")
        }
    }

    static func engine(_ configuration: TrunkProtectionConfiguration, _ keys: TrunkKeys?) throws(Failure) -> TrunkProtectionEngine {
        let socket: NetlinkXFRMSocket
        do throws(XFRMError) {
            if let namespace = configuration.networkNamespace { try NetworkNamespace.enterOnCurrentThread(path: namespace) }
            socket = try NetlinkXFRMSocket()
        } catch {
            throw Failure("cannot open the kernel's XFRM interface: \(error)")
        }
        do throws(TrunkProtectionError) {
            return try TrunkProtectionEngine(configuration: configuration, keys: keys, socket: socket)
        } catch {
            throw Failure(error.description)
        }
    }

    /// `outpost ipsec apply`: install what is missing, read back. Status 1 unless protected.
    public static func apply(configuration: TrunkProtectionConfiguration, keys: TrunkKeys?) throws(Failure) -> Outcome {
        let engine = try engine(configuration, keys)
        do throws(TrunkProtectionError) {
            let report = try engine.apply(removeRetiring: true)
            let protected = report.assessment?.isProtected ?? false
            return Outcome(text: report.description, status: protected ? 0 : 1)
        } catch {
            throw Failure(error.description)
        }
    }

    /// `outpost ipsec verify`: read back only. Status 0 when the trunk is protected.
    public static func verify(configuration: TrunkProtectionConfiguration, keys: TrunkKeys?) throws(Failure) -> Outcome {
        let engine = try engine(configuration, keys)
        do throws(TrunkProtectionError) {
            let (assessment, _) = try engine.assess()
            var lines = [assessment.isProtected ? "trunk protected" : "trunk NOT protected"]
            lines += assessment.findings.map { "  - \($0.message)" }
            return Outcome(text: lines.joined(separator: "\n"), status: assessment.isProtected ? 0 : 1)
        } catch {
            throw Failure(error.description)
        }
    }

    /// `outpost show ipsec`.
    public static func show(configuration: TrunkProtectionConfiguration, keys: TrunkKeys?) throws(Failure) -> Outcome {
        let engine = try engine(configuration, keys)
        do throws(TrunkProtectionError) {
            let (assessment, snapshot) = try engine.assess()
            return Outcome(text: IPsecReport.render(configuration: configuration, assessment: assessment, snapshot: snapshot), status: 0)
        } catch {
            throw Failure(error.description)
        }
    }

    /// `outpost ipsec remove`: remove only what the edge installed.
    public static func remove(configuration: TrunkProtectionConfiguration, keys: TrunkKeys?) throws(Failure) -> Outcome {
        let engine = try engine(configuration, keys)
        do throws(TrunkProtectionError) {
            return Outcome(text: try engine.removeOwned().description, status: 0)
        } catch {
            throw Failure(error.description)
        }
    }

    /// `outpost ipsec rekey`: make-before-break to the keys in `newKeysPath` (new SPIs), then
    /// (unless `keepKeyFile`) the new file replaces the configured key file.
    public static func rekey(
        configuration: TrunkProtectionConfiguration, currentKeys: TrunkKeys?, newKeysPath: String, graceSeconds: Int?,
        keepKeyFile: Bool, progress: (String) -> Void
    ) throws(Failure) -> Outcome {
        guard configuration.keying == .manual else { throw Failure("keying is external: the key manager rekeys") }
        let newKeys = try loadKeys(configuration: configuration, path: newKeysPath)
        guard let newKeys else { throw Failure("no keys in \(newKeysPath)") }
        let engine = try engine(configuration, currentKeys)
        let grace = Duration.seconds(graceSeconds ?? configuration.rekeyGraceSeconds)
        let report: TrunkProtectionEngine.RekeyReport
        var renameNote: String?
        var renameFailed = false
        do throws(TrunkProtectionError) {
            report = try engine.rekey(to: newKeys, grace: grace, wait: { duration in
                let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
                var request = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            }, progress: progress, switched: {
                // Before the old SAs go: a running edge then adopts the new file instead of
                // restoring the old SAs.
                guard !keepKeyFile && newKeysPath != configuration.keyFile else { return }
                if rename(newKeysPath, configuration.keyFile) == 0 {
                    renameNote = "\(newKeysPath) is now \(configuration.keyFile)"
                } else {
                    renameFailed = true
                    renameNote = "the new keys are in force, but \(newKeysPath) could not replace \(configuration.keyFile) (\(ErrnoName.text(errno))): move it there before the edge restarts"
                }
                progress(renameNote ?? "")
            })
        } catch {
            throw Failure(error.description)
        }
        var text = report.description
        if let renameNote { text += "\n\(renameNote)" }
        if renameFailed { return Outcome(text: text, status: 1) }
        return Outcome(text: text, status: (report.assessment?.isProtected ?? false) ? 0 : 1)
    }

    /// `outpost ipsec keygen`: a new key file (mode 0600, never overwriting) with random keys from
    /// the system's CSPRNG and random SPIs, none of them among `avoidingSPIs`.
    public static func keygen(configuration: TrunkProtectionConfiguration, output: String, avoidingSPIs: Set<UInt32> = []) throws(Failure) -> Outcome {
        var generator = SystemRandomNumberGenerator()
        var used = avoidingSPIs
        var lines = [
            "# Outpost trunk IPsec keys, suite \(configuration.suite.rawValue). Keep this file mode 0600.",
            "# The call manager needs the same SPIs and keys with the directions swapped (outpost ipsec peer-config).",
            TrunkKeyFile.header,
        ]
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        for manager in configuration.callManagers {
            for direction in TrunkDirection.allCases {
                var spi: UInt32
                repeat { spi = UInt32.random(in: 0x1000...0xFFFF_FFFE, using: &generator) } while !used.insert(spi).inserted
                let suite = configuration.suite
                let transform = suite.isAEAD
                    ? "aead \(suite.cipherName) 0x\(TrunkKeyFile.hexBytes(bytes(suite.cipherKeyBytes))) \(suite.icvBits)"
                    : "enc \(suite.cipherName) 0x\(TrunkKeyFile.hexBytes(bytes(suite.cipherKeyBytes))) auth-trunc \(suite.authenticationName ?? "") 0x\(TrunkKeyFile.hexBytes(bytes(suite.authenticationKeyBytes))) \(suite.icvBits)"
                lines.append("sa \(manager) \(direction.rawValue) spi 0x\(TrunkKeyFile.hex(spi)) \(transform)")
            }
        }
        let text = lines.joined(separator: "\n") + "\n"
        let descriptor = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw Failure("\(output): cannot create: \(ErrnoName.text(errno)) (an existing file is never overwritten)") }
        defer { close(descriptor) }
        fchmod(descriptor, 0o600)
        let data = Array(text.utf8)
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count else { throw Failure("\(output): write failed: \(ErrnoName.text(errno))") }
        return Outcome(text: "wrote \(configuration.callManagers.count * 2) SAs' keys to \(output) (mode 0600)", status: 0)
    }

    /// `outpost ipsec keygen` for a rekey: SPIs that differ from every SA now in the kernel.
    public static func installedSPIs() -> Set<UInt32> {
        guard let socket = try? NetlinkXFRMSocket(), let states = try? socket.states() else { return [] }
        return Set(states.map(\.spi))
    }

    /// `outpost ipsec peer-config`: the `ip xfrm` commands that configure a Linux call manager (or
    /// a test peer) to match the edge, directions swapped. The output contains the keys.
    public static func peerConfiguration(configuration: TrunkProtectionConfiguration, keys: TrunkKeys, reqid: UInt32 = 1) -> String {
        var lines = ["# ip xfrm commands for the call manager side; they contain the trunk keys."]
        for peer in configuration.pairs {
            lines.append("# call manager \(peer.remote) <-> edge \(peer.local)")
            for direction in TrunkDirection.allCases {
                guard let entry = keys.entry(peer: peer.remote, direction: direction) else { continue }
                let (source, destination) = direction == .outbound ? (peer.local, peer.remote) : (peer.remote, peer.local)
                let transform: String
                switch entry.algorithms {
                case .aead(let name, let key, let icv):
                    transform = "aead '\(name)' 0x\(TrunkKeyFile.hexBytes(key)) \(icv)"
                case .cipherAndAuthentication(let cipher, let cipherKey, let auth, let authKey, let truncation):
                    transform = "enc '\(cipher)' 0x\(TrunkKeyFile.hexBytes(cipherKey)) auth-trunc '\(auth)' 0x\(TrunkKeyFile.hexBytes(authKey)) \(truncation)"
                }
                lines.append("ip xfrm state add src \(source) dst \(destination) proto esp spi 0x\(TrunkKeyFile.hex(entry.spi)) reqid \(reqid) mode transport replay-window \(configuration.replayWindow) \(transform)")
            }
            for policy in TrunkDesiredState.policies(for: peer, configuration: configuration) {
                // The peer's view: its "out" is the edge's "in".
                let request = policy.request
                let direction = request.direction == .outbound ? "in" : "out"
                var selector = "src \(request.selector.source!)/\(request.selector.sourcePrefixLength) dst \(request.selector.destination!)/\(request.selector.destinationPrefixLength)"
                if request.selector.ipProtocol != 0 {
                    selector += " proto \(IPProtocolName.name(request.selector.ipProtocol))"
                    let icmp = request.selector.ipProtocol == 1 || request.selector.ipProtocol == 58
                    if request.selector.sourcePortMask != 0 { selector += icmp ? " type \(request.selector.sourcePort)" : " sport \(request.selector.sourcePort)" }
                    if request.selector.destinationPortMask != 0 { selector += icmp ? " code \(request.selector.destinationPort)" : " dport \(request.selector.destinationPort)" }
                }
                var line = "ip xfrm policy add \(selector) dir \(direction) priority \(request.priority)"
                if let template = request.templates.first {
                    line += " tmpl src \(template.source!) dst \(template.destination!) proto esp reqid \(reqid) mode transport"
                }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A small text file (no permission requirements), such as the edge's configuration.
    public static func readText(path: String) throws(TrunkKeyFileError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw TrunkKeyFileError(file: path, "cannot open: \(ErrnoName.text(errno)) (\(ErrnoName.name(errno)))") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TrunkKeyFileError(file: path, "cannot read: \(ErrnoName.text(errno))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > 1 << 20 { throw TrunkKeyFileError(file: path, "is larger than 1 MiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw TrunkKeyFileError(file: path, "is not UTF-8 text") }
        return text
    }
}
